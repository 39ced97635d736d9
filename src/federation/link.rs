//! The local user an IdP's account is (docs/contract.md "Beside an existing
//! identity provider"), in the caller's transaction: found by the link of
//! (issuer, `sub`), never by email (docs/security.md O2); made with a unique
//! username at the first use when the caller allows it; refreshed from the
//! claims each time (email, name, and the agent role and team when the
//! settings name their claims). The local username is kept: it may be in
//! grants' and requests' words, and the IdP's may change.

use super::identity::Identity;
use crate::audit::{self, Action};
use crate::config::AgentClaim;
use crate::random;
use crate::store::user_identities::UserIdentityRow;
use crate::store::users::UserRow;
use crate::store::{AnyConnection, StoreError};
use serde_json::json;

/// What the claims may change, and whether an unlinked account may be made.
pub struct Refresh {
    pub agent_claim: Option<AgentClaim>,
    pub team_claim: Option<String>,
    /// An upstream sign-in: refresh email and name too (a trusted issuer's
    /// access token seldom carries them).
    pub profile: bool,
    pub may_create: bool,
}

/// The linked user, refreshed; `None` when there is none and `may_create` is false.
pub fn link(
    conn: &mut AnyConnection,
    identity: &Identity,
    refresh: &Refresh,
    now: i64,
) -> Result<Option<UserRow>, StoreError> {
    let linked = match UserIdentityRow::find(conn, &identity.issuer, &identity.subject)? {
        Some(link) => {
            UserIdentityRow::touch(conn, &identity.issuer, &identity.subject, now)?;
            UserRow::find_by_sub(conn, &link.user_sub)?
        }
        None => None,
    };
    let user = match linked {
        Some(user) => user,
        None if refresh.may_create => create(conn, identity, now)?,
        None => return Ok(None),
    };
    let mut refreshed = user.clone();
    if refresh.profile {
        refreshed.email = identity.email();
        refreshed.display_name = identity.name();
    }
    if let Some(rule) = &refresh.agent_claim {
        refreshed.is_agent = identity.is_agent(rule);
    }
    if let Some(claim) = &refresh.team_claim {
        refreshed.team = identity.team(claim);
    }
    let changed = (
        &refreshed.email,
        &refreshed.display_name,
        refreshed.is_agent,
        &refreshed.team,
    ) != (&user.email, &user.display_name, user.is_agent, &user.team);
    if changed {
        refreshed.set_from_idp(conn)?;
    }
    Ok(Some(refreshed))
}

/// A new account linked to `identity`: no password (it signs in through the
/// IdP), its username the wanted one made unique.
fn create(conn: &mut AnyConnection, identity: &Identity, now: i64) -> Result<UserRow, StoreError> {
    let user = UserRow {
        sub: random::identifier(),
        username: free_username(conn, &identity.username_wanted())?,
        password_hash: None,
        is_agent: false,
        created_at: now,
        disabled_at: None,
        email: None,
        display_name: None,
        team: None,
    };
    user.insert(conn)?;
    UserIdentityRow {
        issuer: identity.issuer.clone(),
        subject: identity.subject.clone(),
        user_sub: user.sub.clone(),
        linked_at: now,
        last_used_at: now,
    }
    .insert(conn)?;
    audit::record(
        conn,
        now,
        &user.sub,
        Action::IdentityLinked,
        Some(&user.sub),
        json!({"issuer": identity.issuer, "subject": identity.subject, "username": user.username}),
    )?;
    Ok(user)
}

/// `wanted`, or `wanted-2`, `wanted-3`, ... whichever is free first.
fn free_username(conn: &mut AnyConnection, wanted: &str) -> Result<String, StoreError> {
    if UserRow::find_by_username(conn, wanted)?.is_none() {
        return Ok(wanted.to_string());
    }
    for n in 2..100 {
        let candidate = format!("{wanted}-{n}");
        if UserRow::find_by_username(conn, &candidate)?.is_none() {
            return Ok(candidate);
        }
    }
    Ok(format!("{wanted}-{}", random::identifier()))
}
