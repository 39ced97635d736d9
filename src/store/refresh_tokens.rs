//! The `refresh_tokens` table (RFC 6749 §6, RFC 9700 §4.14.2): one row per
//! token, grouped into families; a token is used once, and a replay revokes
//! its family.

use super::schema::refresh_tokens;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: String,
    pub family_id: String,
    pub client_id: String,
    pub user_sub: String,
    pub scopes: String,
    pub auth_time: i64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub family_expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// A delegated session's family: the grant, the acting agent, the session id.
    pub grant_id: Option<String>,
    pub actor_sub: Option<String>,
    pub sid: Option<String>,
}

impl RefreshTokenRow {
    pub fn insert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        diesel::insert_into(refresh_tokens::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }

    /// Marks the token used if it is unused, unrevoked and live. `true` if this call won.
    pub fn claim(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool, StoreError> {
        let updated = diesel::update(
            refresh_tokens::table
                .find(id)
                .filter(refresh_tokens::used_at.is_null())
                .filter(refresh_tokens::revoked_at.is_null())
                .filter(refresh_tokens::expires_at.gt(now))
                .filter(refresh_tokens::family_expires_at.gt(now)),
        )
        .set(refresh_tokens::used_at.eq(now))
        .execute(conn)?;
        Ok(updated == 1)
    }

    pub fn scope_list(&self) -> Vec<String> {
        super::split_list(&self.scopes)
    }

    pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Self>, StoreError> {
        Ok(refresh_tokens::table
            .find(id)
            .select(Self::as_select())
            .get_result(conn)
            .optional()?)
    }

    pub fn revoke_family(
        conn: &mut AnyConnection,
        family_id: &str,
        now: i64,
    ) -> Result<usize, StoreError> {
        Ok(diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::family_id.eq(family_id))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(now))
        .execute(conn)?)
    }

    pub fn revoke_user(conn: &mut AnyConnection, sub: &str, now: i64) -> Result<usize, StoreError> {
        Ok(diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::user_sub.eq(sub))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(now))
        .execute(conn)?)
    }

    /// Revokes the user's live refresh tokens of one client (a withdrawn app consent).
    pub fn revoke_user_client(
        conn: &mut AnyConnection,
        sub: &str,
        client_id: &str,
        now: i64,
    ) -> Result<usize, StoreError> {
        Ok(diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::user_sub.eq(sub))
                .filter(refresh_tokens::client_id.eq(client_id))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(now))
        .execute(conn)?)
    }
}
