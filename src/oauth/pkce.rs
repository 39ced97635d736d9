//! PKCE (RFC 7636) with `S256` only: the challenge sent to `/authorize`, the
//! verifier sent to `/token`.

use crate::digest::sha256;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
fn is_pkce_string(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// An S256 challenge is the base64url of a SHA-256: exactly 43 such characters.
pub fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && is_pkce_string(challenge)
}

/// `BASE64URL(SHA256(verifier)) == challenge` (RFC 7636 §4.6), for a well-formed verifier.
pub fn verify(verifier: &str, challenge: &str) -> bool {
    use subtle::ConstantTimeEq;
    is_pkce_string(verifier)
        && bool::from(
            URL_SAFE_NO_PAD
                .encode(sha256(verifier.as_bytes()))
                .as_bytes()
                .ct_eq(challenge.as_bytes()),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_appendix_b_example_verifies() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(is_s256_challenge(challenge));
        assert!(verify(verifier, challenge));
        assert!(!verify(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj",
            challenge
        ));
        assert!(!verify("short", challenge));
        assert!(
            !verify(challenge, challenge),
            "the challenge is not a verifier for itself"
        );
    }
}
