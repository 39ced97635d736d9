//! Whether a delegated session may (still) run: an agent signed in to an app
//! as a user under a grant (DESIGN.md "Delegated sign-in into any OIDC app";
//! docs/security.md M1, M2). The grant must be active, over that user, list
//! the app, and be usable by the agent (named, or through the team), and the
//! agent and the user enabled. Checked when the agent chooses to act, when the
//! code is redeemed and at every refresh; access tokens are judged by
//! `token_state` at each check, which reads the same grant.

use super::user_tokens::Delegation;
use crate::error::OAuthError;
use crate::store::grants::GrantRow;
use crate::store::users::UserRow;
use crate::store::{AnyConnection, StoreError};

/// The pure rule, on rows already read.
pub fn may_run(
    grant: &GrantRow,
    agent: &UserRow,
    subject: Option<&UserRow>,
    client_id: &str,
    now: i64,
) -> bool {
    grant.is_active(now)
        && grant.app_list().iter().any(|app| app == client_id)
        && agent.is_agent
        && agent.is_active()
        && agent.sub != grant.subject_sub
        && grant.may_be_used_by(&agent.sub, agent.team.as_deref())
        && subject.is_some_and(|s| s.sub == grant.subject_sub && s.is_active())
}

/// The grant `grant_id` if a session of `actor_sub` in `client_id` may run under it now.
pub fn standing_grant(
    conn: &mut AnyConnection,
    grant_id: &str,
    actor_sub: &str,
    client_id: &str,
    now: i64,
) -> Result<Option<GrantRow>, StoreError> {
    let Some(grant) = GrantRow::find(conn, grant_id)? else {
        return Ok(None);
    };
    let Some(agent) = UserRow::find_by_sub(conn, actor_sub)? else {
        return Ok(None);
    };
    let subject = UserRow::find_by_sub(conn, &grant.subject_sub)?;
    Ok(may_run(&grant, &agent, subject.as_ref(), client_id, now).then_some(grant))
}

/// The delegated session a code or refresh token was issued in, resumed if
/// its grant still stands; `Ok(None)` for the user's own sign-in (no ids).
pub fn resume(
    conn: &mut AnyConnection,
    (grant_id, actor_sub, sid): (Option<&str>, Option<&str>, Option<&str>),
    client_id: &str,
    now: i64,
) -> Result<Result<Option<Delegation>, OAuthError>, StoreError> {
    let (Some(grant_id), Some(actor_sub), Some(sid)) = (grant_id, actor_sub, sid) else {
        return Ok(Ok(None));
    };
    Ok(
        match standing_grant(conn, grant_id, actor_sub, client_id, now)? {
            Some(grant) => Ok(Some(Delegation {
                grant_id: grant.id,
                actor_sub: actor_sub.to_string(),
                sid: Some(sid.to_string()),
                expires_at: grant.expires_at,
            })),
            None => Err(OAuthError::invalid_grant(
                "the access this sign-in was made under has ended",
            )),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rows::{grant, person};

    fn shop_grant() -> GrantRow {
        GrantRow {
            apps: "shop".into(),
            ..grant("read", "api")
        }
    }

    #[test]
    fn a_session_runs_only_in_a_listed_app_for_the_grants_agent_while_it_lasts() {
        let (bob, alice) = (person("bob", true), person("alice", false));
        let g = shop_grant();
        assert!(may_run(&g, &bob, Some(&alice), "shop", 10));
        assert!(
            !may_run(&g, &bob, Some(&alice), "other-app", 10),
            "M1: not listed"
        );
        assert!(
            !may_run(&g, &person("carol", true), Some(&alice), "shop", 10),
            "M1: not its agent"
        );
        assert!(!may_run(&g, &bob, Some(&alice), "shop", 1000), "expired");
        let disabled = UserRow {
            disabled_at: Some(1),
            ..alice.clone()
        };
        assert!(!may_run(&g, &bob, Some(&disabled), "shop", 10));
        assert!(!may_run(&g, &bob, None, "shop", 10));
    }
}
