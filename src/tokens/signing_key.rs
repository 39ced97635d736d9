//! One signing key: generated with aws-lc-rs, its private half sealed under the
//! key-encryption key, its public half as a JWK (RFC 7517 §4, RFC 7518 §6).
//! Each key has exactly one algorithm (RFC 8725 §3.1).

use super::kek::KeyEncryptionKey;
use crate::random;
use crate::store::signing_keys::SigningKeyRow;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub enum Algorithm {
    ES256,
    RS256,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::RS256 => "RS256",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "ES256" => Some(Self::ES256),
            "RS256" => Some(Self::RS256),
            _ => None,
        }
    }

    pub fn to_jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::ES256 => jsonwebtoken::Algorithm::ES256,
            Self::RS256 => jsonwebtoken::Algorithm::RS256,
        }
    }
}

/// What a key signs, and so which keys take over from one another: access
/// tokens use ES256 by default (fast; RS256 on request, RFC 9068 §2.1);
/// Security Event Tokens and audit checkpoints ES256 (DESIGN.md "Events"). ID
/// tokens have one key line per algorithm a client may register as its
/// `id_token_signed_response_alg` (OIDC Dynamic Client Registration 1.0 §2):
/// RS256, which OIDC requires and is the default, and ES256. Each key still has
/// one algorithm (RFC 8725 §3.1): an ES256 ID-token key never signs RS256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    AccessToken,
    IdToken(Algorithm),
    SecurityEvent,
}

impl Purpose {
    pub const ALL: [Purpose; 4] = [
        Purpose::AccessToken,
        Purpose::IdToken(Algorithm::RS256),
        Purpose::IdToken(Algorithm::ES256),
        Purpose::SecurityEvent,
    ];

    /// As stored in `signing_keys.purpose` (an ID-token key's algorithm is in `alg`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "access_token",
            Self::IdToken(_) => "id_token",
            Self::SecurityEvent => "security_event",
        }
    }

    /// The purpose of a stored key of algorithm `alg`.
    fn parse(s: &str, alg: Algorithm) -> Option<Self> {
        match s {
            "access_token" => Some(Self::AccessToken),
            "id_token" => Some(Self::IdToken(alg)),
            "security_event" => Some(Self::SecurityEvent),
            _ => None,
        }
    }

    /// The purpose of the key `row` stores; `None` for one this build does not know.
    pub fn of_row(row: &SigningKeyRow) -> Option<Self> {
        Self::parse(&row.purpose, Algorithm::parse(&row.alg)?)
    }
}

enum Signer {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

pub struct SigningKey {
    pub kid: String,
    pub alg: Algorithm,
    pub purpose: Purpose,
    pub public_jwk: serde_json::Value,
    pub decoding_key: DecodingKey,
    pub published_at: i64,
    pub signs_from: i64,
    signer: Signer,
}

#[derive(Debug)]
pub struct KeyError(pub String);

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl SigningKey {
    /// A new `alg` key pair for `purpose`, and the row that stores it.
    pub fn generate(
        purpose: Purpose,
        alg: Algorithm,
        kek: &KeyEncryptionKey,
        published_at: i64,
        signs_from: i64,
    ) -> Result<(SigningKeyRow, Self), KeyError> {
        let failed = |_| KeyError("key generation failed".into());
        let pkcs8 = match alg {
            Algorithm::ES256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                    .map_err(failed)?
                    .as_ref()
                    .to_vec()
            }
            Algorithm::RS256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .and_then(|k| k.as_der())
                .map_err(failed)?
                .as_ref()
                .to_vec(),
        };
        let kid = random::identifier();
        let key = Self::from_pkcs8(kid.clone(), alg, purpose, &pkcs8, published_at, signs_from)?;
        let row = SigningKeyRow {
            encrypted_pkcs8: kek.seal(&pkcs8, &kid),
            kid,
            alg: alg.as_str().into(),
            purpose: purpose.as_str().into(),
            public_jwk: key.public_jwk.to_string(),
            published_at,
            signs_from,
        };
        Ok((row, key))
    }

    pub fn from_row(row: &SigningKeyRow, kek: &KeyEncryptionKey) -> Result<Self, KeyError> {
        let alg = Algorithm::parse(&row.alg)
            .ok_or_else(|| KeyError(format!("key {}: unknown algorithm {}", row.kid, row.alg)))?;
        let purpose = Purpose::parse(&row.purpose, alg)
            .ok_or_else(|| KeyError(format!("key {}: unknown purpose", row.kid)))?;
        let pkcs8 = kek.open(&row.encrypted_pkcs8, &row.kid).map_err(|_| {
            KeyError(format!(
                "key {}: cannot decrypt; is this the key-encryption key it was created with?",
                row.kid
            ))
        })?;
        Self::from_pkcs8(
            row.kid.clone(),
            alg,
            purpose,
            &pkcs8,
            row.published_at,
            row.signs_from,
        )
    }

    fn from_pkcs8(
        kid: String,
        alg: Algorithm,
        purpose: Purpose,
        pkcs8: &[u8],
        published_at: i64,
        signs_from: i64,
    ) -> Result<Self, KeyError> {
        let rejected = |e| KeyError(format!("key {kid}: {e}"));
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let (signer, public_jwk, decoding_key) = match alg {
            Algorithm::ES256 => {
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                    .map_err(rejected)?;
                // Uncompressed point: 0x04 || x || y.
                let point = pair.public_key().as_ref();
                let (x, y) = (b64(&point[1..33]), b64(&point[33..65]));
                let decoding = DecodingKey::from_ec_components(&x, &y)
                    .map_err(|e| KeyError(format!("key {kid}: {e}")))?;
                let jwk = json!({"kty": "EC", "crv": "P-256", "x": x, "y": y});
                (Signer::Ec(pair), jwk, decoding)
            }
            Algorithm::RS256 => {
                let pair = RsaKeyPair::from_pkcs8(pkcs8).map_err(rejected)?;
                let public = pair.public_key();
                let n = public.modulus().big_endian_without_leading_zero().to_vec();
                let e = public.exponent().big_endian_without_leading_zero().to_vec();
                let decoding = DecodingKey::from_rsa_raw_components(&n, &e);
                let jwk = json!({"kty": "RSA", "n": b64(&n), "e": b64(&e)});
                (Signer::Rsa(pair), jwk, decoding)
            }
        };
        let mut public_jwk = public_jwk;
        public_jwk["kid"] = json!(kid);
        public_jwk["alg"] = json!(alg.as_str());
        public_jwk["use"] = json!("sig");
        Ok(Self {
            kid,
            alg,
            purpose,
            public_jwk,
            decoding_key,
            published_at,
            signs_from,
            signer,
        })
    }

    /// The JWS signature of `message` (RFC 7518 §3.4: ECDSA as raw `r || s`).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.signer {
            Signer::Ec(pair) => pair
                .sign(&rng, message)
                .expect("ECDSA signing with a valid key cannot fail")
                .as_ref()
                .to_vec(),
            Signer::Rsa(pair) => {
                let mut signature = vec![0u8; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .expect("RSA signing with a valid key cannot fail");
                signature
            }
        }
    }
}
