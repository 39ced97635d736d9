//! `POST /introspect` (RFC 7662): any authenticated confidential client may ask
//! whether a token is active. Access tokens (ours, all kinds) and refresh tokens
//! are understood; anything not active — unknown, expired, revoked, grant ended,
//! malformed — is exactly `{"active": false}` (RFC 7662 §2.2). Introspecting an
//! active delegated token is recorded in the audit trail under its grant, by the
//! writer's next group commit, without holding up the answer, and at most once
//! per token, client and minute (docs/security.md L9; `audit::introspected`).

use super::client_auth;
use super::token_state::{acting_agent, active_subject};
use crate::app::AppState;
use crate::audit;
use crate::digest;
use crate::error::OAuthError;
use crate::store::refresh_tokens::RefreshTokenRow;
use crate::store::users::UserRow;
use crate::store::{AnyConnection, StoreError};
use crate::tokens::access_token::AccessTokenClaims;
use crate::tokens::verifier::MAX_TOKEN_LEN;
use crate::web::form::OAuthForm;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

fn no_store(body: Value) -> Response {
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The answer for a verified access token; reads only.
fn access_token_answer(
    conn: &mut AnyConnection,
    claims: &AccessTokenClaims,
    now: i64,
) -> Result<Value, StoreError> {
    let Some(subject) = active_subject(conn, claims, now)? else {
        return Ok(json!({"active": false}));
    };
    let mut body = json!({
        "active": true,
        "sub": claims.sub,
        "client_id": claims.client_id,
        "aud": claims.aud,
        "iss": claims.iss,
        "exp": claims.exp,
        "iat": claims.iat,
        "jti": claims.jti,
        "token_type": "Bearer",
    });
    if let Some(scope) = &claims.scope {
        body["scope"] = json!(scope);
    }
    if let Some(user) = subject {
        body["username"] = json!(user.username);
    }
    if let (Some(act), Some(grant_id)) = (&claims.act, &claims.grant_id) {
        body["act"] = json!(act);
        body["grant_id"] = json!(grant_id);
    }
    Ok(body)
}

fn refresh_token_answer(
    conn: &mut AnyConnection,
    token: &str,
    now: i64,
) -> Result<Value, StoreError> {
    let Some(row) = RefreshTokenRow::find(conn, &digest::hash_hex(token))? else {
        return Ok(json!({"active": false}));
    };
    let live = row.used_at.is_none()
        && row.revoked_at.is_none()
        && now < row.expires_at
        && now < row.family_expires_at;
    let user = UserRow::find_by_sub(conn, &row.user_sub)?.filter(UserRow::is_active);
    match (live, user) {
        (true, Some(user)) => Ok(json!({
            "active": true,
            "token_type": "refresh_token",
            "client_id": row.client_id,
            "sub": row.user_sub,
            "username": user.username,
            "scope": row.scopes,
            "iat": row.issued_at,
            "exp": row.expires_at,
        })),
        _ => Ok(json!({"active": false})),
    }
}

pub async fn introspect(
    State(app): State<AppState>,
    headers: HeaderMap,
    form: OAuthForm,
) -> Result<Response, OAuthError> {
    let client = client_auth::authenticate(&app.clients, &headers, &form).await?;
    if client.is_public {
        return Err(OAuthError::invalid_client());
    }
    let token = form.required("token")?.to_string();
    if token.len() > MAX_TOKEN_LEN {
        return Ok(no_store(json!({"active": false})));
    }
    let now = app.now();
    let claims = app.verify_access_token(&token).ok();
    // The decision reads only, on the pool, concurrently with other readers.
    let (body, delegated) = app
        .db
        .read(move |c| match claims {
            Some(claims) => {
                let body = access_token_answer(c, &claims, now)?;
                // The agent acting with the token (`act.sub`, or the local
                // user an upstream's `act` is linked to) names them in the activity.
                let agent = match &claims.act {
                    Some(act) if act.iss.is_some() && body["active"] == true => {
                        acting_agent(c, act)?.map(|agent| agent.sub)
                    }
                    Some(act) => Some(act.sub.clone()),
                    None => None,
                };
                let delegated = match (body["active"] == true, &claims.grant_id) {
                    (true, Some(grant_id)) => Some((grant_id.clone(), claims.jti.clone(), agent)),
                    _ => None,
                };
                Ok((body, delegated))
            }
            None => Ok((refresh_token_answer(c, &token, now)?, None)),
        })
        .await?;
    // The check is recorded under its grant by the writer's next group commit; the
    // answer does not wait for it (the decision above did not depend on it).
    if let Some((grant_id, jti, agent)) = delegated {
        app.deferred_audit.record(
            &app.db,
            audit::introspected(now, &client.client_id, &grant_id, &jti, agent.as_deref()),
        );
    }
    Ok(no_store(body))
}
