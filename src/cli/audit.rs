//! `behalf audit verify`: walks the hash chain of the audit trail and reports
//! the first event that does not follow from the one before it.

use super::connect;
use crate::audit::{self, ChainReport};
use crate::config::Settings;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check that no audit event was changed or removed from the middle of the chain.
    Verify,
}

pub async fn run(settings: &Settings, command: AuditCommand) -> Result<(), String> {
    let AuditCommand::Verify = command;
    let db = connect(settings).await?;
    match audit::verify(&db).await.map_err(|e| e.to_string())? {
        ChainReport::Intact { events } => {
            println!("audit trail intact: {events} events");
            Ok(())
        }
        ChainReport::Broken { at_seq } => Err(format!("audit trail broken at event {at_seq}")),
    }
}
