//! The `login_failures` table: one row per sign-in attempt that has not
//! succeeded, under each throttle key it counts against (`accounts::throttle`
//! decides what the keys are and what the counts mean). An attempt is written
//! here before its password is checked (docs/security.md L1), so the count is
//! taken and raised in one step: on SQLite the one writer serializes it, on
//! PostgreSQL a transaction-scoped advisory lock per key does, across every
//! instance on the database.

use super::schema::login_failures;
use super::{AnyConnection, StoreError};
use diesel::dsl::max;
use diesel::prelude::*;
use diesel::sql_types::Text;

/// Attempts under `key` at or after `since`.
pub fn count_since(conn: &mut AnyConnection, key: &str, since: i64) -> Result<i64, StoreError> {
    Ok(login_failures::table
        .filter(login_failures::throttle_key.eq(key))
        .filter(login_failures::failed_at.ge(since))
        .count()
        .get_result(conn)?)
}

/// Counts one attempt under every key whose count since `since` is below its
/// limit, or under none if any key is at its limit. Call inside a transaction:
/// the ids returned name the rows written, for `forget` once the attempt
/// succeeded or was never checked.
pub fn reserve(
    conn: &mut AnyConnection,
    limits: &[(String, i64)],
    since: i64,
    at: i64,
) -> Result<Option<Vec<i64>>, StoreError> {
    let mut keys: Vec<&(String, i64)> = limits.iter().collect();
    // One order for every caller, so that two attempts never wait on each other's locks.
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    if let AnyConnection::Postgresql(_) = conn {
        for (key, _) in &keys {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind::<Text, _>(key)
                .execute(conn)?;
        }
    }
    for (key, limit) in &keys {
        if count_since(conn, key, since)? >= *limit {
            return Ok(None);
        }
    }
    let mut ids = Vec::with_capacity(keys.len());
    for (key, _) in keys {
        diesel::insert_into(login_failures::table)
            .values((
                login_failures::throttle_key.eq(key),
                login_failures::failed_at.eq(at),
            ))
            .execute(conn)?;
        // The key's lock (or SQLite's one writer) is held: its newest row is ours.
        let id: Option<i64> = login_failures::table
            .filter(login_failures::throttle_key.eq(key))
            .select(max(login_failures::id))
            .first(conn)?;
        ids.extend(id);
    }
    Ok(Some(ids))
}

/// Deletes the rows `reserve` wrote for one attempt.
pub fn forget(conn: &mut AnyConnection, ids: &[i64]) -> Result<(), StoreError> {
    diesel::delete(login_failures::table.filter(login_failures::id.eq_any(ids))).execute(conn)?;
    Ok(())
}

/// Forgets every attempt under `key`.
pub fn clear(conn: &mut AnyConnection, key: &str) -> Result<(), StoreError> {
    diesel::delete(login_failures::table.filter(login_failures::throttle_key.eq(key)))
        .execute(conn)?;
    Ok(())
}
