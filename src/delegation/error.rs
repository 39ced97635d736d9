//! Errors of the delegation API and of the consent screen's actions, as JSON
//! `{"error", "error_description"}` with a fitting status.

use crate::store::StoreError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::borrow::Cow;

#[derive(Debug, Clone)]
pub struct DelegationError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: Cow<'static, str>,
}

impl DelegationError {
    fn new(
        status: StatusCode,
        error: &'static str,
        description: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", description)
    }

    /// Unknown, or not the caller's: the two look the same.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such request or grant",
        )
    }

    pub fn conflict(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, "invalid_request", description)
    }
}

impl From<StoreError> for DelegationError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage failed");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the server cannot reach its database; try again",
        )
    }
}

impl From<crate::store::TxError<DelegationError>> for DelegationError {
    fn from(e: crate::store::TxError<DelegationError>) -> Self {
        match e {
            crate::store::TxError::Store(e) => e.into(),
            crate::store::TxError::Abort(e) => e,
        }
    }
}

impl IntoResponse for DelegationError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({"error": self.error, "error_description": self.description})),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}
