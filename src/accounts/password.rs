//! Password hashing for user accounts: argon2id with one of OWASP's equivalent
//! parameter sets, 7 MiB and 5 passes (rather than 19 MiB and 2: the same
//! work, a third of the memory each sign-in holds while it runs). Used at
//! sign-in only, never on the token path. Hashes carry their parameters, so
//! older hashes keep verifying.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// Too short a password is refused at creation; there is no upper bound below 1 KiB.
pub const MIN_PASSWORD_LEN: usize = 8;

fn hasher() -> Argon2<'static> {
    let params = Params::new(7 * 1024, 5, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> Result<String, String> {
    if password.len() < MIN_PASSWORD_LEN || password.len() > 1024 {
        return Err(format!(
            "the password must be {MIN_PASSWORD_LEN} to 1024 characters"
        ));
    }
    let salt = crate::random::random_bytes(16);
    hasher()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

pub fn verify(password: &str, stored: &str) -> bool {
    hasher()
        .verify_password(password.as_bytes(), stored)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify_only_the_right_password() {
        let stored = hash("correct horse").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse", &stored));
        assert!(!verify("wrong horse", &stored));
        assert!(hash("short").is_err());
    }
}
