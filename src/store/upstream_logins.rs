//! The `upstream_logins` table: one per upstream sign-in under way (OIDC Core
//! §3.1.2.1): the `state` (kept only as its SHA-256), the `nonce` and PKCE
//! verifier (RFC 7636 §4.1) the callback needs, which upstream it went to
//! (a callback at another upstream's path is refused: docs/security.md O1),
//! and where to go after. The callback claims it once, by deleting it.

use super::schema::upstream_logins;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

/// How long a sign-in at the IdP may take before its callback has expired.
pub const UPSTREAM_LOGIN_TTL: i64 = 600;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = upstream_logins)]
pub struct UpstreamLoginRow {
    pub state_hash: String,
    pub upstream_id: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: String,
    pub max_age: Option<i64>,
    pub created_at: i64,
}

impl UpstreamLoginRow {
    pub fn insert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        diesel::insert_into(upstream_logins::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }

    /// The sign-in whose `state` hashes to `state_hash`, deleted in the same
    /// step: `None` when unknown or already claimed (a replayed callback).
    pub fn claim(conn: &mut AnyConnection, state_hash: &str) -> Result<Option<Self>, StoreError> {
        let Some(row) = upstream_logins::table
            .find(state_hash)
            .select(Self::as_select())
            .get_result(conn)
            .optional()?
        else {
            return Ok(None);
        };
        // Two callbacks at once: the delete decides which one has it.
        let deleted = diesel::delete(upstream_logins::table.find(state_hash)).execute(conn)?;
        Ok((deleted == 1).then_some(row))
    }
}
