//! `GET`/`POST /userinfo` (OIDC Core §5.3): claims about the user the bearer
//! token is for, by scope: `sub` always (with `openid`), `preferred_username`
//! and `name` with `profile`. The token must be active (`token_state`) and be
//! about an active user.

use crate::app::AppState;
use crate::http::bearer::{self, BearerError};
use crate::oauth::token_state::active_access_token;
use crate::store::users::UserRow;
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
    let claims = active_access_token(&app, token)
        .await
        .map_err(|_| BearerError::Unavailable)?
        .ok_or(BearerError::InvalidToken)?;
    if !claims.has_scope("openid") {
        return Err(BearerError::InsufficientScope("openid"));
    }
    let sub = claims.sub.clone();
    let user = app
        .db
        .run(move |c| UserRow::find_by_sub(c, &sub))
        .await
        .map_err(|_| BearerError::Unavailable)?
        .filter(UserRow::is_active)
        .ok_or(BearerError::InvalidToken)?;
    let mut body = Map::new();
    body.insert("sub".into(), json!(user.sub));
    if claims.has_scope("profile") {
        body.insert("preferred_username".into(), json!(user.username));
        body.insert("name".into(), json!(user.username));
    }
    let mut response = Json(Value::Object(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
