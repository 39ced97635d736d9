//! `/healthz` (the process answers) and `/readyz` (and its database takes a
//! write: docs/security.md L10). A database that answers reads but refuses or
//! stalls writes is not ready: nothing a client asks of us could be kept.

use crate::app::AppState;
use crate::store::readiness_probe;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use diesel::RunQueryDsl;
use std::time::Duration;

/// A write that has not committed by then counts as failed; a load balancer
/// asking `/readyz` is not kept waiting on the database's busy timeout.
const WRITE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "ops",
    operation_id = "healthz",
    responses((status = 200, description = "`ok`", body = String, content_type = "text/plain"))
)]
pub async fn healthz() -> &'static str {
    "ok"
}

/// The process answers and its database takes a write.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "ops",
    operation_id = "readyz",
    responses(
        (status = 200, description = "`ready`", body = String, content_type = "text/plain"),
        (status = 503, description = "Not ready, and why", body = NotReady),
    )
)]
pub async fn readyz(State(app): State<AppState>) -> Response {
    let read = app
        .db
        .run(|c| Ok(diesel::sql_query("SELECT 1").execute(c)?))
        .await;
    if let Err(e) = read {
        tracing::warn!(error = %e, "not ready: the database cannot be read");
        return not_ready("the database cannot be read");
    }
    let now = app.now();
    let write = app.db.write(move |c| readiness_probe::rewrite(c, now));
    match tokio::time::timeout(WRITE_PROBE_TIMEOUT, write).await {
        Ok(Ok(())) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: the database cannot be written");
            not_ready("the database cannot be written")
        }
        Err(_) => {
            tracing::warn!("not ready: a write to the database did not commit in time");
            not_ready("a write to the database did not commit in time")
        }
    }
}

/// The 503 of `/readyz`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct NotReady<'a> {
    /// `not ready`.
    status: &'static str,
    reason: &'a str,
}

fn not_ready(reason: &str) -> Response {
    let body = NotReady {
        status: "not ready",
        reason,
    };
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}
