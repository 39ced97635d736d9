//! From events to deliveries (docs/contract.md "Events, webhooks, mail and
//! security events"): each due event of `store::events` is claimed once, in
//! a transaction of its own (`EventRow::claim`, a conditional update: of two
//! instances one writes its deliveries and the other skips it), given its
//! data if it waited for it (`draw`), and written as one `outbox` row per
//! destination in the same transaction:
//! - every webhook that hears its type;
//! - a mail to the user (a request asked of them, each step of a grant over
//!   them) or to the agent (the answer to its request), when they have an
//!   address;
//! - for `grant.ended`, a Security Event Token to every receiver;
//! - for the answer to a program agent's backchannel request in ping mode,
//!   its ping (CIBA Core §10.2).
//!
//! Only the database is touched here: a slow or failing destination can
//! delay nothing but its own row (docs/security.md N5).

use crate::app::App;
use crate::delegation::grants::{self, GrantStatus};
use crate::delegation::requests::{self, RequestStatus};
use crate::random;
use crate::store::access_requests::AccessRequestRow;
use crate::store::audit_events;
use crate::store::ciba_requests::CibaRequestRow;
use crate::store::clients::ClientRow;
use crate::store::events::{EventRow, EventType};
use crate::store::grants::GrantRow;
use crate::store::outbox::{OutboxKind, OutboxRow};
use crate::store::set_receivers::SetReceiverRow;
use crate::store::users::UserRow;
use crate::store::webhooks::WebhookRow;
use crate::store::{AnyConnection, StoreError};
use crate::tokens::checkpoint::{self, CheckpointClaims};
use crate::tokens::keyring::KeySet;
use serde_json::json;
use std::sync::Arc;

/// Events taken per pass.
const BATCH: i64 = 100;

/// Writes the deliveries of the events due at `now`; how many happened.
pub async fn due_events(app: &App) -> Result<usize, StoreError> {
    let now = app.now();
    let due = app.db.read(move |c| EventRow::due(c, now, BATCH)).await?;
    let mut happened = 0;
    for event in due {
        let (keys, issuer) = (app.keys.snapshot(), app.issuer.clone());
        if app
            .db
            .write(move |c| happen(c, &event, &keys, &issuer, now))
            .await?
        {
            happened += 1;
        }
    }
    Ok(happened)
}

/// A checkpoint at least this often while the audit trail grows (DESIGN.md).
pub const CHECKPOINT_EVERY: i64 = 300;
/// How often `checkpoint_if_stale` looks.
pub const CHECKPOINT_LOOK_EVERY: i64 = 30;

/// Makes a checkpoint due when the newest one was made `CHECKPOINT_EVERY`
/// ago, less the time between looks, or there is none, and the trail has
/// events it does not cover. Two instances on one database may both make
/// one at the same moment: two checkpoints of one trail, which is harmless.
pub async fn checkpoint_if_stale(app: &App) -> Result<(), StoreError> {
    let now = app.now();
    app.db
        .write(move |c| {
            let newest = EventRow::latest(c, EventType::AuditCheckpoint, true)?;
            if newest
                .as_ref()
                .is_some_and(|e| e.created_at > now - (CHECKPOINT_EVERY - CHECKPOINT_LOOK_EVERY))
            {
                return Ok(());
            }
            let Some((seq, _)) = audit_events::newest(c)? else {
                return Ok(());
            };
            let covered = newest
                .and_then(|e| e.data)
                .and_then(|data| serde_json::from_str::<serde_json::Value>(&data).ok())
                .and_then(|data| data["seq"].as_i64())
                .unwrap_or(0);
            if seq > covered {
                crate::delegation::events::checkpoint_due(c, now)?;
            }
            Ok(())
        })
        .await
}

/// Claims `event`, draws its data if it has none, and writes its
/// deliveries; `false` when another instance had claimed it or it was moot.
fn happen(
    conn: &mut AnyConnection,
    event: &EventRow,
    keys: &Arc<KeySet>,
    issuer: &str,
    now: i64,
) -> Result<bool, StoreError> {
    if !EventRow::claim(conn, &event.id, now)? {
        return Ok(false);
    }
    let Some(kind) = event.kind() else {
        EventRow::moot(conn, &event.id, now)?;
        return Ok(false);
    };
    if event.data.is_none() {
        let Some(data) = draw(conn, kind, &event.subject_id, keys, issuer, now)? else {
            EventRow::moot(conn, &event.id, now)?;
            return Ok(false);
        };
        EventRow::set_data(conn, &event.id, &data)?;
    }
    for row in deliveries(conn, kind, event, now)? {
        row.insert(conn)?;
    }
    Ok(true)
}

/// The data of an event that waited, from the rows as they are at `now`, or
/// `None` when a change made it moot: a request still pending past its time
/// has expired; a grant still active is ending soon; a grant that reached
/// its expiry unrevoked has ended (its `grant.expired` audit event written,
/// and a checkpoint due); a checkpoint covers the chain's newest event.
pub fn draw(
    conn: &mut AnyConnection,
    kind: EventType,
    subject_id: &str,
    keys: &KeySet,
    issuer: &str,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let data = match kind {
        EventType::RequestExpired => {
            let Some(row) = AccessRequestRow::find(conn, subject_id)? else {
                return Ok(None);
            };
            if RequestStatus::of(&row, now) != RequestStatus::Expired {
                return Ok(None);
            }
            EventRow::data_of(&requests::load_view(conn, row, now)?)?
        }
        EventType::GrantEndingSoon | EventType::GrantEnded | EventType::GrantUsed => {
            let Some(grant) = GrantRow::find(conn, subject_id)? else {
                return Ok(None);
            };
            let status = GrantStatus::of(&grant, now);
            let happens = match kind {
                EventType::GrantEndingSoon => status == GrantStatus::Active,
                EventType::GrantEnded => status == GrantStatus::Expired,
                _ => true,
            };
            if !happens {
                return Ok(None);
            }
            if kind == EventType::GrantEnded {
                grants::record_expiry(conn, &grant, now)?;
                crate::delegation::events::checkpoint_due(conn, now)?;
            }
            EventRow::data_of(&grants::load_view(conn, &grant, now)?)?
        }
        EventType::AuditCheckpoint => {
            let Some((seq, hash)) = audit_events::newest(conn)? else {
                return Ok(None);
            };
            let claims = CheckpointClaims::new(issuer, seq, &hash, now);
            let Some(signed) = checkpoint::sign(keys, &claims, now) else {
                return Err(StoreError::Unavailable(
                    "no key signs checkpoints yet".into(),
                ));
            };
            EventRow::data_of(
                &json!({"checkpoint": signed, "seq": claims.seq, "head": claims.head}),
            )?
        }
        // These are written with their data.
        EventType::RequestCreated
        | EventType::RequestApproved
        | EventType::RequestDenied
        | EventType::RequestCancelled
        | EventType::GrantCreated => return Ok(None),
    };
    Ok(Some(data))
}

/// Who is mailed about an event of `kind` (DESIGN.md "Email").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// The user the request or grant is about.
    User,
    /// The agent who made the request.
    Agent,
}

impl Recipient {
    pub fn of(kind: EventType) -> Option<Self> {
        match kind {
            EventType::RequestCreated
            | EventType::GrantCreated
            | EventType::GrantUsed
            | EventType::GrantEndingSoon
            | EventType::GrantEnded => Some(Self::User),
            EventType::RequestApproved | EventType::RequestDenied => Some(Self::Agent),
            EventType::RequestCancelled
            | EventType::RequestExpired
            | EventType::AuditCheckpoint => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Agent => "agent",
        }
    }
}

/// The outbox rows that deliver `event` (of `kind`) at `now`.
fn deliveries(
    conn: &mut AnyConnection,
    kind: EventType,
    event: &EventRow,
    now: i64,
) -> Result<Vec<OutboxRow>, StoreError> {
    let mut rows = Vec::new();
    for hook in WebhookRow::all(conn)? {
        if hook.hears(kind.as_str()) {
            rows.push(OutboxRow::for_event(
                OutboxKind::Webhook,
                &hook.url,
                hook.delivery_payload(),
                &event.id,
                now,
            ));
        }
    }
    let recipient = Recipient::of(kind);
    if let Some(recipient) = recipient
        && let Some(address) = address_of(conn, kind, recipient, &event.subject_id)?
    {
        let payload = json!({"to": recipient.as_str()}).to_string();
        rows.push(OutboxRow::for_event(
            OutboxKind::Email,
            &address,
            payload,
            &event.id,
            now,
        ));
    }
    if matches!(kind, EventType::RequestApproved | EventType::RequestDenied) {
        rows.extend(ciba_ping(conn, &event.subject_id, now)?);
    }
    if kind == EventType::GrantEnded {
        for receiver in SetReceiverRow::all(conn)? {
            rows.push(OutboxRow::for_event(
                OutboxKind::SecurityEvent,
                &receiver.url,
                receiver.delivery_payload(),
                &event.id,
                now,
            ));
        }
    }
    Ok(rows)
}

/// The ping of a program agent in ping mode whose backchannel request
/// `request_id` was answered (CIBA Core §10.2), if it is one.
fn ciba_ping(
    conn: &mut AnyConnection,
    request_id: &str,
    now: i64,
) -> Result<Option<OutboxRow>, StoreError> {
    let Some(ciba) = CibaRequestRow::for_request(conn, request_id)? else {
        return Ok(None);
    };
    if ciba.sealed_notification_token.is_none() {
        return Ok(None);
    }
    let endpoint =
        ClientRow::find(conn, &ciba.client_id)?.and_then(|c| c.ciba_notification_endpoint);
    Ok(endpoint.map(|endpoint| {
        let payload = json!({"ciba": ciba.auth_req_id_hash}).to_string();
        // Not an event's delivery: the ping names the request itself.
        let id = format!("out_{}", random::identifier());
        OutboxRow::new(id, OutboxKind::CibaPing, &endpoint, payload, None, now, now)
    }))
}

/// The mail address of `recipient` of the request or grant `subject_id`, if they have one.
fn address_of(
    conn: &mut AnyConnection,
    kind: EventType,
    recipient: Recipient,
    subject_id: &str,
) -> Result<Option<String>, StoreError> {
    let is_request = kind.as_str().starts_with("access_request.");
    let sub = if is_request {
        AccessRequestRow::find(conn, subject_id)?.map(|r| match recipient {
            Recipient::User => r.subject_sub,
            Recipient::Agent => r.agent_sub,
        })
    } else {
        GrantRow::find(conn, subject_id)?.map(|g| g.subject_sub)
    };
    let Some(sub) = sub else {
        return Ok(None);
    };
    Ok(UserRow::find_by_sub(conn, &sub)?.and_then(|u| u.email))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_hears_of_requests_to_them_and_their_grants_and_the_agent_of_answers() {
        assert_eq!(
            Recipient::of(EventType::RequestCreated),
            Some(Recipient::User)
        );
        assert_eq!(Recipient::of(EventType::GrantEnded), Some(Recipient::User));
        assert_eq!(
            Recipient::of(EventType::RequestApproved),
            Some(Recipient::Agent)
        );
        assert_eq!(
            Recipient::of(EventType::RequestDenied),
            Some(Recipient::Agent)
        );
        assert_eq!(Recipient::of(EventType::RequestCancelled), None);
        assert_eq!(Recipient::of(EventType::AuditCheckpoint), None);
    }
}
