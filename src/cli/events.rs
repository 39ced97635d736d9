//! `behalf events list [--failed]`: what the outbox still has to deliver
//! (docs/contract.md "Back-channel logout and the outbox", "Events"), one
//! JSON object per line, soonest due first: `id` (a logout token's `jti`),
//! `kind`, `event_id` and `event_type` (an event's delivery), `destination`,
//! `grant_id`, `due_at` and `next_attempt_at` (RFC 3339), `attempts`,
//! `last_error`. `--failed` keeps those tried at least once.
//! Never the payload: nothing here is a token, and what is signed is signed
//! when it is sent.

use super::connect;
use crate::clock::rfc3339;
use crate::config::Settings;
use crate::store::events::EventRow;
use crate::store::outbox::OutboxRow;
use clap::Subcommand;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum EventsCommand {
    /// Print the messages not delivered yet, one JSON object per line, soonest due first.
    List {
        /// Only those whose delivery has failed at least once.
        #[arg(long)]
        failed: bool,
    },
}

pub async fn run(settings: &Settings, command: EventsCommand) -> Result<(), String> {
    match command {
        EventsCommand::List { failed } => {
            let db = connect(settings).await?;
            let rows = db
                .run(move |c| {
                    let rows = OutboxRow::pending(c, failed)?;
                    rows.into_iter()
                        .map(|row| {
                            let event = match &row.event_id {
                                Some(id) => EventRow::find(c, id)?,
                                None => None,
                            };
                            Ok((row, event.map(|e| e.event_type)))
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .await
                .map_err(|e| e.to_string())?;
            for (row, event_type) in &rows {
                println!("{}", listed(row, event_type.as_deref()));
            }
            Ok(())
        }
    }
}

/// One delivery; `event_type` that of the event it delivers, if any.
fn listed(row: &OutboxRow, event_type: Option<&str>) -> Value {
    json!({
        "id": row.id,
        "kind": row.kind,
        "event_id": row.event_id,
        "event_type": event_type,
        "destination": row.destination,
        "grant_id": row.grant_id,
        "due_at": rfc3339(row.due_at),
        "next_attempt_at": rfc3339(row.next_attempt_at),
        "attempts": row.attempts,
        "last_error": row.last_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::outbox::OutboxKind;

    #[test]
    fn a_listed_message_shows_where_and_when_but_never_its_payload() {
        let mut row = OutboxRow::new(
            "m1".into(),
            OutboxKind::BackchannelLogout,
            "https://shop.example/logout",
            r#"{"sid":"secret-ish"}"#.into(),
            Some("g1"),
            1_764_547_200,
            1_764_540_000,
        );
        row.attempts = 2;
        row.last_error = Some("answered HTTP 500".into());
        let line = listed(&row, None);
        assert_eq!(
            line,
            json!({
                "id": "m1",
                "kind": "backchannel_logout",
                "event_id": null,
                "event_type": null,
                "destination": "https://shop.example/logout",
                "grant_id": "g1",
                "due_at": "2025-12-01T00:00:00Z",
                "next_attempt_at": "2025-12-01T00:00:00Z",
                "attempts": 2,
                "last_error": "answered HTTP 500",
            })
        );
        assert!(!line.to_string().contains("secret-ish"));
    }
}
