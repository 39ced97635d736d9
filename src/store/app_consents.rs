//! The `app_consents` table: which scopes a user has allowed an app, remembered
//! so that the consent page is shown once (OIDC Core §3.1.2.4).

use super::schema::app_consents;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = app_consents)]
pub struct AppConsentRow {
    pub user_sub: String,
    pub client_id: String,
    pub scopes: String,
    pub granted_at: i64,
}

impl AppConsentRow {
    pub fn find(
        conn: &mut AnyConnection,
        user_sub: &str,
        client_id: &str,
    ) -> Result<Option<Self>, StoreError> {
        Ok(app_consents::table
            .find((user_sub, client_id))
            .select(Self::as_select())
            .get_result(conn)
            .optional()?)
    }

    /// Replaces the remembered consent (delete first: the write opens the transaction).
    pub fn upsert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        conn.transaction(|c| {
            diesel::delete(app_consents::table.find((&self.user_sub, &self.client_id)))
                .execute(c)?;
            diesel::insert_into(app_consents::table)
                .values(self)
                .execute(c)?;
            Ok(())
        })
    }

    pub fn scope_list(&self) -> Vec<&str> {
        self.scopes.split(' ').filter(|s| !s.is_empty()).collect()
    }
}
