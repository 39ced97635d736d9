//! `GET /`: a browser that comes to the server's address is sent where a
//! person can do something: `/account` when signed in, else `/login`.

use crate::app::AppState;
use crate::web::{pages, session};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

pub async fn show(State(app): State<AppState>, headers: HeaderMap) -> Response {
    match session::signed_in(&app.db, &headers, app.now()).await {
        Ok(Some(_)) => pages::see_other("/account"),
        Ok(None) => pages::see_other("/login"),
        Err(e) => {
            tracing::error!(error = %e, "storage failed");
            pages::unavailable()
        }
    }
}
