//! The audit chain's key (docs/security.md N6): each event's hash is an
//! HMAC-SHA-256 under a key derived from the key-encryption key
//! (`audit::chain_key`), over its era, the previous hash and the event, so that
//! someone with the database but not that key cannot rewrite history and
//! recompute the chain. Also the unkeyed SHA-256 chain of earlier versions
//! (era 0), read only to re-key an old trail (`audit::rekey`).
//!
//! The key travels with the `Database` into every closure it runs, the way the
//! caller's tracing span does (`in_scope`): appends find it there, and fail
//! rather than write an unkeyed event when there is none.

use crate::digest::sha256;
use aws_lc_rs::hmac;
use std::cell::RefCell;
use std::sync::Arc;

/// The era of events written before the chain was keyed: plain SHA-256.
pub const UNKEYED_ERA: i32 = 0;

pub struct ChainKey {
    era: i32,
    key: hmac::Key,
}

thread_local! {
    static IN_SCOPE: RefCell<Option<Arc<ChainKey>>> = const { RefCell::new(None) };
}

impl ChainKey {
    /// `mac_key` must already be derived for the audit chain alone.
    pub fn new(era: i32, mac_key: &[u8]) -> Self {
        assert!(era > UNKEYED_ERA, "a keyed era is numbered from 1");
        Self {
            era,
            key: hmac::Key::new(hmac::HMAC_SHA256, mac_key),
        }
    }

    pub fn era(&self) -> i32 {
        self.era
    }

    pub fn algorithm(&self) -> &'static str {
        "HMAC-SHA256"
    }

    /// The chain's hash of an event after `prev`, under this key and era.
    pub fn hash(&self, prev: &[u8], event: &ChainedFields<'_>) -> Vec<u8> {
        let mut input = (self.era as u64).to_be_bytes().to_vec();
        input.extend_from_slice(&event.encode(prev));
        hmac::sign(&self.key, &input).as_ref().to_vec()
    }

    /// Runs `work` with `key` as the key appends on this thread chain under.
    pub fn in_scope<T>(key: Option<&Arc<ChainKey>>, work: impl FnOnce() -> T) -> T {
        let outer = IN_SCOPE.with(|slot| slot.replace(key.cloned()));
        // Restored even if `work` panics (the writer thread catches panics and goes on).
        struct Restore(Option<Arc<ChainKey>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let outer = self.0.take();
                IN_SCOPE.with(|slot| *slot.borrow_mut() = outer);
            }
        }
        let _restore = Restore(outer);
        work()
    }

    /// The key in scope on this thread, if the `Database` running us has one.
    pub fn current() -> Option<Arc<ChainKey>> {
        IN_SCOPE.with(|slot| slot.borrow().clone())
    }
}

/// The parts of an event the chain covers.
pub struct ChainedFields<'a> {
    pub occurred_at: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: Option<&'a str>,
    pub detail: &'a str,
}

impl ChainedFields<'_> {
    /// `prev` then each part length-prefixed, so no two events encode alike.
    fn encode(&self, prev: &[u8]) -> Vec<u8> {
        let mut input = Vec::with_capacity(256);
        input.extend_from_slice(prev);
        for part in [
            &self.occurred_at.to_string(),
            self.actor,
            self.action,
            self.subject.unwrap_or(""),
            self.detail,
        ] {
            input.extend_from_slice(&(part.len() as u64).to_be_bytes());
            input.extend_from_slice(part.as_bytes());
        }
        input
    }

    /// The unkeyed SHA-256 hash of era 0: anyone can compute it, so it proves
    /// nothing on its own; read only to check an old trail before re-keying it.
    pub fn unkeyed_hash(&self, prev: &[u8]) -> Vec<u8> {
        sha256(&self.encode(prev)).to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(detail: &str) -> ChainedFields<'_> {
        ChainedFields {
            occurred_at: 1,
            actor: "alice",
            action: "grant.created",
            subject: Some("g1"),
            detail,
        }
    }

    #[test]
    fn the_keyed_hash_depends_on_the_key_the_era_and_the_event() {
        let prev = [0u8; 32];
        let key = ChainKey::new(1, &[1u8; 32]);
        let hash = key.hash(&prev, &fields("{}"));
        assert_eq!(
            hash,
            ChainKey::new(1, &[1u8; 32]).hash(&prev, &fields("{}"))
        );
        assert_ne!(
            hash,
            ChainKey::new(1, &[2u8; 32]).hash(&prev, &fields("{}"))
        );
        assert_ne!(
            hash,
            ChainKey::new(2, &[1u8; 32]).hash(&prev, &fields("{}"))
        );
        assert_ne!(hash, key.hash(&prev, &fields("{\"n\":1}")));
        assert_ne!(hash, fields("{}").unkeyed_hash(&prev));
    }

    #[test]
    fn the_key_is_in_scope_only_inside_and_is_restored_after() {
        let key = Arc::new(ChainKey::new(1, &[1u8; 32]));
        assert!(ChainKey::current().is_none());
        ChainKey::in_scope(Some(&key), || {
            assert_eq!(ChainKey::current().unwrap().era(), 1);
            ChainKey::in_scope(None, || assert!(ChainKey::current().is_none()));
            assert!(ChainKey::current().is_some());
        });
        assert!(ChainKey::current().is_none());
    }
}
