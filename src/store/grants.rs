//! The `grants` table: recorded consent. A grant is active while unrevoked and
//! before `expires_at`; both are judged at read time against the clock.

use super::schema::grants;
use super::{AnyConnection, Keyset, StoreError};
use diesel::prelude::*;

/// Who ended a grant: the `revoked_by` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    User,
    Agent,
    /// The subject or the agent was disabled (`behalf user disable`).
    UserDisabled,
}

impl EndedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Agent => "agent",
            Self::UserDisabled => "user_disabled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "user" => Some(Self::User),
            "agent" => Some(Self::Agent),
            "user_disabled" => Some(Self::UserDisabled),
            _ => None,
        }
    }
}

/// Which grants a list holds, by their status at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantFilter {
    All,
    /// Unrevoked with `expires_at` still ahead.
    Active,
    /// Revoked, or past `expires_at`.
    Ended,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = grants)]
pub struct GrantRow {
    pub id: String,
    pub subject_sub: String,
    /// The named agent; `None` when the grant is given to a `team`.
    pub agent_sub: Option<String>,
    pub client_id: String,
    pub scopes: String,
    pub audiences: String,
    pub reason: String,
    pub ticket: String,
    pub request_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
    /// The team whose enabled agents may use the grant; `None` for a named agent.
    pub team: Option<String>,
    /// Client ids of delegated-sign-in apps the grant lets the agent sign in to as the subject.
    pub apps: String,
    /// When it was first used: its first delegated token or delegated sign-in.
    pub first_used_at: Option<i64>,
}

impl GrantRow {
    pub fn insert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        diesel::insert_into(grants::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Self>, StoreError> {
        Ok(native!(conn, |c| grants::table
            .find(id)
            .select(Self::as_select())
            .get_result(c)
            .optional())?)
    }

    /// The grants among `ids` (one query for the grants a page of requests names).
    pub fn find_by_ids(conn: &mut AnyConnection, ids: &[String]) -> Result<Vec<Self>, StoreError> {
        Ok(grants::table
            .filter(grants::id.eq_any(ids))
            .select(Self::as_select())
            .load(conn)?)
    }

    /// The grants the agent `agent_sub` of `agent_team` may use (named, or
    /// given to its team: `may_be_used_by`) that `filter` keeps, newest first
    /// by `(created_at, id)`: at most `limit`, after `after` when given (a page
    /// of `GET /api/grants`; the indexes `grants_by_agent_created` and
    /// `grants_by_team_created`).
    pub fn page_usable_by(
        conn: &mut AnyConnection,
        agent_sub: &str,
        agent_team: Option<&str>,
        filter: GrantFilter,
        now: i64,
        after: Option<&Keyset>,
        limit: i64,
    ) -> Result<Vec<Self>, StoreError> {
        use grants::{created_at, expires_at, id, revoked_at, team};
        let mut query = match agent_team {
            Some(t) => grants::table
                .filter(grants::agent_sub.eq(agent_sub).or(team.eq(t)))
                .into_boxed(),
            None => grants::table
                .filter(grants::agent_sub.eq(agent_sub))
                .into_boxed(),
        };
        query = match filter {
            GrantFilter::All => query,
            GrantFilter::Active => query.filter(revoked_at.is_null().and(expires_at.gt(now))),
            GrantFilter::Ended => query.filter(revoked_at.is_not_null().or(expires_at.le(now))),
        };
        if let Some(k) = after {
            // `(created_at, id) < (k.created_at, k.id)`, said so that the
            // index can start at `k.created_at`.
            query = query
                .filter(created_at.le(k.created_at))
                .filter(created_at.lt(k.created_at).or(id.lt(k.id.clone())));
        }
        Ok(query
            .order((created_at.desc(), id.desc()))
            .limit(limit)
            .select(Self::as_select())
            .load(conn)?)
    }

    /// The active grants over `subject_sub`'s account, newest first (each
    /// one the user approved: the user, not an agent, bounds how many).
    pub fn active_for_subject(
        conn: &mut AnyConnection,
        subject_sub: &str,
        now: i64,
    ) -> Result<Vec<Self>, StoreError> {
        Ok(grants::table
            .filter(grants::subject_sub.eq(subject_sub))
            .filter(grants::revoked_at.is_null())
            .filter(grants::expires_at.gt(now))
            .order((grants::created_at.desc(), grants::id.desc()))
            .select(Self::as_select())
            .load(conn)?)
    }

    /// At most `limit` of the ended grants over `subject_sub`'s account from
    /// `offset`, newest first: walked along `grants_by_subject_created`, so a
    /// page costs the same after ten thousand ended grants (bench/README.md "Growth").
    pub fn ended_page_for_subject(
        conn: &mut AnyConnection,
        subject_sub: &str,
        now: i64,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<Self>, StoreError> {
        Ok(grants::table
            .filter(grants::subject_sub.eq(subject_sub))
            .filter(
                grants::revoked_at
                    .is_not_null()
                    .or(grants::expires_at.le(now)),
            )
            .order((grants::created_at.desc(), grants::id.desc()))
            .offset(offset)
            .limit(limit)
            .select(Self::as_select())
            .load(conn)?)
    }

    /// The active grants `agent_sub` may use, named or through `team`, newest
    /// first, at most `limit` (the grants a delegated sign-in may run under).
    pub fn active_usable_by(
        conn: &mut AnyConnection,
        agent_sub: &str,
        team: Option<&str>,
        now: i64,
        limit: i64,
    ) -> Result<Vec<Self>, StoreError> {
        let mine = grants::agent_sub.eq(agent_sub).or(grants::team.eq(team));
        Ok(grants::table
            .filter(mine)
            .filter(grants::revoked_at.is_null())
            .filter(grants::expires_at.gt(now))
            .order(grants::created_at.desc())
            .limit(limit)
            .select(Self::as_select())
            .load(conn)?)
    }

    /// The ids of the active grants where `sub` is the subject or the agent.
    pub fn active_ids_involving(
        conn: &mut AnyConnection,
        sub: &str,
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        Ok(grants::table
            .filter(grants::subject_sub.eq(sub).or(grants::agent_sub.eq(sub)))
            .filter(grants::revoked_at.is_null())
            .filter(grants::expires_at.gt(now))
            .select(grants::id)
            .load(conn)?)
    }

    /// Ends an active grant; `false` if it had already ended.
    pub fn revoke(
        conn: &mut AnyConnection,
        id: &str,
        by: EndedBy,
        now: i64,
    ) -> Result<bool, StoreError> {
        let updated = diesel::update(
            grants::table
                .find(id)
                .filter(grants::revoked_at.is_null())
                .filter(grants::expires_at.gt(now)),
        )
        .set((
            grants::revoked_at.eq(now),
            grants::revoked_by.eq(by.as_str()),
        ))
        .execute(conn)?;
        Ok(updated == 1)
    }

    /// Marks grant `id` used at `now` unless it was used before; `true` for
    /// the first use, whichever instance makes it (the one `grant.used` event).
    pub fn mark_first_use(
        conn: &mut AnyConnection,
        id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let updated = diesel::update(
            grants::table
                .find(id)
                .filter(grants::first_used_at.is_null()),
        )
        .set(grants::first_used_at.eq(now))
        .execute(conn)?;
        Ok(updated == 1)
    }

    pub fn ended_by(&self) -> Option<EndedBy> {
        self.revoked_by.as_deref().and_then(EndedBy::parse)
    }

    pub fn is_active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }

    /// Whether `agent` may act under this grant: the named agent, or an agent of its team.
    /// (Whether the agent is enabled is the caller's check: it holds the user row.)
    pub fn may_be_used_by(&self, agent_sub: &str, agent_team: Option<&str>) -> bool {
        match (&self.agent_sub, &self.team) {
            (Some(named), _) => named == agent_sub,
            (None, Some(team)) => agent_team == Some(team.as_str()),
            (None, None) => false,
        }
    }

    pub fn app_list(&self) -> Vec<String> {
        super::split_list(&self.apps)
    }

    pub fn scope_list(&self) -> Vec<String> {
        super::split_list(&self.scopes)
    }

    pub fn audience_list(&self) -> Vec<String> {
        super::split_list(&self.audiences)
    }
}
