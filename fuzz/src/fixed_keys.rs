//! A fixed key ring for the JWT verifier target, so that seed tokens signed
//! once (`cargo run --example write_jwt_seeds`) still verify in every run.
//! The keys in `fuzz/keys/` are for fuzzing only and sign nothing real.
//!
//! The ring holds the current ES256 access-token key, an older ES256
//! access-token key retired long ago, and an RS256 ID-token key: only the first
//! may verify an access token (docs/security.md H1, H2).

use behalf::secret::Secret;
use behalf::store::signing_keys::SigningKeyRow;
use behalf::tokens::kek::KeyEncryptionKey;
use behalf::tokens::keyring::KeySet;
use behalf::tokens::signing_key::{Algorithm, Purpose, SigningKey};
use std::sync::Arc;

pub const ISSUER: &str = "https://id.example.com";
/// The verifier's clock: long after the current key took over.
pub const NOW: i64 = 1_800_000_000;
/// Tokens in the seeds live until then.
pub const SEED_EXPIRY: i64 = NOW + 3600;

pub const CURRENT_KID: &str = "fuzz-access-current";
pub const RETIRED_KID: &str = "fuzz-access-retired";
pub const ID_TOKEN_KID: &str = "fuzz-id-token";

/// The current access-token key's private half (PKCS#8 DER).
pub const CURRENT_PKCS8: &[u8] = include_bytes!("../keys/access_current.es256.pk8");
const RETIRED_PKCS8: &[u8] = include_bytes!("../keys/access_retired.es256.pk8");
const ID_TOKEN_PKCS8: &[u8] = include_bytes!("../keys/id_token.rs256.pk8");

/// How long a replaced key stays published (the longest token lifetime).
const RETIRE_AFTER: i64 = 3600;

/// The ring, oldest first; built through the same `SigningKey::from_row` the
/// server uses when it loads keys from the database.
pub fn key_set() -> KeySet {
    let kek = KeyEncryptionKey::from_bytes(&Secret::new([7u8; 32]));
    let key = |kid: &str, alg: Algorithm, purpose: Purpose, pkcs8: &[u8], signs_from: i64| {
        let row = SigningKeyRow {
            kid: kid.into(),
            alg: alg.as_str().into(),
            purpose: purpose.as_str().into(),
            encrypted_pkcs8: kek.seal(pkcs8, kid),
            public_jwk: String::new(),
            published_at: signs_from,
            signs_from,
        };
        Arc::new(SigningKey::from_row(&row, &kek).expect("fixed fuzzing key loads"))
    };
    KeySet::new(
        vec![
            key(
                RETIRED_KID,
                Algorithm::ES256,
                Purpose::AccessToken,
                RETIRED_PKCS8,
                0,
            ),
            key(
                ID_TOKEN_KID,
                Algorithm::RS256,
                Purpose::IdToken(Algorithm::RS256),
                ID_TOKEN_PKCS8,
                0,
            ),
            key(
                CURRENT_KID,
                Algorithm::ES256,
                Purpose::AccessToken,
                CURRENT_PKCS8,
                1000,
            ),
        ],
        RETIRE_AFTER,
    )
}
