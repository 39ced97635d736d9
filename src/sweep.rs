//! Tidying up after expiry. Expiry is decided at read time against the clock,
//! so no answer depends on this; it only keeps tables from growing for ever.
//! It deletes a row only once the row can no longer change any answer:
//!
//! - a token record (a revocation, a delegated token) once its token has
//!   expired, and later still by the longest life of a delegated token (a
//!   margin: a delegated token never outlives the actor token it was minted
//!   with, docs/security.md E10, whose revocation must keep ending it);
//! - refresh tokens once their family's absolute lifetime is over;
//! - authorization codes once every token issued from them has expired (a
//!   replayed code revokes them: RFC 6749 §4.1.2, RFC 9700 §4.14.2);
//! - sign-in sessions once expired;
//! - failed sign-ins once out of the throttle's window (no margin: they only
//!   ever count inside it);
//! - introspection marks once their minute is past (they only ever dedupe
//!   inside it);
//! - upstream sign-ins once their callback has expired (10 minutes).
//!
//! Each cutoff is a further `MARGIN` in the past, for clocks that differ
//! between instances. Grants, access requests and the audit trail are kept:
//! the consent screen shows them as history.

use crate::accounts::throttle::window_start;
use crate::app::App;
use crate::config::Settings;
use crate::store::upstream_logins::UPSTREAM_LOGIN_TTL;
use crate::store::{AnyConnection, Database, StoreError, expired, introspection_marks};
use std::time::Duration;

/// How often `serve` sweeps.
pub const EVERY: Duration = Duration::from_secs(600);
/// Seconds added to every cutoff.
pub const MARGIN: i64 = 3600;

/// Rows expired before these times go.
#[derive(Debug, Clone, Copy)]
pub struct Cutoffs {
    pub tokens: i64,
    pub refresh_tokens: i64,
    pub codes: i64,
    pub sessions: i64,
    pub login_failures: i64,
    pub introspection_marks: i64,
    pub upstream_logins: i64,
}

impl Cutoffs {
    pub fn at(settings: &Settings, now: i64) -> Self {
        let oldest = now - MARGIN;
        Self {
            tokens: oldest - settings.policy.delegated_token_ttl_seconds,
            refresh_tokens: oldest,
            codes: oldest
                - settings
                    .refresh_token_absolute_seconds
                    .max(settings.access_token_ttl_seconds),
            sessions: oldest,
            login_failures: window_start(now, &settings.sign_in),
            introspection_marks: oldest,
            upstream_logins: oldest - UPSTREAM_LOGIN_TTL,
        }
    }
}

/// How many rows a sweep deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub tokens: usize,
    pub refresh_tokens: usize,
    pub codes: usize,
    pub sessions: usize,
    pub login_failures: usize,
    pub introspection_marks: usize,
    pub upstream_logins: usize,
}

pub async fn sweep(app: &App) -> Result<Swept, StoreError> {
    sweep_database(&app.db, &app.settings, app.now()).await
}

/// One sweep of `db` at `now` (what `serve` runs every `EVERY`, and `behalf sweep` once).
pub async fn sweep_database(
    db: &Database,
    settings: &Settings,
    now: i64,
) -> Result<Swept, StoreError> {
    let cut = Cutoffs::at(settings, now);
    let swept = Swept {
        tokens: drain(db, expired::tokens, cut.tokens).await?,
        refresh_tokens: drain(db, expired::refresh_tokens, cut.refresh_tokens).await?,
        codes: drain(db, expired::codes, cut.codes).await?,
        sessions: drain(db, expired::sessions, cut.sessions).await?,
        login_failures: drain(db, expired::login_failures, cut.login_failures).await?,
        introspection_marks: drain(
            db,
            introspection_marks::delete_before,
            cut.introspection_marks,
        )
        .await?,
        upstream_logins: drain(db, expired::upstream_logins, cut.upstream_logins).await?,
    };
    if swept != Swept::default() {
        tracing::info!(?swept, "expired rows deleted");
    }
    Ok(swept)
}

type DeleteBatch = fn(&mut AnyConnection, i64) -> Result<usize, StoreError>;

/// Deletes batch after batch, each its own transaction, until one comes up short.
async fn drain(db: &Database, delete: DeleteBatch, before: i64) -> Result<usize, StoreError> {
    let mut total = 0;
    loop {
        let deleted = db.write(move |c| delete(c, before)).await?;
        total += deleted;
        if (deleted as i64) < expired::BATCH {
            return Ok(total);
        }
    }
}
