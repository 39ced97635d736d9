//! The `login_failures` table: one row per failed sign-in and throttle key
//! (`consent::throttle` decides what the keys are and what the counts mean).

use super::schema::login_failures;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

/// Failures under `key` at or after `since`.
pub fn count_since(conn: &mut AnyConnection, key: &str, since: i64) -> Result<i64, StoreError> {
    Ok(login_failures::table
        .filter(login_failures::throttle_key.eq(key))
        .filter(login_failures::failed_at.ge(since))
        .count()
        .get_result(conn)?)
}

pub fn record(conn: &mut AnyConnection, keys: &[String], at: i64) -> Result<(), StoreError> {
    for key in keys {
        diesel::insert_into(login_failures::table)
            .values((
                login_failures::throttle_key.eq(key),
                login_failures::failed_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Forgets every failure under `key`.
pub fn clear(conn: &mut AnyConnection, key: &str) -> Result<(), StoreError> {
    diesel::delete(login_failures::table.filter(login_failures::throttle_key.eq(key)))
        .execute(conn)?;
    Ok(())
}
