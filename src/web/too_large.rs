//! A body over the limit answers `413` as JSON in the shape of RFC 6749 §5.2
//! (`{"error":"invalid_request","error_description":...}`, `no-store`)
//! instead of the plain text of the body-limit layer or of axum's extractors.
//! Wraps the body limit, so it sees the refusal whichever of them made it.

use super::json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

pub async fn json_413(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return response;
    }
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    json::error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "invalid_request",
        "the request body is larger than this server accepts",
    )
}
