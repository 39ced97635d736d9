//! People's accounts: creation (`new_user`, with a `profile`), argon2id passwords (`password`),
//! sign-in and sign-out (`sign_in`, docs/security.md J3–J5), its throttle
//! (`throttle`, L1) and device cookies (`device_cookie`, L2), signing in
//! through a company IdP (`upstream_sign_in`, O1, O2), and the start of
//! browser sessions (`sessions`).

pub mod device_cookie;
pub mod password;
pub mod profile;
pub mod sessions;
pub mod sign_in;
pub mod throttle;
pub mod upstream_sign_in;

use crate::random;
use crate::store::users::UserRow;

/// A new local account; `password` is hashed here and never stored in clear.
pub fn new_user(
    username: &str,
    password: Option<&str>,
    is_agent: bool,
    now: i64,
) -> Result<UserRow, String> {
    validate_username(username)?;
    let password_hash = password.map(password::hash).transpose()?;
    Ok(UserRow {
        sub: random::identifier(),
        username: username.to_string(),
        password_hash,
        is_agent,
        created_at: now,
        disabled_at: None,
        email: None,
        display_name: None,
        team: None,
    })
}

fn validate_username(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._@".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "user name {name:?}: use 1 to 64 letters, digits, '-', '.', '_' or '@'"
        ))
    }
}
