//! The `authorization_codes` table (RFC 6749 §4.1.2): single use is enforced
//! here, by a conditional update that only one redemption can win.

use super::schema::authorization_codes;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = authorization_codes)]
pub struct AuthorizationCodeRow {
    pub id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub user_sub: String,
    pub scopes: String,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub redeemed_at: Option<i64>,
    /// A delegated sign-in: the grant, the agent acting as `user_sub`, the session.
    pub grant_id: Option<String>,
    pub actor_sub: Option<String>,
    pub sid: Option<String>,
}

impl AuthorizationCodeRow {
    pub fn insert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        diesel::insert_into(authorization_codes::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }

    /// Deletes the user's unredeemed codes for one client (a withdrawn app
    /// consent: a code issued just before cannot bring the access back).
    pub fn delete_unredeemed(
        conn: &mut AnyConnection,
        user_sub: &str,
        client_id: &str,
    ) -> Result<usize, StoreError> {
        Ok(diesel::delete(
            authorization_codes::table
                .filter(authorization_codes::user_sub.eq(user_sub))
                .filter(authorization_codes::client_id.eq(client_id))
                .filter(authorization_codes::redeemed_at.is_null()),
        )
        .execute(conn)?)
    }

    /// Marks the code redeemed if nobody has, and it is still live. `true` if this call won.
    pub fn claim(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool, StoreError> {
        let updated = diesel::update(
            authorization_codes::table
                .find(id)
                .filter(authorization_codes::redeemed_at.is_null())
                .filter(authorization_codes::expires_at.gt(now)),
        )
        .set(authorization_codes::redeemed_at.eq(now))
        .execute(conn)?;
        Ok(updated == 1)
    }

    pub fn scope_list(&self) -> Vec<String> {
        super::split_list(&self.scopes)
    }

    pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Self>, StoreError> {
        Ok(authorization_codes::table
            .find(id)
            .select(Self::as_select())
            .get_result(conn)
            .optional()?)
    }
}
