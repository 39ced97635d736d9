//! Bearer tokens on protected resources (RFC 6750 §2.1, §3): reading the
//! `Authorization` header, and the 401/403 answers with `WWW-Authenticate`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub fn token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

#[derive(Debug, Clone, Copy)]
pub enum BearerError {
    /// No token, or one that is not active: 401 `invalid_token`.
    InvalidToken,
    /// A good token without the scope needed: 403 `insufficient_scope`.
    InsufficientScope(&'static str),
    /// The store failed: 503.
    Unavailable,
}

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        let (status, error, description, challenge) = match self {
            Self::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the access token is missing, invalid, expired or revoked".to_string(),
                "Bearer error=\"invalid_token\"".to_string(),
            ),
            Self::InsufficientScope(scope) => (
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("the access token lacks the {scope} scope"),
                format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\""),
            ),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the server cannot reach its database; try again".to_string(),
                "Bearer".to_string(),
            ),
        };
        let mut response = super::json::error(status, error, &description);
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}
