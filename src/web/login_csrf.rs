//! The sign-in form's CSRF protection before anyone has signed in, kept out of
//! the database (docs/security.md L6): `GET /login` sets `behalf_login`, a
//! random value, and the form carries a MAC of it under the server MAC (a signed
//! double-submit token, OWASP's CSRF cheat sheet). `POST /login` checks that the
//! token is the MAC of the cookie it came with; a page on another site can set
//! neither. A browser that is signed in uses its session's token instead.

use crate::random;
use crate::tokens::server_mac::ServerMac;
use axum::http::{HeaderMap, HeaderValue};

pub const COOKIE: &str = "behalf_login";

fn signed_part(cookie: &str) -> String {
    format!("behalf sign-in form v1|{cookie}")
}

/// The form's token and, when the browser has no `behalf_login` yet, the new
/// cookie value to set.
pub fn token(mac: &ServerMac, headers: &HeaderMap) -> (String, Option<String>) {
    match super::cookies::value(headers, COOKIE).filter(|v| !v.is_empty()) {
        Some(cookie) => (mac.sign(&signed_part(&cookie)), None),
        None => {
            let cookie = random::secret();
            (mac.sign(&signed_part(&cookie)), Some(cookie))
        }
    }
}

/// Whether `presented` is the token of the request's `behalf_login` cookie.
pub fn matches(mac: &ServerMac, headers: &HeaderMap, presented: Option<&str>) -> bool {
    match (super::cookies::value(headers, COOKIE), presented) {
        (Some(cookie), Some(token)) if !cookie.is_empty() => {
            mac.verify(&signed_part(&cookie), token)
        }
        _ => false,
    }
}

/// `secure`: the issuer is https. Lives as long as the sign-in form may wait.
pub fn set_cookie(secure: bool, value: &str) -> HeaderValue {
    super::cookies::set(COOKIE, value, "/login", Some(3600), secure)
}

pub fn clear_cookie(secure: bool) -> HeaderValue {
    super::cookies::set(COOKIE, "", "/login", Some(0), secure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use axum::http::header;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{COOKIE}={value}")).unwrap(),
        );
        headers
    }

    #[test]
    fn a_forms_token_holds_only_with_the_cookie_it_was_made_for() {
        let mac = ServerMac::derive(&Secret::new([5u8; 32]));
        let (token, cookie) = token(&mac, &HeaderMap::new());
        let cookie = cookie.expect("a new browser gets a cookie");
        assert!(matches(&mac, &with_cookie(&cookie), Some(&token)));
        assert!(!matches(&mac, &with_cookie("another"), Some(&token)));
        assert!(!matches(&mac, &HeaderMap::new(), Some(&token)));
        assert!(!matches(&mac, &with_cookie(&cookie), None));
    }

    #[test]
    fn a_browser_that_has_the_cookie_keeps_it_so_that_two_open_forms_both_work() {
        let mac = ServerMac::derive(&Secret::new([5u8; 32]));
        let (first, _) = token(&mac, &with_cookie("kept"));
        let (second, new) = token(&mac, &with_cookie("kept"));
        assert_eq!((first, new), (second, None));
    }
}
