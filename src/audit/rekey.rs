//! Re-keying a trail written before the chain was keyed (docs/security.md N6),
//! once: at the first start with the key after the migration that keyed the
//! chain asked for it (`audit_rekey_due`). Only a wholly unkeyed trail is
//! re-keyed, and only as far as its SHA-256 chain holds: a break already in it stays a break (the events from there keep era
//! 0, which `verify` refuses), so re-keying never launders an earlier edit.
//! Unkeyed events among keyed ones (written by someone without the key, or by
//! an older version still running) are never re-keyed. The re-keying itself
//! is recorded as an `audit.chain_keyed` event, so that it shows when it ran.

use super::Action;
use crate::store::chain_key::UNKEYED_ERA;
use crate::store::{Database, StoreError, audit_events};
use serde_json::json;

#[derive(Debug, PartialEq, Eq)]
pub enum Rekeyed {
    /// No re-keying was due, or there was nothing unkeyed to re-key.
    Nothing,
    /// `events` re-chained under the key; the unkeyed chain was already broken
    /// at `unkeyed_broken_at`, and the events from there were left as they were.
    Rekeyed {
        events: u64,
        unkeyed_broken_at: Option<i64>,
    },
    /// Unkeyed events after keyed ones, the first at `first_unkeyed`: left as
    /// they are, for `verify` to report.
    Refused { first_unkeyed: i64 },
}

/// Re-chains an unkeyed trail under the database's audit key, in one transaction.
pub async fn rekey(db: &Database, now: i64) -> Result<Rekeyed, StoreError> {
    let Some(era) = db.audit_chain().map(|key| key.era()) else {
        return Err(StoreError::Unavailable(
            "no audit chain key: the database was opened without one".into(),
        ));
    };
    let outcome = db
        .write(move |c| {
            let Some(key) = crate::store::chain_key::ChainKey::current() else {
                return Err(StoreError::Unavailable(
                    "no audit chain key in scope".into(),
                ));
            };
            audit_events::lock_the_chain(c)?;
            if !audit_events::take_rekey_due(c)? {
                return Ok(Rekeyed::Nothing);
            }
            let Some(first_unkeyed) = audit_events::first_of_era(c, Some(UNKEYED_ERA))? else {
                return Ok(Rekeyed::Nothing);
            };
            if audit_events::first_of_era(c, None)?.is_some() {
                return Ok(Rekeyed::Refused { first_unkeyed });
            }
            let (mut after, mut old_prev, mut new_prev) = (0i64, vec![0u8; 32], vec![0u8; 32]);
            let (mut events, mut unkeyed_broken_at) = (0u64, None);
            'walk: loop {
                let page = audit_events::page(c, after, 1000)?;
                if page.is_empty() {
                    break;
                }
                for event in page {
                    let fields = event.chained();
                    if event.prev_hash != old_prev || event.hash != fields.unkeyed_hash(&old_prev) {
                        unkeyed_broken_at = Some(event.seq);
                        break 'walk;
                    }
                    let hash = key.hash(&new_prev, &fields);
                    audit_events::rechain(c, event.seq, &new_prev, &hash, era)?;
                    (old_prev, new_prev, after) = (event.hash, hash, event.seq);
                    events += 1;
                }
            }
            let detail = json!({"rekeyed_events": events, "era": era});
            super::record(c, now, "behalf", Action::AuditChainKeyed, None, detail)?;
            Ok(Rekeyed::Rekeyed {
                events,
                unkeyed_broken_at,
            })
        })
        .await?;
    match &outcome {
        Rekeyed::Nothing => {}
        Rekeyed::Rekeyed {
            events,
            unkeyed_broken_at: None,
        } => tracing::warn!(events, era, "re-keyed the unkeyed audit trail"),
        Rekeyed::Rekeyed {
            events,
            unkeyed_broken_at: Some(seq),
        } => tracing::error!(
            events,
            era,
            broken_at = seq,
            "the unkeyed audit trail was already broken: re-keyed only the events before the break"
        ),
        Rekeyed::Refused { first_unkeyed } => tracing::error!(
            first_unkeyed,
            "unkeyed audit events follow keyed ones: not re-keyed (audit verify reports them)"
        ),
    }
    Ok(outcome)
}
