//! The `access_requests` table: an agent asks a user for access
//! (docs/contract.md "Concepts"). The stored states are `RequestState`;
//! `expired` is not stored: a pending request past `expires_at` is expired when read.

use super::schema::access_requests;
use super::{AnyConnection, Keyset, StoreError};
use diesel::prelude::*;

/// The `status` column: where a request stands once written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState {
    Pending,
    Approved,
    Denied,
    Cancelled,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Cancelled => "cancelled",
        }
    }

    /// The column's value; anything unknown reads as cancelled (never usable).
    pub fn parse(value: &str) -> Self {
        match value {
            "pending" => Self::Pending,
            "approved" => Self::Approved,
            "denied" => Self::Denied,
            _ => Self::Cancelled,
        }
    }
}

/// Which of an agent's requests a list holds, by the status a reader sees at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFilter {
    All,
    /// Pending with `expires_at` still ahead: answerable.
    Pending,
    /// Pending past `expires_at`: expired, though the column still says pending.
    Expired,
    /// Approved, denied or cancelled: the stored state alone decides.
    Stored(RequestState),
    /// Ended without a grant: denied, cancelled, or pending past `expires_at`.
    Unanswered,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = access_requests)]
pub struct AccessRequestRow {
    pub id: String,
    pub agent_sub: String,
    pub subject_sub: String,
    pub client_id: String,
    pub scopes: String,
    pub duration: i64,
    pub reason: String,
    pub ticket: String,
    pub status: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub decided_at: Option<i64>,
    pub grant_id: Option<String>,
    /// Client ids of delegated-sign-in apps the agent asks to sign in to as the user.
    pub apps: String,
}

impl AccessRequestRow {
    pub fn app_list(&self) -> Vec<String> {
        super::split_list(&self.apps)
    }

    pub fn state(&self) -> RequestState {
        RequestState::parse(&self.status)
    }

    pub fn insert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        diesel::insert_into(access_requests::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Self>, StoreError> {
        Ok(access_requests::table
            .find(id)
            .select(Self::as_select())
            .get_result(conn)
            .optional()?)
    }

    /// Pending, unexpired requests filed by `agent_sub`, to any user.
    pub fn pending_of_agent(
        conn: &mut AnyConnection,
        agent_sub: &str,
        now: i64,
    ) -> Result<Vec<Self>, StoreError> {
        Ok(access_requests::table
            .filter(access_requests::agent_sub.eq(agent_sub))
            .filter(access_requests::status.eq(RequestState::Pending.as_str()))
            .filter(access_requests::expires_at.gt(now))
            .select(Self::as_select())
            .load(conn)?)
    }

    /// `agent_sub`'s requests that `filter` keeps, newest first by
    /// `(created_at, id)`: at most `limit`, after `after` when given (a page of
    /// `GET /api/access-requests`; the index `access_requests_by_agent_created`).
    pub fn page_of_agent(
        conn: &mut AnyConnection,
        agent_sub: &str,
        filter: RequestFilter,
        now: i64,
        after: Option<&Keyset>,
        limit: i64,
    ) -> Result<Vec<Self>, StoreError> {
        use access_requests::{created_at, expires_at, id, status};
        let pending = RequestState::Pending.as_str();
        let mut query = access_requests::table
            .filter(access_requests::agent_sub.eq(agent_sub))
            .into_boxed();
        query = match filter {
            RequestFilter::All => query,
            RequestFilter::Pending => query.filter(status.eq(pending).and(expires_at.gt(now))),
            RequestFilter::Expired => query.filter(status.eq(pending).and(expires_at.le(now))),
            RequestFilter::Stored(state) => query.filter(status.eq(state.as_str())),
            RequestFilter::Unanswered => {
                let ended =
                    [RequestState::Denied, RequestState::Cancelled].map(RequestState::as_str);
                query.filter(
                    status
                        .eq_any(ended)
                        .or(status.eq(pending).and(expires_at.le(now))),
                )
            }
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

    /// Serializes, until the end of the transaction, every transaction that
    /// files a request for `agent_sub`, so that what `pending_of_agent` reads
    /// next stays true until the insert (docs/security.md L5). On SQLite the
    /// writer already runs one write transaction at a time; on PostgreSQL a
    /// transaction-scoped advisory lock keyed by the agent does it (two agents
    /// whose keys collide only wait for each other).
    pub fn lock_for_agent(conn: &mut AnyConnection, agent_sub: &str) -> Result<(), StoreError> {
        if let AnyConnection::Postgresql(_) = conn {
            let digest = crate::digest::sha256(format!("access_requests:{agent_sub}").as_bytes());
            let key = i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({key})")).execute(conn)?;
        }
        Ok(())
    }

    /// Pending, unexpired requests to `subject_sub`, newest first: at most
    /// `limit` after the first `offset` (a page of the consent screen).
    pub fn pending_page_for_subject(
        conn: &mut AnyConnection,
        subject_sub: &str,
        now: i64,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<Self>, StoreError> {
        Ok(access_requests::table
            .filter(access_requests::subject_sub.eq(subject_sub))
            .filter(access_requests::status.eq(RequestState::Pending.as_str()))
            .filter(access_requests::expires_at.gt(now))
            .order((
                access_requests::created_at.desc(),
                access_requests::id.asc(),
            ))
            .offset(offset)
            .limit(limit)
            .select(Self::as_select())
            .load(conn)?)
    }

    /// Requests to `subject_sub` that ended without a grant (denied, cancelled,
    /// or left pending past `expires_at`), newest first: at most `limit` after
    /// the first `offset` (the consent screen's history).
    pub fn unanswered_page_for_subject(
        conn: &mut AnyConnection,
        subject_sub: &str,
        now: i64,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<Self>, StoreError> {
        let ended = [RequestState::Denied, RequestState::Cancelled].map(RequestState::as_str);
        Ok(access_requests::table
            .filter(access_requests::subject_sub.eq(subject_sub))
            .filter(
                access_requests::status
                    .eq_any(ended)
                    .or(access_requests::status
                        .eq(RequestState::Pending.as_str())
                        .and(access_requests::expires_at.le(now))),
            )
            .order((
                access_requests::created_at.desc(),
                access_requests::id.asc(),
            ))
            .offset(offset)
            .limit(limit)
            .select(Self::as_select())
            .load(conn)?)
    }

    /// Moves a pending, unexpired request to `status`; `false` if it was not pending.
    pub fn decide(
        conn: &mut AnyConnection,
        id: &str,
        status: RequestState,
        grant: Option<(&str, &str, i64)>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let pending = access_requests::table
            .find(id)
            .filter(access_requests::status.eq(RequestState::Pending.as_str()))
            .filter(access_requests::expires_at.gt(now));
        let updated = match grant {
            Some((grant_id, scopes, duration)) => diesel::update(pending)
                .set((
                    access_requests::status.eq(status.as_str()),
                    access_requests::decided_at.eq(now),
                    access_requests::grant_id.eq(grant_id),
                    access_requests::scopes.eq(scopes),
                    access_requests::duration.eq(duration),
                ))
                .execute(conn)?,
            None => diesel::update(pending)
                .set((
                    access_requests::status.eq(status.as_str()),
                    access_requests::decided_at.eq(now),
                ))
                .execute(conn)?,
        };
        Ok(updated == 1)
    }
}
