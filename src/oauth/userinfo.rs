//! `GET`/`POST /userinfo` (OIDC Core §5.3): claims about the user the bearer
//! token is for, by scope: `sub` always (with `openid`), `preferred_username`
//! and `name` with `profile`; `act` when an agent acts as the user (a delegated
//! session). The token must be active (`token_state`) and be about an active user.

use crate::app::AppState;
use crate::oauth::token_state::bearer_user;
use crate::web::bearer::BearerError;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

pub async fn userinfo(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, BearerError> {
    let (claims, user) = bearer_user(&app, &headers).await?;
    if !claims.has_scope("openid") {
        return Err(BearerError::InsufficientScope("openid"));
    }
    let mut body = Map::new();
    body.insert("sub".into(), json!(user.sub));
    if claims.has_scope("profile") {
        body.insert("preferred_username".into(), json!(user.username));
        body.insert("name".into(), json!(user.username));
    }
    // A delegated session: who is really acting (DESIGN.md "Delegated sign-in").
    if let Some(act) = &claims.act {
        body.insert("act".into(), json!(act));
    }
    let mut response = Json(Value::Object(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
