//! `POST /bc-authorize` (OpenID CIBA Core 1.0 §7; docs/contract.md "Agents
//! that are programs"): a program agent asks a user for access in a standard
//! backchannel authentication request. It authenticates (§7.1, client
//! authentication as at the token endpoint), names the user by `login_hint`
//! (a username or an email), the access by `scope` (with `openid`, which the
//! grant does not carry), how long by behalf's `duration`, and says why in
//! `binding_message` (shown to the user, at most 64 characters, one line).
//! The request becomes an access request from the agent's user row (its
//! `sub` is the client id), answered on `/account` like any other; the
//! response (§7.3) carries `auth_req_id` (kept only as its SHA-256),
//! `expires_in` and `interval`. Refusals are §13's errors.

use super::refusal::Refusal;
use super::requests::{self, NewRequest, RequestField, RequestRefused};
use crate::app::AppState;
use crate::clients::{CibaMode, Client, GrantType};
use crate::digest;
use crate::error::{ErrorCode, OAuthError};
use crate::oauth::client_auth;
use crate::oauth::scope;
use crate::random;
use crate::store::ciba_requests::CibaRequestRow;
use crate::store::users::UserRow;
use crate::web::form::{OAuthForm, Parameters};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// What a backchannel authentication request may carry (§7.1).
pub const PARAMETERS: Parameters = Parameters {
    single: &[
        "client_id",
        "client_secret",
        "scope",
        "login_hint",
        "login_hint_token",
        "id_token_hint",
        "binding_message",
        "user_code",
        "requested_expiry",
        "client_notification_token",
        "acr_values",
        "duration",
    ],
    repeatable: &[],
};

/// Seconds a client waits between token requests (§7.3), at first.
pub const INTERVAL: i32 = 5;
/// The longest binding message (DESIGN.md).
pub const MAX_BINDING_MESSAGE: usize = 64;
/// The scope that makes it an OpenID request (§7.1), not carried by the grant.
const OPENID: &str = "openid";

/// The response of §7.3.
#[derive(Debug, Serialize)]
pub struct Accepted {
    pub auth_req_id: String,
    pub expires_in: i64,
    pub interval: i32,
}

/// What the request asks, checked (§7.1): everything the access request needs.
#[derive(Debug, PartialEq, Eq)]
pub struct Asking {
    pub login_hint: String,
    /// The scopes of the grant: `scope` without `openid`.
    pub scope: String,
    pub duration: Option<i64>,
    pub binding_message: String,
    /// Seconds the request waits for an answer.
    pub waits: i64,
    pub notification_token: Option<String>,
}

/// Checks the form of a request by a client in `mode`, waiting at most
/// `longest_wait` seconds (`[policy] request_ttl_seconds`).
pub fn decide_asking(
    form: &OAuthForm,
    mode: CibaMode,
    longest_wait: i64,
) -> Result<Asking, OAuthError> {
    let scopes = scope::parse(form.required("scope")?)
        .map_err(|_| OAuthError::invalid_scope("the scope is malformed"))?;
    if !scopes.iter().any(|s| s == OPENID) {
        return Err(OAuthError::invalid_scope(
            "scope must include openid (CIBA Core 7.1)",
        ));
    }
    let granted: Vec<&str> = scopes
        .iter()
        .map(String::as_str)
        .filter(|s| *s != OPENID)
        .collect();
    if form.single("login_hint_token")?.is_some() || form.single("id_token_hint")?.is_some() {
        return Err(OAuthError::invalid_request(
            "name the user with login_hint: login_hint_token and id_token_hint are not supported",
        ));
    }
    let login_hint = form
        .single("login_hint")?
        .filter(|h| !h.is_empty())
        .ok_or_else(|| {
            OAuthError::invalid_request("login_hint is required: the user's username or email")
        })?
        .to_string();
    let binding_message = form
        .single("binding_message")?
        .unwrap_or_default()
        .trim()
        .to_string();
    if binding_message.is_empty() {
        return Err(OAuthError::invalid_request(
            "binding_message is required: it tells the user who asks and why",
        ));
    }
    if binding_message.chars().count() > MAX_BINDING_MESSAGE
        || binding_message.chars().any(char::is_control)
    {
        return Err(OAuthError::new(
            ErrorCode::InvalidBindingMessage,
            format!("binding_message must be one line of at most {MAX_BINDING_MESSAGE} characters"),
        ));
    }
    let waits = match form.single("requested_expiry")? {
        None => longest_wait,
        Some(asked) => match asked.parse::<i64>() {
            Ok(seconds) if seconds > 0 => seconds.min(longest_wait),
            _ => {
                return Err(OAuthError::invalid_request(
                    "requested_expiry must be a positive number of seconds",
                ));
            }
        },
    };
    let duration =
        match form.single("duration")? {
            None => None,
            Some(asked) => Some(asked.parse::<i64>().map_err(|_| {
                OAuthError::invalid_request("duration must be a number of seconds")
            })?),
        };
    let notification_token = form
        .single("client_notification_token")?
        .map(str::to_string);
    match (mode, &notification_token) {
        (CibaMode::Ping, None) => {
            return Err(OAuthError::invalid_request(
                "client_notification_token is required in ping mode (CIBA Core 7.1)",
            ));
        }
        (CibaMode::Ping, Some(t)) if t.is_empty() || t.len() > 1024 => {
            return Err(OAuthError::invalid_request(
                "client_notification_token must be 1 to 1024 characters",
            ));
        }
        _ => {}
    }
    Ok(Asking {
        login_hint,
        scope: granted.join(" "),
        duration,
        binding_message,
        waits,
        notification_token,
    })
}

/// A refused access request as CIBA Core §13 says it: a user it cannot go to
/// is `unknown_user_id`, a scope `invalid_scope`, anything else (one already
/// waiting for this user, too many waiting, the duration) `invalid_request`.
fn in_ciba_words(refused: RequestRefused) -> OAuthError {
    let words = refused.refusal.description();
    match (&refused.refusal, refused.field) {
        (Refusal::Invalid(_), Some(RequestField::Subject)) => {
            OAuthError::new(ErrorCode::UnknownUserId, words)
        }
        (Refusal::InvalidScope(_), _) => OAuthError::invalid_scope(words),
        (Refusal::Unavailable, _) => OAuthError::new(ErrorCode::TemporarilyUnavailable, words),
        _ => OAuthError::invalid_request(words),
    }
}

/// The agent a program client acts as: its user row, enabled.
async fn agent_of(app: &AppState, client: &Client) -> Result<UserRow, OAuthError> {
    let sub = client.client_id.clone();
    app.db
        .read(move |c| UserRow::find_by_sub(c, &sub))
        .await?
        .filter(|u| u.is_agent && u.is_active())
        .ok_or_else(|| OAuthError::unauthorized_client("this program agent is disabled"))
}

pub async fn authorize(
    State(app): State<AppState>,
    headers: HeaderMap,
    form: OAuthForm,
) -> Result<Response, OAuthError> {
    let client = client_auth::authenticate(&app.clients, &headers, &form).await?;
    if client.is_public {
        return Err(OAuthError::invalid_client());
    }
    let Some(mode) = client
        .ciba_mode
        .filter(|_| client.program_agent && client.allows_grant(GrantType::Ciba))
    else {
        return Err(OAuthError::unauthorized_client(
            "this client is not registered as a program agent with the CIBA grant",
        ));
    };
    form.check(&[&PARAMETERS])?;
    let policy = &app.settings.policy;
    let asking = decide_asking(&form, mode, policy.request_ttl_seconds)?;
    let agent = agent_of(&app, &client).await?;
    let auth_req_id = random::secret();
    let row = CibaRequestRow {
        auth_req_id_hash: digest::hash_hex(&auth_req_id),
        request_id: String::new(),
        client_id: client.client_id.clone(),
        poll_interval: INTERVAL,
        polled_at: None,
        issued_at: None,
        sealed_auth_req_id: None,
        sealed_notification_token: None,
        created_at: app.now(),
    };
    let row = match (&asking.notification_token, mode) {
        (Some(token), CibaMode::Ping) => CibaRequestRow {
            sealed_auth_req_id: Some(
                app.keys
                    .kek()
                    .seal(auth_req_id.as_bytes(), &row.auth_req_id_hash),
            ),
            sealed_notification_token: Some(
                app.keys.kek().seal(token.as_bytes(), &row.auth_req_id_hash),
            ),
            ..row
        },
        _ => row,
    };
    let new = NewRequest {
        subject: Some(asking.login_hint.clone()),
        scope: Some(asking.scope.clone()),
        duration: asking.duration,
        reason: Some(asking.binding_message.clone()),
        ticket: None,
        apps: None,
    };
    requests::create_then(
        &app.db,
        policy,
        app.now(),
        &agent,
        &client,
        new,
        asking.waits,
        move |c, request_id| {
            CibaRequestRow {
                request_id: request_id.to_string(),
                ..row
            }
            .insert(c)
        },
    )
    .await
    .map_err(in_ciba_words)?;
    let mut response = Json(Accepted {
        auth_req_id,
        expires_in: asking.waits,
        interval: INTERVAL,
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
