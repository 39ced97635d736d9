//! The key ring: every signing key this deployment has, loaded from the database
//! and re-read periodically so that all instances converge. Which key signs and
//! which are published follows from the stored times alone:
//! - a key signs from its `signs_from` until a newer key of its purpose does
//!   (each ID-token algorithm is a purpose of its own: `Purpose::IdToken`);
//! - it is published from `published_at` (before it signs: rotation creates keys
//!   with `signs_from = now + lead`) until every token it signed has expired.

use super::kek::KeyEncryptionKey;
use super::signing_key::{Algorithm, KeyError, Purpose, SigningKey};
use crate::store::signing_keys::SigningKeyRow;
use crate::store::{Database, StoreError};
use std::sync::{Arc, RwLock};

/// An immutable snapshot of the keys, oldest `signs_from` first.
#[derive(Default)]
pub struct KeySet {
    keys: Vec<Arc<SigningKey>>,
    /// How long a key stays published after a newer key took over: the longest
    /// lifetime of any token it may have signed.
    retire_after: i64,
}

impl KeySet {
    /// A snapshot of `keys`, oldest `signs_from` first; `retire_after` as in
    /// [`KeyRing::new`]. The key ring builds its snapshots here; the fuzz
    /// targets build a fixed one without a database.
    pub fn new(keys: Vec<Arc<SigningKey>>, retire_after: i64) -> Self {
        Self { keys, retire_after }
    }

    /// The key that signs tokens of `purpose` at `now`; for ID tokens the
    /// purpose names the client's algorithm (`Purpose::IdToken(alg)`).
    pub fn signing(&self, purpose: Purpose, now: i64) -> Option<&Arc<SigningKey>> {
        self.keys
            .iter()
            .rev()
            .find(|k| k.purpose == purpose && k.signs_from <= now)
    }

    fn is_published(&self, key: &SigningKey, now: i64) -> bool {
        if key.published_at > now {
            return false;
        }
        match self.successor(key, now) {
            Some(next) => now < next.signs_from + self.retire_after,
            None => true,
        }
    }

    /// The first key of the same purpose that took over signing from `key`.
    fn successor(&self, key: &SigningKey, now: i64) -> Option<&Arc<SigningKey>> {
        let position = self.keys.iter().position(|k| k.kid == key.kid)?;
        self.keys[position + 1..]
            .iter()
            .find(|k| k.purpose == key.purpose && k.signs_from <= now)
    }

    /// The keys a client may verify with at `now`: the JWKS.
    pub fn published(&self, now: i64) -> impl Iterator<Item = &Arc<SigningKey>> {
        self.keys.iter().filter(move |k| self.is_published(k, now))
    }

    /// A published key by `kid`; unknown and retired keys verify nothing.
    pub fn verification_key(&self, kid: &str, now: i64) -> Option<&Arc<SigningKey>> {
        self.keys
            .iter()
            .find(|k| k.kid == kid)
            .filter(|k| self.is_published(k, now))
    }

    /// The algorithms of the published access-token keys (for discovery).
    pub fn access_token_algorithms(&self, now: i64) -> Vec<&'static str> {
        let mut algs: Vec<&'static str> = self
            .published(now)
            .filter(|k| k.purpose == Purpose::AccessToken)
            .map(|k| k.alg.as_str())
            .collect();
        algs.sort_unstable();
        algs.dedup();
        algs
    }

    pub fn all(&self) -> &[Arc<SigningKey>] {
        &self.keys
    }
}

pub struct KeyRing {
    current: RwLock<Arc<KeySet>>,
    kek: KeyEncryptionKey,
    retire_after: i64,
    /// The algorithm new access-token keys get (ID-token keys have one per algorithm).
    access_token_alg: Algorithm,
}

#[derive(Debug)]
pub enum KeyRingError {
    Store(StoreError),
    Key(KeyError),
}

impl std::fmt::Display for KeyRingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Store(e) => write!(f, "{e}"),
            Self::Key(e) => write!(f, "{e}"),
        }
    }
}

impl From<StoreError> for KeyRingError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<KeyError> for KeyRingError {
    fn from(e: KeyError) -> Self {
        Self::Key(e)
    }
}

impl KeyRing {
    /// `retire_after`: the longest lifetime of a token signed by any key.
    pub fn new(kek: KeyEncryptionKey, retire_after: i64, access_token_alg: Algorithm) -> Self {
        Self {
            current: RwLock::new(Arc::new(KeySet::default())),
            kek,
            retire_after,
            access_token_alg,
        }
    }

    /// The key-encryption key, for the other secrets sealed under it (a
    /// webhook's signing secret: `outbox::webhook`).
    pub fn kek(&self) -> &KeyEncryptionKey {
        &self.kek
    }

    fn algorithm(&self, purpose: Purpose) -> Algorithm {
        match purpose {
            Purpose::AccessToken => self.access_token_alg,
            Purpose::IdToken(alg) => alg,
            Purpose::SecurityEvent => Algorithm::ES256,
        }
    }

    pub fn snapshot(&self) -> Arc<KeySet> {
        self.current.read().expect("key ring lock").clone()
    }

    /// Creates the first key of each purpose that has none, then loads all keys.
    pub async fn ensure_keys(&self, db: &Database, now: i64) -> Result<(), KeyRingError> {
        let rows = db.run(SigningKeyRow::all).await?;
        for purpose in Purpose::ALL {
            let alg = self.algorithm(purpose);
            match rows.iter().rfind(|r| Purpose::of_row(r) == Some(purpose)) {
                None => {
                    let (row, _) = SigningKey::generate(purpose, alg, &self.kek, now, now)?;
                    tracing::info!(kid = %row.kid, purpose = purpose.as_str(), "created signing key");
                    db.run(move |c| row.insert(c)).await?;
                }
                // Switching needs a rotation, so that the new key is published before it signs.
                Some(newest) if newest.alg != alg.as_str() => tracing::warn!(
                    purpose = purpose.as_str(),
                    signing = %newest.alg,
                    configured = alg.as_str(),
                    "run `behalf keys rotate` to switch algorithms"
                ),
                Some(_) => {}
            }
        }
        self.reload(db).await
    }

    /// Publishes a new key for each purpose now; it signs from `now + lead`.
    pub async fn rotate(
        &self,
        db: &Database,
        now: i64,
        lead: i64,
    ) -> Result<Vec<String>, KeyRingError> {
        let mut kids = Vec::new();
        for purpose in Purpose::ALL {
            let alg = self.algorithm(purpose);
            let (row, _) = SigningKey::generate(purpose, alg, &self.kek, now, now + lead)?;
            kids.push(row.kid.clone());
            db.run(move |c| row.insert(c)).await?;
        }
        self.reload(db).await?;
        Ok(kids)
    }

    /// Re-reads the keys; keys already loaded are kept, not decrypted again.
    pub async fn reload(&self, db: &Database) -> Result<(), KeyRingError> {
        let rows = db.run(SigningKeyRow::all).await?;
        let previous = self.snapshot();
        let mut keys = Vec::with_capacity(rows.len());
        for row in &rows {
            match previous.keys.iter().find(|k| k.kid == row.kid) {
                Some(known) => keys.push(known.clone()),
                None => keys.push(Arc::new(SigningKey::from_row(row, &self.kek)?)),
            }
        }
        *self.current.write().expect("key ring lock") =
            Arc::new(KeySet::new(keys, self.retire_after));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn key(
        purpose: Purpose,
        alg: Algorithm,
        published_at: i64,
        signs_from: i64,
    ) -> Arc<SigningKey> {
        let kek = KeyEncryptionKey::from_bytes(&Secret::new([7u8; 32]));
        let (_, key) = SigningKey::generate(purpose, alg, &kek, published_at, signs_from).unwrap();
        Arc::new(key)
    }

    #[test]
    fn each_id_token_algorithm_is_a_line_of_its_own_that_no_other_key_retires() {
        let rs = key(Purpose::IdToken(Algorithm::RS256), Algorithm::RS256, 0, 0);
        let es = key(Purpose::IdToken(Algorithm::ES256), Algorithm::ES256, 10, 10);
        let access = key(Purpose::AccessToken, Algorithm::ES256, 20, 20);
        // Rotated in at 15: published then, signing from 30.
        let next_rs = key(Purpose::IdToken(Algorithm::RS256), Algorithm::RS256, 15, 30);
        let retire_after = 100;
        let keys = KeySet::new(
            vec![rs.clone(), es.clone(), access.clone(), next_rs.clone()],
            retire_after,
        );
        let signer = |purpose, now| keys.signing(purpose, now).map(|k| k.kid.clone());
        let published =
            |now| -> Vec<String> { keys.published(now).map(|k| k.kid.clone()).collect() };

        // The newer ES256 key neither signs RS256 ID tokens nor retires the RS256 key.
        assert_eq!(
            signer(Purpose::IdToken(Algorithm::RS256), 20),
            Some(rs.kid.clone())
        );
        assert_eq!(
            signer(Purpose::IdToken(Algorithm::ES256), 20),
            Some(es.kid.clone())
        );
        assert_eq!(signer(Purpose::AccessToken, 20), Some(access.kid.clone()));
        assert_eq!(published(20).len(), 4);

        // A new RS256 key takes over RS256 only; the old one retires, ES256 signs on.
        let later = 30 + retire_after;
        assert_eq!(
            signer(Purpose::IdToken(Algorithm::RS256), later),
            Some(next_rs.kid.clone())
        );
        assert_eq!(
            signer(Purpose::IdToken(Algorithm::ES256), later),
            Some(es.kid.clone())
        );
        assert_eq!(
            published(later),
            [es.kid.clone(), access.kid.clone(), next_rs.kid.clone()]
        );
        assert!(keys.verification_key(&rs.kid, later).is_none());
        assert_eq!(keys.access_token_algorithms(later), ["ES256"]);
    }
}
