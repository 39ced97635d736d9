//! Deleting rows past a cutoff, in batches of `BATCH` so that a large backlog
//! never holds SQLite's writer for long. Which cutoff is safe for which table
//! is decided by `crate::sweep`; these only carry it out.

use super::schema::{
    authorization_codes, issued_tokens, login_failures, refresh_tokens, sessions, upstream_logins,
};
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

/// Rows deleted per statement.
pub const BATCH: i64 = 500;

/// Deletes up to `BATCH` rows of `$table` whose `$column` is before `$before`;
/// how many went.
macro_rules! delete_batch {
    ($conn:expr, $table:ident, $key:ident: $key_type:ty, $column:ident, $before:expr) => {{
        let doomed: Vec<$key_type> = $table::table
            .filter($table::$column.lt($before))
            .select($table::$key)
            .limit(BATCH)
            .load($conn)?;
        if doomed.is_empty() {
            return Ok(0);
        }
        Ok(diesel::delete($table::table.filter($table::$key.eq_any(&doomed))).execute($conn)?)
    }};
}

/// Token records (revocations, delegated tokens) that expired before `before`.
pub fn tokens(conn: &mut AnyConnection, before: i64) -> Result<usize, StoreError> {
    delete_batch!(conn, issued_tokens, id: String, expires_at, before)
}

/// Refresh tokens of families whose absolute lifetime ended before `before`.
pub fn refresh_tokens(conn: &mut AnyConnection, before: i64) -> Result<usize, StoreError> {
    delete_batch!(conn, refresh_tokens, id: String, family_expires_at, before)
}

/// Authorization codes that expired before `before`.
pub fn codes(conn: &mut AnyConnection, before: i64) -> Result<usize, StoreError> {
    delete_batch!(conn, authorization_codes, id: String, expires_at, before)
}

/// Sign-in sessions that expired before `before`.
pub fn sessions(conn: &mut AnyConnection, before: i64) -> Result<usize, StoreError> {
    delete_batch!(conn, sessions, id: String, expires_at, before)
}

/// Failed sign-ins older than `before`.
pub fn login_failures(conn: &mut AnyConnection, before: i64) -> Result<usize, StoreError> {
    delete_batch!(conn, login_failures, id: i64, failed_at, before)
}

/// Upstream sign-ins begun before `before` (their callbacks have expired).
pub fn upstream_logins(conn: &mut AnyConnection, before: i64) -> Result<usize, StoreError> {
    delete_batch!(conn, upstream_logins, state_hash: String, created_at, before)
}
