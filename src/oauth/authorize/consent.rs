//! App consent (OIDC Core §3.1.2.4): the page naming the app and its scopes in
//! plain words, and `POST /authorize/consent` with `decision=approve|deny`.
//! Consent is remembered per user, client and scopes.

use super::endpoint::{Decision, decide, reject, unavailable};
use super::request::{self, AuthorizationRequest};
use super::response::issue_code;
use crate::app::{App, AppState};
use crate::consent::{pages, session};
use crate::http::form::OAuthForm;
use crate::oauth::scope;
use crate::store::StoreError;
use crate::store::app_consents::AppConsentRow;
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tera::Context;

#[derive(Serialize)]
struct ScopeView {
    name: String,
    description: String,
}

#[derive(Serialize)]
struct Param<'a> {
    name: &'a str,
    value: &'a str,
}

pub fn page(
    words: &std::collections::HashMap<String, String>,
    request: &AuthorizationRequest,
    user: &UserRow,
    session: &SessionRow,
) -> Response {
    let scopes: Vec<ScopeView> = request
        .scopes
        .iter()
        .map(|s| ScopeView {
            name: s.clone(),
            description: scope::describe(words, s),
        })
        .collect();
    let params: Vec<Param> = request
        .params
        .iter()
        .map(|(name, value)| Param { name, value })
        .collect();
    let mut context = Context::new();
    context.insert("client_name", &request.client.name);
    context.insert("username", &user.username);
    context.insert("scopes", &scopes);
    context.insert("params", &params);
    context.insert("csrf_token", &session.csrf_token);
    pages::render(StatusCode::OK, "consent.html", &context)
}

pub async fn remembered_covers(
    app: &App,
    user: &UserRow,
    client_id: &str,
    scopes: &[String],
) -> Result<bool, StoreError> {
    let (sub, client_id) = (user.sub.clone(), client_id.to_string());
    let remembered = app
        .db
        .run(move |c| AppConsentRow::find(c, &sub, &client_id))
        .await?;
    Ok(remembered.is_some_and(|r| {
        let allowed = r.scope_list();
        scopes.iter().all(|s| allowed.contains(&s.as_str()))
    }))
}

pub async fn decision(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = OAuthForm::parse(&body);
    let (session, user) = match session::signed_in(&app, &headers).await {
        Ok(Some((s, u))) if session::csrf_matches(&s, form.single("csrf_token").ok().flatten()) => {
            (s, u)
        }
        Ok(_) => {
            return pages::error(
                StatusCode::FORBIDDEN,
                "Request refused",
                "This form has expired or was not sent from your session. Please start again.",
            );
        }
        Err(_) => return unavailable(),
    };
    let request = match request::validate(&app, &form).await {
        Ok(r) => r,
        Err(rejection) => return reject(rejection),
    };
    let fail =
        |error: &str, description: &str| request.error_redirect(&app.issuer, error, description);
    match form.single("decision").ok().flatten() {
        Some("approve") => {}
        Some("deny") => return fail("access_denied", "the user denied the request"),
        _ => {
            return pages::error(
                StatusCode::BAD_REQUEST,
                "Request refused",
                "Choose Allow or Deny.",
            );
        }
    }
    if let Ok(Decision::Refuse(error, description)) = decide(&app, &request, &user, &session).await
    {
        return fail(error, description);
    }
    let consent = AppConsentRow {
        user_sub: user.sub.clone(),
        client_id: request.client.client_id.clone(),
        scopes: merged_scopes(&app, &user, &request).await.join(" "),
        granted_at: app.now(),
    };
    if app.db.write(move |c| consent.upsert(c)).await.is_err() {
        return unavailable();
    }
    let auth_time = session.auth_time.unwrap_or_else(|| app.now());
    match issue_code(&app, &request, &user, auth_time).await {
        Ok(redirect) => redirect.into_response(),
        Err(_) => unavailable(),
    }
}

/// The scopes consented before, plus the ones approved now.
async fn merged_scopes(app: &App, user: &UserRow, request: &AuthorizationRequest) -> Vec<String> {
    let (sub, client_id) = (user.sub.clone(), request.client.client_id.clone());
    let mut scopes: Vec<String> = app
        .db
        .run(move |c| AppConsentRow::find(c, &sub, &client_id))
        .await
        .ok()
        .flatten()
        .map(|r| r.scope_list().into_iter().map(str::to_string).collect())
        .unwrap_or_default();
    for s in &request.scopes {
        if !scopes.contains(s) {
            scopes.push(s.clone());
        }
    }
    scopes
}
