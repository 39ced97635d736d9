//! The `user_identities` table: which local user a company IdP's account is,
//! by the IdP's issuer and `sub` (docs/contract.md "Beside an existing identity
//! provider"; docs/security.md O2: never by email). Written at an upstream
//! sign-in or an agent's first trusted-issuer token; `behalf user unlink`
//! removes one.

use super::schema::user_identities;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = user_identities)]
pub struct UserIdentityRow {
    pub issuer: String,
    pub subject: String,
    pub user_sub: String,
    pub linked_at: i64,
    pub last_used_at: i64,
}

impl UserIdentityRow {
    pub fn insert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        diesel::insert_into(user_identities::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }

    /// The local user `subject` of `issuer` is linked to.
    pub fn find(
        conn: &mut AnyConnection,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<Self>, StoreError> {
        Ok(native!(conn, |c| user_identities::table
            .find((issuer, subject))
            .select(Self::as_select())
            .get_result(c)
            .optional())?)
    }

    /// Every identity linked to the local user `user_sub`, oldest first.
    pub fn of_user(conn: &mut AnyConnection, user_sub: &str) -> Result<Vec<Self>, StoreError> {
        Ok(user_identities::table
            .filter(user_identities::user_sub.eq(user_sub))
            .order(user_identities::linked_at.asc())
            .select(Self::as_select())
            .load(conn)?)
    }

    pub fn touch(
        conn: &mut AnyConnection,
        issuer: &str,
        subject: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        diesel::update(user_identities::table.find((issuer, subject)))
            .set(user_identities::last_used_at.eq(now))
            .execute(conn)?;
        Ok(())
    }

    /// Removes `user_sub`'s link to `issuer`; whether there was one.
    pub fn unlink(
        conn: &mut AnyConnection,
        user_sub: &str,
        issuer: &str,
    ) -> Result<bool, StoreError> {
        let removed = diesel::delete(
            user_identities::table
                .filter(user_identities::user_sub.eq(user_sub))
                .filter(user_identities::issuer.eq(issuer)),
        )
        .execute(conn)?;
        Ok(removed > 0)
    }
}
