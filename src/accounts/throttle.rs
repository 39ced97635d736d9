//! Sign-in throttling (docs/security.md J4, L1, L2). Every attempt is counted
//! before its password is checked, as a failure until it succeeds, so that
//! attempts in flight at once cannot pass the limit together; a success takes
//! back its own count only (and clears its device's), so that a burst in flight
//! around the owner's own sign-in still gets no more than the limit. The counts
//! live in the
//! database (`store::login_failures`), so every instance on one database
//! enforces one limit.
//!
//! Whom an attempt counts against (OWASP's device cookies): a browser that
//! signed in to this account before and shows its device cookie counts on that
//! device alone; any other attempt counts on the account name (known or not, so
//! the limit reveals nothing) and on the client address. An attacker's failures
//! therefore never lock the account's own browsers out.

use crate::config::SignInLimits;
use crate::store::{Database, StoreError, login_failures};

/// The first second of the window that ends at `now`: attempts before it no
/// longer count (and the sweep deletes them).
pub fn window_start(now: i64, limits: &SignInLimits) -> i64 {
    now - limits.window_seconds + 1
}

/// What one attempt is counted against.
#[derive(Debug, Clone, Copy)]
pub enum CountedOn<'a> {
    /// A browser without a device cookie for this account: the name and the address.
    Anyone { account: &'a str, address: &'a str },
    /// A browser whose device cookie names this account: that device alone.
    Device { device: &'a str },
}

fn account_key(account: &str) -> String {
    format!("account:{}", account.to_lowercase())
}

impl CountedOn<'_> {
    /// Each throttle key with its limit.
    fn limits(self, limits: &SignInLimits) -> Vec<(String, i64)> {
        match self {
            Self::Anyone { account, address } => vec![
                (account_key(account), limits.max_failures),
                (
                    format!("address:{address}"),
                    limits.max_failures_per_address,
                ),
            ],
            Self::Device { device } => vec![(format!("device:{device}"), limits.max_failures)],
        }
    }

    /// The key a success clears: a device's own failures are its owner's, while
    /// an account's may be anyone's and keep counting for their window.
    fn cleared_by_success(self) -> Option<String> {
        match self {
            Self::Anyone { .. } => None,
            Self::Device { device } => Some(format!("device:{device}")),
        }
    }
}

/// An attempt already counted: the rows that count it.
#[derive(Debug)]
pub struct Reserved {
    rows: Vec<i64>,
}

/// Counts the attempt, or answers `None` when it is over a limit (and counts nothing).
pub async fn reserve(
    db: &Database,
    on: CountedOn<'_>,
    limits: &SignInLimits,
    now: i64,
) -> Result<Option<Reserved>, StoreError> {
    let keys = on.limits(limits);
    let since = window_start(now, limits);
    let rows = db
        .write(move |c| login_failures::reserve(c, &keys, since, now))
        .await?;
    Ok(rows.map(|rows| Reserved { rows }))
}

/// The password was never checked (every check was busy): the attempt does not count.
pub async fn withdraw(db: &Database, attempt: Reserved) -> Result<(), StoreError> {
    db.write(move |c| login_failures::forget(c, &attempt.rows))
        .await
}

/// The attempt succeeded: its own count goes, and a device's failures with it.
pub async fn succeeded(
    db: &Database,
    on: CountedOn<'_>,
    attempt: Reserved,
) -> Result<(), StoreError> {
    let cleared = on.cleared_by_success();
    db.write(move |c| {
        login_failures::forget(c, &attempt.rows)?;
        cleared.map_or(Ok(()), |key| login_failures::clear(c, &key))
    })
    .await
}
