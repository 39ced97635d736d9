//! The outbox deliverer (docs/contract.md "Back-channel logout and the
//! outbox"; docs/security.md M3): sends the rows of `store::outbox` once they
//! are due, at least once, on whichever instance claims them first.
//!
//! `run` wakes every `TICK`, at once when a change made rows due
//! (`App::outbox_due`, told when a grant ends here; a grant ended by another
//! process waits for the tick), and whenever a send ends and frees a place. It reads the ready rows, claims each with a
//! conditional update (`OutboxRow::claim`, for `CLAIM_SECONDS`: two
//! instances sharing the database never send one row at once on purpose) and
//! sends it in a task of its own, at most `AT_ONCE` at a time and
//! `PER_DESTINATION` to one destination, so that a slow destination holds
//! two slots and never the others'. Before that, each pass turns the due
//! events into their deliveries (`fan_out`). `send` makes and posts
//! each message; the answer its kind counts as delivered (a logout token: 200
//! or 204; a webhook: any 2xx; a SET: 202) marks the row delivered, anything
//! else counts an attempt and waits `retry_delay` before the next. Time is `App::clock`'s,
//! so a test that moves its clock makes rows due. A claim left by a stopped
//! instance lapses and the row is sent again: a receiver may see a message
//! twice, with the same id (a logout token's `jti`, an event's `webhook-id`
//! and SET `jti`).

mod ciba_ping;
mod email;
pub mod fan_out;
mod http;
pub mod security_event;
mod send;
pub mod webhook;

use crate::app::{App, AppState};
use crate::store::outbox::OutboxRow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

/// How often the deliverer looks for due rows.
pub const TICK: Duration = Duration::from_secs(1);
/// Messages in flight at once, per instance.
pub const AT_ONCE: usize = 32;
/// Messages in flight at once to one destination, per instance.
pub const PER_DESTINATION: usize = 2;
/// How long a claim keeps other instances off a row: longer than an attempt
/// may take (`http::TIMEOUT`).
pub const CLAIM_SECONDS: i64 = 60;
/// The longest wait between two attempts.
pub const MAX_RETRY_DELAY: i64 = 3600;

/// Seconds to wait after the `attempts`-th failed attempt: 1, 2, 4, ... an
/// hour at most (DESIGN.md: 1 s growing to 1 h), and never given up.
pub fn retry_delay(attempts: i32) -> i64 {
    let doubled = 1_i64.checked_shl((attempts - 1).clamp(0, 62) as u32);
    doubled.unwrap_or(MAX_RETRY_DELAY).min(MAX_RETRY_DELAY)
}

/// Delivers due rows until the task is aborted (at shutdown); the sends in
/// flight end with it and their claims lapse.
pub async fn run(app: AppState) {
    let client = match http::client() {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "the outbox cannot send: no HTTP client");
            return;
        }
    };
    // Built once: the SMTP transport (or the log, without `[email] smtp_url`).
    let mailer = Arc::new(email::Mailer::new(&app.settings.email, &app.issuer));
    let mut in_flight = InFlight::default();
    let mut checkpoint_looked_at = i64::MIN;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {},
            _ = app.outbox_due.notified() => {},
            // A send that ends frees a place: fill it now, not at the next tick
            // (one webhook drained at two deliveries a second: bench/README.md "Outbox").
            Some(_) = in_flight.tasks.join_next(), if !in_flight.tasks.is_empty() => {},
        }
        while in_flight.tasks.try_join_next().is_some() {}
        if app.now() >= checkpoint_looked_at.saturating_add(fan_out::CHECKPOINT_LOOK_EVERY) {
            checkpoint_looked_at = app.now();
            if let Err(e) = fan_out::checkpoint_if_stale(&app).await {
                tracing::warn!(error = %e, "could not look for a checkpoint to make");
            }
        }
        if let Err(e) = fan_out::due_events(&app).await {
            tracing::warn!(error = %e, "could not write the due events' deliveries");
        }
        if let Err(e) = start_ready(&app, &client, &mailer, &mut in_flight).await {
            tracing::warn!(error = %e, "could not read the outbox");
        }
    }
}

/// What this instance is sending: at most `AT_ONCE` messages, and at most
/// `PER_DESTINATION` to any one destination, so that one that is slow or
/// down holds two slots and never the others' (docs/security.md N5).
struct InFlight {
    slots: Arc<Semaphore>,
    busy: Arc<Mutex<HashMap<String, usize>>>,
    tasks: JoinSet<()>,
}

impl Default for InFlight {
    fn default() -> Self {
        Self {
            slots: Arc::new(Semaphore::new(AT_ONCE)),
            busy: Arc::default(),
            tasks: JoinSet::new(),
        }
    }
}

impl InFlight {
    /// A place for one message to `destination`, if there is one.
    fn take(&self, destination: &str) -> Option<Ticket> {
        let mut busy = self.busy.lock().expect("in-flight lock");
        let sending = busy.get(destination).copied().unwrap_or(0);
        if sending >= PER_DESTINATION {
            return None;
        }
        let slot = self.slots.clone().try_acquire_owned().ok()?;
        busy.insert(destination.to_string(), sending + 1);
        Some(Ticket {
            _slot: slot,
            busy: self.busy.clone(),
            destination: destination.to_string(),
        })
    }
}

/// One message's place in `InFlight`, given back when the attempt ends.
struct Ticket {
    _slot: OwnedSemaphorePermit,
    busy: Arc<Mutex<HashMap<String, usize>>>,
    destination: String,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut busy = self.busy.lock().expect("in-flight lock");
        if let Some(sending) = busy.get_mut(&self.destination) {
            *sending -= 1;
            if *sending == 0 {
                busy.remove(&self.destination);
            }
        }
    }
}

/// Claims as many ready rows as there are places for and starts sending each.
async fn start_ready(
    app: &AppState,
    client: &reqwest::Client,
    mailer: &Arc<email::Mailer>,
    in_flight: &mut InFlight,
) -> Result<(), crate::store::StoreError> {
    let free = in_flight.slots.available_permits();
    if free == 0 {
        return Ok(());
    }
    let now = app.now();
    // Read past the rows of busy destinations, so they do not hide the others.
    let look_at = (free * 4) as i64;
    let ready = app
        .db
        .read(move |c| OutboxRow::ready(c, now, look_at))
        .await?;
    for row in ready {
        let Some(ticket) = in_flight.take(&row.destination) else {
            continue;
        };
        let id = row.id.clone();
        let claimed = app
            .db
            .write(move |c| OutboxRow::claim(c, &id, now, now + CLAIM_SECONDS))
            .await?;
        if claimed {
            in_flight.tasks.spawn(attempt(
                app.clone(),
                client.clone(),
                mailer.clone(),
                row,
                ticket,
            ));
        }
    }
    Ok(())
}

/// One attempt at `row`, recorded: delivered, or failed and when to try again.
async fn attempt(
    app: AppState,
    client: reqwest::Client,
    mailer: Arc<email::Mailer>,
    row: OutboxRow,
    _ticket: Ticket,
) {
    let outcome = send::send(&app, &client, &mailer, &row).await;
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
        assert_eq!(delays, [1, 2, 4, 8, 16]);
        assert_eq!(retry_delay(12), 2048);
        assert_eq!(retry_delay(13), MAX_RETRY_DELAY);
        assert_eq!(retry_delay(100), MAX_RETRY_DELAY);
        assert_eq!(retry_delay(i32::MAX), MAX_RETRY_DELAY);
    }
}
