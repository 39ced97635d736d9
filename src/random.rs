//! Random identifiers and secrets from the operating system's CSPRNG
//! (docs/security.md B6: at least 128 random bits).

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_carry_256_bits_and_differ() {
        let (a, b) = (secret(), secret());
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_ne!(a, b);
    }
}
