//! `GET`/`POST /authorize`: validate, make sure the right user is signed in
//! (`prompt`, `max_age`), make sure they consented (or the app is first-party),
//! then redirect with a code. `prompt=none` never shows a page.

use super::consent;
use super::request::{self, AuthorizationRequest, REAUTH_SINCE, Rejection};
use super::response::issue_code;
use crate::app::{App, AppState};
use crate::consent::{pages, session};
use crate::http::form::OAuthForm;
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

pub async fn get(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let form = OAuthForm::parse(query.unwrap_or_default().as_bytes());
    authorize(&app, &form, &headers).await
}

/// OIDC Core §3.1.2.1: the endpoint also takes the request as a form POST.
pub async fn post(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    authorize(&app, &OAuthForm::parse(&body), &headers).await
}

pub fn reject(rejection: Rejection) -> Response {
    match rejection {
        Rejection::Page(message) => pages::error(
            StatusCode::BAD_REQUEST,
            "This sign-in link is not valid",
            message,
        ),
        Rejection::Redirect(redirect) => redirect.into_response(),
        Rejection::Unavailable => unavailable(),
    }
}

pub use crate::consent::pages::unavailable;

/// Whether the session's sign-in satisfies `prompt=login` and `max_age`.
fn sign_in_is_fresh(request: &AuthorizationRequest, session: &SessionRow, now: i64) -> bool {
    let auth_time = session.auth_time.unwrap_or(i64::MIN);
    if request.reauth_since.is_some_and(|since| auth_time >= since) {
        return true;
    }
    !request.prompt.login && request.max_age.is_none_or(|max| now - auth_time <= max)
}

async fn authorize(app: &App, form: &OAuthForm, headers: &HeaderMap) -> Response {
    let request = match request::validate(app, form).await {
        Ok(r) => r,
        Err(rejection) => return reject(rejection),
    };
    let fail =
        |error: &str, description: &str| request.error_redirect(&app.issuer, error, description);
    let now = app.now();
    let signed_in = match session::signed_in(app, headers).await {
        Ok(s) => s.filter(|(session, _)| sign_in_is_fresh(&request, session, now)),
        Err(_) => return unavailable(),
    };
    let Some((session, user)) = signed_in else {
        if request.prompt.none {
            return fail("login_required", "the user is not signed in");
        }
        return send_to_login(app, &request, now);
    };
    match decide(app, &request, &user, &session).await {
        Ok(Decision::Consent) if request.prompt.none => {
            fail("consent_required", "the user has not consented")
        }
        Ok(Decision::Consent) => consent::page(
            &app.settings.policy.scope_descriptions,
            &request,
            &user,
            &session,
        ),
        Ok(Decision::Refuse(error, description)) => fail(error, description),
        Ok(Decision::Issue) => {
            let auth_time = session.auth_time.unwrap_or(now);
            match issue_code(app, &request, &user, auth_time).await {
                Ok(redirect) => redirect.into_response(),
                Err(_) => unavailable(),
            }
        }
        Err(_) => unavailable(),
    }
}

fn send_to_login(app: &App, request: &AuthorizationRequest, now: i64) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in request.params.iter().filter(|(n, _)| n != REAUTH_SINCE) {
        query.append_pair(name, value);
    }
    let marker =
        request::reauth_marker(app, now, &request.client.client_id, &request.code_challenge);
    query.append_pair(REAUTH_SINCE, &marker);
    let return_to = format!("/authorize?{}", query.finish());
    let login = form_urlencoded::Serializer::new(String::new())
        .append_pair("return_to", &return_to)
        .finish();
    pages::see_other(&format!("/login?{login}"))
}

pub enum Decision {
    Issue,
    Consent,
    Refuse(&'static str, &'static str),
}

/// What the signed-in user's request leads to, short of asking them.
pub async fn decide(
    app: &App,
    request: &AuthorizationRequest,
    user: &UserRow,
    _session: &SessionRow,
) -> Result<Decision, crate::store::StoreError> {
    if request.scopes.iter().any(|s| s == "agent") && !user.is_agent {
        return Ok(Decision::Refuse(
            "invalid_scope",
            "the agent scope is only for support agents",
        ));
    }
    if request.client.first_party {
        return Ok(Decision::Issue);
    }
    if request.prompt.consent {
        return Ok(Decision::Consent);
    }
    let covered =
        consent::remembered_covers(app, user, &request.client.client_id, &request.scopes).await?;
    Ok(if covered {
        Decision::Issue
    } else {
        Decision::Consent
    })
}
