//! The `sessions` table: browser sessions behind the `behalf_session` cookie,
//! anonymous (for the login form's CSRF token) or logged in.

use super::schema::sessions;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub user_sub: Option<String>,
    pub csrf_token: String,
    pub auth_time: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl SessionRow {
    pub fn insert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        diesel::insert_into(sessions::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }

    /// A session that has not expired at `now`.
    pub fn find_live(
        conn: &mut AnyConnection,
        id: &str,
        now: i64,
    ) -> Result<Option<Self>, StoreError> {
        Ok(sessions::table
            .find(id)
            .filter(sessions::expires_at.gt(now))
            .select(Self::as_select())
            .get_result(conn)
            .optional()?)
    }

    pub fn delete(conn: &mut AnyConnection, id: &str) -> Result<(), StoreError> {
        diesel::delete(sessions::table.find(id)).execute(conn)?;
        Ok(())
    }

    pub fn delete_for_user(conn: &mut AnyConnection, sub: &str) -> Result<(), StoreError> {
        diesel::delete(sessions::table.filter(sessions::user_sub.eq(sub))).execute(conn)?;
        Ok(())
    }
}
