//! The `delegated_sessions` table: each delegated sign-in into an app (DESIGN.md
//! "Delegated sign-in into any OIDC app"), by grant, so that the grant's end
//! can reach each app's session (OIDC Back-Channel Logout 1.0 §2.4: `sid`).

use super::schema::delegated_sessions;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = delegated_sessions)]
pub struct DelegatedSessionRow {
    pub sid: String,
    pub grant_id: String,
    pub client_id: String,
    pub subject_sub: String,
    pub agent_sub: String,
    pub started_at: i64,
}

impl DelegatedSessionRow {
    pub fn insert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        diesel::insert_into(delegated_sessions::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }

    /// The sessions started under `grant_id`.
    pub fn for_grant(conn: &mut AnyConnection, grant_id: &str) -> Result<Vec<Self>, StoreError> {
        Ok(delegated_sessions::table
            .filter(delegated_sessions::grant_id.eq(grant_id))
            .select(Self::as_select())
            .load(conn)?)
    }
}
