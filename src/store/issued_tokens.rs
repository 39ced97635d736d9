//! The `issued_tokens` table: the state of tokens that the server must remember
//! (RFC 7009 revocation, RFC 7662 introspection). JWT access tokens are not
//! written when issued; a row appears when something (a revocation, a delegated
//! grant) has to be remembered about one, keyed by its `jti`.

use super::schema::issued_tokens;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

/// The `kind` column: what sort of token a row remembers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A user's or a client's own access token.
    AccessToken,
    /// A token minted by exchange under a grant, with `act`.
    DelegatedAccessToken,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "access_token",
            Self::DelegatedAccessToken => "delegated_access_token",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = issued_tokens)]
pub struct IssuedTokenRow {
    pub id: String,
    pub kind: String,
    pub client_id: String,
    pub subject: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// The code or refresh-token family the token came from, if any.
    pub family_id: Option<String>,
    /// The grant a delegated token was minted under.
    pub grant_id: Option<String>,
    /// The `jti` of the actor token that minted a delegated token.
    pub parent_id: Option<String>,
}

impl IssuedTokenRow {
    pub fn insert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        native!(conn, |c| diesel::insert_into(issued_tokens::table)
            .values(self)
            .execute(c))?;
        Ok(())
    }

    /// Inserts the row unless one with its id exists: concurrent revocations of
    /// one unrecorded token each try to record it (docs/security.md L11).
    pub fn insert_if_absent(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        native!(conn, |c| diesel::insert_into(issued_tokens::table)
            .values(self)
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(())
    }

    /// Marks one token revoked unless it already is; how many rows changed.
    pub fn mark_revoked(conn: &mut AnyConnection, id: &str, now: i64) -> Result<usize, StoreError> {
        Ok(native!(conn, |c| diesel::update(
            issued_tokens::table
                .find(id)
                .filter(issued_tokens::revoked_at.is_null()),
        )
        .set(issued_tokens::revoked_at.eq(now))
        .execute(c))?)
    }

    /// Revokes every token of a family (a replayed code or refresh token, RFC 9700 §4.14.2).
    pub fn revoke_family(
        conn: &mut AnyConnection,
        family_id: &str,
        now: i64,
    ) -> Result<usize, StoreError> {
        Ok(diesel::update(
            issued_tokens::table
                .filter(issued_tokens::family_id.eq(family_id))
                .filter(issued_tokens::revoked_at.is_null()),
        )
        .set(issued_tokens::revoked_at.eq(now))
        .execute(conn)?)
    }

    /// Revokes every token about `subject` (a disabled user).
    pub fn revoke_subject(
        conn: &mut AnyConnection,
        subject: &str,
        now: i64,
    ) -> Result<usize, StoreError> {
        Ok(diesel::update(
            issued_tokens::table
                .filter(issued_tokens::subject.eq(subject))
                .filter(issued_tokens::revoked_at.is_null()),
        )
        .set(issued_tokens::revoked_at.eq(now))
        .execute(conn)?)
    }

    /// Revokes the user's own access tokens of one client, not those minted
    /// under a grant (a withdrawn app consent; grants end on their own).
    pub fn revoke_user_client(
        conn: &mut AnyConnection,
        subject: &str,
        client_id: &str,
        now: i64,
    ) -> Result<usize, StoreError> {
        Ok(diesel::update(
            issued_tokens::table
                .filter(issued_tokens::subject.eq(subject))
                .filter(issued_tokens::client_id.eq(client_id))
                .filter(issued_tokens::grant_id.is_null())
                .filter(issued_tokens::revoked_at.is_null()),
        )
        .set(issued_tokens::revoked_at.eq(now))
        .execute(conn)?)
    }

    pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Self>, StoreError> {
        Ok(native!(conn, |c| issued_tokens::table
            .find(id)
            .select(Self::as_select())
            .get_result(c)
            .optional())?)
    }
}
