//! The audit chain's key and its check (docs/security.md N6): the key is
//! derived from the key-encryption key's root secret, apart from every other
//! key derived from it, and `verify` recomputes every event's keyed hash.
//! Only keyed events verify: an event of the unkeyed era 0 (what an earlier
//! version wrote, or what someone without the key wrote) breaks the chain.

use crate::secret::Secret;
use crate::store::Database;
use crate::store::StoreError;
use crate::store::audit_events;
use crate::store::chain_key::ChainKey;
use aws_lc_rs::hmac;

/// The era of the key derived with `DERIVATION_LABEL`.
pub const FIRST_KEYED_ERA: i32 = 1;
const DERIVATION_LABEL: &[u8] = b"behalf: audit chain key v1";

/// The audit chain's key under `root` (the key-encryption key's root secret).
pub fn chain_key(root: &Secret<[u8; 32]>) -> ChainKey {
    let derive = hmac::Key::new(hmac::HMAC_SHA256, root.expose());
    let key = hmac::sign(&derive, DERIVATION_LABEL);
    ChainKey::new(FIRST_KEYED_ERA, key.as_ref())
}

#[derive(Debug, PartialEq, Eq)]
pub enum ChainReport {
    Intact { events: u64 },
    Broken { at_seq: i64 },
}

/// Walks the whole chain, recomputing every hash under the database's key.
pub async fn verify(db: &Database) -> Result<ChainReport, StoreError> {
    let Some(key) = db.audit_chain() else {
        return Err(StoreError::Unavailable(
            "no audit chain key: the database was opened without one".into(),
        ));
    };
    let (mut after, mut prev, mut count) = (0i64, vec![0u8; 32], 0u64);
    loop {
        let page = db.run(move |c| audit_events::page(c, after, 1000)).await?;
        if page.is_empty() {
            return Ok(ChainReport::Intact { events: count });
        }
        for event in page {
            if event.key_era != key.era()
                || event.prev_hash != prev
                || event.hash != key.hash(&prev, &event.chained())
            {
                return Ok(ChainReport::Broken { at_seq: event.seq });
            }
            prev = event.hash;
            after = event.seq;
            count += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_key_is_derived_apart_from_the_root_and_the_server_mac() {
        let root = Secret::new([3u8; 32]);
        let fields = crate::store::chain_key::ChainedFields {
            occurred_at: 1,
            actor: "a",
            action: "grant.created",
            subject: None,
            detail: "{}",
        };
        let derived = chain_key(&root).hash(&[0; 32], &fields);
        assert_ne!(
            derived,
            ChainKey::new(1, root.expose()).hash(&[0; 32], &fields)
        );
        let mac_label = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, root.expose()),
            b"behalf: server MAC key v1",
        );
        assert_ne!(
            derived,
            ChainKey::new(1, mac_label.as_ref()).hash(&[0; 32], &fields)
        );
    }
}
