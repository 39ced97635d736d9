//! The JWT verifier (`tokens::verifier::verify_access_token`) on any string,
//! against a fixed key ring: it never panics, and it accepts a token only if
//! the ring's current access-token key really signed exactly that header and
//! payload with ES256, `kid` naming that key, `typ` `at+jwt`, our issuer, and
//! not expired (RFC 7515 §5.2, RFC 8725 §3.1, RFC 9068 §4; docs/security.md
//! H1, H2, H3, E4, E5). The retired key and the ID-token key verify nothing.

#![no_main]

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use behalf::tokens::keyring::KeySet;
use behalf::tokens::verifier::verify_access_token;
use behalf_fuzz::fixed_keys::{self, CURRENT_KID, ISSUER, NOW};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static KEYS: LazyLock<KeySet> = LazyLock::new(fixed_keys::key_set);

static CURRENT_PUBLIC_KEY: LazyLock<Vec<u8>> = LazyLock::new(|| {
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, fixed_keys::CURRENT_PKCS8)
        .expect("fixed key")
        .public_key()
        .as_ref()
        .to_vec()
});

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(claims) = verify_access_token(&KEYS, ISSUER, token, NOW) else {
        return;
    };
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "accepted a token without three parts");
    let signing_input = &token[..parts[0].len() + 1 + parts[1].len()];
    let signature = URL_SAFE_NO_PAD
        .decode(parts[2])
        .expect("accepted a signature that is not canonical base64url");
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, CURRENT_PUBLIC_KEY.as_slice())
        .verify(signing_input.as_bytes(), &signature)
        .expect("accepted a token the current access-token key did not sign");
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(parts[0])
            .expect("accepted a header that is not base64url"),
    )
    .expect("accepted a header that is not JSON");
    assert_eq!(header["kid"], CURRENT_KID, "accepted another key's kid");
    assert_eq!(header["alg"], "ES256", "accepted another algorithm");
    let typ = header["typ"]
        .as_str()
        .expect("accepted a token without typ");
    assert!(
        typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt"),
        "accepted typ {typ:?}"
    );
    assert_eq!(claims.iss, ISSUER, "accepted a foreign issuer");
    assert!(NOW < claims.exp, "accepted an expired token");
    assert!(
        claims.nbf.is_none_or(|nbf| nbf <= NOW),
        "accepted a token not yet valid"
    );
});
