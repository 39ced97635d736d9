//! `behalf webhook add URL [--event TYPE]...` prints `{"id": "wh_...",
//! "secret": "whsec_<base64 of 32 random bytes>"}` (the secret is shown only
//! here; it is kept sealed under the key-encryption key, context the id, for
//! signing each delivery). `webhook list` (JSON lines, never the secret) and
//! `webhook remove ID` (its undelivered deliveries are marked done with the
//! error "its webhook was removed": nothing is retried for it). Standard
//! Webhooks; docs/contract.md "Webhooks".

use super::{OPERATOR, now};
use crate::audit::{self, Action};
use crate::clock::rfc3339;
use crate::config::Settings;
use crate::oauth::registration::validate_app_uri;
use crate::outbox::webhook::{SECRET_BYTES, SECRET_PREFIX};
use crate::random;
use crate::startup::open_database;
use crate::store::events::EventType;
use crate::store::outbox::{OutboxKind, OutboxRow};
use crate::store::webhooks::WebhookRow;
use crate::tokens::kek::KeyEncryptionKey;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Subcommand;
use diesel::Connection;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Register a webhook: prints its id and its signing secret (shown only here).
    Add {
        /// Where deliveries are POSTed: https, or http on a loopback host.
        url: String,
        /// An event type it hears (repeat for more); without any, every type.
        #[arg(long = "event", value_name = "TYPE")]
        events: Vec<String>,
    },
    /// List webhooks: one JSON object per line (never the secret).
    List,
    /// Remove a webhook; what it had yet to receive is not sent.
    Remove { id: String },
}

/// The last error of a removed webhook's deliveries.
pub const REMOVED: &str = "its webhook was removed";

pub async fn run(settings: &Settings, command: WebhookCommand) -> Result<(), String> {
    let (db, root) = open_database(settings, now()).await?;
    match command {
        WebhookCommand::Add { url, events } => {
            validate_app_uri(&url).map_err(|why| format!("webhook URL {url:?}: {why}"))?;
            let event_types = event_types(&events)?;
            let id = format!("wh_{}", random::identifier());
            let secret = random::random_bytes(SECRET_BYTES);
            let row = WebhookRow {
                id: id.clone(),
                url,
                sealed_secret: KeyEncryptionKey::from_bytes(&root).seal(&secret, &id),
                event_types,
                created_at: now(),
            };
            db.run(move |c| {
                c.transaction(|c| {
                    row.insert(c)?;
                    let detail = json!({"url": row.url, "events": row.event_types});
                    audit::record(
                        c,
                        row.created_at,
                        OPERATOR,
                        Action::WebhookAdded,
                        Some(&row.id),
                        detail,
                    )
                })
            })
            .await
            .map_err(|e| e.to_string())?;
            let shown = format!("{SECRET_PREFIX}{}", STANDARD.encode(&secret));
            println!("{}", json!({"id": id, "secret": shown}));
            Ok(())
        }
        WebhookCommand::List => {
            for hook in db.run(WebhookRow::all).await.map_err(|e| e.to_string())? {
                println!("{}", listed(&hook));
            }
            Ok(())
        }
        WebhookCommand::Remove { id } => {
            let lookup = id.clone();
            let now = now();
            let removed = db
                .run(move |c| {
                    c.transaction(|c| {
                        let Some(hook) = WebhookRow::find(c, &lookup)? else {
                            return Ok(None);
                        };
                        WebhookRow::remove(c, &lookup)?;
                        let detail = json!({"url": hook.url});
                        audit::record(
                            c,
                            now,
                            OPERATOR,
                            Action::WebhookRemoved,
                            Some(&lookup),
                            detail,
                        )?;
                        let payload = hook.delivery_payload();
                        OutboxRow::abandon(c, OutboxKind::Webhook, &payload, REMOVED, now).map(Some)
                    })
                })
                .await
                .map_err(|e| e.to_string())?;
            match removed {
                Some(dropped) => {
                    eprintln!("webhook {id} is removed ({dropped} undelivered event(s) dropped)");
                    Ok(())
                }
                None => Err(format!("no webhook {id}")),
            }
        }
    }
}

/// The `--event` types, space-separated as stored; an unknown one is refused
/// with the list of those there are.
fn event_types(events: &[String]) -> Result<String, String> {
    let mut types: Vec<&'static str> = Vec::new();
    for event in events {
        let Some(kind) = EventType::parse(event) else {
            let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
            return Err(format!(
                "unknown event type {event:?}; the types are: {}",
                known.join(", ")
            ));
        };
        if !types.contains(&kind.as_str()) {
            types.push(kind.as_str());
        }
    }
    Ok(types.join(" "))
}

fn listed(hook: &WebhookRow) -> Value {
    let events: Vec<&str> = hook.event_types.split_whitespace().collect();
    json!({
        "id": hook.id,
        "url": hook.url,
        "events": events,
        "created_at": rfc3339(hook.created_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_checked_kept_once_and_an_unknown_one_names_the_valid_ones() {
        let given = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(event_types(&[]).unwrap(), "");
        assert_eq!(
            event_types(&given(&["grant.ended", "grant.created", "grant.ended"])).unwrap(),
            "grant.ended grant.created"
        );
        let refused = event_types(&given(&["grant.deleted"])).unwrap_err();
        assert!(refused.contains("\"grant.deleted\""), "{refused}");
        assert!(refused.contains("access_request.created"), "{refused}");
        assert!(refused.contains("audit.checkpoint"), "{refused}");
    }

    #[test]
    fn a_listed_webhook_never_shows_its_secret() {
        let hook = WebhookRow {
            id: "wh_1".into(),
            url: "https://hooks.example/in".into(),
            sealed_secret: b"sealed".to_vec(),
            event_types: "grant.ended".into(),
            created_at: 1_764_547_200,
        };
        assert_eq!(
            listed(&hook),
            json!({
                "id": "wh_1",
                "url": "https://hooks.example/in",
                "events": ["grant.ended"],
                "created_at": "2025-12-01T00:00:00Z",
            })
        );
    }
}
