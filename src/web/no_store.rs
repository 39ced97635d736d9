//! `Cache-Control: no-store` on every response of a path where a token, a
//! request or a grant can appear (the agent API, RFC 6749 §5.1 for the token
//! endpoints), whatever answered: the handler, a bearer refusal, or axum
//! itself (405, a bad path). Handlers that set their own cache headers keep them.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

pub async fn no_store(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if !headers.contains_key(header::PRAGMA) {
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    response
}
