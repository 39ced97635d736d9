//! Browser sessions as a request carries them: the `behalf_session` cookie
//! (`HttpOnly`, `SameSite=Lax`, `Secure` under an https issuer) holds a 256-bit
//! random value and the database holds its SHA-256; each session carries its
//! own CSRF token (docs/security.md J1, J2). Starting and ending sessions is
//! `accounts::sessions`.

use crate::digest;
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use crate::store::{Database, StoreError};
use axum::http::{HeaderMap, HeaderValue};

pub const COOKIE: &str = "behalf_session";

/// The value of our cookie in a `Cookie` header, if any.
pub fn cookie_value(headers: &HeaderMap) -> Option<String> {
    super::cookies::value(headers, COOKIE)
}

/// The live session named by the request's cookie.
pub async fn current(
    db: &Database,
    headers: &HeaderMap,
    now: i64,
) -> Result<Option<SessionRow>, StoreError> {
    let Some(value) = cookie_value(headers) else {
        return Ok(None);
    };
    let id = digest::hash_hex(&value);
    db.run(move |c| SessionRow::find_live(c, &id, now)).await
}

/// The signed-in session and its user, if the user is still active.
pub async fn signed_in(
    db: &Database,
    headers: &HeaderMap,
    now: i64,
) -> Result<Option<(SessionRow, UserRow)>, StoreError> {
    let Some(session) = current(db, headers, now).await? else {
        return Ok(None);
    };
    let Some(sub) = session.user_sub.clone() else {
        return Ok(None);
    };
    let user = db.run(move |c| UserRow::find_by_sub(c, &sub)).await?;
    Ok(user.filter(UserRow::is_active).map(|u| (session, u)))
}

/// The signed-in user behind a form that carries this session's CSRF token;
/// `None` for no session, another user's form, or a forged one.
pub async fn form_user(
    db: &Database,
    headers: &HeaderMap,
    now: i64,
    csrf_token: Option<&str>,
) -> Result<Option<(SessionRow, UserRow)>, StoreError> {
    Ok(signed_in(db, headers, now)
        .await?
        .filter(|(session, _)| csrf_matches(session, csrf_token)))
}

pub fn csrf_matches(session: &SessionRow, presented: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    presented.is_some_and(|p| bool::from(p.as_bytes().ct_eq(session.csrf_token.as_bytes())))
}

/// `secure`: the issuer is https (`App::secure_cookies`).
pub fn set_cookie(secure: bool, value: &str) -> HeaderValue {
    super::cookies::set(COOKIE, value, "/", None, secure)
}

pub fn clear_cookie(secure: bool) -> HeaderValue {
    super::cookies::set(COOKIE, "", "/", Some(0), secure)
}
