//! The user's answer to a pending request (approve, possibly shorter and with
//! fewer scopes, or deny) and the agent's cancel. Each: `decide_answer` (pure)
//! → one transaction whose conditional update settles who wins: of an approve
//! and a deny racing, one takes effect and the other is told the request's real
//! state and records nothing (docs/security.md E17).
//! (Over 300 lines: more than half is the unit tests of the decision, kept beside it.)

use super::{Owner, RequestStatus, RequestView, find_for, load_view};
use crate::audit::{self, Action};
use crate::config::Policy;
use crate::delegation::events;
use crate::delegation::grants::{self, Granted, Grantee};
use crate::delegation::policy;
use crate::delegation::refusal::Refusal;
use crate::store::access_requests::{AccessRequestRow, RequestState};
use crate::store::events::EventType;
use crate::store::{AnyConnection, Database, TxError};
use crate::telemetry::grant_events;
use serde_json::json;

/// What the user chose.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Approve, optionally shorter and with fewer scopes than asked.
    Approve {
        duration: Option<i64>,
        scopes: Option<Vec<String>>,
    },
    Deny,
}

/// What the answer does, once checked.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Deny,
    Approve { scopes: Vec<String>, duration: i64 },
}

/// Checks, in this order: still pending, at least one scope, only scopes asked
/// for (and delegable), no longer than asked, within the policy's bounds.
pub fn decide_answer(
    row: &AccessRequestRow,
    answer: Answer,
    policy: &Policy,
    now: i64,
) -> Result<Decision, Refusal> {
    let status = RequestStatus::of(row, now);
    if status != RequestStatus::Pending {
        return Err(Refusal::NoLongerPending(status));
    }
    let (duration, scopes) = match answer {
        Answer::Deny => return Ok(Decision::Deny),
        Answer::Approve { duration, scopes } => (duration, scopes),
    };
    let asked: Vec<String> = row.scopes.split(' ').map(str::to_string).collect();
    let scopes = scopes.unwrap_or_else(|| asked.clone());
    if scopes.is_empty() {
        return Err(Refusal::invalid_scope("choose at least one scope"));
    }
    if let Some(s) = scopes
        .iter()
        .find(|s| !asked.contains(s) || !policy.is_delegable(s))
    {
        return Err(Refusal::invalid_scope(format!(
            "scope {s} was not asked for"
        )));
    }
    let duration = duration.unwrap_or(row.duration);
    if duration > row.duration {
        return Err(Refusal::invalid(
            "you can allow at most the duration asked for",
        ));
    }
    let duration = policy::check_duration(policy, duration)?;
    Ok(Decision::Approve { scopes, duration })
}

/// The user `user_sub` answers request `id`. `audience`: what the grant allows.
/// The answer is logged once committed (`telemetry::grant_events`).
pub async fn answer(
    db: &Database,
    policy: &Policy,
    audience: &str,
    now: i64,
    user_sub: &str,
    id: &str,
    answer: Answer,
) -> Result<(), Refusal> {
    let (policy, audience) = (policy.clone(), audience.to_string());
    let (user_sub, id) = (user_sub.to_string(), id.to_string());
    let (agent, grant) = {
        let (user_sub, id) = (user_sub.clone(), id.clone());
        db.transaction(move |c| record_answer(c, &policy, &audience, now, &user_sub, &id, answer))
            .await?
    };
    match grant {
        Some(grant) => grant_events::approved(&grant, &id, &agent, &user_sub),
        None => grant_events::denied(&id, &agent, &user_sub),
    }
    Ok(())
}

/// Returns the request's agent and, for an approval, the new grant's id.
fn record_answer(
    conn: &mut AnyConnection,
    policy: &Policy,
    audience: &str,
    now: i64,
    user_sub: &str,
    id: &str,
    answer: Answer,
) -> Result<(String, Option<String>), TxError<Refusal>> {
    let row = find_for(conn, id, Owner::Subject(user_sub))?;
    match decide_answer(&row, answer, policy, now).map_err(TxError::Abort)? {
        Decision::Deny => {
            if !AccessRequestRow::decide(conn, id, RequestState::Denied, None, now)? {
                return Err(lost_race(conn, id, now));
            }
            audit::record(
                conn,
                now,
                user_sub,
                Action::AccessRequestDenied,
                Some(id),
                json!({"agent": row.agent_sub}),
            )?;
            tell(conn, EventType::RequestDenied, id, user_sub, now)?;
        }
        Decision::Approve { scopes, duration } => {
            let grant = grants::build(
                Granted {
                    subject_sub: user_sub,
                    grantee: Grantee::Agent(&row.agent_sub),
                    client_id: &row.client_id,
                    scopes: &scopes,
                    audience,
                    reason: &row.reason,
                    ticket: &row.ticket,
                    request_id: Some(id),
                    duration,
                    apps: &row.app_list(),
                },
                now,
            );
            let settled = (grant.id.as_str(), grant.scopes.as_str(), duration);
            if !AccessRequestRow::decide(conn, id, RequestState::Approved, Some(settled), now)? {
                return Err(lost_race(conn, id, now));
            }
            grants::record(conn, &grant, user_sub, now)?;
            tell(conn, EventType::RequestApproved, id, user_sub, now)?;
            return Ok((row.agent_sub, Some(grant.id)));
        }
    }
    Ok((row.agent_sub, None))
}

/// The request `id`'s `event_type` event, with its view as its data.
fn tell(
    conn: &mut AnyConnection,
    event_type: EventType,
    id: &str,
    user_sub: &str,
    now: i64,
) -> Result<(), TxError<Refusal>> {
    let row = find_for(conn, id, Owner::Subject(user_sub))?;
    let view = load_view(conn, row, now)?;
    events::request_settled(conn, event_type, id, &view, now)?;
    Ok(())
}

/// The conditional update found the request no longer pending: someone else's
/// answer committed first. The caller is told what it is now.
fn lost_race(conn: &mut AnyConnection, id: &str, now: i64) -> TxError<Refusal> {
    match AccessRequestRow::find(conn, id) {
        Ok(Some(row)) => TxError::Abort(Refusal::NoLongerPending(RequestStatus::of(&row, now))),
        Ok(None) => TxError::Abort(Refusal::NotFound),
        Err(e) => TxError::Store(e),
    }
}

/// `DELETE /api/access-requests/{id}` by the agent who made it.
pub async fn cancel(
    db: &Database,
    now: i64,
    agent_sub: &str,
    id: &str,
) -> Result<RequestView, Refusal> {
    let (sub, id) = (agent_sub.to_string(), id.to_string());
    Ok(db
        .transaction(move |c| {
            let row = find_for(c, &id, Owner::Agent(&sub))?;
            let status = RequestStatus::of(&row, now);
            if status != RequestStatus::Pending {
                return Err(TxError::Abort(Refusal::NoLongerPending(status)));
            }
            if !AccessRequestRow::decide(c, &id, RequestState::Cancelled, None, now)? {
                return Err(lost_race(c, &id, now));
            }
            audit::record(
                c,
                now,
                &sub,
                Action::AccessRequestCancelled,
                Some(&id),
                json!({}),
            )?;
            let row = find_for(c, &id, Owner::Agent(&sub))?;
            let view = load_view(c, row, now)?;
            events::request_settled(c, EventType::RequestCancelled, &id, &view, now)?;
            Ok(view)
        })
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(scopes: &str, duration: i64) -> AccessRequestRow {
        AccessRequestRow {
            duration,
            reason: "invoice".into(),
            ..crate::test_rows::pending_request("r1", "alice", scopes, 1000)
        }
    }

    fn approve(duration: Option<i64>, scopes: Option<&[&str]>) -> Answer {
        Answer::Approve {
            duration,
            scopes: scopes.map(|s| s.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn approving_without_changes_grants_what_was_asked() {
        let decision = decide_answer(
            &pending("read write", 3600),
            approve(None, None),
            &Policy::default(),
            10,
        );
        assert_eq!(
            decision,
            Ok(Decision::Approve {
                scopes: vec!["read".into(), "write".into()],
                duration: 3600
            })
        );
    }

    #[test]
    fn the_user_may_narrow_the_scopes_and_shorten_the_time() {
        let decision = decide_answer(
            &pending("read write", 3600),
            approve(Some(900), Some(&["read"])),
            &Policy::default(),
            10,
        );
        assert_eq!(
            decision,
            Ok(Decision::Approve {
                scopes: vec!["read".into()],
                duration: 900
            })
        );
    }

    #[test]
    fn the_user_cannot_widen_the_scopes_lengthen_the_time_or_approve_nothing() {
        let row = pending("read", 3600);
        let policy = Policy::default();
        for answer in [
            approve(None, Some(&["write"])),
            approve(Some(7200), None),
            approve(None, Some(&[])),
        ] {
            assert!(decide_answer(&row, answer, &policy, 10).is_err());
        }
    }

    #[test]
    fn a_scope_made_non_delegable_since_the_request_cannot_be_approved() {
        let policy = Policy {
            non_delegable_scopes: vec!["write".into()],
            ..Policy::default()
        };
        let refusal = decide_answer(
            &pending("read write", 3600),
            approve(None, None),
            &policy,
            10,
        );
        assert!(matches!(refusal, Err(Refusal::InvalidScope(_))));
    }

    #[test]
    fn an_answer_to_an_expired_or_decided_request_is_told_its_real_state() {
        let row = pending("read", 3600);
        assert_eq!(
            decide_answer(&row, Answer::Deny, &Policy::default(), 1000),
            Err(Refusal::NoLongerPending(RequestStatus::Expired))
        );
        let approved = AccessRequestRow {
            status: "approved".into(),
            ..row
        };
        assert_eq!(
            decide_answer(&approved, Answer::Deny, &Policy::default(), 10),
            Err(Refusal::NoLongerPending(RequestStatus::Approved))
        );
    }

    #[test]
    fn a_pending_request_checks_its_state_before_the_scopes() {
        let expired = decide_answer(
            &pending("read", 3600),
            approve(None, Some(&["write"])),
            &Policy::default(),
            2000,
        );
        assert_eq!(
            expired,
            Err(Refusal::NoLongerPending(RequestStatus::Expired))
        );
    }
}
