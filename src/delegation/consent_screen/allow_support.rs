//! "Allow support access" on `/account` (docs/contract.md "The consent screen
//! as a product"): `POST /account/grants` with `csrf_token`, `team` or
//! `agent`, `client_id`, repeated `scope`, repeated `app`, `duration` and an
//! optional `reason`. A given grant answers 303 to the notice (`Done::Given`);
//! `Accept: application/json` answers 201 with the grant. A refused form comes
//! back as the page with status 400, the values kept and the message beside
//! the field it is about, in words a person understands (`in_words`). What
//! the form offers and keeps is `allow_form`.

use super::allow_form::Sent;
use super::forms::{form_user, refusal_page};
use super::notice::Done;
use super::page;
use crate::app::{App, AppState};
use crate::clients::Client;
use crate::config::Policy;
use crate::delegation::api::refusal_json;
use crate::delegation::grants::{self, GiveAccess, GiveField, GiveRefused, GrantView};
use crate::delegation::refusal::Refusal;
use crate::oauth::scope;
use crate::store::users::UserRow;
use crate::web::json::{self, ErrorBody};
use crate::web::pages;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

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

/// The form `create` reads (`allow_form::Sent::read`), as a schema: a single
/// value each except `scope` and `app`, which repeat (a value may also hold
/// several, space-separated). Exactly one of `team` and `agent`.
#[derive(utoipa::ToSchema)]
#[schema(as = AllowSupportForm)]
#[allow(dead_code)]
pub struct FormFields {
    /// The session's CSRF token, as the account page's form holds it.
    csrf_token: String,
    /// A team: any enabled agent of it may use the grant.
    team: Option<String>,
    /// One agent, by username.
    agent: Option<String>,
    /// The support client the grant is bound to.
    client_id: String,
    /// One scope a value (repeat the field), at least one.
    scope: Vec<String>,
    /// Delegated-sign-in apps (client ids), one a value.
    app: Option<Vec<String>>,
    /// Seconds, within the policy's bounds.
    duration: i64,
    reason: Option<String>,
}

/// Give support access on the user's own initiative.
#[utoipa::path(
    post,
    path = "/account/grants",
    tag = "account",
    operation_id = "giveSupportAccess",
    security(("session" = [])),
    params(("Accept" = Option<String>, Header, description = "`application/json` for the JSON answers below; otherwise 303 to the account page, or the page again with the form's error")),
    request_body(content = FormFields, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 201, description = "With `Accept: application/json`: the grant given", body = GrantView),
        (status = 303, description = "Without it: to the account page's notice",
            headers(("Location" = String))),
        (status = 400, description = "With `Accept: application/json`: `invalid_request` or `invalid_scope`", body = ErrorBody),
        (status = 403, description = "No session, or the CSRF token is not the session's (an HTML page)", content_type = "text/html"),
        (status = 503, description = "With `Accept: application/json`: `temporarily_unavailable`", body = ErrorBody),
    )
)]
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
