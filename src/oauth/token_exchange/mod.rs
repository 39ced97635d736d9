//! The token-exchange grant (RFC 8693 §2; docs/contract.md "Token exchange profile"):
//! the support client presents the agent's access token (`actor_token`) and the
//! user's grant (`subject_token` = grant id) and receives a short-lived access
//! token for the user with `act.sub` = the agent and `grant_id`.
//! Parameters: `subject_token`, `subject_token_type`, `actor_token`,
//! `actor_token_type`, `scope`, `audience`/`resource` (repeatable),
//! `requested_token_type`. Errors per RFC 8693 §2.2.2: an unacceptable subject
//! or actor token is `invalid_request`. The actor token may also be a
//! `[[trusted_issuer]]`'s JWT: the agent is then the local user linked to it
//! and `act` carries the issuer's `sub` and `iss`. The flow: `parse` → `actor_token` →
//! one transaction (`record_exchange`: reads, `decide::decide_exchange`, the
//! token's row and the audit event) → sign.

mod decide;

pub use decide::{Issue, Parties, Wanted, decide_exchange};

use super::scope;
use super::token_response::TokenResponse;
use super::token_state::active_subject;
use crate::app::AppState;
use crate::audit::{self, Action};
use crate::clients::Client;
use crate::config::{AGENT_SCOPE, AgentClaim, Policy};
use crate::error::OAuthError;
use crate::federation::link::{self, Refresh};
use crate::federation::trusted::{self as trusted_issuer, TrustedToken};
use crate::random;
use crate::store::events::EventRow;
use crate::store::grants::GrantRow;
use crate::store::issued_tokens::{IssuedTokenRow, TokenKind};
use crate::store::users::UserRow;
use crate::store::{AnyConnection, TxError};
use crate::telemetry::grant_events;
use crate::tokens::access_token::{self, AccessTokenClaims, Actor, Audience};
use crate::web::form::{OAuthForm, Parameters};
use serde_json::json;

pub const PARAMETERS: Parameters = Parameters {
    single: &[
        "subject_token",
        "subject_token_type",
        "actor_token",
        "actor_token_type",
        "requested_token_type",
        "scope",
    ],
    repeatable: &["resource", "audience"],
};

pub const GRANT_ID_TOKEN_TYPE: &str = "urn:behalf:params:oauth:token-type:grant_id";
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

fn refuse(description: &'static str) -> OAuthError {
    OAuthError::invalid_request(description)
}

/// The parameters, checked for shape before anything is looked up.
struct Parsed<'a> {
    grant_id: &'a str,
    actor_token: &'a str,
    scope: Option<Vec<String>>,
    audiences: Vec<&'a str>,
}

fn parse(form: &OAuthForm) -> Result<Parsed<'_>, OAuthError> {
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
    Ok(Parsed {
        grant_id,
        actor_token,
        scope,
        audiences,
    })
}

/// The actor token, verified: one of ours, or a trusted issuer's JWT.
enum ActorToken {
    Ours(AccessTokenClaims),
    Trusted(TrustedToken),
}

/// The agent behind a valid, undelegated actor token issued to this client,
/// or behind a trusted issuer's token this client may present
/// (docs/contract.md "Beside an existing identity provider"; docs/security.md O3, O4).
async fn actor_token(
    app: &AppState,
    client: &Client,
    token: &str,
) -> Result<ActorToken, OAuthError> {
    let ours = match app.verify_access_token(token) {
        Ok(claims) => claims,
        Err(_) => {
            return match trusted_issuer::unverified_issuer(token) {
                Some(iss) if iss != app.issuer => trusted_actor(app, client, token, &iss)
                    .await
                    .map(ActorToken::Trusted),
                _ => Err(refuse(
                    "the actor token is invalid, expired or not issued by this server",
                )),
            };
        }
    };
    if ours.act.is_some() || ours.grant_id.is_some() {
        return Err(refuse("a delegated token cannot act as an actor token"));
    }
    if !ours.has_scope(AGENT_SCOPE) {
        return Err(refuse("the actor token lacks the agent scope"));
    }
    if ours.client_id != client.client_id {
        return Err(refuse("the actor token was issued to another client"));
    }
    Ok(ActorToken::Ours(ours))
}

async fn trusted_actor(
    app: &AppState,
    client: &Client,
    token: &str,
    iss: &str,
) -> Result<TrustedToken, OAuthError> {
    let issuer = app
        .federation
        .trusted_issuer(iss)
        .ok_or_else(|| refuse("the actor token's issuer is not trusted"))?;
    if !issuer.may_be_presented_by(&client.client_id) {
        return Err(refuse(
            "this client may not present the actor tokens of that issuer",
        ));
    }
    issuer
        .verify(&app.federation.http, token, app.now())
        .await
        .map_err(|refusal| OAuthError::invalid_request(refusal.0))
}

pub async fn grant(
    app: &AppState,
    client: &Client,
    form: &OAuthForm,
) -> Result<TokenResponse, OAuthError> {
    let request = parse(form)?;
    let actor = actor_token(app, client, request.actor_token).await?;
    // A trusted issuer's agent claim decides whether its agent may be made.
    let agent_claim = match &actor {
        ActorToken::Trusted(token) => app
            .federation
            .trusted_issuer(&token.identity.issuer)
            .map(|issuer| issuer.settings.agent_claim()),
        ActorToken::Ours(_) => None,
    };
    let exchange = Exchange {
        grant_id: request.grant_id.to_string(),
        wanted: Wanted {
            scope: request.scope,
            audiences: request.audiences.iter().map(|a| a.to_string()).collect(),
        },
    };
    let (now, issuer) = (app.now(), app.issuer.clone());
    let (policy, client) = (app.settings.policy.clone(), client.clone());
    let claims = app
        .db
        .transaction(move |c| {
            let actor = match actor {
                ActorToken::Ours(claims) => Acting::ours(c, claims, now)?,
                ActorToken::Trusted(token) => {
                    Acting::trusted(c, token, agent_claim.flatten(), now)?
                }
            };
            record_exchange(c, &issuer, &policy, &client, &actor, exchange, now)
        })
        .await?;
    if let (Some(grant), Some(act)) = (&claims.grant_id, &claims.act) {
        grant_events::used(grant, &act.sub, &claims.sub, &claims.client_id);
    }
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

/// The actor, read in the transaction: the local agent, the `act` the
/// token will carry when it is not simply the agent's `sub`, and what limits it.
struct Acting {
    agent: Option<UserRow>,
    /// `{"sub", "iss"}` of a trusted issuer's actor; `None`: `{"sub": agent}`.
    act: Option<Actor>,
    /// Our actor token's id: its revocation ends the delegated token (`parent_id`).
    jti: Option<String>,
    expires_at: i64,
}

impl Acting {
    /// Our own actor token, still standing, and the agent it names.
    fn ours(
        conn: &mut AnyConnection,
        claims: AccessTokenClaims,
        now: i64,
    ) -> Result<Self, TxError<OAuthError>> {
        // The agent: the user an active user token is about (read with it), or
        // the agent a client's own token names (an assistant's client credentials).
        let agent = match active_subject(conn, &claims, now)? {
            Some(Some(user)) => Some(user),
            Some(None) => UserRow::find_by_sub(conn, &claims.sub)?,
            None => return Err(TxError::Abort(refuse("the actor token has been revoked"))),
        };
        Ok(Self {
            agent,
            act: None,
            jti: Some(claims.jti),
            expires_at: claims.exp,
        })
    }

    /// A trusted issuer's token: the local user linked to its (issuer,
    /// `sub`), made at first use when the issuer's agent claim makes it an agent.
    fn trusted(
        conn: &mut AnyConnection,
        token: TrustedToken,
        agent_claim: Option<AgentClaim>,
        now: i64,
    ) -> Result<Self, TxError<OAuthError>> {
        let refresh = Refresh {
            may_create: agent_claim.is_some(),
            agent_claim,
            team_claim: None,
            profile: false,
        };
        let agent = link::link(conn, &token.identity, &refresh, now)?;
        Ok(Self {
            agent,
            act: Some(Actor {
                sub: token.identity.subject,
                iss: Some(token.identity.issuer),
            }),
            jti: None,
            expires_at: token.expires_at,
        })
    }
}

/// What the exchange is about, once parsed: the grant, and the narrowing asked for.
struct Exchange {
    grant_id: String,
    wanted: Wanted,
}

/// The transaction: the actor token still stands, then the agent, the grant
/// and its subject are read once each, decided on, and the token's record and audit event written.
fn record_exchange(
    conn: &mut AnyConnection,
    issuer: &str,
    policy: &Policy,
    client: &Client,
    actor: &Acting,
    exchange: Exchange,
    now: i64,
) -> Result<AccessTokenClaims, TxError<OAuthError>> {
    let agent = actor.agent.as_ref();
    let grant = GrantRow::find(conn, &exchange.grant_id)?;
    let subject = match &grant {
        Some(g) => UserRow::find_by_sub(conn, &g.subject_sub)?,
        None => None,
    };
    let parties = Parties {
        grant: grant.as_ref(),
        agent,
        subject: subject.as_ref(),
        actor_expires_at: actor.expires_at,
    };
    let issue =
        decide_exchange(parties, client, policy, exchange.wanted, now).map_err(TxError::Abort)?;
    let claims = AccessTokenClaims {
        iss: issuer.to_string(),
        sub: issue.subject,
        aud: Audience::from_list(issue.audiences),
        client_id: client.client_id.clone(),
        scope: scope::join(&issue.scopes),
        iat: now,
        exp: issue.expires_at,
        nbf: None,
        jti: random::identifier(),
        auth_time: None,
        act: Some(actor.act.clone().unwrap_or_else(|| Actor {
            sub: issue.agent.clone(),
            iss: None,
        })),
        grant_id: Some(issue.grant_id.clone()),
    };
    IssuedTokenRow {
        id: claims.jti.clone(),
        kind: TokenKind::DelegatedAccessToken.as_str().into(),
        client_id: client.client_id.clone(),
        subject: claims.sub.clone(),
        issued_at: now,
        expires_at: claims.exp,
        revoked_at: None,
        family_id: None,
        grant_id: Some(issue.grant_id.clone()),
        parent_id: actor.jti.clone(),
    }
    .insert(conn)?;
    audit::record(
        conn,
        now,
        &issue.agent,
        Action::TokenExchanged,
        Some(&issue.grant_id),
        json!({
            "jti": claims.jti, "client": client.client_id, "scope": claims.scope,
            "exp": claims.exp, "actor_jti": actor.jti, "act": claims.act,
        }),
    )?;
    if let Some(grant) = &grant {
        EventRow::grant_used(conn, grant, now)?;
    }
    Ok(claims)
}
