//! The key-encryption key: AES-256-GCM over the private signing keys, so that a
//! copy of the database alone does not yield them (docs/security.md H4). The
//! 32-byte root secret comes from `BEHALF_KEY_ENCRYPTION_KEY`, or for SQLite
//! from a `0600` file beside the database; `server_mac` derives its key from it too.

use crate::random::random_bytes;
use crate::secret::Secret;
use crate::store::Backend;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use std::io::Write;
use std::path::PathBuf;

pub struct KeyEncryptionKey {
    aead: LessSafeKey,
}

#[derive(Debug)]
pub struct UnsealError;

impl KeyEncryptionKey {
    pub fn from_bytes(bytes: &Secret<[u8; 32]>) -> Self {
        let key =
            UnboundKey::new(&AES_256_GCM, bytes.expose()).expect("32 bytes is an AES-256 key");
        Self {
            aead: LessSafeKey::new(key),
        }
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

/// The root secret: the configured one, or for SQLite the key file's (as the
/// README explains). `configured` is `Settings::key_encryption_key_bytes`;
/// `sealed_in_database`: the database already holds something sealed or keyed
/// under a root, so a missing key file is an error, not a first start.
pub fn resolve(
    configured: Option<Secret<[u8; 32]>>,
    backend: &Backend,
    sealed_in_database: bool,
) -> Result<Secret<[u8; 32]>, String> {
    if let Some(bytes) = configured {
        return Ok(bytes);
    }
    match backend {
        Backend::Sqlite(path) => key_file(PathBuf::from(format!("{path}.kek")), sealed_in_database),
        Backend::Postgres(_) => {
            Err("key_encryption_key (BEHALF_KEY_ENCRYPTION_KEY) is required with PostgreSQL".into())
        }
    }
}

/// Reads the key file, or creates it (mode 0600, never overwriting) on first
/// start; never when the database holds keys sealed under the missing one
/// (DESIGN "Limits": refuse, naming the file, and create none).
fn key_file(path: PathBuf, sealed_in_database: bool) -> Result<Secret<[u8; 32]>, String> {
    let shown = path.display().to_string();
    match std::fs::read_to_string(&path) {
        Ok(text) => decode_key(text.trim())
            .map(Secret::new)
            .ok_or_else(|| format!("key file {shown}: not 32 bytes of base64")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && sealed_in_database => Err(format!(
            "key file {shown} is missing, but the database holds keys sealed under it: \
             restore the file (or set key_encryption_key); none was created"
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes: [u8; 32] = random_bytes(32).try_into().expect("32 bytes");
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = match options.open(&path) {
                Ok(file) => file,
                // Another process created it between our read and our create: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return key_file(path, sealed_in_database);
                }
                Err(e) => return Err(format!("cannot create key file {shown}: {e}")),
            };
            file.write_all(format!("{}\n", STANDARD.encode(bytes)).as_bytes())
                .and_then(|_| file.sync_all())
                .map_err(|e| format!("cannot write key file {shown}: {e}"))?;
            tracing::info!(path = %shown, "created the key-encryption key file");
            Ok(Secret::new(bytes))
        }
        Err(e) => Err(format!("cannot read key file {shown}: {e}")),
    }
}

/// Base64, standard or URL-safe, padding optional.
pub fn decode_key(encoded: &str) -> Option<[u8; 32]> {
    let unpadded = encoded.trim_end_matches('=');
    let bytes = STANDARD_NO_PAD
        .decode(unpadded)
        .or_else(|_| URL_SAFE_NO_PAD.decode(unpadded))
        .ok()?;
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_decode_in_every_base64_flavour() {
        let std = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
        assert!(decode_key(std).is_some());
        assert!(decode_key(std.trim_end_matches('=')).is_some());
        assert!(decode_key("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA").is_some());
        assert!(decode_key("too-short").is_none());
    }

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
