//! The `users` table: accounts with a stable `sub`, a username, an argon2id
//! password hash, the agent role, and an optional email, display name and team.

use super::schema::users;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;
use std::collections::HashMap;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub sub: String,
    pub username: String,
    pub password_hash: Option<String>,
    pub is_agent: bool,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    pub email: Option<String>,
    /// The name shown to people (`name` on the command line and in JSON).
    pub display_name: Option<String>,
    /// An agent's team (DESIGN.md "People, agents and teams").
    pub team: Option<String>,
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

    /// The users whose email is `email`, at most `limit` (emails need not be
    /// unique: a caller that wants one person asks for two and refuses both).
    pub fn find_by_email(
        conn: &mut AnyConnection,
        email: &str,
        limit: i64,
    ) -> Result<Vec<Self>, StoreError> {
        Ok(users::table
            .filter(users::email.eq(email))
            .order(users::username.asc())
            .limit(limit)
            .select(Self::as_select())
            .load(conn)?)
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

    /// The usernames of the users among `subs`, by `sub` (one query for the names in a list).
    pub fn usernames(
        conn: &mut AnyConnection,
        subs: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        Ok(users::table
            .filter(users::sub.eq_any(subs))
            .select((users::sub, users::username))
            .load(conn)?
            .into_iter()
            .collect())
    }

    /// Enabled agents by username, at most `limit` (the lists of "Allow support access").
    pub fn enabled_agents(conn: &mut AnyConnection, limit: i64) -> Result<Vec<Self>, StoreError> {
        Ok(users::table
            .filter(users::is_agent.eq(true))
            .filter(users::disabled_at.is_null())
            .order(users::username.asc())
            .limit(limit)
            .select(Self::as_select())
            .load(conn)?)
    }

    /// Whether `team` has an enabled agent (a grant to it could be used).
    pub fn team_has_enabled_agent(
        conn: &mut AnyConnection,
        team: &str,
    ) -> Result<bool, StoreError> {
        use diesel::dsl::{exists, select};
        Ok(select(exists(
            users::table
                .filter(users::team.eq(team))
                .filter(users::is_agent.eq(true))
                .filter(users::disabled_at.is_null()),
        ))
        .get_result(conn)?)
    }

    /// Every user, by username (`behalf user list`).
    pub fn all(conn: &mut AnyConnection) -> Result<Vec<Self>, StoreError> {
        Ok(users::table
            .order(users::username.asc())
            .select(Self::as_select())
            .load(conn)?)
    }

    /// Replaces the password hash; `false` if no such user.
    pub fn set_password_hash(
        conn: &mut AnyConnection,
        username: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let updated = diesel::update(users::table.filter(users::username.eq(username)))
            .set(users::password_hash.eq(password_hash))
            .execute(conn)?;
        Ok(updated == 1)
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

    /// What an IdP said at a sign-in: email, name, and (when its settings
    /// name the claims) the agent role and team; written only when it changed.
    pub fn set_from_idp(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        diesel::update(users::table.find(&self.sub))
            .set((
                users::email.eq(&self.email),
                users::display_name.eq(&self.display_name),
                users::is_agent.eq(self.is_agent),
                users::team.eq(&self.team),
            ))
            .execute(conn)?;
        Ok(())
    }

    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }
}
