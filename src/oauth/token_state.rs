//! Whether an access token is active right now: a valid signature and claims
//! (`tokens::verifier`), and then what the database knows: its own revocation,
//! its user's account, and for a delegated token its grant and the actor token
//! that minted it (RFC 7662 §2.2 "active"; docs/contract.md "Revocation and its reach").
//! No answer about activity is cached (only signature checks are, see
//! `tokens::verified_cache`): a revocation committed anywhere counts at once.

use crate::app::App;
use crate::store::issued_tokens::IssuedTokenRow;
use crate::store::user_identities::UserIdentityRow;
use crate::store::users::UserRow;
use crate::store::{AnyConnection, StoreError};
use crate::tokens::access_token::{AccessTokenClaims, Actor};
use crate::web::bearer::{self, BearerError};
use axum::http::HeaderMap;

/// The bearer token of a request to a protected resource (RFC 6750 §2.1),
/// active and about an active user: its claims and that user, or the answer to
/// send (401 `invalid_token`, 503 when the store cannot say).
pub async fn bearer_user(
    app: &App,
    headers: &HeaderMap,
) -> Result<(AccessTokenClaims, UserRow), BearerError> {
    let token = bearer::token(headers).ok_or(BearerError::InvalidToken)?;
    let claims = app
        .verify_access_token(token)
        .map_err(|_| BearerError::InvalidToken)?;
    let now = app.now();
    let checked = app
        .db
        .read(move |c| Ok(active_subject(c, &claims, now)?.map(|subject| (claims, subject))))
        .await
        .map_err(|_| BearerError::Unavailable)?;
    match checked {
        Some((claims, Some(user))) => Ok((claims, user)),
        _ => Err(BearerError::InvalidToken),
    }
}

/// The local user behind a delegated token's `act`: the agent whose `sub`
/// it is, or for an actor from a trusted issuer (`act.iss`), the user that
/// issuer's `sub` is linked to (docs/contract.md "Beside an existing identity provider").
pub fn acting_agent(
    conn: &mut AnyConnection,
    actor: &Actor,
) -> Result<Option<UserRow>, StoreError> {
    match &actor.iss {
        None => UserRow::find_by_sub(conn, &actor.sub),
        Some(issuer) => match UserIdentityRow::find(conn, issuer, &actor.sub)? {
            Some(link) => UserRow::find_by_sub(conn, &link.user_sub),
            None => Ok(None),
        },
    }
}

/// The store's half of the decision, for claims whose signature already
/// checked out, handing back the user it read: `None` when the token is not
/// active; `Some(None)` for an active token about a client (client
/// credentials); `Some(Some(user))` for an active token about a user.
pub fn active_subject(
    conn: &mut AnyConnection,
    claims: &AccessTokenClaims,
    now: i64,
) -> Result<Option<Option<UserRow>>, StoreError> {
    // The acting agent's row comes with the rest when `act.sub` is a local
    // user; an upstream's actor (`act.iss`) is looked up through its link.
    let local_agent = claims.act.as_ref().filter(|act| act.iss.is_none());
    let standing = IssuedTokenRow::standing(
        conn,
        &claims.jti,
        &claims.sub,
        claims.grant_id.as_deref(),
        local_agent.map(|act| act.sub.as_str()),
    )?;
    let Some(standing) = standing else {
        // Never recorded: a client-credentials token, about a client, not a user.
        let machine = claims.act.is_none() && claims.grant_id.is_none();
        return Ok(machine.then_some(None));
    };
    if standing.revoked {
        return Ok(None);
    }
    let Some(subject) = standing.subject.filter(UserRow::is_active) else {
        return Ok(None);
    };
    let active = match (&claims.grant_id, &claims.act) {
        (None, None) => true,
        (Some(_), Some(actor)) => {
            let grant = standing
                .grant
                .filter(|g| g.is_active(now) && g.subject_sub == claims.sub);
            // The actor must still be an enabled agent the grant names or one of its team.
            let acting = match grant {
                Some(g) => {
                    let agent = match &actor.iss {
                        None => standing.agent,
                        Some(_) => acting_agent(conn, actor)?,
                    };
                    agent.is_some_and(|agent| {
                        agent.is_active()
                            && agent.is_agent
                            && g.may_be_used_by(&agent.sub, agent.team.as_deref())
                    })
                }
                None => false,
            };
            // The actor token that minted it must itself still stand.
            acting && !standing.parent_revoked
        }
        _ => false,
    };
    Ok(active.then_some(Some(subject)))
}
