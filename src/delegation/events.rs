//! The events of requests and grants (docs/contract.md "Events, webhooks,
//! mail and security events"), written by the flows in their own
//! transactions. `view` is the API's object (`RequestView`, `GrantView`) at
//! the time of the event; the outbox deliverer draws the data of those that
//! wait (`outbox::fan_out::draw`).

use crate::store::events::{EventRow, EventType};
use crate::store::grants::GrantRow;
use crate::store::{AnyConnection, StoreError};

/// A grant of at least twice this is "ending soon" this long before it ends;
/// a shorter one at half its time (DESIGN.md: 15 minutes, or half).
pub const ENDING_SOON_SECONDS: i64 = 15 * 60;

/// When `grant.ending_soon` happens for a grant from `created_at` to `expires_at`.
pub fn ending_soon_at(created_at: i64, expires_at: i64) -> i64 {
    let length = expires_at - created_at;
    if length >= 2 * ENDING_SOON_SECONDS {
        expires_at - ENDING_SOON_SECONDS
    } else {
        created_at + length / 2
    }
}

/// `access_request.created`, and its `access_request.expired` waiting for its time.
pub fn request_created(
    conn: &mut AnyConnection,
    id: &str,
    view: &impl serde::Serialize,
    expires_at: i64,
    now: i64,
) -> Result<(), StoreError> {
    EventRow::happened_now(conn, EventType::RequestCreated, id, view, now)?;
    EventRow::waiting(conn, EventType::RequestExpired, id, expires_at, now)
}

/// The request `id` was answered or cancelled (`event_type`), as `view` shows:
/// it will not expire.
pub fn request_settled(
    conn: &mut AnyConnection,
    event_type: EventType,
    id: &str,
    view: &impl serde::Serialize,
    now: i64,
) -> Result<(), StoreError> {
    EventRow::drop_waiting(conn, id, &[EventType::RequestExpired], now)?;
    EventRow::happened_now(conn, event_type, id, view, now)
}

/// `grant.created` for the new `grant`, and its `grant.ending_soon` and
/// `grant.ended` (by expiry) waiting for their times.
pub fn grant_created(
    conn: &mut AnyConnection,
    grant: &GrantRow,
    view: &impl serde::Serialize,
    now: i64,
) -> Result<(), StoreError> {
    EventRow::happened_now(conn, EventType::GrantCreated, &grant.id, view, now)?;
    let soon = ending_soon_at(grant.created_at, grant.expires_at);
    EventRow::waiting(conn, EventType::GrantEndingSoon, &grant.id, soon, now)?;
    EventRow::waiting(
        conn,
        EventType::GrantEnded,
        &grant.id,
        grant.expires_at,
        now,
    )
}

/// `grant.ended` for grant `id`, ended early at `now` and shown as `view`:
/// what waited for its expiry is dropped, and a checkpoint of the audit
/// trail is due (DESIGN.md: one at every ending).
pub fn grant_ended_early(
    conn: &mut AnyConnection,
    id: &str,
    view: &impl serde::Serialize,
    now: i64,
) -> Result<(), StoreError> {
    let moot = [EventType::GrantEndingSoon, EventType::GrantEnded];
    EventRow::drop_waiting(conn, id, &moot, now)?;
    EventRow::happened_now(conn, EventType::GrantEnded, id, view, now)?;
    checkpoint_due(conn, now)
}

/// A checkpoint of the audit trail, signed when it is sent out.
pub fn checkpoint_due(conn: &mut AnyConnection, now: i64) -> Result<(), StoreError> {
    EventRow::waiting(conn, EventType::AuditCheckpoint, "", now, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_grant_is_ending_soon_fifteen_minutes_before_its_end() {
        assert_eq!(ending_soon_at(0, 3600), 2700);
        assert_eq!(ending_soon_at(100, 100 + 1800), 100 + 900);
    }

    #[test]
    fn a_grant_shorter_than_half_an_hour_is_ending_soon_at_half_its_time() {
        assert_eq!(ending_soon_at(0, 600), 300);
        assert_eq!(ending_soon_at(1000, 1000 + 1799), 1000 + 899);
        assert_eq!(ending_soon_at(0, 60), 30);
    }
}
