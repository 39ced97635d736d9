//! A `[[trusted_issuer]]`'s JWT access tokens, presented by an agent's
//! support tool as its actor token (RFC 8693 §2.1 `actor_token`) or bearer
//! token (docs/contract.md "Beside an existing identity provider";
//! docs/security.md O3, O4): the signature from the issuer's JWKS (kept,
//! refetched for an unknown `kid` at most once a minute), an asymmetric `alg`,
//! `iss`, an `aud` holding the configured audience, `exp`, `nbf` with 60 s
//! of leeway, a `sub`, and the agent claim when the settings name one. Which
//! client may present it is the caller's check (`may_be_presented_by`).

use super::fetch::{self, Unreachable};
use super::identity::Identity;
use super::refetched::Refetched;
use crate::config::TrustedIssuerSettings;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Clock skew allowed for `exp` and `nbf` (docs/contract.md).
const LEEWAY_SECONDS: u64 = 60;
/// Longer than any access token an IdP issues; bounds the work on junk.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// A verified token: who it names, and until when it may be used.
#[derive(Debug, Clone)]
pub struct TrustedToken {
    pub identity: Identity,
    pub expires_at: i64,
    /// The token's `client_id` (RFC 9068 §2.2), else its `azp`.
    pub client_id: Option<String>,
}

/// Why a token was refused, in words a client may be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

pub struct TrustedIssuer {
    pub settings: TrustedIssuerSettings,
    keys: Refetched<JwkSet>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// A key set's keys, each one that jsonwebtoken can read (an encryption key
/// or an unknown `kty` is skipped, not the whole set).
#[derive(Deserialize)]
struct RawKeys {
    keys: Vec<Value>,
}

impl TrustedIssuer {
    pub fn new(settings: TrustedIssuerSettings) -> Self {
        Self {
            settings,
            keys: Refetched::default(),
        }
    }

    pub fn may_be_presented_by(&self, client_id: &str) -> bool {
        self.settings.clients.iter().any(|c| c == client_id)
    }

    async fn fetch_keys(&self, http: &reqwest::Client) -> Result<JwkSet, Unreachable> {
        let uri = match &self.settings.jwks_uri {
            Some(uri) => uri.clone(),
            None => {
                let issuer = &self.settings.issuer;
                let found: Discovery = fetch::get_json(
                    http,
                    &fetch::discovery_url(issuer),
                    "its discovery document",
                )
                .await?;
                if &found.issuer != issuer {
                    return Err(Unreachable(
                        "its discovery document names another issuer".into(),
                    ));
                }
                found.jwks_uri
            }
        };
        let raw: RawKeys = fetch::get_json(http, &uri, "its key set").await?;
        Ok(JwkSet {
            keys: raw
                .keys
                .into_iter()
                .filter_map(|k| serde_json::from_value(k).ok())
                .collect(),
        })
    }

    async fn key(&self, http: &reqwest::Client, kid: &str) -> Result<Jwk, Refusal> {
        let unreachable = |e: Unreachable| {
            Refusal(format!(
                "the actor token's issuer could not be reached ({e})"
            ))
        };
        let held = self
            .keys
            .get(false, || self.fetch_keys(http))
            .await
            .map_err(unreachable)?;
        if let Some(key) = held.find(kid) {
            return Ok(key.clone());
        }
        let refetched = self
            .keys
            .get(true, || self.fetch_keys(http))
            .await
            .map_err(unreachable)?;
        refetched.find(kid).cloned().ok_or_else(|| {
            Refusal("the actor token is signed with a key its issuer does not publish".into())
        })
    }

    /// Verifies `token` (whose unverified `iss` named this issuer) at `now`.
    pub async fn verify(
        &self,
        http: &reqwest::Client,
        token: &str,
        now: i64,
    ) -> Result<TrustedToken, Refusal> {
        let malformed = || Refusal("the actor token is not a JWT".into());
        if token.len() > MAX_TOKEN_LEN {
            return Err(malformed());
        }
        // An `alg` outside jsonwebtoken's list (`none`) fails to parse here.
        let header = jsonwebtoken::decode_header(token).map_err(|_| malformed())?;
        if matches!(
            header.alg,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        ) {
            return Err(Refusal(
                "the actor token must be signed with the issuer's public key".into(),
            ));
        }
        let kid = header
            .kid
            .ok_or_else(|| Refusal("the actor token names no key (kid)".into()))?;
        let jwk = self.key(http, &kid).await?;
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|_| Refusal("the issuer's key could not be read".into()))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        // Time is checked below against behalf's clock.
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                Refusal(match e.kind() {
                    ErrorKind::InvalidSignature => {
                        "the actor token's signature does not verify".into()
                    }
                    ErrorKind::InvalidIssuer => "the actor token's issuer is not trusted".into(),
                    ErrorKind::InvalidAudience => format!(
                        "the actor token's audience does not include {}",
                        self.settings.audience
                    ),
                    ErrorKind::ImmatureSignature => "the actor token is not valid yet (nbf)".into(),
                    ErrorKind::MissingRequiredClaim(claim) => {
                        format!("the actor token has no {claim} claim")
                    }
                    ErrorKind::InvalidAlgorithm => {
                        "the actor token's alg does not match its key".into()
                    }
                    _ => "the actor token could not be verified".into(),
                })
            })?
            .claims;
        let expires_at = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
        // No leeway here: the delegated token may not outlive it (docs/security.md E10).
        if now >= expires_at {
            return Err(Refusal("the actor token has expired".into()));
        }
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Refusal("the actor token has no sub claim".into()))?
            .to_string();
        let identity = Identity {
            issuer: self.settings.issuer.clone(),
            subject,
            claims,
        };
        if let Some(rule) = self.settings.agent_claim()
            && !identity.is_agent(&rule)
        {
            return Err(Refusal(format!(
                "the actor token's {} claim does not make it an agent",
                rule.claim
            )));
        }
        let client_id = ["client_id", "azp"]
            .iter()
            .find_map(|c| identity.claims.get(*c).and_then(Value::as_str))
            .map(str::to_string);
        Ok(TrustedToken {
            identity,
            expires_at,
            client_id,
        })
    }
}

/// The `iss` of a JWT, read before anything is verified: which trusted
/// issuer's keys to try. Nothing else is read from an unverified token.
pub fn unverified_issuer(token: &str) -> Option<String> {
    match fetch::jwt_claims(token)?.remove("iss")? {
        Value::String(iss) => Some(iss),
        _ => None,
    }
}
