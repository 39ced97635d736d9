//! Events recorded after the fact, for reads whose answer does not wait for
//! them (a resource server's check of a delegated token). They queue here and,
//! within `FLUSH_WINDOW`, one write appends all that are waiting: under load,
//! dozens per commit, at the cost of one row insert each. `flush` writes them
//! at once and returns when they are committed: tests call it instead of
//! polling, and a graceful shutdown calls it last. Only a crash can lose the
//! last few milliseconds of them.
//!
//! An event with a `once` mark (an introspection: token, client, minute;
//! docs/security.md L9) is written at most once: the database keeps the marks
//! (`store::introspection_marks`), which holds across instances; `recent`, a
//! per-instance set of this minute's marks, only spares the database the
//! repeats this instance already queued (bounded: cleared each minute, and
//! when full, leaving the database to decide).

use crate::store::Database;
use crate::store::audit_events::{self, PendingEvent};
use crate::store::introspection_marks::IntrospectionMark;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// How long deferred events wait to be written together.
const FLUSH_WINDOW: std::time::Duration = std::time::Duration::from_millis(5);

/// The most marks `recent` holds before it starts over.
const RECENT_MARKS: usize = 10_000;

/// The marks this instance queued in the minute `minute`.
#[derive(Default)]
struct Recent {
    minute: i64,
    marks: HashSet<IntrospectionMark>,
}

impl Recent {
    /// `true` the first time `mark` is seen in its minute.
    fn first(&mut self, mark: &IntrospectionMark) -> bool {
        if mark.minute != self.minute || self.marks.len() >= RECENT_MARKS {
            self.minute = mark.minute;
            self.marks.clear();
        }
        self.marks.insert(mark.clone())
    }
}

#[derive(Default, Clone)]
pub struct Deferred {
    pending: Arc<Mutex<Vec<PendingEvent>>>,
    flush_queued: Arc<AtomicBool>,
    recent: Arc<Mutex<Recent>>,
    /// Held while a batch is written, so `flush` returns only after every
    /// event queued before it is committed, even one a timed flush took.
    writing: Arc<tokio::sync::Mutex<()>>,
}

impl Deferred {
    /// Queues `event`. The same check repeated within one window becomes one
    /// line with a `count` and the time of the last one, rather than one line
    /// each; an event with a `once` mark this instance queued already this
    /// minute is dropped.
    pub fn record(&self, db: &Database, event: PendingEvent) {
        if let Some(mark) = &event.once
            && !self.recent.lock().expect("audit marks lock").first(mark)
        {
            return;
        }
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
        let (deferred, db) = (self.clone(), db.clone());
        tokio::spawn(async move {
            // Wait a moment for company: one commit for all the events of the window.
            tokio::time::sleep(FLUSH_WINDOW).await;
            deferred.flush(&db).await;
        });
    }

    /// Writes every queued event now; returns once they are committed (a
    /// failed write is logged: these events never hold up an answer).
    pub async fn flush(&self, db: &Database) {
        let _writing = self.writing.lock().await;
        // Cleared first: an event queued from here on schedules another flush.
        self.flush_queued.store(false, Ordering::Release);
        let events = std::mem::take(&mut *self.pending.lock().expect("audit queue lock"));
        if events.is_empty() {
            return;
        }
        if let Err(e) = db
            .write(move |c| audit_events::append_all(c, &events))
            .await
        {
            tracing::error!(error = %e, "deferred audit events were not written");
        }
    }
}
