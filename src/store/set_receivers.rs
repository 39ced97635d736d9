//! The `set_receivers` table: where Security Event Tokens (RFC 8417) are
//! pushed (RFC 8935) when a grant ends (`behalf receiver add|list|remove`;
//! docs/contract.md "Security Event Tokens").

use super::schema::set_receivers;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = set_receivers)]
pub struct SetReceiverRow {
    pub id: String,
    pub url: String,
    /// The SET's `aud`.
    pub audience: String,
    pub created_at: i64,
}

impl SetReceiverRow {
    pub fn insert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        diesel::insert_into(set_receivers::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Self>, StoreError> {
        Ok(set_receivers::table
            .find(id)
            .select(Self::as_select())
            .get_result(conn)
            .optional()?)
    }

    /// The `payload` of its outbox rows: `{"receiver": id, "audience": aud}`.
    pub fn delivery_payload(&self) -> String {
        serde_json::json!({"receiver": self.id, "audience": self.audience}).to_string()
    }

    /// Every receiver, oldest first.
    pub fn all(conn: &mut AnyConnection) -> Result<Vec<Self>, StoreError> {
        Ok(set_receivers::table
            .order((set_receivers::created_at, set_receivers::id))
            .select(Self::as_select())
            .load(conn)?)
    }

    /// Removes receiver `id`; `false` when there was none.
    pub fn remove(conn: &mut AnyConnection, id: &str) -> Result<bool, StoreError> {
        Ok(diesel::delete(set_receivers::table.find(id)).execute(conn)? == 1)
    }
}
