//! Our cookies: reading one out of a request's `Cookie` headers (RFC 6265
//! §5.4), and the one `Set-Cookie` shape every cookie of ours has, `HttpOnly`,
//! `SameSite=Lax`, and `Secure` under an https issuer (docs/security.md J3).

use axum::http::{HeaderMap, HeaderValue, header};

/// The value of the cookie `name`, if the request carries it.
pub fn value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.to_string())
}

/// `Set-Cookie: name=value` for `path`, kept `max_age` seconds (`None`: for the
/// browser's session; `Some(0)`: deleted). `secure`: the issuer is https.
pub fn set(name: &str, value: &str, path: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let max_age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}{max_age}; Path={path}; HttpOnly; SameSite=Lax{secure}"
    ))
    .expect("cookie names and values are base64url")
}
