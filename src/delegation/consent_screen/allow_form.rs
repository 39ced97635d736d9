//! The "Allow support access" form's values (docs/contract.md "The consent
//! screen as a product"): `Sent`, what the browser sent (read from the form,
//! with a field sent twice reported beside it), and `view`, the form as the
//! template draws it from the `Choices` (teams and agents, support tools,
//! scopes in plain words, delegated-sign-in apps, durations), with the values
//! kept and the message beside its field after a refusal. The handler that
//! gives the grant is `allow_support`.

use super::cards::{DurationOption, duration_options};
use crate::clients::Client;
use crate::config::Policy;
use crate::delegation::grants::{GiveField, GiveTo};
use crate::oauth::scope;
use crate::store::clients::ClientRow;
use crate::store::users::UserRow;
use crate::web::form::OAuthForm;
use serde::Serialize;
use std::collections::HashMap;

/// At most this many agents are listed by name (teams are the usual choice).
pub const MAX_AGENTS_LISTED: i64 = 200;

/// The form's values as sent (all empty for a fresh form), and what was wrong.
#[derive(Debug, Default, Clone)]
pub struct Sent {
    pub team: String,
    pub agent: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub apps: Vec<String>,
    pub duration: Option<i64>,
    pub reason: String,
    /// The field a refusal is about and its message.
    pub error: Option<(GiveField, String)>,
}

impl Sent {
    /// Reads the form; a field sent twice is reported beside it.
    pub(super) fn read(form: &OAuthForm) -> Self {
        let mut error = None;
        let mut one = |name: &str, field: GiveField| match form.single(name) {
            Ok(value) => value.unwrap_or_default().trim().to_string(),
            Err(_) => {
                error.get_or_insert((field, "This was sent twice: choose once.".to_string()));
                String::new()
            }
        };
        let team = one("team", GiveField::Grantee);
        let agent = one("agent", GiveField::Grantee);
        let client_id = one("client_id", GiveField::Client);
        let duration = one("duration", GiveField::Duration);
        let reason = one("reason", GiveField::Reason);
        let list = |name: &str| {
            form.all(name)
                .iter()
                .flat_map(|v| v.split(' '))
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let duration = match duration.parse::<i64>() {
            Ok(seconds) => Some(seconds),
            Err(_) => {
                error.get_or_insert((
                    GiveField::Duration,
                    "Choose for how long from the list.".into(),
                ));
                None
            }
        };
        Sent {
            team,
            agent,
            client_id,
            scopes: list("scope"),
            apps: list("app"),
            duration,
            reason,
            error,
        }
    }

    /// Who the access is for: a team or one agent, not both and not neither.
    pub(super) fn to(&self) -> Result<GiveTo, String> {
        match (self.team.is_empty(), self.agent.is_empty()) {
            (false, true) => Ok(GiveTo::Team(self.team.clone())),
            (true, false) => Ok(GiveTo::Agent(self.agent.clone())),
            (true, true) => Err("Choose a team or one person.".into()),
            (false, false) => Err("Choose a team or one person, not both.".into()),
        }
    }

    pub(super) fn refused(self, field: GiveField, message: impl Into<String>) -> Self {
        Self {
            error: Some((field, message.into())),
            ..self
        }
    }
}

/// What the form offers: teams and agents to choose from, support tools, apps.
pub struct Choices {
    pub agents: Vec<UserRow>,
    pub clients: Vec<ClientRow>,
}

#[derive(Serialize)]
struct Option_ {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct Check {
    value: String,
    label: String,
    checked: bool,
}

/// The form as the template draws it.
#[derive(Serialize)]
pub struct FormView {
    teams: Vec<Option_>,
    agents: Vec<Option_>,
    clients: Vec<Option_>,
    scopes: Vec<Check>,
    apps: Vec<Check>,
    durations: Vec<DurationOption>,
    reason: String,
    /// The field the message is about (`GiveField::as_str`), and the message.
    error_field: &'static str,
    error: String,
}

/// The support tools a grant can go through: confidential clients allowed token exchange.
fn support_tools(clients: &[ClientRow]) -> Vec<Client> {
    clients
        .iter()
        .cloned()
        .map(Client::from)
        .filter(Client::can_exchange)
        .collect()
}

/// Draws the form from the choices and what was sent. A fresh form selects
/// the team when there is only one, the first support tool and one hour.
pub fn view(
    choices: &Choices,
    sent: &Sent,
    policy: &Policy,
    sub: &str,
    words: &HashMap<String, String>,
) -> FormView {
    let fresh = sent.error.is_none() && sent.client_id.is_empty();
    let mut team_names: Vec<&str> = choices
        .agents
        .iter()
        .filter_map(|a| a.team.as_deref())
        .collect();
    team_names.sort_unstable();
    team_names.dedup();
    // A fresh form chooses the team only when there is just one to choose.
    let only_team = match team_names.as_slice() {
        [one] => *one,
        _ => "",
    };
    let chosen_team = if fresh { only_team } else { &sent.team };
    let mut teams = vec![Option_ {
        value: String::new(),
        label: "Choose a team".into(),
        selected: chosen_team.is_empty(),
    }];
    teams.extend(team_names.iter().map(|t| Option_ {
        value: t.to_string(),
        label: format!("The {t} team"),
        selected: *t == chosen_team,
    }));
    let mut agents = vec![Option_ {
        value: String::new(),
        label: "Nobody by name (the team above)".into(),
        selected: sent.agent.is_empty(),
    }];
    agents.extend(choices.agents.iter().filter(|a| a.sub != sub).map(|a| {
        let about: Vec<&str> = [
            a.display_name.as_ref().map(|_| a.username.as_str()),
            a.team.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let name = a.display_name.as_deref().unwrap_or(&a.username);
        Option_ {
            value: a.username.clone(),
            label: match about.is_empty() {
                true => name.to_string(),
                false => format!("{name} ({})", about.join(", ")),
            },
            selected: a.username == sent.agent,
        }
    }));
    let tools = support_tools(&choices.clients);
    let clients = tools
        .iter()
        .enumerate()
        .map(|(i, c)| Option_ {
            value: c.client_id.clone(),
            label: c.name.clone(),
            selected: c.client_id == sent.client_id || (sent.client_id.is_empty() && i == 0),
        })
        .collect();
    let mut scope_names: Vec<&str> = tools
        .iter()
        .flat_map(|c| c.scopes.iter().map(String::as_str))
        .filter(|s| policy.is_delegable(s) && !scope::is_identity_scope(s))
        .collect();
    scope_names.sort_unstable();
    scope_names.dedup();
    let scopes = scope_names
        .into_iter()
        .map(|s| Check {
            value: s.into(),
            label: scope::describe(words, s),
            checked: sent.scopes.iter().any(|t| t == s),
        })
        .collect();
    let apps = choices
        .clients
        .iter()
        .filter(|c| c.delegated_sign_in)
        .map(|c| Check {
            value: c.client_id.clone(),
            label: format!("Sign in to {} as you", c.name),
            checked: sent.apps.contains(&c.client_id),
        })
        .collect();
    let mut durations = duration_options(
        policy.min_grant_seconds,
        policy.max_grant_seconds.min(86_400),
        false,
    );
    // A fresh form offers an hour: long enough for most fixes, short enough to forget safely.
    let chosen = sent.duration.filter(|_| !fresh).unwrap_or(3600);
    if durations.iter().any(|o| o.value == chosen) {
        for option in &mut durations {
            option.selected = option.value == chosen;
        }
    }
    let (error_field, error) = match &sent.error {
        Some((field, message)) => (field.as_str(), message.clone()),
        None => ("", String::new()),
    };
    FormView {
        teams,
        agents,
        clients,
        scopes,
        apps,
        durations,
        reason: sent.reason.clone(),
        error_field,
        error,
    }
}
