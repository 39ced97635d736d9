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

/// Why a checkpoint does not verify, in words.
#[derive(Debug, PartialEq, Eq)]
pub struct NotACheckpoint(pub String);

/// Checks `token` against `keys` (every security-event key ever made, not only
/// those published now: a checkpoint is kept for years) and, when known, `issuer`.
pub fn verify(
    keys: &KeySet,
    issuer: Option<&str>,
    token: &str,
) -> Result<CheckpointClaims, NotACheckpoint> {
    let refuse = |why: &str| NotACheckpoint(why.to_string());
    if token.len() > super::verifier::MAX_TOKEN_LEN || token.split('.').count() != 3 {
        return Err(refuse("not a JWS in compact form"));
    }
    let header =
        jsonwebtoken::decode_header(token).map_err(|_| refuse("its header does not parse"))?;
    if !header
        .typ
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case(TYP))
    {
        return Err(refuse("its typ is not audit-checkpoint+jwt"));
    }
    let kid = header
        .kid
        .as_deref()
        .ok_or_else(|| refuse("it names no key"))?;
    let key = keys
        .all()
        .iter()
        .find(|k| k.kid == kid && k.purpose == Purpose::SecurityEvent)
        .ok_or_else(|| refuse("it names a key this database does not have"))?;
    if header.alg != key.alg.to_jsonwebtoken() {
        return Err(refuse("its alg is not its key's"));
    }
    let mut validation = jsonwebtoken::Validation::new(key.alg.to_jsonwebtoken());
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<CheckpointClaims>(token, &key.decoding_key, &validation)
        .map_err(|_| refuse("its signature does not verify"))?
        .claims;
    if issuer.is_some_and(|issuer| claims.iss != issuer) {
        return Err(refuse("it was made by another issuer"));
    }
    Ok(claims)
}
