//! Writes the JWT verifier's seed tokens to `fuzz/seeds/jwt_verifier/`: real
//! tokens signed by the fixed keys (current, retired, ID-token) and near misses
//! of the shapes `tests/api/jwt_verifier.rs` refuses, and prints what the
//! verifier answers to each (only the first three verify). Run it again only if
//! the keys or the claims change:
//! `cargo run --manifest-path fuzz/Cargo.toml --example write_jwt_seeds`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use behalf::tokens::jws;
use behalf::tokens::signing_key::SigningKey;
use behalf::tokens::verifier::verify_access_token;
use behalf_fuzz::fixed_keys::{
    self, CURRENT_KID, ID_TOKEN_KID, ISSUER, NOW, RETIRED_KID, SEED_EXPIRY,
};
use serde_json::{Value, json};
use std::path::Path;

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

fn claims() -> Value {
    json!({
        "iss": ISSUER, "sub": "svc", "aud": ISSUER, "client_id": "svc",
        "scope": "read agent", "iat": NOW - 60, "exp": SEED_EXPIRY, "jti": "j1"
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn main() {
    let keys = fixed_keys::key_set();
    let key =
        |kid: &str| -> &SigningKey { keys.all().iter().find(|k| k.kid == kid).expect("fixed key") };
    let current = key(CURRENT_KID);
    let delegated = with(
        with(
            with(claims(), "act", json!({"sub": "agent-1", "iss": ISSUER})),
            "grant_id",
            json!("g1"),
        ),
        "aud",
        json!([ISSUER, "https://api.example.com"]),
    );
    let unsigned = |header: Value, claims: &Value| format!("{}.{}.", b64(&header), b64(claims));
    let seeds = [
        ("current_key", jws::sign(current, "at+jwt", &claims())),
        (
            "delegated_with_act",
            jws::sign(current, "at+jwt", &delegated),
        ),
        (
            "media_type_typ",
            jws::sign(current, "application/at+jwt", &claims()),
        ),
        (
            "not_yet_valid",
            jws::sign(
                current,
                "at+jwt",
                &with(claims(), "nbf", json!(SEED_EXPIRY - 1)),
            ),
        ),
        (
            "expired",
            jws::sign(current, "at+jwt", &with(claims(), "exp", json!(NOW - 1))),
        ),
        (
            "exp_as_string",
            jws::sign(
                current,
                "at+jwt",
                &with(claims(), "exp", json!("9999999999")),
            ),
        ),
        (
            "foreign_issuer",
            jws::sign(
                current,
                "at+jwt",
                &with(claims(), "iss", json!("https://evil.example")),
            ),
        ),
        ("typ_jwt", jws::sign(current, "JWT", &claims())),
        (
            "retired_key",
            jws::sign(key(RETIRED_KID), "at+jwt", &claims()),
        ),
        (
            "id_token_key",
            jws::sign(key(ID_TOKEN_KID), "JWT", &claims()),
        ),
        (
            "id_token_key_at_jwt",
            jws::sign(key(ID_TOKEN_KID), "at+jwt", &claims()),
        ),
        (
            "alg_none",
            unsigned(
                json!({"alg": "none", "typ": "at+jwt", "kid": CURRENT_KID}),
                &claims(),
            ),
        ),
        (
            "alg_hs256",
            format!(
                "{}c2ln",
                unsigned(
                    json!({"alg": "HS256", "typ": "at+jwt", "kid": CURRENT_KID}),
                    &claims()
                )
            ),
        ),
        (
            "embedded_jwk",
            format!(
                "{}{}",
                unsigned(
                    json!({"alg": "ES256", "typ": "at+jwt", "kid": CURRENT_KID, "jwk": current.public_jwk, "jku": "https://evil.example/jwks"}),
                    &claims()
                ),
                jws::sign(current, "at+jwt", &claims())
                    .rsplit('.')
                    .next()
                    .unwrap()
            ),
        ),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/jwt_verifier");
    std::fs::create_dir_all(&dir).unwrap();
    let count = seeds.len();
    for (name, token) in seeds {
        let answer = verify_access_token(&keys, ISSUER, &token, NOW).map(|c| c.jti);
        println!("{name}: {answer:?}");
        std::fs::write(dir.join(name), token).unwrap();
    }
    println!("wrote {count} seeds to {}", dir.display());
}
