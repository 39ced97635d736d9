//! Authenticating an agent on the JSON API (RFC 6750): a bearer access token
//! that is active, carries scope `agent`, is not itself delegated, and belongs
//! to an active user with the agent role. The token's client is the support
//! client that the agent's requests and grants are bound to.
//!
//! The bearer token may also be a `[[trusted_issuer]]`'s JWT (docs/contract.md
//! "Beside an existing identity provider"; docs/security.md O3): verified by
//! `federation::trusted`, the agent is the local user linked to its (issuer,
//! `sub`), made at first use when the issuer's agent claim says so, and the
//! support client is the token's `client_id` (or `azp`) when the issuer lists
//! it, else the one client the issuer lists.

use crate::app::App;
use crate::clients::Client;
use crate::federation::link::{self, Refresh};
use crate::federation::trusted::unverified_issuer;
use crate::oauth::token_state::bearer_user;
use crate::store::users::UserRow;
use crate::web::bearer::{self, BearerError};
use axum::http::HeaderMap;
use std::sync::Arc;

pub struct Agent {
    pub user: UserRow,
    pub client: Arc<Client>,
}

pub async fn authenticate(app: &App, headers: &HeaderMap) -> Result<Agent, BearerError> {
    let (claims, user) = match bearer_user(app, headers).await {
        Err(BearerError::InvalidToken) => return trusted_agent(app, headers).await,
        other => other?,
    };
    if claims.act.is_some() {
        // A delegated token speaks for a user, never for an agent.
        return Err(BearerError::InvalidToken);
    }
    if !claims.has_scope("agent") || !user.is_agent {
        return Err(BearerError::InsufficientScope("agent"));
    }
    Ok(Agent {
        user,
        client: find_client(app, &claims.client_id).await?,
    })
}

async fn find_client(app: &App, client_id: &str) -> Result<Arc<Client>, BearerError> {
    app.clients
        .find(client_id)
        .await
        .map_err(|_| BearerError::Unavailable)?
        .ok_or(BearerError::InvalidToken)
}

/// The agent behind a trusted issuer's token; `InvalidToken` for any other.
async fn trusted_agent(app: &App, headers: &HeaderMap) -> Result<Agent, BearerError> {
    let token = bearer::token(headers).ok_or(BearerError::InvalidToken)?;
    let issuer = unverified_issuer(token)
        .filter(|iss| *iss != app.issuer)
        .and_then(|iss| app.federation.trusted_issuer(&iss))
        .ok_or(BearerError::InvalidToken)?;
    let verified = issuer
        .verify(&app.federation.http, token, app.now())
        .await
        .map_err(|refusal| {
            tracing::info!(why = %refusal.0, "trusted issuer's bearer token refused");
            BearerError::InvalidToken
        })?;
    let listed = &issuer.settings.clients;
    let client_id = match verified.client_id.as_deref() {
        Some(named) if issuer.may_be_presented_by(named) => named,
        _ if listed.len() == 1 => &listed[0],
        _ => return Err(BearerError::InvalidToken),
    };
    let client = find_client(app, client_id).await?;
    let agent_claim = issuer.settings.agent_claim();
    let refresh = Refresh {
        may_create: agent_claim.is_some(),
        agent_claim,
        team_claim: None,
        profile: false,
    };
    let (identity, now) = (verified.identity, app.now());
    let user = app
        .db
        .write(move |c| link::link(c, &identity, &refresh, now))
        .await
        .map_err(|_| BearerError::Unavailable)?
        .filter(|u| u.is_active() && u.is_agent)
        .ok_or(BearerError::InsufficientScope("agent"))?;
    Ok(Agent { user, client })
}
