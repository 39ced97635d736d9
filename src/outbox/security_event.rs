//! A Security Event Token (RFC 8417) that a grant ended, pushed per RFC 8935
//! (docs/contract.md "Security Event Tokens"; docs/security.md N3). Signed at
//! each attempt with the security-event key (ES256), header
//! `typ: secevent+jwt` (RFC 8417 §2.3) and `kid`; claims `iss`, `iat` (the
//! attempt), `jti` (the event's id, the same on every attempt, so a receiver
//! drops a repeat), `aud` (the receiver's audience), `sub_id` (RFC 9493, the opaque
//! format: the grant's id) and `events` with the CAEP session-revoked event:
//! when the grant ended and who ended it (`user`; `admin` for the agent or a
//! disabled user; `policy` for its expiry). The push (RFC 8935 §2) is a `POST`
//! of the token as `application/secevent+jwt`; only a 202 delivers (§2.2).

use super::http::in_words;
use crate::app::App;
use crate::oauth::ssf_configuration::SESSION_REVOKED;
use crate::store::events::{EventRow, EventType};
use crate::store::outbox::OutboxRow;
use crate::tokens::jws;
use crate::tokens::keyring::KeySet;
use crate::tokens::signing_key::Purpose;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::Deserialize;
use serde_json::{Value, json};

/// The JWT `typ` header of a SET (RFC 8417 §2.3).
pub const TYP: &str = "secevent+jwt";
/// The body's media type (RFC 8935 §2).
pub const CONTENT_TYPE_SET: &str = "application/secevent+jwt";

/// What an outbox row of this kind holds: the receiver, never a token.
#[derive(Deserialize)]
struct Payload {
    audience: String,
}

/// CAEP's `initiating_entity` for a grant's `ended_by`.
pub fn initiating_entity(ended_by: &str) -> Option<&'static str> {
    match ended_by {
        "user" => Some("user"),
        "agent" | "user_disabled" => Some("admin"),
        "expiry" => Some("policy"),
        _ => None,
    }
}

/// The SET's claims for the `grant.ended` event `event`, for `audience`, at `now`.
pub fn claims(issuer: &str, audience: &str, event: &EventRow, now: i64) -> Result<Value, String> {
    if event.kind() != Some(EventType::GrantEnded) {
        return Err(format!("no SET for {}", event.event_type));
    }
    let data: Value = serde_json::from_str(event.data.as_deref().unwrap_or("null"))
        .map_err(|e| format!("unreadable data: {e}"))?;
    let ended_by = data["ended_by"].as_str().unwrap_or_default();
    let entity = initiating_entity(ended_by)
        .ok_or_else(|| format!("the grant's ended_by is {ended_by:?}"))?;
    Ok(json!({
        "iss": issuer,
        "iat": now,
        "jti": event.id,
        "aud": audience,
        "sub_id": {"format": "opaque", "id": event.subject_id},
        "events": {
            SESSION_REVOKED: {
                // When it ended: the event's time (the expiry, or the early end).
                "event_timestamp": event.due_at,
                "initiating_entity": entity,
            }
        },
    }))
}

/// The signed SET; an error in words when there is no key or no SET to make.
pub fn token(
    keys: &KeySet,
    issuer: &str,
    payload: &str,
    event: &EventRow,
    now: i64,
) -> Result<String, String> {
    let payload: Payload =
        serde_json::from_str(payload).map_err(|e| format!("unreadable payload: {e}"))?;
    let claims = claims(issuer, &payload.audience, event, now)?;
    let key = keys
        .signing(Purpose::SecurityEvent, now)
        .ok_or("no security-event signing key")?;
    Ok(jws::sign(key, TYP, &claims))
}

pub async fn send(
    app: &App,
    client: &reqwest::Client,
    row: &OutboxRow,
    event: &EventRow,
) -> Result<(), String> {
    let set = token(
        &app.keys.snapshot(),
        &app.issuer,
        &row.payload,
        event,
        app.now(),
    )?;
    let answer = client
        .post(&row.destination)
        .header(CONTENT_TYPE, CONTENT_TYPE_SET)
        .header(ACCEPT, "application/json")
        .body(set)
        .send()
        .await
        .map_err(|e| in_words(&e))?;
    match answer.status() {
        StatusCode::ACCEPTED => Ok(()),
        status => Err(format!("answered HTTP {}", status.as_u16())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(by: &str) -> EventRow {
        EventRow {
            id: "evt_1".into(),
            event_type: "grant.ended".into(),
            subject_id: "g1".into(),
            data: Some(json!({"id": "g1", "status": "revoked", "ended_by": by}).to_string()),
            created_at: 900,
            due_at: 1000,
            happened_at: Some(1000),
            dropped_at: None,
        }
    }

    #[test]
    fn a_set_says_which_grant_ended_when_and_who_ended_it() {
        let claims = claims(
            "https://id.example",
            "https://api.example",
            &ended("user"),
            1005,
        );
        assert_eq!(
            claims.unwrap(),
            json!({
                "iss": "https://id.example",
                "iat": 1005,
                "jti": "evt_1",
                "aud": "https://api.example",
                "sub_id": {"format": "opaque", "id": "g1"},
                "events": {SESSION_REVOKED: {"event_timestamp": 1000, "initiating_entity": "user"}},
            })
        );
    }

    #[test]
    fn the_agent_and_a_disabled_user_are_admin_and_an_expiry_is_policy() {
        assert_eq!(initiating_entity("agent"), Some("admin"));
        assert_eq!(initiating_entity("user_disabled"), Some("admin"));
        assert_eq!(initiating_entity("expiry"), Some("policy"));
        assert_eq!(initiating_entity(""), None);
    }

    #[test]
    fn only_a_grant_ending_makes_a_set_and_only_with_a_key() {
        let mut other = ended("user");
        other.event_type = "grant.created".into();
        assert!(claims("https://id.example", "a", &other, 1).is_err());
        let keys = KeySet::default();
        let payload = json!({"receiver": "rcv_1", "audience": "a"}).to_string();
        assert_eq!(
            token(&keys, "https://id.example", &payload, &ended("user"), 1),
            Err("no security-event signing key".into())
        );
    }
}
