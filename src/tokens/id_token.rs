//! OpenID Connect ID tokens (OIDC Core §2, §3.1.3.6): signed with the RS256
//! ID-token key, `aud` the client, `azp` the client, `at_hash` binding the
//! access token issued beside it.

use super::jws;
use super::keyring::KeySet;
use super::signing_key::Purpose;
use crate::digest::sha256;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub at_hash: String,
    pub azp: String,
    /// A delegated session: the agent acting as `sub` (RFC 8693 §4.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<crate::tokens::access_token::Actor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    /// OIDC Front/Back-Channel Logout: the session, named in logout tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// The left half of the SHA-256 of the access token, base64url (RS256 and ES256 both hash with SHA-256).
pub fn at_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&sha256(access_token.as_bytes())[..16])
}

pub fn sign(keys: &KeySet, claims: &IdTokenClaims) -> Option<String> {
    let key = keys.signing(Purpose::IdToken, claims.iat)?;
    Some(jws::sign(key, "JWT", claims))
}
