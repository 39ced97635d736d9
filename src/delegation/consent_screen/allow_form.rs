//! The "Allow support access" form's values (docs/contract.md "The consent
//! screen as a product"): `Sent`, what the browser sent (read from the form,
//! with a field sent twice reported beside it), and `view`, the form as the
//! template draws it from the `Choices` (teams and agents, support tools,
//! scopes in plain words, delegated-sign-in apps, durations), with the values
//! kept and the message beside its field after a refusal. The handler that
//! gives the grant is `allow_support`.

use crate::config::Policy;
use crate::delegation::choices::{self, Check, DurationOption, Pick};
use crate::delegation::grants::{GiveField, GiveTo};
use crate::delegation::sent_fields::SentFields;
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
        let mut sent = SentFields::new(form, "This was sent twice: choose once.");
        let team = sent.one("team", GiveField::Grantee);
        let agent = sent.one("agent", GiveField::Grantee);
        let client_id = sent.one("client_id", GiveField::Client);
        let duration = sent.one("duration", GiveField::Duration);
        let reason = sent.one("reason", GiveField::Reason);
        let duration = sent.seconds(&duration, GiveField::Duration);
        Sent {
            team,
            agent,
            client_id,
            scopes: sent.words("scope"),
            apps: sent.words("app"),
            duration,
            reason,
            error: sent.error,
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

/// The form as the template draws it.
#[derive(Serialize)]
pub struct FormView {
    teams: Vec<Pick>,
    agents: Vec<Pick>,
    clients: Vec<Pick>,
    scopes: Vec<Check>,
    apps: Vec<Check>,
    durations: Vec<DurationOption>,
    reason: String,
    /// The field the message is about (`GiveField::as_str`), and the message.
    error_field: &'static str,
    error: String,
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
    let mut teams = vec![Pick {
        value: String::new(),
        label: "Choose a team".into(),
        selected: chosen_team.is_empty(),
    }];
    teams.extend(team_names.iter().map(|t| Pick {
        value: t.to_string(),
        label: format!("The {t} team"),
        selected: *t == chosen_team,
    }));
    let mut agents = vec![Pick {
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
        Pick {
            value: a.username.clone(),
            label: match about.is_empty() {
                true => name.to_string(),
                false => format!("{name} ({})", about.join(", ")),
            },
            selected: a.username == sent.agent,
        }
    }));
    let tools = choices::support_tools(&choices.clients);
    let clients = choices::tool_picks(&tools, &sent.client_id);
    let scopes = choices::scope_checks(&tools, policy, words, &sent.scopes);
    let apps = choices::app_checks(&choices.clients, &sent.apps, |name| {
        format!("Sign in to {name} as you")
    });
    let durations = choices::durations(policy, sent.duration.filter(|_| !fresh));
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
