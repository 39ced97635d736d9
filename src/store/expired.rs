//! Deleting rows past a cutoff, in batches of `BATCH` so that a large backlog
//! never holds SQLite's writer for long. Which cutoff is safe for which table
//! is decided by `crate::sweep`; these only carry it out.

use super::schema::{authorization_codes, issued_tokens, refresh_tokens, sessions};
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

/// Rows deleted per statement.
pub const BATCH: i64 = 500;

/// Deletes up to `BATCH` rows of `$table` whose `$column` is before `$before`;
/// how many went.
macro_rules! delete_batch {
    ($conn:expr, $table:ident, $key:ident, $column:ident, $before:expr) => {{
        let doomed: Vec<String> = $table::table
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
    delete_batch!(conn, issued_tokens, id, expires_at, before)
}

/// Refresh tokens of families whose absolute lifetime ended before `before`.
pub fn refresh_tokens(conn: &mut AnyConnection, before: i64) -> Result<usize, StoreError> {
    delete_batch!(conn, refresh_tokens, id, family_expires_at, before)
}

/// Authorization codes that expired before `before`.
pub fn codes(conn: &mut AnyConnection, before: i64) -> Result<usize, StoreError> {
    delete_batch!(conn, authorization_codes, id, expires_at, before)
}

/// Sign-in sessions that expired before `before`.
pub fn sessions(conn: &mut AnyConnection, before: i64) -> Result<usize, StoreError> {
    delete_batch!(conn, sessions, id, expires_at, before)
}
