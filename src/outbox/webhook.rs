//! An event to a webhook (docs/contract.md "Webhooks"), per the Standard
//! Webhooks specification: a `POST` of `{"type", "timestamp", "data"}` as
//! JSON, with `webhook-id` (the event's id, the same on every attempt, so a
//! receiver drops a repeat), `webhook-timestamp` (this attempt, Unix
//! seconds) and `webhook-signature` (`v1,` and the base64 HMAC-SHA256, keyed
//! by the webhook's 32 secret bytes, of `{id}.{timestamp}.{body}`). Any 2xx
//! delivers. The secret is opened from its seal at each attempt and never
//! leaves this module: not in a log line, an error or the outbox.

use super::http::in_words;
use crate::app::App;
use crate::clock::rfc3339;
use crate::store::events::EventRow;
use crate::store::outbox::OutboxRow;
use crate::store::webhooks::WebhookRow;
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::CONTENT_TYPE;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a webhook secret is shown, before the base64 of its bytes.
pub const SECRET_PREFIX: &str = "whsec_";
/// The number of random bytes in a secret.
pub const SECRET_BYTES: usize = 32;

/// What an outbox row of this kind holds.
#[derive(Deserialize)]
struct Payload {
    webhook: String,
}

/// The body of a delivery, its members in this order.
#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    timestamp: String,
    data: Value,
}

/// The JSON body for `event`: its type, when it happened, its data.
pub fn body(event: &EventRow) -> Result<String, String> {
    let data = match &event.data {
        Some(text) => serde_json::from_str(text).map_err(|e| format!("unreadable data: {e}"))?,
        None => return Err("the event has no data yet".into()),
    };
    let body = Body {
        kind: &event.event_type,
        timestamp: rfc3339(event.due_at),
        data,
    };
    serde_json::to_string(&body).map_err(|e| format!("the body: {e}"))
}

/// `v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`.
pub fn signature(secret: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let signed = format!("{id}.{timestamp}.{body}");
    format!(
        "v1,{}",
        STANDARD.encode(hmac::sign(&key, signed.as_bytes()))
    )
}

pub async fn send(
    app: &App,
    client: &reqwest::Client,
    row: &OutboxRow,
    event: &EventRow,
) -> Result<(), String> {
    let payload: Payload =
        serde_json::from_str(&row.payload).map_err(|e| format!("unreadable payload: {e}"))?;
    let id = payload.webhook;
    let hook = app
        .db
        .read(move |c| WebhookRow::find(c, &id))
        .await
        .map_err(|e| format!("could not read its webhook: {e}"))?
        // `webhook remove` marks the rows done; only an attempt under way sees this.
        .ok_or("its webhook was removed")?;
    let secret = app
        .keys
        .kek()
        .open(&hook.sealed_secret, &hook.id)
        .map_err(|_| "its secret does not open under the key-encryption key")?;
    let body = body(event)?;
    let timestamp = app.now();
    let signature = signature(&secret, &event.id, timestamp, &body);
    let answer = client
        .post(&row.destination)
        .header(CONTENT_TYPE, "application/json")
        .header("webhook-id", &event.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| in_words(&e))?;
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("answered HTTP {}", status.as_u16()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(data: Option<&str>) -> EventRow {
        EventRow {
            id: "evt_1".into(),
            event_type: "grant.ended".into(),
            subject_id: "g1".into(),
            data: data.map(str::to_string),
            created_at: 1_764_547_100,
            due_at: 1_764_547_200,
            happened_at: Some(1_764_547_200),
            dropped_at: None,
        }
    }

    #[test]
    fn the_body_is_type_timestamp_and_data_in_that_order() {
        let body = body(&event(Some(r#"{"id":"g1","status":"ended"}"#))).unwrap();
        assert_eq!(
            body,
            r#"{"type":"grant.ended","timestamp":"2025-12-01T00:00:00Z","data":{"id":"g1","status":"ended"}}"#
        );
        assert!(super::body(&event(None)).is_err());
    }

    #[test]
    fn the_signature_is_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification ("Verifying
        // webhook authenticity"): secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw.
        let secret = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
