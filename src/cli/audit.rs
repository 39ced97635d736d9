//! `behalf audit verify`: walks the keyed hash chain of the audit trail
//! (docs/security.md N6), says which key era it checked, and reports the first
//! event that does not follow from the one before it.

use super::connect;
use crate::audit::{self, Action, ChainReport};
use crate::config::Settings;
use crate::store::Database;
use crate::store::audit_events;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check that no audit event was changed or removed from the middle of the chain.
    Verify,
}

pub async fn run(settings: &Settings, command: AuditCommand) -> Result<(), String> {
    let AuditCommand::Verify = command;
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
