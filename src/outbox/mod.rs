//! The outbox deliverer (docs/contract.md "Back-channel logout and the
//! outbox"; docs/security.md M3): sends the rows of `store::outbox` once they
//! are due, at least once, on whichever instance claims them first.
//!
//! `run` wakes every `TICK`, and at once when a change made rows due
//! (`App::outbox_due`, told when a grant ends here; a grant ended by another
//! process waits for the tick). It reads the ready rows, claims each with a
//! conditional update (`OutboxRow::claim`, for `CLAIM_SECONDS`: two
//! instances sharing the database never send one row at once on purpose) and
//! sends it in a task of its own, at most `AT_ONCE` at a time, so that a slow
//! destination holds one slot and never the others. `send` makes and posts
//! each message; a 200 or 204 marks the row delivered, anything else counts
//! an attempt and waits `retry_delay` before the next. Time is `App::clock`'s,
//! so a test that moves its clock makes rows due. A claim left by a stopped
//! instance lapses and the row is sent again: a receiver may see a message
//! twice, with the same id (a logout token's `jti`).

mod send;

use crate::app::{App, AppState};
use crate::store::outbox::OutboxRow;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

/// How often the deliverer looks for due rows.
pub const TICK: Duration = Duration::from_secs(1);
/// Messages in flight at once, per instance.
pub const AT_ONCE: usize = 8;
/// How long a claim keeps other instances off a row: longer than an attempt
/// may take (`send::TIMEOUT`).
pub const CLAIM_SECONDS: i64 = 60;
/// The longest wait between two attempts.
pub const MAX_RETRY_DELAY: i64 = 3600;

/// Seconds to wait after the `attempts`-th failed attempt: 2, 4, 8, ... an hour at most.
pub fn retry_delay(attempts: i32) -> i64 {
    let doubled = 1_i64.checked_shl(attempts.clamp(0, 62) as u32);
    doubled.unwrap_or(MAX_RETRY_DELAY).min(MAX_RETRY_DELAY)
}

/// Delivers due rows until the task is aborted (at shutdown); the sends in
/// flight end with it and their claims lapse.
pub async fn run(app: AppState) {
    let client = match send::http_client() {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "the outbox cannot send: no HTTP client");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(AT_ONCE));
    let mut sending = JoinSet::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {},
            _ = app.outbox_due.notified() => {},
        }
        while sending.try_join_next().is_some() {}
        if let Err(e) = start_ready(&app, &client, &slots, &mut sending).await {
            tracing::warn!(error = %e, "could not read the outbox");
        }
    }
}

/// Claims as many ready rows as there are free slots and starts sending each.
async fn start_ready(
    app: &AppState,
    client: &reqwest::Client,
    slots: &Arc<Semaphore>,
    sending: &mut JoinSet<()>,
) -> Result<(), crate::store::StoreError> {
    let free = slots.available_permits();
    if free == 0 {
        return Ok(());
    }
    let now = app.now();
    let ready = app
        .db
        .read(move |c| OutboxRow::ready(c, now, free as i64))
        .await?;
    for row in ready {
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            break;
        };
        let id = row.id.clone();
        let claimed = app
            .db
            .write(move |c| OutboxRow::claim(c, &id, now, now + CLAIM_SECONDS))
            .await?;
        if claimed {
            sending.spawn(attempt(app.clone(), client.clone(), row, slot));
        }
    }
    Ok(())
}

/// One attempt at `row`, recorded: delivered, or failed and when to try again.
async fn attempt(
    app: AppState,
    client: reqwest::Client,
    row: OutboxRow,
    _slot: OwnedSemaphorePermit,
) {
    let outcome = send::send(&app, &client, &row).await;
    record(&app, &row, outcome).await;
}

async fn record(app: &App, row: &OutboxRow, outcome: Result<(), String>) {
    let now = app.now();
    let id = row.id.clone();
    let written = match outcome {
        Ok(()) => {
            tracing::info!(
                outbox = %row.id,
                kind = %row.kind,
                destination = %row.destination,
                attempts = row.attempts + 1,
                "outbox message delivered"
            );
            app.db
                .write(move |c| OutboxRow::delivered(c, &id, now))
                .await
        }
        Err(error) => {
            let attempts = row.attempts.saturating_add(1);
            let next = now + retry_delay(attempts);
            tracing::warn!(
                outbox = %row.id,
                kind = %row.kind,
                destination = %row.destination,
                attempts,
                error = %error,
                "outbox message not delivered; will retry"
            );
            app.db
                .write(move |c| OutboxRow::failed(c, &id, next, &error))
                .await
        }
    };
    if let Err(e) = written {
        // The claim lapses and the row is tried again.
        tracing::warn!(outbox = %row.id, error = %e, "could not record an outbox attempt");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_twice_as_long_each_time_and_an_hour_at_most() {
        let delays: Vec<i64> = (1..=5).map(retry_delay).collect();
        assert_eq!(delays, [2, 4, 8, 16, 32]);
        assert_eq!(retry_delay(11), 2048);
        assert_eq!(retry_delay(12), MAX_RETRY_DELAY);
        assert_eq!(retry_delay(100), MAX_RETRY_DELAY);
        assert_eq!(retry_delay(i32::MAX), MAX_RETRY_DELAY);
    }
}
