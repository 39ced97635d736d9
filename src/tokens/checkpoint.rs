//! Audit checkpoints (DESIGN.md "Audit that an administrator cannot rewrite";
//! docs/security.md N6): a JWS (header `typ: audit-checkpoint+jwt`, signed
//! with the security-event key, ES256) over the audit chain's newest event:
//! `iss`, `seq`, `head` (base64url of its keyed hash) and `iat`. Sent out as
//! the `audit.checkpoint` event and kept by whoever receives it, it lets
//! `behalf audit verify --checkpoint` prove later that no event up to `seq`
//! was deleted and that the chain was not forked.

use super::jws;
use super::keyring::KeySet;
use super::signing_key::Purpose;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// The JWT `typ` header of a checkpoint.
pub const TYP: &str = "audit-checkpoint+jwt";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointClaims {
    pub iss: String,
    /// The `seq` of the newest event it covers.
    pub seq: i64,
    /// base64url (no padding) of that event's keyed chain hash.
    pub head: String,
    pub iat: i64,
}

impl CheckpointClaims {
    pub fn new(issuer: &str, seq: i64, hash: &[u8], now: i64) -> Self {
        Self {
            iss: issuer.to_string(),
            seq,
            head: URL_SAFE_NO_PAD.encode(hash),
            iat: now,
        }
    }
}

/// The checkpoint signed at `now`; `None` before the security-event key exists.
pub fn sign(keys: &KeySet, claims: &CheckpointClaims, now: i64) -> Option<String> {
    let key = keys.signing(Purpose::SecurityEvent, now)?;
    Some(jws::sign(key, TYP, claims))
}
