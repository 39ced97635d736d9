//! Validating an authorization request. Until the client and its redirect URI
//! are known to be good, errors are shown on a page and never redirected
//! (RFC 6749 §4.1.2.1; docs/security.md A1, A2); after that they go back to the client.

use super::redirect::Redirect;
use super::redirect_uri::redirect_uri_matches;
use crate::app::App;
use crate::clients::{Client, GrantType};
use crate::oauth::{pkce, scope};
use crate::tokens::server_mac::ServerMac;
use crate::web::form::OAuthForm;
use crate::web::pages;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The internal parameter that marks a request coming back from a forced sign-in:
/// `<time>.<mac>`. A session that signed in at or after `time` satisfies
/// `prompt=login` and `max_age`. The MAC binds it to this request's client and
/// PKCE challenge, so a browser cannot forge or transplant it.
pub const REAUTH_SINCE: &str = "behalf_reauth_since";

fn reauth_mac_input(time: i64, client_id: &str, code_challenge: &str) -> String {
    format!("reauth|{time}|{client_id}|{code_challenge}")
}

/// The marker value for a forced sign-in started at `time`.
pub fn reauth_marker(mac: &ServerMac, time: i64, client_id: &str, code_challenge: &str) -> String {
    let mac = mac.sign(&reauth_mac_input(time, client_id, code_challenge));
    format!("{time}.{mac}")
}

/// The time in a genuine marker; `None` for anything forged or malformed.
fn reauth_time(mac: &ServerMac, value: &str, client_id: &str, code_challenge: &str) -> Option<i64> {
    let (time, tag) = value.split_once('.')?;
    let time: i64 = time.parse().ok()?;
    mac.verify(&reauth_mac_input(time, client_id, code_challenge), tag)
        .then_some(time)
}

/// Parameters carried through sign-in and the consent form, in this order.
const CARRIED: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "response_mode",
    "resource",
    "login_hint",
    REAUTH_SINCE,
];

#[derive(Debug, Default, Clone, Copy)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: Arc<Client>,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub reauth_since: Option<i64>,
    /// OIDC Core §3.1.2.1: whom the sign-in is for; for an agent at a
    /// delegated-sign-in app, the user to act as (username or `sub`).
    pub login_hint: Option<String>,
    /// The request's own parameters, to carry through sign-in and consent.
    pub params: Vec<(String, String)>,
}

impl AuthorizationRequest {
    /// An error sent back to the client's redirect URI, with `state` and `iss`.
    pub fn error_redirect(&self, issuer: &str, error: &str, description: &str) -> Response {
        Redirect::error(
            issuer,
            &self.redirect_uri,
            self.state.as_deref(),
            error,
            description,
        )
        .into_response()
    }
}

/// Why a request cannot go on.
#[derive(Debug)]
pub enum Rejection {
    /// Shown on an error page: the client or redirect URI cannot be trusted.
    Page(&'static str),
    /// Sent back to the client's redirect URI.
    Redirect(Redirect),
    /// The store failed.
    Unavailable,
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Self::Page(message) => pages::error(
                StatusCode::BAD_REQUEST,
                "This sign-in link is not valid",
                message,
            ),
            Self::Redirect(redirect) => redirect.into_response(),
            Self::Unavailable => pages::unavailable(),
        }
    }
}

fn parse_prompt(value: Option<&str>) -> Result<Prompt, &'static str> {
    let mut prompt = Prompt::default();
    for item in value
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
    {
        match item {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => {}
            _ => return Err("prompt has an unknown value"),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err("prompt=none cannot be combined with other values");
    }
    Ok(prompt)
}

pub async fn validate(app: &App, form: &OAuthForm) -> Result<AuthorizationRequest, Rejection> {
    let single = |name| {
        form.single(name)
            .map_err(|_| Rejection::Page("A parameter is repeated."))
    };
    let client_id =
        single("client_id")?.ok_or(Rejection::Page("The request names no application."))?;
    let client = app
        .clients
        .find(client_id)
        .await
        .map_err(|_| Rejection::Unavailable)?
        .ok_or(Rejection::Page("This application is not registered."))?;
    let redirect_uri = match single("redirect_uri")? {
        Some(uri) => client
            .redirect_uris
            .iter()
            .any(|r| redirect_uri_matches(&client, uri, r))
            .then(|| uri.to_string())
            .ok_or(Rejection::Page(
                "This redirect address is not registered for the application.",
            ))?,
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => return Err(Rejection::Page("The request names no redirect address.")),
    };
    let state = form.single("state").ok().flatten().map(str::to_string);
    let fail = |error: &'static str, description: &str| {
        Rejection::Redirect(Redirect::error(
            &app.issuer,
            &redirect_uri,
            state.as_deref(),
            error,
            description,
        ))
    };
    let param = |name: &str| {
        form.single(name)
            .map_err(|_| fail("invalid_request", &format!("{name} is repeated")))
    };

    match param("response_type")? {
        Some("code") => {}
        Some(_) => {
            return Err(fail(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
        None => return Err(fail("invalid_request", "response_type is missing")),
    }
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(fail(
            "unauthorized_client",
            "this client may not use the authorization code flow",
        ));
    }
    if param("request")?.is_some() {
        return Err(fail(
            "request_not_supported",
            "request objects are not supported",
        ));
    }
    if param("request_uri")?.is_some() {
        return Err(fail(
            "request_uri_not_supported",
            "request_uri is not supported",
        ));
    }
    if param("response_mode")?.is_some_and(|m| m != "query") {
        return Err(fail(
            "invalid_request",
            "only response_mode=query is supported",
        ));
    }
    let code_challenge = param("code_challenge")?.ok_or_else(|| {
        fail(
            "invalid_request",
            "PKCE is required: send code_challenge with S256",
        )
    })?;
    if param("code_challenge_method")? != Some("S256") {
        return Err(fail(
            "invalid_request",
            "code_challenge_method must be S256",
        ));
    }
    if !pkce::is_s256_challenge(code_challenge) {
        return Err(fail("invalid_request", "code_challenge is malformed"));
    }
    let requested = scope::parse(param("scope")?.unwrap_or_default())
        .map_err(|_| fail("invalid_scope", "the scope parameter is malformed"))?;
    let scopes = scope::within(requested, &client.scopes)
        .map_err(|e| fail("invalid_scope", &e.error_description))?;
    let nonce = param("nonce")?.map(str::to_string);
    if nonce.as_ref().is_some_and(|n| n.len() > 512) {
        return Err(fail("invalid_request", "nonce is too long"));
    }
    let prompt = parse_prompt(param("prompt")?).map_err(|d| fail("invalid_request", d))?;
    let number = |name: &str| -> Result<Option<i64>, Rejection> {
        param(name)?
            .map(|v| v.parse::<i64>().ok().filter(|n| *n >= 0))
            .map(|v| {
                v.ok_or_else(|| {
                    fail(
                        "invalid_request",
                        &format!("{name} must be a non-negative integer"),
                    )
                })
            })
            .transpose()
    };
    let max_age = number("max_age")?;
    let login_hint = param("login_hint")?.map(str::to_string);
    if login_hint.as_ref().is_some_and(|h| h.len() > 256) {
        return Err(fail("invalid_request", "login_hint is too long"));
    }
    let reauth_since = param(REAUTH_SINCE)?
        .and_then(|v| reauth_time(&app.mac, v, &client.client_id, code_challenge));
    let params = CARRIED
        .iter()
        .filter_map(|name| {
            form.single(name)
                .ok()
                .flatten()
                .map(|v| (name.to_string(), v.to_string()))
        })
        .collect();
    Ok(AuthorizationRequest {
        client,
        redirect_uri,
        state,
        scopes,
        nonce,
        code_challenge: code_challenge.to_string(),
        prompt,
        max_age,
        reauth_since,
        login_hint,
        params,
    })
}
