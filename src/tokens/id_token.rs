//! OpenID Connect ID tokens (OIDC Core §2, §3.1.3.6): signed with the
//! ID-token key of the client's `id_token_signed_response_alg` (OIDC Dynamic
//! Client Registration 1.0 §2: RS256 by default, or ES256; one key per
//! algorithm, RFC 8725 §3.1), `aud` the client, `azp` the client, `at_hash`
//! binding the access token issued beside it.

use super::jws;
use super::keyring::KeySet;
use super::signing_key::{Algorithm, Purpose};
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

/// The algorithms a client may register for its ID tokens, the default first
/// (OIDC Dynamic Client Registration 1.0 §2: RS256 when omitted). Never `none`
/// or a MAC: every ID token is signed with a key of ours (RFC 8725 §3.1).
pub const ALGORITHMS: [Algorithm; 2] = [Algorithm::RS256, Algorithm::ES256];

/// The registered algorithm named `name`, if a client may register it.
pub fn algorithm(name: &str) -> Option<Algorithm> {
    ALGORITHMS.into_iter().find(|alg| alg.as_str() == name)
}

/// Signs `claims` with the ID-token key of `alg` current at their `iat`.
pub fn sign(keys: &KeySet, alg: Algorithm, claims: &IdTokenClaims) -> Option<String> {
    let key = keys.signing(Purpose::IdToken(alg), claims.iat)?;
    Some(jws::sign(key, "JWT", claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_may_register_rs256_or_es256_and_nothing_else() {
        assert_eq!(algorithm("RS256"), Some(Algorithm::RS256));
        assert_eq!(algorithm("ES256"), Some(Algorithm::ES256));
        for refused in ["none", "HS256", "RS512", "PS256", "es256", "", "RS256 "] {
            assert_eq!(algorithm(refused), None, "{refused:?}");
        }
        assert_eq!(ALGORITHMS[0], Algorithm::RS256, "the default");
    }

    #[test]
    fn every_algorithm_a_client_may_register_has_its_own_key_line() {
        for alg in ALGORITHMS {
            assert!(Purpose::ALL.contains(&Purpose::IdToken(alg)), "{alg:?}");
        }
    }
}
