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

    /// As `find`, inside a write transaction that must not race a withdrawal:
    /// on PostgreSQL the row is locked (`FOR UPDATE`), so a refresh waits for a
    /// concurrent withdrawal and then finds no consent, or the withdrawal waits
    /// and then revokes what the refresh issued. SQLite's writes are serial.
    pub fn find_for_update(
        conn: &mut AnyConnection,
        user_sub: &str,
        client_id: &str,
    ) -> Result<Option<Self>, StoreError> {
        match conn {
            AnyConnection::Postgresql(c) => Ok(app_consents::table
                .find((user_sub, client_id))
                .select(Self::as_select())
                .for_update()
                .get_result(c)
                .optional()?),
            AnyConnection::Sqlite(_) => Self::find(conn, user_sub, client_id),
        }
    }

    /// The user's remembered consents, the most recent first.
    pub fn for_user(conn: &mut AnyConnection, user_sub: &str) -> Result<Vec<Self>, StoreError> {
        Ok(app_consents::table
            .filter(app_consents::user_sub.eq(user_sub))
            .order((
                app_consents::granted_at.desc(),
                app_consents::client_id.asc(),
            ))
            .select(Self::as_select())
            .load(conn)?)
    }

    /// Forgets the user's consent to the app; how many rows went (0 or 1).
    pub fn delete(
        conn: &mut AnyConnection,
        user_sub: &str,
        client_id: &str,
    ) -> Result<usize, StoreError> {
        Ok(diesel::delete(app_consents::table.find((user_sub, client_id))).execute(conn)?)
    }

    /// The remembered consent, locked for this transaction: a row is created
    /// (with no scopes) if there is none, and touched, so that a concurrent
    /// consent for the same user and app waits for this one and then reads what
    /// it wrote (two tabs never lose each other's scopes). Call first in the
    /// transaction that will `set_scopes`.
    pub fn lock(
        conn: &mut AnyConnection,
        user_sub: &str,
        client_id: &str,
        now: i64,
    ) -> Result<Self, StoreError> {
        let empty = Self {
            user_sub: user_sub.to_string(),
            client_id: client_id.to_string(),
            scopes: String::new(),
            granted_at: now,
        };
        native!(conn, |c| diesel::insert_into(app_consents::table)
            .values(&empty)
            .on_conflict_do_nothing()
            .execute(c))?;
        diesel::update(app_consents::table.find((user_sub, client_id)))
            .set(app_consents::granted_at.eq(now))
            .execute(conn)?;
        Ok(Self::find(conn, user_sub, client_id)?.unwrap_or(empty))
    }

    /// Stores the scopes of a consent locked by `lock`.
    pub fn set_scopes(
        conn: &mut AnyConnection,
        user_sub: &str,
        client_id: &str,
        scopes: &str,
    ) -> Result<(), StoreError> {
        diesel::update(app_consents::table.find((user_sub, client_id)))
            .set(app_consents::scopes.eq(scopes))
            .execute(conn)?;
        Ok(())
    }

    /// Whether every one of `scopes` has been allowed.
    pub fn covers(&self, scopes: &[String]) -> bool {
        let allowed = self.scope_list();
        scopes.iter().all(|s| allowed.contains(&s.as_str()))
    }

    pub fn scope_list(&self) -> Vec<&str> {
        self.scopes.split(' ').filter(|s| !s.is_empty()).collect()
    }
}
