//! Browser sessions: the `behalf_session` cookie (`HttpOnly`, `SameSite=Lax`,
//! `Secure` under an https issuer) holds a 256-bit random value; the database
//! holds its SHA-256. Each session carries its own CSRF token. Signing in always
//! starts a new session (the id changes: no fixation) and is recorded in the
//! audit trail; signing out deletes the session.

use crate::app::App;
use crate::audit;
use crate::random;
use crate::store::StoreError;
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use axum::http::{HeaderMap, HeaderValue, header};
use serde_json::json;

pub const COOKIE: &str = "behalf_session";
/// An anonymous session only carries the sign-in form's CSRF token.
const ANONYMOUS_TTL: i64 = 3600;

/// The value of our cookie in a `Cookie` header, if any.
pub fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The live session named by the request's cookie.
pub async fn current(app: &App, headers: &HeaderMap) -> Result<Option<SessionRow>, StoreError> {
    let Some(value) = cookie_value(headers) else {
        return Ok(None);
    };
    let (id, now) = (random::hash_hex(&value), app.now());
    app.db
        .run(move |c| SessionRow::find_live(c, &id, now))
        .await
}

/// The signed-in session and its user, if the user is still active.
pub async fn signed_in(
    app: &App,
    headers: &HeaderMap,
) -> Result<Option<(SessionRow, UserRow)>, StoreError> {
    let Some(session) = current(app, headers).await? else {
        return Ok(None);
    };
    let Some(sub) = session.user_sub.clone() else {
        return Ok(None);
    };
    let user = app.db.run(move |c| UserRow::find_by_sub(c, &sub)).await?;
    Ok(user.filter(UserRow::is_active).map(|u| (session, u)))
}

/// Starts a session (anonymous when `user` is `None`), replacing `previous`.
/// Returns the cookie value to send and the stored row.
pub async fn start(
    app: &App,
    user: Option<&UserRow>,
    previous: Option<String>,
) -> Result<(String, SessionRow), StoreError> {
    let value = random::secret();
    let now = app.now();
    let ttl = match user {
        Some(_) => app.settings.session_ttl_seconds,
        None => ANONYMOUS_TTL,
    };
    let row = SessionRow {
        id: random::hash_hex(&value),
        user_sub: user.map(|u| u.sub.clone()),
        csrf_token: random::secret(),
        auth_time: user.map(|_| now),
        created_at: now,
        expires_at: now + ttl,
    };
    let stored = row.clone();
    let signed_in = user.map(|u| u.sub.clone());
    app.db
        .write(move |c| {
            stored.insert(c)?;
            if let Some(old) = previous {
                SessionRow::delete(c, &old)?;
            }
            if let Some(sub) = signed_in {
                audit::record(c, now, &sub, "session.signed_in", Some(&sub), json!({}))?;
            }
            Ok(())
        })
        .await?;
    Ok((value, row))
}

pub fn csrf_matches(session: &SessionRow, presented: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    presented.is_some_and(|p| bool::from(p.as_bytes().ct_eq(session.csrf_token.as_bytes())))
}

fn cookie_attributes(app: &App) -> &'static str {
    if app.issuer.starts_with("https://") {
        "Path=/; HttpOnly; SameSite=Lax; Secure"
    } else {
        "Path=/; HttpOnly; SameSite=Lax"
    }
}

pub fn set_cookie(app: &App, value: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{COOKIE}={value}; {}", cookie_attributes(app)))
        .expect("cookie values are base64url")
}

pub fn clear_cookie(app: &App) -> HeaderValue {
    HeaderValue::from_str(&format!("{COOKIE}=; Max-Age=0; {}", cookie_attributes(app)))
        .expect("static cookie")
}
