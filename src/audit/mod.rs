//! The audit trail: every grant decision, exchange, introspection of a delegated
//! token, revocation and sign-in, appended in the transaction that made the
//! change, hash-chained so that tampering shows (`behalf audit verify`).

mod action;
mod deferred;

pub use action::Action;
pub use deferred::Deferred;

use crate::store::audit_events::{self, PendingEvent, chain_hash};
use crate::store::introspection_marks::IntrospectionMark;
use crate::store::{AnyConnection, Database, StoreError};
use serde_json::Value;

/// Records one event. `subject` is what it is about (a grant id, a user's sub)
/// and is what the consent screen reads a grant's activity by.
pub fn record(
    conn: &mut AnyConnection,
    now: i64,
    actor: &str,
    action: Action,
    subject: Option<&str>,
    detail: Value,
) -> Result<(), StoreError> {
    audit_events::append(
        conn,
        now,
        actor,
        action.as_str(),
        subject,
        &detail.to_string(),
    )
}

/// An event for `Deferred`, written after the answer.
pub fn pending(
    now: i64,
    actor: &str,
    action: Action,
    subject: Option<&str>,
    detail: Value,
) -> PendingEvent {
    PendingEvent::new(
        now,
        actor.to_string(),
        action.as_str(),
        subject.map(str::to_string),
        detail,
    )
}

/// An introspection of token `jti` by `client_id` for `Deferred`: written at
/// most once per token, client and minute (docs/security.md L9).
pub fn introspected(now: i64, client_id: &str, grant_id: &str, jti: &str) -> PendingEvent {
    PendingEvent {
        once: Some(IntrospectionMark::new(jti, client_id, now)),
        ..pending(
            now,
            client_id,
            Action::TokenIntrospected,
            Some(grant_id),
            serde_json::json!({"jti": jti}),
        )
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum ChainReport {
    Intact { events: u64 },
    Broken { at_seq: i64 },
}

/// Walks the whole chain, recomputing every hash.
pub async fn verify(db: &Database) -> Result<ChainReport, StoreError> {
    let (mut after, mut prev, mut count) = (0i64, vec![0u8; 32], 0u64);
    loop {
        let page = db.run(move |c| audit_events::page(c, after, 1000)).await?;
        if page.is_empty() {
            return Ok(ChainReport::Intact { events: count });
        }
        for event in page {
            let expected = chain_hash(
                &prev,
                event.occurred_at,
                &event.actor,
                &event.action,
                event.subject.as_deref(),
                &event.detail,
            );
            if event.prev_hash != prev || event.hash != expected {
                return Ok(ChainReport::Broken { at_seq: event.seq });
            }
            prev = event.hash;
            after = event.seq;
            count += 1;
        }
    }
}
