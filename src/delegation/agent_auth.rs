//! Authenticating an agent on the JSON API (RFC 6750): a bearer access token
//! that is active, carries scope `agent`, is not itself delegated, and belongs
//! to an active user with the agent role. The token's client is the support
//! client that the agent's requests and grants are bound to.

use crate::app::App;
use crate::http::bearer::{self, BearerError};
use crate::oauth::clients::Client;
use crate::oauth::token_state::active_access_token;
use crate::store::users::UserRow;
use axum::http::HeaderMap;
use std::sync::Arc;

pub struct Agent {
    pub user: UserRow,
    pub client: Arc<Client>,
}

pub async fn authenticate(app: &App, headers: &HeaderMap) -> Result<Agent, BearerError> {
    let token = bearer::token(headers).ok_or(BearerError::InvalidToken)?;
    let claims = active_access_token(app, token)
        .await
        .map_err(|_| BearerError::Unavailable)?
        .ok_or(BearerError::InvalidToken)?;
    if claims.act.is_some() {
        // A delegated token speaks for a user, never for an agent.
        return Err(BearerError::InvalidToken);
    }
    if !claims.has_scope("agent") {
        return Err(BearerError::InsufficientScope("agent"));
    }
    let sub = claims.sub.clone();
    let user = app
        .db
        .run(move |c| UserRow::find_by_sub(c, &sub))
        .await
        .map_err(|_| BearerError::Unavailable)?
        .filter(UserRow::is_active)
        .ok_or(BearerError::InvalidToken)?;
    if !user.is_agent {
        return Err(BearerError::InsufficientScope("agent"));
    }
    let client = app
        .clients
        .find(&claims.client_id)
        .await
        .map_err(|_| BearerError::Unavailable)?
        .ok_or(BearerError::InvalidToken)?;
    Ok(Agent { user, client })
}
