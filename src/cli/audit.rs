//! `behalf audit verify`: walks the keyed hash chain of the audit trail
//! (docs/security.md N6), says which key era it checked, and reports the first
//! event that does not follow from the one before it. `audit list [--grant ID]
//! [--since RFC3339]` prints readable lines; `audit export` one JSON object per
//! event (`seq`, `occurred_at` in RFC 3339, `actor`, `action`, `subject`, `detail`).

use super::connect;
use super::timestamp::parse_rfc3339;
use crate::audit::{self, Action, ChainReport};
use crate::clock::rfc3339;
use crate::config::Settings;
use crate::store::Database;
use crate::store::audit_events::{self, AuditEventRow};
use clap::Subcommand;
use serde_json::{Value, json};

/// Events read from the database at a time.
const BATCH: i64 = 1000;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check that no audit event was changed or removed from the middle of the chain.
    Verify,
    /// Print events as readable lines, oldest first.
    List {
        /// Only the events about this grant.
        #[arg(long, value_name = "ID")]
        grant: Option<String>,
        /// Only the events at or after this time, e.g. 2026-12-01T09:00:00Z.
        #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339)]
        since: Option<i64>,
    },
    /// Print every event as one JSON object per line, oldest first.
    Export,
}

pub async fn run(settings: &Settings, command: AuditCommand) -> Result<(), String> {
    match command {
        AuditCommand::Verify => verify(settings).await,
        AuditCommand::List { grant, since } => {
            let db = connect(settings).await?;
            each_event(&db, |event| {
                let wanted = grant
                    .as_deref()
                    .is_none_or(|g| event.subject.as_deref() == Some(g))
                    && since.is_none_or(|t| event.occurred_at >= t);
                if wanted {
                    println!("{}", readable(event));
                }
            })
            .await
        }
        AuditCommand::Export => {
            let db = connect(settings).await?;
            each_event(&db, |event| println!("{}", exported(event))).await
        }
    }
}

/// Calls `f` on every event in order, reading `BATCH` at a time.
async fn each_event(db: &Database, mut f: impl FnMut(&AuditEventRow)) -> Result<(), String> {
    let mut after = 0;
    loop {
        let events = db
            .run(move |c| audit_events::page(c, after, BATCH))
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = events.last() else {
            return Ok(());
        };
        after = last.seq;
        events.iter().for_each(&mut f);
    }
}

/// `2026-12-01T09:00:00Z #12 grant.created by alice about g1 {"scope":"read"}`.
fn readable(event: &AuditEventRow) -> String {
    format!(
        "{} #{} {} by {} about {} {}",
        rfc3339(event.occurred_at),
        event.seq,
        event.action,
        event.actor,
        event.subject.as_deref().unwrap_or("-"),
        event.detail
    )
}

fn exported(event: &AuditEventRow) -> Value {
    json!({
        "seq": event.seq,
        "occurred_at": rfc3339(event.occurred_at),
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "detail": serde_json::from_str::<Value>(&event.detail).unwrap_or(Value::String(event.detail.clone())),
    })
}

async fn verify(settings: &Settings) -> Result<(), String> {
    let db = connect(settings).await?;
    let keyed = db
        .audit_chain()
        .map(|key| format!("chain keyed ({}, era {})", key.algorithm(), key.era()))
        .unwrap_or_default();
    match audit::verify(&db).await.map_err(|e| e.to_string())? {
        ChainReport::Intact { events } => {
            println!(
                "audit trail intact: {events} events, {keyed}{}",
                rekeyed(&db).await?
            );
            Ok(())
        }
        ChainReport::Broken { at_seq } => Err(format!(
            "audit trail broken at event {at_seq}: it does not follow from the event \
             before it under the {keyed}"
        )),
    }
}

/// When an unkeyed trail was re-keyed (`audit::rekey`), the line says so, for
/// the newest re-keying: the events before it rest on the unkeyed chain up to
/// that moment, and a re-keying the operator did not expect is a warning.
async fn rekeyed(db: &Database) -> Result<String, String> {
    let marker = db
        .run(|c| audit_events::last_with_action(c, Action::AuditChainKeyed.as_str()))
        .await
        .map_err(|e| e.to_string())?;
    Ok(marker.map_or_else(String::new, |event| {
        let detail: serde_json::Value = serde_json::from_str(&event.detail).unwrap_or_default();
        format!(
            "; the {} events before event {} were re-keyed from the unkeyed chain at {} (unix time)",
            detail["rekeyed_events"], event.seq, event.occurred_at
        )
    }))
}
