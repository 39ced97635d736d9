//! JSON error answers of the non-token endpoints (`{"error",
//! "error_description"}`, never cached), in the shape RFC 6749 §5.2 and RFC
//! 6750 §3 give; the agent API and bearer refusals both leave through here.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The body of every such error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody<'a> {
    /// An RFC 6749 §5.2 / RFC 6750 §3 code, or `not_found`, `too_many_requests`.
    pub error: &'a str,
    pub error_description: &'a str,
    /// Only on the 409 of `POST /api/access-requests` when a request of the
    /// agent to this user is already pending: that request's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub id: Option<&'a str>,
}

pub fn error(status: StatusCode, code: &str, description: &str) -> Response {
    error_body(
        status,
        ErrorBody {
            error: code,
            error_description: description,
            id: None,
        },
    )
}

pub fn error_body(status: StatusCode, body: ErrorBody<'_>) -> Response {
    let mut response = (status, Json(body)).into_response();
    no_store(&mut response);
    response
}

/// A JSON body that no cache keeps (tokens and personal data).
pub fn body<T: serde::Serialize>(status: StatusCode, value: T) -> Response {
    let mut response = (status, Json(value)).into_response();
    no_store(&mut response);
    response
}

fn no_store(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}
