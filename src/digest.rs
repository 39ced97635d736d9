//! SHA-256 digests: what the database stores in place of every secret and token
//! (docs/security.md B6), and the constant-time comparison against them.

use aws_lc_rs::digest;

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
    fn hash_comparison_accepts_only_the_same_secret() {
        let stored = sha256(b"right");
        assert!(matches_sha256("right", &stored));
        assert!(!matches_sha256("wrong", &stored));
        assert!(!matches_sha256("right", &stored[..31]));
    }
}
