//! JWS compact serialization (RFC 7515 §7.1) of a JWT signed by one of our keys.
//! Signing here with pre-parsed aws-lc-rs keys avoids re-parsing the private
//! key on every token, which `jsonwebtoken::encode` would do.

use super::signing_key::SigningKey;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    kid: &'a str,
}

/// `typ` is `at+jwt` for access tokens (RFC 9068 §2.1) and `JWT` for ID tokens.
pub fn sign<C: Serialize>(key: &SigningKey, typ: &str, claims: &C) -> String {
    let header = Header {
        alg: key.alg.as_str(),
        typ,
        kid: &key.kid,
    };
    let mut token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("header serializes"));
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(
        serde_json::to_vec(claims).expect("claims serialize"),
        &mut token,
    );
    let signature = key.sign(token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    token
}
