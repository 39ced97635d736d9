//! Ending a grant now ("End access now" on the consent screen, `DELETE
//! /api/grants/{id}` for the agent): `decide_end` (pure: is it the caller's,
//! is it still active) → one transaction with a conditional update, so that of
//! two ends racing one succeeds and the other is told it had already ended.
//! `end_all_of_disabled` ends every grant a disabled user is part of
//! (docs/security.md E16), inside the transaction that disables them. Either
//! way, in the same transaction, the grant's back-channel logouts waiting in
//! the outbox for its expiry become due now (docs/security.md M3), and its
//! `grant.ended` event is written (`delegation::events`).

use super::{GrantView, load_view};
use crate::audit::{self, Action};
use crate::delegation::events;
use crate::delegation::refusal::Refusal;
use crate::store::grants::{EndedBy, GrantRow};
use crate::store::outbox::OutboxRow;
use crate::store::users::UserRow;
use crate::store::{AnyConnection, Database, StoreError, TxError};
use crate::telemetry::grant_events;
use serde_json::json;
use tokio::sync::Notify;

/// Whether `caller`, ending as `by`, may end `grant` at `now`: the user it is
/// over, or an agent who may use it (the named agent, or one of its team).
pub fn decide_end(
    grant: &GrantRow,
    by: EndedBy,
    caller: &UserRow,
    now: i64,
) -> Result<(), Refusal> {
    let sub = caller.sub.as_str();
    let named = grant.agent_sub.as_deref() == Some(sub);
    let mine = match by {
        EndedBy::User => grant.subject_sub == sub,
        EndedBy::Agent => caller.is_agent && grant.may_be_used_by(sub, caller.team.as_deref()),
        EndedBy::UserDisabled => grant.subject_sub == sub || named,
    };
    if !mine {
        return Err(Refusal::NotFound);
    }
    if !grant.is_active(now) {
        return Err(Refusal::AlreadyEnded);
    }
    Ok(())
}

/// Ends grant `id` now, if `caller` may (`decide_end`), and wakes the outbox
/// deliverer through `due` once the end is committed.
pub async fn end(
    db: &Database,
    due: &Notify,
    now: i64,
    id: &str,
    by: EndedBy,
    caller: &UserRow,
) -> Result<GrantView, Refusal> {
    let (id, caller) = (id.to_string(), caller.clone());
    let ended = db
        .transaction(move |c| {
            let grant = GrantRow::find(c, &id)?.ok_or(TxError::Abort(Refusal::NotFound))?;
            decide_end(&grant, by, &caller, now).map_err(TxError::Abort)?;
            if !GrantRow::revoke(c, &id, by, now)? {
                return Err(TxError::Abort(Refusal::AlreadyEnded));
            }
            OutboxRow::due_now_for_grant(c, &id, now)?;
            audit::record(
                c,
                now,
                &caller.sub,
                Action::GrantRevoked,
                Some(&id),
                json!({"by": by.as_str()}),
            )?;
            let ended = GrantRow::find(c, &id)?.ok_or(TxError::Abort(Refusal::NotFound))?;
            let view = load_view(c, &ended, now)?;
            events::grant_ended_early(c, &id, &view, now)?;
            Ok(view)
        })
        .await?;
    due.notify_one();
    let to = ended.agent.as_deref().or(ended.team.as_deref());
    grant_events::ended(
        &ended.id,
        to.unwrap_or_default(),
        &ended.subject,
        by.as_str(),
    );
    Ok(ended)
}

/// Ends every active grant where the disabled user `sub` is the subject or
/// the agent, each with its `grant.revoked` event (`by: user_disabled`); call
/// in the transaction that disables them. Returns how many it ended.
pub fn end_all_of_disabled(
    conn: &mut AnyConnection,
    sub: &str,
    now: i64,
) -> Result<usize, StoreError> {
    let by = EndedBy::UserDisabled;
    let mut ended = 0;
    for id in GrantRow::active_ids_involving(conn, sub, now)? {
        if GrantRow::revoke(conn, &id, by, now)? {
            OutboxRow::due_now_for_grant(conn, &id, now)?;
            audit::record(
                conn,
                now,
                sub,
                Action::GrantRevoked,
                Some(&id),
                json!({"by": by.as_str()}),
            )?;
            if let Some(grant) = GrantRow::find(conn, &id)? {
                let view = load_view(conn, &grant, now)?;
                events::grant_ended_early(conn, &id, &view, now)?;
            }
            ended += 1;
        }
    }
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rows::{self, person};

    fn who(name: &str) -> UserRow {
        person(name, name != "alice")
    }

    fn grant(revoked_at: Option<i64>) -> GrantRow {
        GrantRow {
            revoked_at,
            expires_at: 100,
            ..test_rows::grant("read", "api")
        }
    }

    #[test]
    fn the_user_and_the_agent_may_end_their_own_grant_and_nobody_else_may() {
        assert!(decide_end(&grant(None), EndedBy::User, &who("alice"), 10).is_ok());
        assert!(decide_end(&grant(None), EndedBy::Agent, &who("bob"), 10).is_ok());
        assert_eq!(
            decide_end(&grant(None), EndedBy::User, &who("bob"), 10),
            Err(Refusal::NotFound)
        );
        assert_eq!(
            decide_end(&grant(None), EndedBy::Agent, &who("carol"), 10),
            Err(Refusal::NotFound)
        );
    }

    #[test]
    fn any_agent_of_the_team_may_end_a_team_grant() {
        let team_grant = GrantRow {
            agent_sub: None,
            team: Some("Support".into()),
            ..grant(None)
        };
        let in_team = |name: &str, team: &str| UserRow {
            team: Some(team.into()),
            ..who(name)
        };
        let by = EndedBy::Agent;
        assert!(decide_end(&team_grant, by, &in_team("dave", "Support"), 10).is_ok());
        assert_eq!(
            decide_end(&team_grant, by, &in_team("erin", "Sales"), 10),
            Err(Refusal::NotFound)
        );
        assert_eq!(
            decide_end(&team_grant, by, &who("bob"), 10),
            Err(Refusal::NotFound)
        );
    }

    #[test]
    fn disabling_ends_grants_where_the_user_is_the_subject_or_the_agent() {
        let by = EndedBy::UserDisabled;
        assert!(decide_end(&grant(None), by, &who("alice"), 10).is_ok());
        assert!(decide_end(&grant(None), by, &who("bob"), 10).is_ok());
        assert_eq!(
            decide_end(&grant(None), by, &who("carol"), 10),
            Err(Refusal::NotFound)
        );
    }

    #[test]
    fn an_expired_or_revoked_grant_has_already_ended() {
        assert_eq!(
            decide_end(&grant(None), EndedBy::User, &who("alice"), 100),
            Err(Refusal::AlreadyEnded)
        );
        assert_eq!(
            decide_end(&grant(Some(5)), EndedBy::User, &who("alice"), 10),
            Err(Refusal::AlreadyEnded)
        );
    }

    #[test]
    fn someone_elses_ended_grant_is_not_found_rather_than_ended() {
        assert_eq!(
            decide_end(&grant(Some(5)), EndedBy::User, &who("mallory"), 10),
            Err(Refusal::NotFound)
        );
    }
}
