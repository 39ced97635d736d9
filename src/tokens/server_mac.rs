//! The server's MAC key, derived from the key-encryption key's root secret, for
//! values the server hands out and must recognise later on any instance (the
//! re-authentication marker of `oauth::authorize::request`). HMAC-SHA-256.

use crate::secret::Secret;
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub struct ServerMac {
    key: hmac::Key,
}

impl ServerMac {
    /// Derived, so the MAC key is never the sealing key itself.
    pub fn derive(root: &Secret<[u8; 32]>) -> Self {
        let derive = hmac::Key::new(hmac::HMAC_SHA256, root.expose());
        let mac_key = hmac::sign(&derive, b"behalf: server MAC key v1");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, mac_key.as_ref()),
        }
    }

    /// A base64url MAC over `data`, the same on every instance with the same root.
    pub fn sign(&self, data: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, data.as_bytes()))
    }

    pub fn verify(&self, data: &str, tag: &str) -> bool {
        URL_SAFE_NO_PAD
            .decode(tag)
            .is_ok_and(|tag| hmac::verify(&self.key, data.as_bytes(), &tag).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mac_verifies_only_its_own_data_under_the_same_root() {
        let mac = ServerMac::derive(&Secret::new([1u8; 32]));
        let tag = mac.sign("data");
        assert!(mac.verify("data", &tag));
        assert!(!mac.verify("other", &tag));
        assert!(!ServerMac::derive(&Secret::new([2u8; 32])).verify("data", &tag));
    }
}
