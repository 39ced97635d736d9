//! The `events` table (docs/contract.md "Events, webhooks, mail and security
//! events"): what happened to requests and grants, and the audit checkpoints,
//! written in the transaction of the change that causes each one. An event
//! whose time is now is written with its `data` (`happened_now`); one that
//! waits for an expiry, or whose object is drawn when it happens, without
//! (`waiting`). The outbox deliverer claims each due event once (`claim`, a
//! conditional update, so two instances never send one event twice on
//! purpose), draws its data and writes its destinations' `outbox` rows in
//! the same transaction; a waiting event a later change made moot is dropped.

use super::grants::GrantRow;
use super::schema::events;
use super::{AnyConnection, StoreError};
use crate::random;
use diesel::prelude::*;

/// What happened: the `type` of an event, as webhooks and `events list` show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    RequestCreated,
    RequestApproved,
    RequestDenied,
    RequestCancelled,
    RequestExpired,
    GrantCreated,
    GrantUsed,
    GrantEndingSoon,
    GrantEnded,
    AuditCheckpoint,
}

impl EventType {
    pub const ALL: [EventType; 10] = [
        Self::RequestCreated,
        Self::RequestApproved,
        Self::RequestDenied,
        Self::RequestCancelled,
        Self::RequestExpired,
        Self::GrantCreated,
        Self::GrantUsed,
        Self::GrantEndingSoon,
        Self::GrantEnded,
        Self::AuditCheckpoint,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RequestCreated => "access_request.created",
            Self::RequestApproved => "access_request.approved",
            Self::RequestDenied => "access_request.denied",
            Self::RequestCancelled => "access_request.cancelled",
            Self::RequestExpired => "access_request.expired",
            Self::GrantCreated => "grant.created",
            Self::GrantUsed => "grant.used",
            Self::GrantEndingSoon => "grant.ending_soon",
            Self::GrantEnded => "grant.ended",
            Self::AuditCheckpoint => "audit.checkpoint",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = events)]
pub struct EventRow {
    /// `evt_` and a random identifier: the webhook-id, a SET's `jti`.
    pub id: String,
    pub event_type: String,
    /// The request's or grant's id; the chain's `seq` for a checkpoint.
    pub subject_id: String,
    /// JSON: the API's object when it happened; `None` until a waiting event happens.
    pub data: Option<String>,
    pub created_at: i64,
    /// When it happens: its `timestamp`.
    pub due_at: i64,
    /// When its outbox rows were written.
    pub happened_at: Option<i64>,
    pub dropped_at: Option<i64>,
}

impl EventRow {
    fn new(
        event_type: EventType,
        subject_id: &str,
        data: Option<String>,
        due_at: i64,
        now: i64,
    ) -> Self {
        Self {
            id: format!("evt_{}", random::identifier()),
            event_type: event_type.as_str().into(),
            subject_id: subject_id.into(),
            data,
            created_at: now,
            due_at,
            happened_at: None,
            dropped_at: None,
        }
    }

    pub fn kind(&self) -> Option<EventType> {
        EventType::parse(&self.event_type)
    }

    /// Writes `event_type` about `subject_id` happening now with `data` (JSON).
    /// Call in the transaction of the change; the deliverer sends it out.
    pub fn happened_now(
        conn: &mut AnyConnection,
        event_type: EventType,
        subject_id: &str,
        data: &impl serde::Serialize,
        now: i64,
    ) -> Result<(), StoreError> {
        Self::new(event_type, subject_id, Some(Self::data_of(data)?), now, now).insert(conn)
    }

    /// An event's `data`: `value` as JSON.
    pub fn data_of(value: &impl serde::Serialize) -> Result<String, StoreError> {
        serde_json::to_string(value)
            .map_err(|e| StoreError::Unavailable(format!("an event's data: {e}")))
    }

    /// Writes `event_type` about `subject_id` to happen at `due_at`, its data
    /// drawn then (or the event dropped, if a change made it moot).
    pub fn waiting(
        conn: &mut AnyConnection,
        event_type: EventType,
        subject_id: &str,
        due_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        Self::new(event_type, subject_id, None, due_at, now).insert(conn)
    }

    fn insert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        diesel::insert_into(events::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Self>, StoreError> {
        Ok(events::table
            .find(id)
            .select(Self::as_select())
            .get_result(conn)
            .optional()?)
    }

    /// The grant `grant` was used at `now` (a delegated token, a delegated
    /// sign-in): `grant.used` the first time, whichever instance gets there
    /// (`GrantRow::mark_first_use`). Its data is drawn when it is sent.
    pub fn grant_used(
        conn: &mut AnyConnection,
        grant: &GrantRow,
        now: i64,
    ) -> Result<(), StoreError> {
        if grant.first_used_at.is_none() && GrantRow::mark_first_use(conn, &grant.id, now)? {
            Self::waiting(conn, EventType::GrantUsed, &grant.id, now, now)?;
        }
        Ok(())
    }

    /// Up to `limit` events due at `now` that have neither happened nor been dropped.
    pub fn due(conn: &mut AnyConnection, now: i64, limit: i64) -> Result<Vec<Self>, StoreError> {
        Ok(events::table
            .filter(events::happened_at.is_null())
            .filter(events::dropped_at.is_null())
            .filter(events::due_at.le(now))
            .order((events::due_at, events::id))
            .limit(limit)
            .select(Self::as_select())
            .load(conn)?)
    }

    /// Claims event `id` as happening at `now`; `false` when another
    /// instance claimed it first or it was dropped. Call first in the
    /// transaction that writes its outbox rows.
    pub fn claim(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool, StoreError> {
        let updated = diesel::update(
            events::table
                .find(id)
                .filter(events::happened_at.is_null())
                .filter(events::dropped_at.is_null()),
        )
        .set(events::happened_at.eq(now))
        .execute(conn)?;
        Ok(updated == 1)
    }

    /// The claimed event `id` happens with `data` (JSON), drawn when it came due.
    pub fn set_data(conn: &mut AnyConnection, id: &str, data: &str) -> Result<(), StoreError> {
        diesel::update(events::table.find(id))
            .set(events::data.eq(data))
            .execute(conn)?;
        Ok(())
    }

    /// The claimed event `id` turned out moot when it came due: dropped, not happened.
    pub fn moot(conn: &mut AnyConnection, id: &str, now: i64) -> Result<(), StoreError> {
        diesel::update(events::table.find(id))
            .set((
                events::dropped_at.eq(now),
                events::happened_at.eq(None::<i64>),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Drops the waiting events about `subject_id` of the types `types`
    /// (a request answered, a grant ended early). Call in that change's transaction.
    pub fn drop_waiting(
        conn: &mut AnyConnection,
        subject_id: &str,
        types: &[EventType],
        now: i64,
    ) -> Result<usize, StoreError> {
        let types: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
        Ok(diesel::update(
            events::table
                .filter(events::subject_id.eq(subject_id))
                .filter(events::event_type.eq_any(types))
                .filter(events::happened_at.is_null())
                .filter(events::dropped_at.is_null()),
        )
        .set(events::dropped_at.eq(now))
        .execute(conn)?)
    }

    /// The newest event of `event_type` that has happened or, with
    /// `waiting_too`, that is still to happen (dropped ones never).
    pub fn latest(
        conn: &mut AnyConnection,
        event_type: EventType,
        waiting_too: bool,
    ) -> Result<Option<Self>, StoreError> {
        let mut query = events::table
            .filter(events::event_type.eq(event_type.as_str()))
            .filter(events::dropped_at.is_null())
            .into_boxed();
        if !waiting_too {
            query = query.filter(events::happened_at.is_not_null());
        }
        Ok(query
            .order((events::created_at.desc(), events::id.desc()))
            .limit(1)
            .select(Self::as_select())
            .load(conn)?
            .pop())
    }

    /// The events about `subject_id`, oldest first (tests and `events list`).
    pub fn about(conn: &mut AnyConnection, subject_id: &str) -> Result<Vec<Self>, StoreError> {
        Ok(events::table
            .filter(events::subject_id.eq(subject_id))
            .order((events::created_at, events::due_at, events::id))
            .select(Self::as_select())
            .load(conn)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_reads_back_from_its_name() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        assert_eq!(EventType::parse("grant.deleted"), None);
    }
}
