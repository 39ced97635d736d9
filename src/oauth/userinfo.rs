//! `GET`/`POST /userinfo` (OIDC Core §5.3): claims about the user the bearer
//! token is for, by scope: `sub` always (with `openid`), `preferred_username`
//! and `name` with `profile`. The token must verify, be unrevoked, and belong to
//! an active user.

use crate::app::AppState;
use crate::http::bearer::{self, BearerError};
use crate::store::issued_tokens::IssuedTokenRow;
use crate::store::users::UserRow;
use crate::tokens::verifier::verify_access_token;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

pub async fn userinfo(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, BearerError> {
    let token = bearer::token(&headers).ok_or(BearerError::InvalidToken)?;
    let claims = verify_access_token(&app.keys.snapshot(), &app.issuer, token, app.now())
        .map_err(|_| BearerError::InvalidToken)?;
    let scopes: Vec<&str> = claims
        .scope
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .collect();
    if !scopes.contains(&"openid") {
        return Err(BearerError::InsufficientScope("openid"));
    }
    let (jti, sub) = (claims.jti.clone(), claims.sub.clone());
    let (record, user) = app
        .db
        .run(move |c| {
            Ok((
                IssuedTokenRow::find(c, &jti)?,
                UserRow::find_by_sub(c, &sub)?,
            ))
        })
        .await
        .map_err(|_| BearerError::Unavailable)?;
    if record.is_some_and(|r| r.revoked_at.is_some()) {
        return Err(BearerError::InvalidToken);
    }
    let user = user
        .filter(UserRow::is_active)
        .ok_or(BearerError::InvalidToken)?;
    let mut body = Map::new();
    body.insert("sub".into(), json!(user.sub));
    if scopes.contains(&"profile") {
        body.insert("preferred_username".into(), json!(user.username));
        body.insert("name".into(), json!(user.username));
    }
    let mut response = Json(Value::Object(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
