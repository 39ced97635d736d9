//! `GET`/`POST /authorize`: validate, make sure the right user is signed in
//! (`prompt`, `max_age`: `decision::sign_in_is_fresh`), offer an agent to act
//! as a user who allowed it (`act_as`), else continue as the signed-in user
//! (`as_self`: consent or first-party, then a code).
//! `prompt=none` never shows a page (OIDC Core §3.1.2.6).

use super::act_as;
use super::as_self::continue_as_self;
use super::decision::sign_in_is_fresh;
use super::request::{self, AuthorizationRequest, REAUTH_SINCE};
use crate::app::{App, AppState};
use crate::web::form::OAuthForm;
use crate::web::{pages, session};
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

async fn authorize(app: &App, form: &OAuthForm, headers: &HeaderMap) -> Response {
    if form.control_character().is_some() {
        // Nothing is validated yet, so nothing may be redirected to (docs/security.md L7).
        return pages::error(
            StatusCode::BAD_REQUEST,
            "Request refused",
            "The sign-in request holds a character that is not allowed.",
        );
    }
    let request = match request::validate(app, form).await {
        Ok(r) => r,
        Err(rejection) => return rejection.into_response(),
    };
    let fail =
        |error: &str, description: &str| request.error_redirect(&app.issuer, error, description);
    let now = app.now();
    let signed_in = match session::signed_in(&app.db, headers, now).await {
        Ok(s) => s.filter(|(session, _)| sign_in_is_fresh(&request, session, now)),
        Err(_) => return pages::unavailable(),
    };
    let Some((session, user)) = signed_in else {
        if request.prompt.none {
            return fail("login_required", "the user is not signed in");
        }
        return send_to_login(app, &request, now);
    };
    if let Some(offer) = act_as::offer(app, &request, &session, &user).await {
        return offer;
    }
    continue_as_self(app, &request, &session, &user).await
}

fn send_to_login(app: &App, request: &AuthorizationRequest, now: i64) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in request.params.iter().filter(|(n, _)| n != REAUTH_SINCE) {
        query.append_pair(name, value);
    }
    let marker = request::reauth_marker(
        &app.mac,
        now,
        &request.client.client_id,
        &request.code_challenge,
    );
    query.append_pair(REAUTH_SINCE, &marker);
    let return_to = format!("/authorize?{}", query.finish());
    let mut login = form_urlencoded::Serializer::new(String::new());
    login.append_pair("return_to", &return_to);
    // Passed on by an upstream sign-in to the IdP (docs/contract.md "Beside
    // an existing identity provider"): its sign-in must be fresh too.
    if request.prompt.login {
        login.append_pair("prompt", "login");
    }
    if let Some(max_age) = request.max_age {
        login.append_pair("max_age", &max_age.to_string());
    }
    let login = login.finish();
    pages::see_other(&format!("/login?{login}"))
}
