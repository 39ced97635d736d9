//! `behalf receiver add URL --audience AUD` prints `{"id": "rcv_..."}`: where
//! Security Event Tokens (RFC 8417) are pushed (RFC 8935) when a grant ends,
//! with `aud` = AUD. `receiver list` (JSON lines) and `receiver remove ID`
//! (its undelivered SETs are marked done with the error "its receiver was
//! removed"). docs/contract.md "Security Event Tokens".

use super::{OPERATOR, connect, now};
use crate::audit::{self, Action};
use crate::clock::rfc3339;
use crate::config::Settings;
use crate::oauth::registration::validate_app_uri;
use crate::random;
use crate::store::outbox::{OutboxKind, OutboxRow};
use crate::store::set_receivers::SetReceiverRow;
use clap::Subcommand;
use diesel::Connection;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum ReceiverCommand {
    /// Register a receiver of Security Event Tokens: prints its id.
    Add {
        /// Where SETs are POSTed: https, or http on a loopback host.
        url: String,
        /// The SETs' `aud`: the receiver's own identifier.
        #[arg(long, value_name = "AUD")]
        audience: String,
    },
    /// List receivers: one JSON object per line.
    List,
    /// Remove a receiver; what it had yet to receive is not sent.
    Remove { id: String },
}

/// The last error of a removed receiver's deliveries.
pub const REMOVED: &str = "its receiver was removed";

pub async fn run(settings: &Settings, command: ReceiverCommand) -> Result<(), String> {
    let db = connect(settings).await?;
    match command {
        ReceiverCommand::Add { url, audience } => {
            validate_app_uri(&url).map_err(|why| format!("receiver URL {url:?}: {why}"))?;
            let audience = audience.trim().to_string();
            if audience.is_empty() || audience.chars().any(char::is_control) {
                return Err("--audience must be a non-empty line".into());
            }
            let row = SetReceiverRow {
                id: format!("rcv_{}", random::identifier()),
                url,
                audience,
                created_at: now(),
            };
            let id = row.id.clone();
            db.run(move |c| {
                c.transaction(|c| {
                    row.insert(c)?;
                    let detail = json!({"url": row.url, "audience": row.audience});
                    audit::record(
                        c,
                        row.created_at,
                        OPERATOR,
                        Action::ReceiverAdded,
                        Some(&row.id),
                        detail,
                    )
                })
            })
            .await
            .map_err(|e| e.to_string())?;
            println!("{}", json!({"id": id}));
            Ok(())
        }
        ReceiverCommand::List => {
            for receiver in db
                .run(SetReceiverRow::all)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("{}", listed(&receiver));
            }
            Ok(())
        }
        ReceiverCommand::Remove { id } => {
            let lookup = id.clone();
            let now = now();
            let removed = db
                .run(move |c| {
                    c.transaction(|c| {
                        let Some(receiver) = SetReceiverRow::find(c, &lookup)? else {
                            return Ok(None);
                        };
                        SetReceiverRow::remove(c, &lookup)?;
                        let detail = json!({"url": receiver.url});
                        audit::record(
                            c,
                            now,
                            OPERATOR,
                            Action::ReceiverRemoved,
                            Some(&lookup),
                            detail,
                        )?;
                        let payload = receiver.delivery_payload();
                        OutboxRow::abandon(c, OutboxKind::SecurityEvent, &payload, REMOVED, now)
                            .map(Some)
                    })
                })
                .await
                .map_err(|e| e.to_string())?;
            match removed {
                Some(dropped) => {
                    eprintln!("receiver {id} is removed ({dropped} undelivered SET(s) dropped)");
                    Ok(())
                }
                None => Err(format!("no receiver {id}")),
            }
        }
    }
}

fn listed(receiver: &SetReceiverRow) -> Value {
    json!({
        "id": receiver.id,
        "url": receiver.url,
        "audience": receiver.audience,
        "created_at": rfc3339(receiver.created_at),
    })
}
