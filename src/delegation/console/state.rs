//! `GET /console/state[?waiting=&access=&ended=]`: the console's lists as
//! JSON (`view::ConsoleView`: the same cards the page draws), for the signed-in
//! agent only (401 without a session, 403 for anyone else), never cached.
//! `static/behalf.js` polls it every few seconds and redraws a list whose
//! cards changed, so that the page follows without a reload; without script
//! a reload shows the same. `current` is the one read both use.

use super::agent;
use super::cards::Viewer;
use super::lists::{self, Cursors};
use super::view::{self, ConsoleView};
use crate::app::{App, AppState};
use crate::store::StoreError;
use crate::store::clients::ClientRow;
use crate::store::users::UserRow;
use crate::web::json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// The lists of `agent` now, on the pages `cursors` name, drawn; and every
/// client (the form's choices).
pub(super) async fn current(
    app: &App,
    agent: &UserRow,
    cursors: Cursors,
) -> Result<(ConsoleView, Vec<ClientRow>), StoreError> {
    let now = app.now();
    let later = [
        cursors.waiting.is_some(),
        cursors.access.is_some(),
        cursors.ended.is_some(),
    ];
    let who = agent.clone();
    let lists = app
        .db
        .run(move |c| lists::load(c, &who, now, &cursors))
        .await?;
    let viewer = Viewer {
        agent,
        issuer: &app.issuer,
        words: &app.settings.policy.scope_descriptions,
        now,
    };
    let drawn = view::draw(&viewer, &lists, later);
    Ok((drawn, lists.clients))
}

pub async fn show(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let agent = match agent::for_state(&app, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match current(&app, &agent, Cursors::parse(query.as_deref())).await {
        Ok((drawn, _)) => json::body(StatusCode::OK, drawn),
        Err(e) => {
            tracing::error!(error = %e, "storage failed");
            json::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the server cannot reach its database; try again",
            )
        }
    }
}
