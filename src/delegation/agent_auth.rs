//! Authenticating an agent on the JSON API (RFC 6750): a bearer access token
//! that is active, carries scope `agent`, is not itself delegated, and belongs
//! to an active user with the agent role. The token's client is the support
//! client that the agent's requests and grants are bound to.

use crate::app::App;
use crate::clients::Client;
use crate::oauth::token_state::bearer_user;
use crate::store::users::UserRow;
use crate::web::bearer::BearerError;
use axum::http::HeaderMap;
use std::sync::Arc;

pub struct Agent {
    pub user: UserRow,
    pub client: Arc<Client>,
}

pub async fn authenticate(app: &App, headers: &HeaderMap) -> Result<Agent, BearerError> {
    let (claims, user) = bearer_user(app, headers).await?;
    if claims.act.is_some() {
        // A delegated token speaks for a user, never for an agent.
        return Err(BearerError::InvalidToken);
    }
    if !claims.has_scope("agent") || !user.is_agent {
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
