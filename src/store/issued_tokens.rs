//! The `issued_tokens` table: the state of tokens that the server must remember
//! (RFC 7009 revocation, RFC 7662 introspection). JWT access tokens are not
//! written when issued; a row appears when something (a revocation, a delegated
//! grant) has to be remembered about one, keyed by its `jti`.

use super::grants::GrantRow;
use super::schema::{grants, issued_tokens, users};
use super::users::UserRow;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

diesel::alias!(issued_tokens as parent_tokens: ParentTokens, users as acting_users: ActingUsers);

/// What the store knows about one recorded token, read in one statement
/// (`IssuedTokenRow::standing`): the rows introspection and every bearer check
/// decide on (docs/contract.md "Revocation and its reach").
#[derive(Debug)]
pub struct Standing {
    /// The token's own record says revoked.
    pub revoked: bool,
    /// The actor token that minted it (`parent_id`) is recorded as revoked.
    pub parent_revoked: bool,
    /// The user the token is about.
    pub subject: Option<UserRow>,
    /// The grant it was minted under.
    pub grant: Option<GrantRow>,
    /// The user whose `sub` is the token's `act.sub`.
    pub agent: Option<UserRow>,
}

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

    /// The standing of recorded token `id`, about user `subject`, minted under
    /// `grant_id` for agent `agent_sub`: `None` when it was never recorded.
    /// One statement instead of five lookups, so one round trip on PostgreSQL
    /// (bench/README.md "PostgreSQL"); each join is a primary-key lookup.
    pub fn standing(
        conn: &mut AnyConnection,
        id: &str,
        subject: &str,
        grant_id: Option<&str>,
        agent_sub: Option<&str>,
    ) -> Result<Option<Standing>, StoreError> {
        type Read = (
            Option<i64>,
            Option<i64>,
            Option<UserRow>,
            Option<GrantRow>,
            Option<UserRow>,
        );
        let parent = parent_tokens;
        let agent = acting_users;
        // A join's bound values must be owned (diesel keeps the FROM clause 'static).
        let (subject, grant_id) = (subject.to_string(), grant_id.map(str::to_string));
        let agent_sub = agent_sub.map(str::to_string);
        let row: Option<Read> = native!(conn, |c| issued_tokens::table
            .left_join(
                parent.on(parent
                    .field(issued_tokens::id)
                    .nullable()
                    .eq(issued_tokens::parent_id)),
            )
            .left_join(users::table.on(users::sub.eq(subject)))
            .left_join(grants::table.on(grants::id.nullable().eq(grant_id)))
            .left_join(agent.on(agent.field(users::sub).nullable().eq(agent_sub)))
            .filter(issued_tokens::id.eq(id))
            .select((
                issued_tokens::revoked_at,
                parent.field(issued_tokens::revoked_at).nullable(),
                users::all_columns.nullable(),
                grants::all_columns.nullable(),
                agent.fields(users::all_columns).nullable(),
            ))
            .get_result(c)
            .optional())?;
        Ok(row.map(
            |(revoked_at, parent_revoked_at, subject, grant, agent)| Standing {
                revoked: revoked_at.is_some(),
                parent_revoked: parent_revoked_at.is_some(),
                subject,
                grant,
                agent,
            },
        ))
    }

    pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Self>, StoreError> {
        Ok(native!(conn, |c| issued_tokens::table
            .find(id)
            .select(Self::as_select())
            .get_result(c)
            .optional())?)
    }
}
