//! The one error type of the OAuth surface. Its codes are RFC 6749 §5.2 (plus
//! RFC 8707 `invalid_target`); it becomes an HTTP response here and nowhere else.
//! Internal causes are logged, never sent.

use crate::store::{StoreError, TxError};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    InvalidTarget,
    ServerError,
    TemporarilyUnavailable,
    /// CIBA Core §11: the user has not answered yet.
    AuthorizationPending,
    /// CIBA Core §11: polled sooner than the interval (which grows by 5 s).
    SlowDown,
    /// CIBA Core §11: the user declined.
    AccessDenied,
    /// CIBA Core §11: the request expired unanswered.
    ExpiredToken,
    /// CIBA Core §13: no such user.
    UnknownUserId,
    /// CIBA Core §13: the binding message is too long or not one line.
    InvalidBindingMessage,
}

impl ErrorCode {
    fn status(self) -> StatusCode {
        match self {
            Self::InvalidClient => StatusCode::UNAUTHORIZED,
            Self::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OAuthError {
    pub error: ErrorCode,
    pub error_description: Cow<'static, str>,
}

impl OAuthError {
    pub fn new(error: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            error,
            error_description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_client() -> Self {
        Self::new(ErrorCode::InvalidClient, "client authentication failed")
    }

    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    pub fn invalid_target(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidTarget, description)
    }

    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    pub fn unauthorized_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, description)
    }

    /// Something broke inside: logged in full here, a bland message outside.
    pub fn server_error(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            ErrorCode::ServerError,
            "the server could not complete the request",
        )
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage failed");
        Self::new(
            ErrorCode::TemporarilyUnavailable,
            "the server cannot reach its database; try again",
        )
    }
}

/// RFC 6749 §5.2: `error_description` holds only %x20-21 / %x23-5B / %x5D-7E.
/// Descriptions may quote what a client sent; anything else becomes `?`.
fn rfc6749_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            ' ' | '!' | '#'..='[' | ']'..='~' => c,
            _ => '?',
        })
        .collect()
}

/// A transaction that failed in the store, or that the grant aborted with its error.
impl From<TxError<OAuthError>> for OAuthError {
    fn from(e: TxError<OAuthError>) -> Self {
        match e {
            TxError::Store(e) => e.into(),
            TxError::Abort(e) => e,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(mut self) -> Response {
        if self
            .error_description
            .chars()
            .any(|c| !matches!(c, ' ' | '!' | '#'..='[' | ']'..='~'))
        {
            self.error_description = rfc6749_text(&self.error_description).into();
        }
        let status = self.error.status();
        let mut response = (status, Json(&self)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if self.error == ErrorCode::InvalidClient {
            // RFC 6749 §5.2: 401 with the scheme the client may use.
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"behalf\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_keep_only_the_characters_rfc_6749_allows() {
        assert_eq!(
            rfc6749_text("audience \"x\\y\" caf\u{e9} ok"),
            "audience ?x?y? caf? ok"
        );
    }
}
