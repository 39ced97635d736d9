//! Reading one cookie out of a request's `Cookie` headers (RFC 6265 §5.4).

use axum::http::{HeaderMap, header};

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
