//! The `users` table: accounts with a stable `sub`, a username, an argon2id
//! password hash, and the agent role.

use super::schema::users;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub sub: String,
    pub username: String,
    pub password_hash: Option<String>,
    pub is_agent: bool,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

impl UserRow {
    pub fn insert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        diesel::insert_into(users::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }

    pub fn find_by_username(
        conn: &mut AnyConnection,
        username: &str,
    ) -> Result<Option<Self>, StoreError> {
        Ok(users::table
            .filter(users::username.eq(username))
            .select(Self::as_select())
            .get_result(conn)
            .optional()?)
    }

    pub fn find_by_sub(conn: &mut AnyConnection, sub: &str) -> Result<Option<Self>, StoreError> {
        Ok(native!(conn, |c| users::table
            .find(sub)
            .select(Self::as_select())
            .get_result(c)
            .optional())?)
    }

    /// The users among `subs` (one query for the names on a page).
    pub fn find_by_subs(
        conn: &mut AnyConnection,
        subs: &[String],
    ) -> Result<Vec<Self>, StoreError> {
        Ok(users::table
            .filter(users::sub.eq_any(subs))
            .select(Self::as_select())
            .load(conn)?)
    }

    /// Marks the user disabled; `false` if no such user.
    pub fn disable(conn: &mut AnyConnection, username: &str, now: i64) -> Result<bool, StoreError> {
        let updated = diesel::update(users::table.filter(users::username.eq(username)))
            .set(users::disabled_at.eq(now))
            .execute(conn)?;
        Ok(updated == 1)
    }

    /// Clears the disabled mark; `false` if no such user.
    pub fn enable(conn: &mut AnyConnection, username: &str) -> Result<bool, StoreError> {
        let updated = diesel::update(users::table.filter(users::username.eq(username)))
            .set(users::disabled_at.eq(None::<i64>))
            .execute(conn)?;
        Ok(updated == 1)
    }

    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }
}
