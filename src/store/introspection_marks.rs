//! The `introspection_marks` table (docs/security.md L9): one row per token,
//! client and minute whose introspection is already in the audit trail. The
//! deferred audit writer claims a mark before it appends the activity line,
//! so repeated checks, on any instance, add at most one line a minute.

use super::schema::introspection_marks;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

/// Who checked which token, in which minute (unix seconds / 60).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Insertable)]
#[diesel(table_name = introspection_marks)]
pub struct IntrospectionMark {
    pub token_id: String,
    pub client_id: String,
    pub minute: i64,
}

impl IntrospectionMark {
    pub fn new(token_id: &str, client_id: &str, now: i64) -> Self {
        Self {
            token_id: token_id.to_string(),
            client_id: client_id.to_string(),
            minute: now.div_euclid(60),
        }
    }

    /// Records the mark; `false` if it was already there (the line is written).
    pub fn claim(&self, conn: &mut AnyConnection) -> Result<bool, StoreError> {
        let inserted = native!(conn, |c| diesel::insert_into(introspection_marks::table)
            .values(self)
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(inserted == 1)
    }
}

/// Deletes the marks of minutes that began before `before` (unix seconds).
pub fn delete_before(conn: &mut AnyConnection, before: i64) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        introspection_marks::table.filter(introspection_marks::minute.lt(before.div_euclid(60))),
    )
    .execute(conn)?)
}
