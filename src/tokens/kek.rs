//! The key-encryption key: AES-256-GCM over the private signing keys, so that a
//! copy of the database alone does not yield them. It comes from
//! `BEHALF_KEY_ENCRYPTION_KEY`, or for SQLite from a `0600` file beside the database.

use crate::config::{Settings, decode_key};
use crate::random::random_bytes;
use crate::secret::Secret;
use crate::store::Backend;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use std::io::Write;
use std::path::PathBuf;

pub struct KeyEncryptionKey {
    aead: LessSafeKey,
    /// A MAC key derived from the same secret, for values the server hands out
    /// and must recognise later (e.g. the re-authentication marker).
    mac: hmac::Key,
}

#[derive(Debug)]
pub struct UnsealError;

impl KeyEncryptionKey {
    pub fn from_bytes(bytes: &Secret<[u8; 32]>) -> Self {
        let key =
            UnboundKey::new(&AES_256_GCM, bytes.expose()).expect("32 bytes is an AES-256 key");
        let derive = hmac::Key::new(hmac::HMAC_SHA256, bytes.expose());
        let mac_key = hmac::sign(&derive, b"behalf: server MAC key v1");
        Self {
            aead: LessSafeKey::new(key),
            mac: hmac::Key::new(hmac::HMAC_SHA256, mac_key.as_ref()),
        }
    }

    /// A base64url MAC over `data`, shared by every instance with the same key.
    pub fn mac(&self, data: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.mac, data.as_bytes()))
    }

    pub fn verify_mac(&self, data: &str, tag: &str) -> bool {
        URL_SAFE_NO_PAD
            .decode(tag)
            .is_ok_and(|tag| hmac::verify(&self.mac, data.as_bytes(), &tag).is_ok())
    }

    /// `nonce || ciphertext || tag`, bound to `context` (the key id) as associated data.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let nonce_bytes: [u8; NONCE_LEN] = random_bytes(NONCE_LEN).try_into().expect("12 bytes");
        let mut sealed = plaintext.to_vec();
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(context.as_bytes()),
                &mut sealed,
            )
            .expect("AES-GCM sealing of a small buffer cannot fail");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, UnsealError> {
        if sealed.len() < NONCE_LEN {
            return Err(UnsealError);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| UnsealError)?;
        let mut buf = ciphertext.to_vec();
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| UnsealError)?;
        Ok(plain.to_vec())
    }
}

/// Where the key-encryption key comes from, as the README explains.
pub fn resolve(settings: &Settings) -> Result<KeyEncryptionKey, String> {
    if let Some(bytes) = settings.key_encryption_key_bytes()? {
        return Ok(KeyEncryptionKey::from_bytes(&bytes));
    }
    match settings.backend()? {
        Backend::Sqlite(path) => key_file(PathBuf::from(format!("{path}.kek"))),
        Backend::Postgres(_) => {
            Err("key_encryption_key (BEHALF_KEY_ENCRYPTION_KEY) is required with PostgreSQL".into())
        }
    }
}

/// Reads the key file, or creates it (mode 0600, never overwriting) on first start.
fn key_file(path: PathBuf) -> Result<KeyEncryptionKey, String> {
    let shown = path.display().to_string();
    match std::fs::read_to_string(&path) {
        Ok(text) => decode_key(text.trim())
            .map(|k| KeyEncryptionKey::from_bytes(&Secret::new(k)))
            .ok_or_else(|| format!("key file {shown}: not 32 bytes of base64")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes: [u8; 32] = random_bytes(32).try_into().expect("32 bytes");
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = match options.open(&path) {
                Ok(file) => file,
                // Another process created it between our read and our create: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return key_file(path),
                Err(e) => return Err(format!("cannot create key file {shown}: {e}")),
            };
            file.write_all(format!("{}\n", STANDARD.encode(bytes)).as_bytes())
                .and_then(|_| file.sync_all())
                .map_err(|e| format!("cannot write key file {shown}: {e}"))?;
            tracing::info!(path = %shown, "created the key-encryption key file");
            Ok(KeyEncryptionKey::from_bytes(&Secret::new(bytes)))
        }
        Err(e) => Err(format!("cannot read key file {shown}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_same_key_and_context() {
        let kek = KeyEncryptionKey::from_bytes(&Secret::new([7u8; 32]));
        let sealed = kek.seal(b"private key", "kid-1");
        assert_eq!(kek.open(&sealed, "kid-1").unwrap(), b"private key");
        assert!(kek.open(&sealed, "kid-2").is_err());
        let other = KeyEncryptionKey::from_bytes(&Secret::new([8u8; 32]));
        assert!(other.open(&sealed, "kid-1").is_err());
    }
}
