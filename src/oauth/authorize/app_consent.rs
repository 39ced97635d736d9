//! App consent (OIDC Core §3.1.2.4): the page naming the app and its scopes in
//! plain words, and `POST /authorize/consent` with `decision=approve|deny`.
//! Consent is remembered per user and client: the scopes approved now are
//! added to those remembered and the code is stored in the same transaction.

use super::decision::{Decision, refusal};
use super::request::{self, AuthorizationRequest};
use super::response::{code_redirect, new_code};
use crate::app::AppState;
use crate::oauth::scope;
use crate::store::app_consents::AppConsentRow;
use crate::store::authorization_codes::AuthorizationCodeRow;
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use crate::store::{AnyConnection, StoreError};
use crate::web::form::OAuthForm;
use crate::web::{pages, session};
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

/// The scopes consented before, then the ones approved now, each once.
pub fn merged_consent(remembered: &[&str], approved: &[String]) -> Vec<String> {
    let mut scopes: Vec<String> = remembered.iter().map(|s| s.to_string()).collect();
    for s in approved {
        if !scopes.contains(s) {
            scopes.push(s.clone());
        }
    }
    scopes
}

/// One transaction: lock the remembered consent, add the approved scopes, store the code.
fn remember_and_issue(
    conn: &mut AnyConnection,
    user_sub: &str,
    client_id: &str,
    approved: &[String],
    code: &AuthorizationCodeRow,
    now: i64,
) -> Result<(), StoreError> {
    let remembered = AppConsentRow::lock(conn, user_sub, client_id, now)?;
    let scopes = merged_consent(&remembered.scope_list(), approved);
    AppConsentRow::set_scopes(conn, user_sub, client_id, &scopes.join(" "))?;
    code.insert(conn)
}

pub async fn decision(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = OAuthForm::parse(&body);
    if form.control_character().is_some() {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "Request refused",
            "The form holds a character that is not allowed.",
        );
    }
    let now = app.now();
    let csrf = form.single("csrf_token").ok().flatten();
    let (session, user) = match session::form_user(&app.db, &headers, now, csrf).await {
        Ok(Some(signed_in)) => signed_in,
        Ok(None) => {
            return pages::error(
                StatusCode::FORBIDDEN,
                "Request refused",
                "This form has expired or was not sent from your session. Please start again.",
            );
        }
        Err(_) => return pages::unavailable(),
    };
    let request = match request::validate(&app, &form).await {
        Ok(r) => r,
        Err(rejection) => return rejection.into_response(),
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
    if let Some(Decision::Refuse(error, description)) = refusal(&request, &user) {
        return fail(error, description);
    }
    let auth_time = session.auth_time.unwrap_or(now);
    let (code, row) = new_code(&request, &user, auth_time, now);
    let (sub, client_id, approved) = (
        user.sub.clone(),
        request.client.client_id.clone(),
        request.scopes.clone(),
    );
    let stored = app
        .db
        .write(move |c| remember_and_issue(c, &sub, &client_id, &approved, &row, now))
        .await;
    match stored {
        Ok(()) => code_redirect(&app.issuer, &request, &code).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "storage failed");
            pages::unavailable()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::merged_consent;

    #[test]
    fn approving_more_scopes_keeps_those_consented_before_in_their_order() {
        let approved = vec!["openid".to_string(), "write".to_string()];
        assert_eq!(
            merged_consent(&["openid", "read"], &approved),
            vec!["openid", "read", "write"]
        );
        assert_eq!(merged_consent(&[], &approved), approved);
    }
}
