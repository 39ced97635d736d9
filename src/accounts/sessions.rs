//! Starting a browser session. Signing in always starts a new session (the id
//! changes: no fixation, docs/security.md J1) and is recorded in the audit
//! trail in the same transaction; signing out deletes it (`sign_in::logout`).

use crate::audit::{self, Action};
use crate::digest;
use crate::random;
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use crate::store::{Database, StoreError};
use serde_json::json;

/// An anonymous session only carries the sign-in form's CSRF token.
pub const ANONYMOUS_TTL: i64 = 3600;

/// Starts a session for `user` (anonymous when `None`) lasting `ttl`, replacing
/// `previous`. Returns the cookie value to send and the stored row.
pub async fn start(
    db: &Database,
    now: i64,
    ttl: i64,
    user: Option<&UserRow>,
    previous: Option<String>,
) -> Result<(String, SessionRow), StoreError> {
    let value = random::secret();
    let row = SessionRow {
        id: digest::hash_hex(&value),
        user_sub: user.map(|u| u.sub.clone()),
        csrf_token: random::secret(),
        auth_time: user.map(|_| now),
        created_at: now,
        expires_at: now + ttl,
    };
    let stored = row.clone();
    db.write(move |c| {
        stored.insert(c)?;
        if let Some(old) = previous {
            SessionRow::delete(c, &old)?;
        }
        if let Some(sub) = &stored.user_sub {
            audit::record(c, now, sub, Action::SessionSignedIn, Some(sub), json!({}))?;
        }
        Ok(())
    })
    .await?;
    Ok((value, row))
}
