//! The token-exchange grant (RFC 8693 §2; DESIGN.md "Token exchange profile"):
//! the support client presents the agent's access token (`actor_token`) and the
//! user's grant (`subject_token` = grant id) and receives a short-lived access
//! token for the user with `act.sub` = the agent and `grant_id`.
//! Parameters: `subject_token`, `subject_token_type`, `actor_token`,
//! `actor_token_type`, `scope`, `audience`/`resource` (repeatable),
//! `requested_token_type`. Errors per RFC 8693 §2.2.2: an unacceptable subject
//! or actor token is `invalid_request`. The decision, the token record and the
//! audit event share one transaction.

use super::clients::Client;
use super::scope;
use super::token_response::TokenResponse;
use super::token_state::is_recorded_active;
use crate::app::AppState;
use crate::audit;
use crate::delegation::policy;
use crate::error::OAuthError;
use crate::http::form::OAuthForm;
use crate::random;
use crate::store::TxError;
use crate::store::grants::GrantRow;
use crate::store::issued_tokens::IssuedTokenRow;
use crate::store::users::UserRow;
use crate::tokens::access_token::{self, AccessTokenClaims, Actor, Audience};
use serde_json::json;

pub const GRANT_ID_TOKEN_TYPE: &str = "urn:behalf:params:oauth:token-type:grant_id";
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

fn refuse(description: &'static str) -> OAuthError {
    OAuthError::invalid_request(description)
}

/// The parameters, checked for shape before anything is looked up.
struct Exchange<'a> {
    grant_id: &'a str,
    actor_token: &'a str,
    scope: Option<Vec<String>>,
    audiences: Vec<&'a str>,
}

fn parse(form: &OAuthForm) -> Result<Exchange<'_>, OAuthError> {
    let grant_id = form.required("subject_token")?;
    if form.required("subject_token_type")? != GRANT_ID_TOKEN_TYPE {
        return Err(refuse(
            "subject_token_type must be urn:behalf:params:oauth:token-type:grant_id",
        ));
    }
    let actor_token = form.single("actor_token")?;
    let actor_type = form.single("actor_token_type")?;
    let actor_token = match (actor_token, actor_type) {
        (Some(token), Some(ACCESS_TOKEN_TYPE | JWT_TOKEN_TYPE)) => token,
        (Some(_), Some(_)) => {
            return Err(refuse(
                "actor_token_type must be an access token or JWT type",
            ));
        }
        (Some(_), None) => return Err(refuse("actor_token_type is required with actor_token")),
        (None, Some(_)) => return Err(refuse("actor_token_type was sent without actor_token")),
        (None, None) => return Err(refuse("actor_token (the agent's access token) is required")),
    };
    match form.single("requested_token_type")? {
        None | Some(ACCESS_TOKEN_TYPE) => {}
        Some(_) => return Err(refuse("only access tokens can be requested")),
    }
    if grant_id.len() > 128 {
        return Err(refuse("the subject token is not a grant id"));
    }
    let scope = form.single("scope")?.map(scope::parse).transpose()?;
    let audiences = form
        .all("resource")
        .into_iter()
        .chain(form.all("audience"))
        .collect();
    Ok(Exchange {
        grant_id,
        actor_token,
        scope,
        audiences,
    })
}

/// The agent behind a valid, undelegated actor token issued to this client.
fn actor_claims(
    app: &AppState,
    client: &Client,
    token: &str,
) -> Result<AccessTokenClaims, OAuthError> {
    let claims = app
        .verify_access_token(token)
        .map_err(|_| refuse("the actor token is invalid, expired or not issued by this server"))?;
    if claims.act.is_some() || claims.grant_id.is_some() {
        return Err(refuse("a delegated token cannot act as an actor token"));
    }
    if !claims.has_scope("agent") {
        return Err(refuse("the actor token lacks the agent scope"));
    }
    if claims.client_id != client.client_id {
        return Err(refuse("the actor token was issued to another client"));
    }
    Ok(claims)
}

pub async fn grant(
    app: &AppState,
    client: &Client,
    form: &OAuthForm,
) -> Result<TokenResponse, OAuthError> {
    let request = parse(form)?;
    let actor = actor_claims(app, client, request.actor_token)?;
    let now = app.now();
    let ttl = app.settings.policy.delegated_token_ttl_seconds;
    let policy = app.settings.policy.clone();
    let (grant_id, wanted_scope) = (request.grant_id.to_string(), request.scope);
    let wanted_audiences: Vec<String> = request.audiences.iter().map(|a| a.to_string()).collect();
    let (app_ref, client) = (app.clone(), client.clone());
    let claims = app
        .db
        .transaction(move |c| {
            let abort = |e: OAuthError| TxError::Abort(e);
            if !is_recorded_active(c, &actor, now)? {
                return Err(abort(refuse("the actor token has been revoked")));
            }
            let agent = UserRow::find_by_sub(c, &actor.sub)?
                .filter(|u| u.is_active() && u.is_agent)
                .ok_or_else(|| abort(refuse("the actor is not an active agent")))?;
            let grant = GrantRow::find(c, &grant_id)?
                .filter(|g| g.is_active(now))
                .ok_or_else(|| abort(refuse("the grant is unknown, expired or revoked")))?;
            if grant.agent_sub != agent.sub {
                return Err(abort(refuse("the grant was not given to this agent")));
            }
            if grant.client_id != client.client_id {
                return Err(abort(refuse("the grant is bound to another client")));
            }
            let usable: Vec<String> = grant
                .scope_list()
                .into_iter()
                .filter(|s| client.scopes.contains(s) && policy::is_delegable(&policy, s))
                .collect();
            let scopes = match wanted_scope {
                Some(wanted) => match wanted.iter().find(|s| !usable.contains(s)) {
                    Some(stray) => {
                        return Err(abort(OAuthError::invalid_scope(format!(
                            "scope {stray} is not part of the grant, or cannot be delegated"
                        ))));
                    }
                    None => wanted,
                },
                None => usable,
            };
            if scopes.is_empty() {
                return Err(abort(OAuthError::invalid_scope(
                    "no scope of the grant can be issued",
                )));
            }
            let allowed = grant.audience_list();
            if let Some(stray) = wanted_audiences.iter().find(|a| !allowed.contains(a)) {
                return Err(abort(OAuthError::invalid_target(format!(
                    "{stray} is not an audience of the grant"
                ))));
            }
            let audiences = if wanted_audiences.is_empty() {
                allowed
            } else {
                wanted_audiences
            };
            let claims = AccessTokenClaims {
                iss: app_ref.issuer.clone(),
                sub: grant.subject_sub.clone(),
                aud: Audience::from_list(audiences),
                client_id: client.client_id.clone(),
                scope: scope::join(&scopes),
                iat: now,
                exp: (now + ttl).min(grant.expires_at),
                nbf: None,
                jti: random::identifier(),
                auth_time: None,
                act: Some(Actor {
                    sub: agent.sub.clone(),
                    iss: None,
                }),
                grant_id: Some(grant.id.clone()),
            };
            IssuedTokenRow {
                id: claims.jti.clone(),
                kind: "delegated_access_token".into(),
                client_id: client.client_id.clone(),
                subject: claims.sub.clone(),
                issued_at: now,
                expires_at: claims.exp,
                revoked_at: None,
                family_id: None,
                grant_id: Some(grant.id.clone()),
                parent_id: Some(actor.jti.clone()),
            }
            .insert(c)?;
            audit::record(
                c,
                now,
                &agent.sub,
                "token.exchanged",
                Some(&grant.id),
                json!({
                    "jti": claims.jti, "client": client.client_id, "scope": claims.scope,
                    "exp": claims.exp, "actor_jti": actor.jti,
                }),
            )?;
            Ok(claims)
        })
        .await?;
    let token = access_token::issue(&app.keys.snapshot(), &claims)
        .map_err(|_| OAuthError::server_error("no access-token signing key"))?;
    Ok(TokenResponse {
        access_token: token,
        issued_token_type: Some(ACCESS_TOKEN_TYPE),
        token_type: "Bearer",
        expires_in: claims.exp - claims.iat,
        scope: claims.scope,
        refresh_token: None,
        id_token: None,
    })
}
