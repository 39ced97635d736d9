//! `GET /account`: the signed-in user's page. For now it names the user and
//! offers sign-out; delegated access requests and grants arrive here next.

use super::{pages, session};
use crate::app::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tera::Context;

pub async fn show(State(app): State<AppState>, headers: HeaderMap) -> Response {
    match session::signed_in(&app, &headers).await {
        Ok(Some((session, user))) => {
            let mut context = Context::new();
            context.insert("username", &user.username);
            context.insert("csrf_token", &session.csrf_token);
            pages::render(StatusCode::OK, "account.html", &context)
        }
        Ok(None) => pages::see_other("/login?return_to=/account"),
        Err(e) => {
            tracing::error!(error = %e, "storage failed");
            pages::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable",
                "Please try again shortly.",
            )
        }
    }
}
