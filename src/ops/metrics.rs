//! `GET /metrics` (Prometheus text) and the middleware that counts every
//! request by route and status with its latency, on the server's own recorder
//! (`telemetry::Metrics`). Tokens issued are counted by the token endpoint.

use crate::app::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

pub async fn track(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    app.metrics.request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

pub async fn render(State(app): State<AppState>) -> String {
    app.metrics.render()
}
