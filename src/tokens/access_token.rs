//! RFC 9068 JWT access tokens: the claims, and issuing one with the key ring's
//! current access-token key (header `typ: at+jwt`, RFC 9068 §2.1).

use super::jws;
use super::keyring::KeySet;
use super::signing_key::Purpose;
use serde::{Deserialize, Deserializer, Serialize};

pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// `aud`: one string, or several (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn from_list(mut list: Vec<String>) -> Self {
        if list.len() == 1 {
            Self::One(list.remove(0))
        } else {
            Self::Many(list)
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub iat: i64,
    pub exp: i64,
    /// Present only on tokens from elsewhere; ours are valid from `iat`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present_number"
    )]
    pub nbf: Option<i64>,
    pub jti: String,
    /// When the user signed in (RFC 9068 §2.2.1), on tokens about a user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// Who is really acting (RFC 8693 §4.1), on delegated tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
    /// The grant a delegated token was minted under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
}

/// The `act` claim: the acting party, with `iss` when it came from another issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
}

impl AccessTokenClaims {
    pub fn scopes(&self) -> Vec<&str> {
        self.scope
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
            .collect()
    }

    pub fn has_scope(&self, wanted: &str) -> bool {
        self.scopes().contains(&wanted)
    }
}

/// `nbf`, when present, must be a number: `null` or a string is rejected, not
/// skipped (docs/security.md H3).
fn present_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    i64::deserialize(d).map(Some)
}

#[derive(Debug)]
pub struct NoSigningKey;

/// Signs `claims` with the access-token key that signs at `claims.iat`.
pub fn issue(keys: &KeySet, claims: &AccessTokenClaims) -> Result<String, NoSigningKey> {
    let key = keys
        .signing(Purpose::AccessToken, claims.iat)
        .ok_or(NoSigningKey)?;
    Ok(jws::sign(key, ACCESS_TOKEN_TYP, claims))
}
