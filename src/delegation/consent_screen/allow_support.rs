//! "Allow support access" on `/account` (docs/contract.md "The consent screen
//! as a product"): `POST /account/grants` with `csrf_token`, `team` or
//! `agent`, `client_id`, repeated `scope`, repeated `app`, `duration` and an
//! optional `reason`. A given grant answers 303 to the notice (`Done::Given`);
//! `Accept: application/json` answers 201 with the grant. A refused form comes
//! back as the page with status 400, the values kept and the message beside
//! the field it is about, in words a person understands. `choices` are the
//! lists the form offers; `FormView` is what the template draws.

use super::forms::{form_user, refusal_page};
use super::notice::Done;
use super::page;
use crate::app::{App, AppState};
use crate::clients::Client;
use crate::config::Policy;
use crate::delegation::api::refusal_json;
use crate::delegation::choices::{self, Check, DurationOption, Pick};
use crate::delegation::grants::{self, GiveAccess, GiveField, GiveRefused, GiveTo};
use crate::delegation::refusal::Refusal;
use crate::oauth::scope;
use crate::store::clients::ClientRow;
use crate::store::users::UserRow;
use crate::web::form::OAuthForm;
use crate::web::{json, pages};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
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
    fn read(form: &OAuthForm) -> Self {
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
    fn to(&self) -> Result<GiveTo, String> {
        match (self.team.is_empty(), self.agent.is_empty()) {
            (false, true) => Ok(GiveTo::Team(self.team.clone())),
            (true, false) => Ok(GiveTo::Agent(self.agent.clone())),
            (true, true) => Err("Choose a team or one person.".into()),
            (false, false) => Err("Choose a team or one person, not both.".into()),
        }
    }

    fn refused(self, field: GiveField, message: impl Into<String>) -> Self {
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

/// The message a person reads beside the field, for a refusal of the sent form.
fn in_words(refused: &GiveRefused, sent: &Sent, client: &Client, policy: &Policy) -> String {
    let stray = sent
        .scopes
        .iter()
        .find(|s| !policy.is_delegable(s) || !client.scopes.contains(s));
    match (refused.field, &refused.refusal) {
        (Some(GiveField::Scope), _) if sent.scopes.is_empty() => {
            "Tick at least one thing they may do.".into()
        }
        (Some(GiveField::Scope), _) => match stray {
            Some(s) => format!(
                "{} cannot be used to “{}”. Untick it, or choose another support tool.",
                client.name,
                scope::describe(&policy.scope_descriptions, s)
            ),
            None => "Tick only things from the list.".into(),
        },
        (Some(GiveField::Grantee), _) if !sent.agent.is_empty() => {
            "Choose a person from the list.".into()
        }
        (Some(GiveField::Grantee), _) => {
            "No one in that team can be given access: choose another team or one person.".into()
        }
        (Some(GiveField::Client), _) => format!(
            "{} cannot act in accounts: choose another support tool.",
            client.name
        ),
        (Some(GiveField::App), _) => "Choose apps from the list only.".into(),
        (Some(GiveField::Duration), _) => "Choose for how long from the list.".into(),
        (Some(GiveField::Reason), refusal) => {
            let text = refusal.description();
            let mut chars = text.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_uppercase().chain(chars).collect::<String>() + "."
            })
        }
        (None, refusal) => refusal.description().into_owned(),
    }
}

/// Checks and gives; the sent form back with its error when refused.
async fn give(app: &App, user: &UserRow, sent: Sent) -> Result<grants::GrantView, (Sent, Refusal)> {
    if let Some((_, message)) = &sent.error {
        let refusal = Refusal::invalid(message.clone());
        return Err((sent, refusal));
    }
    let to = match sent.to() {
        Ok(to) => to,
        Err(message) => {
            let refusal = Refusal::invalid(message.clone());
            return Err((sent.refused(GiveField::Grantee, message), refusal));
        }
    };
    let client = match app.clients.find(&sent.client_id).await {
        Ok(Some(client)) => Client::clone(&client),
        Ok(None) => {
            let message = "Choose a support tool from the list.";
            return Err((
                sent.refused(GiveField::Client, message),
                Refusal::invalid("no such support client"),
            ));
        }
        Err(e) => return Err((sent, Refusal::from(e))),
    };
    let asked = GiveAccess {
        to,
        scopes: sent.scopes.clone(),
        apps: sent.apps.clone(),
        duration: sent.duration.unwrap_or_default(),
        reason: Some(sent.reason.clone()),
    };
    let (policy, audience) = (&app.settings.policy, &app.default_audience);
    match grants::give(&app.db, policy, audience, app.now(), user, &client, asked).await {
        Ok(grant) => Ok(grant),
        Err(refused) => {
            let message = in_words(&refused, &sent, &client, policy);
            let sent = match refused.field {
                Some(field) => sent.refused(field, message),
                None => sent,
            };
            Err((sent, refused.refusal))
        }
    }
}

pub async fn create(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (form, s, u) = match form_user(&app, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    match (give(&app, &u, Sent::read(&form)).await, wants_json) {
        (Ok(grant), true) => json::body(StatusCode::CREATED, grant),
        (Err((_, refusal)), true) => refusal_json(&refusal),
        (Ok(grant), false) => pages::see_other(&Done::Given.location(&grant.id)),
        (Err((sent, _)), false) if sent.error.is_some() => {
            page::render_allow_form(&app, &s, &u, sent).await
        }
        (Err((_, refusal)), false) => refusal_page(&app, &s, &u, refusal).await,
    }
}
