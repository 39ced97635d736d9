//! The audit trail: every grant decision, exchange, introspection of a delegated
//! token, revocation and sign-in, appended in the transaction that made the
//! change, hash-chained so that tampering shows (`behalf audit verify`).

use crate::store::audit_events::{self, PendingEvent, chain_hash};
use crate::store::{AnyConnection, Database, StoreError};
use serde_json::Value;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Records one event. `subject` is what it is about (a grant id, a user's sub)
/// and is what the consent screen reads a grant's activity by.
pub fn record(
    conn: &mut AnyConnection,
    now: i64,
    actor: &str,
    action: &str,
    subject: Option<&str>,
    detail: Value,
) -> Result<(), StoreError> {
    audit_events::append(conn, now, actor, action, subject, &detail.to_string())
}

/// Events recorded after the fact, for reads whose answer does not wait for
/// them (a resource server's check of a delegated token). They queue here and,
/// within `FLUSH_WINDOW`, one writer transaction appends all that are waiting:
/// under load, dozens per commit, at the cost of one row insert each. Being off
/// the answer's path, the last few milliseconds of them may be lost if the
/// process dies before that commit.
/// How long deferred events wait to be written together.
const FLUSH_WINDOW: std::time::Duration = std::time::Duration::from_millis(5);

#[derive(Default)]
pub struct Deferred {
    pending: Arc<Mutex<Vec<PendingEvent>>>,
    flush_queued: Arc<AtomicBool>,
}

impl Deferred {
    /// Queues `event`. The same check repeated within one window (a resource
    /// server introspecting one token on every request) becomes one line with
    /// a `count` and the time of the last one, rather than one line each.
    pub fn record(&self, db: &Database, event: PendingEvent) {
        {
            let mut pending = self.pending.lock().expect("audit queue lock");
            match pending.iter_mut().find(|p| p.same_as(&event)) {
                Some(seen) => seen.repeat(event.occurred_at),
                None => pending.push(event),
            }
        }
        if self.flush_queued.swap(true, Ordering::AcqRel) {
            return;
        }
        let (pending, queued, db) = (self.pending.clone(), self.flush_queued.clone(), db.clone());
        tokio::spawn(async move {
            // Wait a moment for company: one commit for all the events of the window.
            tokio::time::sleep(FLUSH_WINDOW).await;
            db.transaction_detached(move |c| {
                // Cleared first: an event pushed from here on queues another flush.
                queued.store(false, Ordering::Release);
                let events = std::mem::take(&mut *pending.lock().expect("audit queue lock"));
                audit_events::append_all(c, &events)
            });
        });
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
