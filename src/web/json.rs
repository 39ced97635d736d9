//! JSON error answers of the non-token endpoints (`{"error",
//! "error_description"}`, never cached), in the shape RFC 6749 §5.2 and RFC
//! 6750 §3 give; the agent API and bearer refusals both leave through here.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub fn error(status: StatusCode, code: &str, description: &str) -> Response {
    let mut response = (
        status,
        Json(json!({"error": code, "error_description": description})),
    )
        .into_response();
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
