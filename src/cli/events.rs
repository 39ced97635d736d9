//! `behalf events list [--failed]`: what the outbox still has to deliver
//! (docs/contract.md "Back-channel logout and the outbox"), one JSON object
//! per line, soonest due first: `id` (a logout token's `jti`), `kind`,
//! `destination`, `grant_id`, `due_at` and `next_attempt_at` (RFC 3339),
//! `attempts`, `last_error`. `--failed` keeps those tried at least once.
//! Never the payload: nothing here is a token, and what is signed is signed
//! when it is sent.

use super::connect;
use crate::clock::rfc3339;
use crate::config::Settings;
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
                .run(move |c| OutboxRow::pending(c, failed))
                .await
                .map_err(|e| e.to_string())?;
            for row in &rows {
                println!("{}", listed(row));
            }
            Ok(())
        }
    }
}

fn listed(row: &OutboxRow) -> Value {
    json!({
        "id": row.id,
        "kind": row.kind,
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
        let line = listed(&row);
        assert_eq!(
            line,
            json!({
                "id": "m1",
                "kind": "backchannel_logout",
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
