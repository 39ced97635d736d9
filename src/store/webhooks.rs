//! The `webhooks` table: Standard Webhooks destinations (`behalf webhook
//! add|list|remove`; docs/contract.md "Webhooks"). The secret signs every
//! delivery, so it is kept sealed under the key-encryption key, never hashed.

use super::schema::webhooks;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: String,
    pub url: String,
    /// The 32 secret bytes, sealed (`tokens::kek`, context: the id).
    pub sealed_secret: Vec<u8>,
    /// The event types it hears, space-separated; empty: every type.
    pub event_types: String,
    pub created_at: i64,
}

impl WebhookRow {
    pub fn insert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        diesel::insert_into(webhooks::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Self>, StoreError> {
        Ok(webhooks::table
            .find(id)
            .select(Self::as_select())
            .get_result(conn)
            .optional()?)
    }

    /// Every webhook, oldest first.
    pub fn all(conn: &mut AnyConnection) -> Result<Vec<Self>, StoreError> {
        Ok(webhooks::table
            .order((webhooks::created_at, webhooks::id))
            .select(Self::as_select())
            .load(conn)?)
    }

    /// Removes webhook `id`; `false` when there was none.
    pub fn remove(conn: &mut AnyConnection, id: &str) -> Result<bool, StoreError> {
        Ok(diesel::delete(webhooks::table.find(id)).execute(conn)? == 1)
    }

    /// The `payload` of its outbox rows: `{"webhook": id}`.
    pub fn delivery_payload(&self) -> String {
        serde_json::json!({"webhook": self.id}).to_string()
    }

    /// Whether it hears events of `event_type` (`events::EventType::as_str`).
    pub fn hears(&self, event_type: &str) -> bool {
        self.event_types.is_empty() || self.event_types.split(' ').any(|t| t == event_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hearing(types: &str) -> WebhookRow {
        WebhookRow {
            id: "wh".into(),
            url: "https://hooks.example/in".into(),
            sealed_secret: vec![],
            event_types: types.into(),
            created_at: 0,
        }
    }

    #[test]
    fn a_webhook_hears_its_types_or_every_type_when_it_named_none() {
        assert!(hearing("").hears("grant.ended"));
        assert!(hearing("grant.created grant.ended").hears("grant.ended"));
        assert!(!hearing("grant.created").hears("grant.ended"));
        assert!(!hearing("grant.created").hears("grant"));
    }
}
