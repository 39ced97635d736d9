//! `GET`/`POST /authorize`: validate, make sure the right user is signed in
//! (`prompt`, `max_age`: `decision::sign_in_is_fresh`), make sure they consented
//! or the app is first-party (`decision::decide`), then redirect with a code.
//! `prompt=none` never shows a page (OIDC Core §3.1.2.6).

use super::app_consent;
use super::decision::{Decision, decide, needs_remembered_consent, sign_in_is_fresh};
use super::request::{self, AuthorizationRequest, REAUTH_SINCE};
use super::response::issue_code;
use crate::app::{App, AppState};
use crate::store::app_consents::AppConsentRow;
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
    let remembered = if needs_remembered_consent(&request) {
        let (sub, client_id) = (user.sub.clone(), request.client.client_id.clone());
        match app
            .db
            .run(move |c| AppConsentRow::find(c, &sub, &client_id))
            .await
        {
            Ok(row) => row,
            Err(_) => return pages::unavailable(),
        }
    } else {
        None
    };
    match decide(&request, &user, remembered.as_ref()) {
        Decision::Consent if request.prompt.none => {
            fail("consent_required", "the user has not consented")
        }
        Decision::Consent => app_consent::page(
            &app.settings.policy.scope_descriptions,
            &request,
            &user,
            &session,
        ),
        Decision::Refuse(error, description) => fail(error, description),
        Decision::Issue => {
            let auth_time = session.auth_time.unwrap_or(now);
            match issue_code(&app.db, &app.issuer, now, &request, &user, auth_time).await {
                Ok(redirect) => redirect.into_response(),
                Err(_) => pages::unavailable(),
            }
        }
    }
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
    let login = form_urlencoded::Serializer::new(String::new())
        .append_pair("return_to", &return_to)
        .finish();
    pages::see_other(&format!("/login?{login}"))
}
