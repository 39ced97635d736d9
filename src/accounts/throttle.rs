//! Sign-in throttling (docs/security.md J4): failed attempts are counted per account
//! name (known or not, so the limit reveals nothing) and per client address in
//! a sliding window. The counts live in the database (`store::login_failures`),
//! so that several instances behind one address enforce one limit together.

use crate::store::{Database, StoreError, login_failures};

pub const WINDOW_SECONDS: i64 = 15 * 60;
pub const MAX_PER_ACCOUNT: i64 = 5;
pub const MAX_PER_ADDRESS: i64 = 20;

/// The first second of the window that ends at `now`: failures before it no
/// longer count (and the sweep deletes them).
pub fn window_start(now: i64) -> i64 {
    now - WINDOW_SECONDS + 1
}

fn account_key(account: &str) -> String {
    format!("account:{}", account.to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

/// Whether another attempt for `account` from `address` may be checked now.
pub async fn allows(
    db: &Database,
    account: &str,
    address: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let (account, address) = (account_key(account), address_key(address));
    let since = window_start(now);
    db.run(move |c| {
        Ok(
            login_failures::count_since(c, &account, since)? < MAX_PER_ACCOUNT
                && login_failures::count_since(c, &address, since)? < MAX_PER_ADDRESS,
        )
    })
    .await
}

pub async fn record_failure(
    db: &Database,
    account: &str,
    address: &str,
    now: i64,
) -> Result<(), StoreError> {
    let keys = [account_key(account), address_key(address)];
    db.write(move |c| login_failures::record(c, &keys, now))
        .await
}

/// A successful sign-in clears the account's failures (not the address's).
pub async fn record_success(db: &Database, account: &str) -> Result<(), StoreError> {
    let key = account_key(account);
    db.write(move |c| login_failures::clear(c, &key)).await
}
