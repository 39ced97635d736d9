//! The answer for a path nothing serves: a page with a way back for a browser
//! (`Accept: text/html`), `{"error": "not_found"}` for everything else.

use super::pages;
use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub async fn not_found(headers: HeaderMap) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    match wants_html {
        true => pages::error(
            StatusCode::NOT_FOUND,
            "Page not found",
            "There is no page at this address.",
        ),
        false => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": "not_found"})),
        )
            .into_response(),
    }
}
