//! `behalf audit verify [--checkpoint JWS]...`: walks the keyed hash chain of
//! the audit trail (docs/security.md N6), says which key era it checked, and
//! reports the first event that does not follow from the one before it; given
//! checkpoints sent out earlier (`tokens::checkpoint`), also any event deleted
//! up to the newest of them and any rewriting or fork. `audit list [--grant ID]
//! [--since RFC3339]` prints readable lines; `audit export` one JSON object per
//! event (`seq`, `occurred_at` in RFC 3339, `actor`, `action`, `subject`, `detail`).

use super::timestamp::parse_rfc3339;
use super::{connect, now};
use crate::audit::{self, Action, ChainReport};
use crate::clock::rfc3339;
use crate::config::Settings;
use crate::secret::Secret;
use crate::startup::{key_ring, open_database};
use crate::store::Database;
use crate::store::audit_events::{self, AuditEventRow};
use crate::tokens::checkpoint::{self, NotACheckpoint};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::Subcommand;
use serde_json::{Value, json};

/// Events read from the database at a time.
const BATCH: i64 = 1000;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check that no audit event was changed or removed from the middle of the
    /// chain and, given checkpoints received earlier, that none was deleted up to them.
    Verify {
        /// A checkpoint (the JWS of an `audit.checkpoint` event or of `GET
        /// /audit/checkpoint`); repeat for several.
        #[arg(long = "checkpoint", value_name = "JWS")]
        checkpoints: Vec<String>,
    },
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
        AuditCommand::Verify { checkpoints } => verify(settings, &checkpoints).await,
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

async fn verify(settings: &Settings, checkpoints: &[String]) -> Result<(), String> {
    let (db, root) = open_database(settings, now()).await?;
    let keyed = db
        .audit_chain()
        .map(|key| format!("chain keyed ({}, era {})", key.algorithm(), key.era()))
        .unwrap_or_default();
    let chain = match audit::verify(&db).await.map_err(|e| e.to_string())? {
        ChainReport::Intact { events } => Ok(format!(
            "audit trail intact: {events} events, {keyed}{}",
            rekeyed(&db).await?
        )),
        ChainReport::Broken { at_seq } => Err(format!(
            "audit trail broken at event {at_seq}: it does not follow from the event \
             before it under the {keyed}"
        )),
    };
    let covered = against_checkpoints(settings, &db, &root, checkpoints).await;
    match (chain, covered) {
        (Ok(intact), Ok(lines)) => {
            println!("{intact}");
            lines.iter().for_each(|line| println!("{line}"));
            Ok(())
        }
        (chain, covered) => Err([chain.err(), covered.err()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n")),
    }
}

/// Each checkpoint verified, and the event it covers found with the hash it
/// names: a line each, or what is wrong (docs/security.md N6). An event
/// missing is a deletion; another hash, a rewritten or forked trail.
async fn against_checkpoints(
    settings: &Settings,
    db: &Database,
    root: &Secret<[u8; 32]>,
    checkpoints: &[String],
) -> Result<Vec<String>, String> {
    if checkpoints.is_empty() {
        return Ok(Vec::new());
    }
    let (ring, _) = key_ring(settings, root);
    ring.reload(db).await.map_err(|e| e.to_string())?;
    let keys = ring.snapshot();
    let newest = db
        .run(audit_events::newest)
        .await
        .map_err(|e| e.to_string())?
        .map_or(0, |(seq, _)| seq);
    let (mut lines, mut problems) = (Vec::new(), Vec::new());
    for (n, token) in checkpoints.iter().enumerate() {
        let n = n + 1;
        let claims = match checkpoint::verify(&keys, settings.issuer.as_deref(), token.trim()) {
            Ok(claims) => claims,
            Err(NotACheckpoint(why)) => {
                problems.push(format!("checkpoint {n} is not one of ours: {why}"));
                continue;
            }
        };
        let seq = claims.seq;
        let found = db
            .run(move |c| audit_events::find(c, seq))
            .await
            .map_err(|e| e.to_string())?;
        let made = rfc3339(claims.iat);
        match found {
            None => problems.push(format!(
                "events deleted: checkpoint {n} (made {made}) covers event {seq}, \
                 which the trail no longer has (its newest event is {newest})"
            )),
            Some(event) if URL_SAFE_NO_PAD.encode(&event.hash) != claims.head => problems.push(format!(
                "audit trail rewritten: event {seq} is not the event checkpoint {n} \
                 (made {made}) covers; the trail was changed or forked at or before it"
            )),
            Some(_) => lines.push(format!(
                "checkpoint {n} (made {made}) matches: the trail holds every event up to {seq} as it was"
            )),
        }
    }
    if problems.is_empty() {
        Ok(lines)
    } else {
        Err(problems.join("\n"))
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
