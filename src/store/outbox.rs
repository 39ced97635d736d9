//! The `outbox` table: messages to other systems, written in the transaction
//! of the change that causes them and delivered afterwards, at least once, by
//! `crate::outbox` on whichever instance claims them first. A row is due from
//! `due_at`; each failed attempt moves `next_attempt_at` on. An instance
//! claims a row with a conditional update of `claimed_until` (`claim`), so two
//! instances sharing the database never send one row at once on purpose;
//! a claim left by a stopped instance lapses at `claimed_until`.

use super::schema::outbox;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

/// What a row carries, and so how it is sent: the `kind` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxKind {
    /// An OIDC Back-Channel Logout 1.0 logout token, to an app's `backchannel_logout_uri`.
    BackchannelLogout,
    /// An event, to a Standard Webhooks destination (`payload`: `{"webhook": id}`).
    Webhook,
    /// An event told in a mail, to an address (`payload`: `{"to": "user" | "agent"}`).
    Email,
    /// A Security Event Token (RFC 8417) pushed per RFC 8935 to a receiver
    /// (`payload`: `{"receiver": id, "audience": aud}`).
    SecurityEvent,
    /// A CIBA ping (CIBA Core §10.2) to a program agent's notification
    /// endpoint (`payload`: `{"ciba": <auth_req_id_hash>}`).
    CibaPing,
}

impl OutboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BackchannelLogout => "backchannel_logout",
            Self::Webhook => "webhook",
            Self::Email => "email",
            Self::SecurityEvent => "security_event",
            Self::CibaPing => "ciba_ping",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "backchannel_logout" => Some(Self::BackchannelLogout),
            "webhook" => Some(Self::Webhook),
            "email" => Some(Self::Email),
            "security_event" => Some(Self::SecurityEvent),
            "ciba_ping" => Some(Self::CibaPing),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub destination: String,
    /// JSON; never a token (what is signed is signed at each attempt).
    pub payload: String,
    pub created_at: i64,
    pub due_at: i64,
    pub attempts: i32,
    /// Never before `due_at`.
    pub next_attempt_at: i64,
    pub claimed_until: Option<i64>,
    pub delivered_at: Option<i64>,
    pub last_error: Option<String>,
    /// The grant whose early end makes the row due at once.
    pub grant_id: Option<String>,
    /// The event it delivers (`store::events`); `None` for a logout token.
    pub event_id: Option<String>,
}

impl OutboxRow {
    /// A new row with id `id`, first tried at `due_at`.
    pub fn new(
        id: String,
        kind: OutboxKind,
        destination: &str,
        payload: String,
        grant_id: Option<&str>,
        due_at: i64,
        now: i64,
    ) -> Self {
        Self {
            id,
            kind: kind.as_str().into(),
            destination: destination.into(),
            payload,
            created_at: now,
            due_at,
            attempts: 0,
            next_attempt_at: due_at,
            claimed_until: None,
            delivered_at: None,
            last_error: None,
            grant_id: grant_id.map(str::to_string),
            event_id: None,
        }
    }

    /// A row delivering event `event_id` to `destination`, due at `now`.
    pub fn for_event(
        kind: OutboxKind,
        destination: &str,
        payload: String,
        event_id: &str,
        now: i64,
    ) -> Self {
        Self {
            event_id: Some(event_id.to_string()),
            ..Self::new(
                format!("out_{}", crate::random::identifier()),
                kind,
                destination,
                payload,
                None,
                now,
                now,
            )
        }
    }

    pub fn insert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        diesel::insert_into(outbox::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Self>, StoreError> {
        Ok(outbox::table
            .find(id)
            .select(Self::as_select())
            .get_result(conn)
            .optional()?)
    }

    /// The grant `grant_id` ended at `now`: its undelivered rows not yet due
    /// are due now. Call in the transaction that ends it. How many moved.
    pub fn due_now_for_grant(
        conn: &mut AnyConnection,
        grant_id: &str,
        now: i64,
    ) -> Result<usize, StoreError> {
        Ok(diesel::update(
            outbox::table
                .filter(outbox::grant_id.eq(grant_id))
                .filter(outbox::delivered_at.is_null())
                .filter(outbox::due_at.gt(now)),
        )
        .set((outbox::due_at.eq(now), outbox::next_attempt_at.eq(now)))
        .execute(conn)?)
    }

    /// Up to `limit` rows to try at `now`: undelivered, due, their next attempt
    /// reached and nobody's claim standing. Soonest first.
    pub fn ready(conn: &mut AnyConnection, now: i64, limit: i64) -> Result<Vec<Self>, StoreError> {
        Ok(outbox::table
            .filter(outbox::delivered_at.is_null())
            .filter(outbox::next_attempt_at.le(now))
            .filter(outbox::due_at.le(now))
            .filter(
                outbox::claimed_until
                    .is_null()
                    .or(outbox::claimed_until.le(now)),
            )
            .order((outbox::next_attempt_at, outbox::id))
            .limit(limit)
            .select(Self::as_select())
            .load(conn)?)
    }

    /// Claims row `id` until `until` if it is still ready at `now`; `false`
    /// when another instance claimed or delivered it first.
    pub fn claim(
        conn: &mut AnyConnection,
        id: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        let updated = diesel::update(
            outbox::table
                .find(id)
                .filter(outbox::delivered_at.is_null())
                .filter(outbox::next_attempt_at.le(now))
                .filter(outbox::due_at.le(now))
                .filter(
                    outbox::claimed_until
                        .is_null()
                        .or(outbox::claimed_until.le(now)),
                ),
        )
        .set(outbox::claimed_until.eq(until))
        .execute(conn)?;
        Ok(updated == 1)
    }

    /// Row `id` was delivered at `now`.
    pub fn delivered(conn: &mut AnyConnection, id: &str, now: i64) -> Result<(), StoreError> {
        diesel::update(outbox::table.find(id))
            .set((
                outbox::delivered_at.eq(now),
                outbox::claimed_until.eq(None::<i64>),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// An attempt at row `id` failed with `error`: one more attempt counted,
    /// the next at `next_attempt_at`, the claim released.
    pub fn failed(
        conn: &mut AnyConnection,
        id: &str,
        next_attempt_at: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        diesel::update(outbox::table.find(id))
            .set((
                outbox::attempts.eq(outbox::attempts + 1),
                outbox::next_attempt_at.eq(next_attempt_at),
                outbox::last_error.eq(error),
                outbox::claimed_until.eq(None::<i64>),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// The undelivered rows of `kind` holding exactly `payload` (those of
    /// one webhook or one receiver) will never be sent: marked done at
    /// `now` with `why` as their last error, so they are neither retried
    /// nor listed as pending. A claimed row's attempt may still end, but its
    /// failure cannot make it ready again (`ready` wants no `delivered_at`).
    /// Call in the transaction that removes the destination. How many.
    pub fn abandon(
        conn: &mut AnyConnection,
        kind: OutboxKind,
        payload: &str,
        why: &str,
        now: i64,
    ) -> Result<usize, StoreError> {
        Ok(diesel::update(
            outbox::table
                .filter(outbox::kind.eq(kind.as_str()))
                .filter(outbox::payload.eq(payload))
                .filter(outbox::delivered_at.is_null()),
        )
        .set((
            outbox::delivered_at.eq(now),
            outbox::last_error.eq(why),
            outbox::claimed_until.eq(None::<i64>),
        ))
        .execute(conn)?)
    }

    /// Every undelivered row (only those tried and failed at least once with
    /// `failed_only`), by when it is due.
    pub fn pending(conn: &mut AnyConnection, failed_only: bool) -> Result<Vec<Self>, StoreError> {
        let least_attempts = i32::from(failed_only);
        Ok(outbox::table
            .filter(outbox::delivered_at.is_null())
            .filter(outbox::attempts.ge(least_attempts))
            .order((outbox::due_at, outbox::id))
            .select(Self::as_select())
            .load(conn)?)
    }
}
