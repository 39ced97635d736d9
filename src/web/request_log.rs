//! One info line per request (docs/contract.md "Operations"): method, route
//! template (the path as declared, `/api/grants/{id}`, or `unmatched`), status,
//! duration in milliseconds and request id. Never the concrete path, the query
//! string, a header or the body: any of them may carry a secret.
//!
//! `mark_route` runs after routing and hands the matched route template out on
//! the response; `log`, outside the router, times the request and writes the line.

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderName;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// The route template of the answered request, as `mark_route` found it.
#[derive(Clone)]
struct RouteTemplate(String);

/// A route layer: copies the matched route template onto the response.
pub async fn mark_route(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| RouteTemplate(p.as_str().to_string()));
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(route);
    }
    response
}

/// Writes the request's line once it is answered; `request_id` names the header
/// the request id is in.
pub async fn log(request_id: HeaderName, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let id = request
        .headers()
        .get(&request_id)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let route = response
        .extensions()
        .get::<RouteTemplate>()
        .map_or("unmatched", |r| r.0.as_str());
    tracing::info!(
        method = %method,
        route,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        request_id = %id,
        "request"
    );
    response
}
