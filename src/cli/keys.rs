//! `behalf keys list` and `behalf keys rotate`. A rotated-in key is published at
//! once and signs after `key_rotation_lead_seconds`; the one it replaces stays
//! published until the tokens it signed have expired. Times print as RFC 3339 UTC.

use super::now;
use crate::config::Settings;
use crate::startup::{key_ring, open_database};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// List signing keys and their state.
    List,
    /// Create new signing keys (access tokens, ID tokens RS256 and ES256, security events).
    Rotate,
}

pub async fn run(settings: &Settings, command: KeysCommand) -> Result<(), String> {
    let (db, root) = open_database(settings, now()).await?;
    let (ring, _) = key_ring(settings, &root);
    let now = now();
    ring.ensure_keys(&db, now)
        .await
        .map_err(|e| e.to_string())?;
    if let KeysCommand::Rotate = command {
        let kids = ring
            .rotate(&db, now, settings.key_rotation_lead_seconds)
            .await
            .map_err(|e| e.to_string())?;
        eprintln!(
            "new keys {} sign from {} seconds from now",
            kids.join(", "),
            settings.key_rotation_lead_seconds
        );
    }
    let keys = ring.snapshot();
    let published: Vec<&str> = keys.published(now).map(|k| k.kid.as_str()).collect();
    println!(
        "{:<24} {:<6} {:<15} {:<11} {:<20}",
        "KID", "ALG", "PURPOSE", "STATE", "SIGNS_FROM"
    );
    for key in keys.all() {
        let state = if keys
            .signing(key.purpose, now)
            .is_some_and(|k| k.kid == key.kid)
        {
            "signing"
        } else if key.signs_from > now {
            "next"
        } else if published.contains(&key.kid.as_str()) {
            "retiring"
        } else {
            "retired"
        };
        println!(
            "{:<24} {:<6} {:<15} {:<11} {:<20}",
            key.kid,
            key.alg.as_str(),
            key.purpose.as_str(),
            state,
            crate::clock::rfc3339(key.signs_from)
        );
    }
    Ok(())
}
