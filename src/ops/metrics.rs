//! `GET /metrics` (Prometheus text) and the middleware that counts every
//! request by route and status with its latency, on the server's own recorder
//! (`telemetry::Metrics`). Tokens issued are counted by the token endpoint.
//! Labels come from closed sets only (docs/security.md L4): the route template
//! axum matched (else `unmatched`), a known method (else `other`), the status.

use crate::app::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

pub async fn track(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    app.metrics.request(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The method as a label: one of the methods the routes answer, else `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

pub async fn render(State(app): State<AppState>) -> String {
    app.metrics.render()
}
