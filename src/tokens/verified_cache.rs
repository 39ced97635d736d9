//! A cache of signature verifications. Whether a token's signature checks out
//! under a key never changes, and resource servers introspect the same token
//! again and again (an agent's token is also presented at every exchange), so
//! the ECDSA verification is done once per token. Everything that can change
//! is checked on every hit: the key must still be published, `exp`/`nbf` are
//! judged against the clock, and callers still ask the database whether the
//! token was revoked or its grant ended. Only tokens that verified are kept,
//! keyed by their SHA-256; the cache empties itself when full.

use super::access_token::AccessTokenClaims;
use super::keyring::KeySet;
use super::verifier::{MAX_TOKEN_LEN, VerifyError, check_time, verify_access_token};
use crate::digest::sha256;
use std::collections::HashMap;
use std::sync::Mutex;

/// About 4 MiB at most: enough for the tokens in use at any moment on one instance.
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct VerifiedCache {
    entries: Mutex<HashMap<[u8; 32], (String, AccessTokenClaims)>>,
}

impl VerifiedCache {
    pub fn verify(
        &self,
        keys: &KeySet,
        issuer: &str,
        token: &str,
        now: i64,
    ) -> Result<AccessTokenClaims, VerifyError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(VerifyError::Malformed);
        }
        let digest = sha256(token.as_bytes());
        let hit = self
            .entries
            .lock()
            .expect("cache lock")
            .get(&digest)
            .cloned();
        if let Some((kid, claims)) = hit
            && keys.verification_key(&kid, now).is_some()
            && claims.iss == issuer
        {
            check_time(&claims, now)?;
            return Ok(claims);
        }
        let claims = verify_access_token(keys, issuer, token, now)?;
        let kid = jsonwebtoken::decode_header(token)
            .ok()
            .and_then(|h| h.kid)
            .unwrap_or_default();
        let mut entries = self.entries.lock().expect("cache lock");
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(digest, (kid, claims.clone()));
        Ok(claims)
    }
}
