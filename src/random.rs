//! Random identifiers and secrets, and the SHA-256 digests that the database
//! stores in their place (SECURITY.md B6: ≥ 128 random bits, only hashes kept).

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `bytes` random bytes from the operating system's CSPRNG, base64url without padding.
pub fn token(bytes: usize) -> String {
    URL_SAFE_NO_PAD.encode(random_bytes(bytes))
}

pub fn random_bytes(bytes: usize) -> Vec<u8> {
    let mut buf = vec![0u8; bytes];
    // The system RNG failing means the OS cannot give randomness: nothing safe remains to do.
    SystemRandom::new()
        .fill(&mut buf)
        .expect("the operating system's random number generator failed");
    buf
}

/// A 128-bit identifier (`jti`, user `sub`, key `kid`).
pub fn identifier() -> String {
    token(16)
}

/// A 256-bit secret (client secrets, refresh tokens, codes).
pub fn secret() -> String {
    token(32)
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Constant-time comparison of a presented secret against a stored SHA-256 digest.
pub fn matches_sha256(presented: &str, stored: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    stored.len() == 32 && bool::from(sha256(presented.as_bytes()).as_slice().ct_eq(stored))
}

/// Hex SHA-256: the database key of a secret that must never be stored itself.
pub fn hash_hex(secret: &str) -> String {
    sha256(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_carry_256_bits_and_differ() {
        let (a, b) = (secret(), secret());
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn hash_comparison_accepts_only_the_same_secret() {
        let stored = sha256(b"right");
        assert!(matches_sha256("right", &stored));
        assert!(!matches_sha256("wrong", &stored));
        assert!(!matches_sha256("right", &stored[..31]));
    }
}
