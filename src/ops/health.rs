//! `/healthz` (the process answers) and `/readyz` (and so does its database).

use crate::app::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use diesel::RunQueryDsl;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(app): State<AppState>) -> (StatusCode, &'static str) {
    let ping = app
        .db
        .run(|c| Ok(diesel::sql_query("SELECT 1").execute(c)?))
        .await;
    match ping {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
