//! `GET /console[?waiting=&access=&ended=]` (docs/contract.md "Support
//! console"): the agent's "Ask for access" form (`ask`) and three lists, a
//! page of at most 50 each (`lists`, drawn by `view`): "Waiting for an
//! answer", "Your access" and "Ended"; after an action the notice (`notice`).
//! The element holding the lists names the state endpoint
//! (`data-console-state`), which `static/behalf.js` polls. Read-only.

use super::agent;
use super::ask_form::{self, Sent};
use super::lists::Cursors;
use super::notice::{self, Done};
use super::state::current;
use crate::app::{App, AppState};
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use crate::web::pages;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tera::Context;

/// What a rendering shows beside the agent's lists.
#[derive(Default)]
pub(super) struct Shown {
    pub cursors: Cursors,
    pub done: Option<(Done, Option<String>)>,
    /// The form as sent and its message (empty: a fresh form).
    pub sent: Sent,
    /// A message about the whole page (after a refused Cancel or End access).
    pub message: String,
}

pub(super) async fn render(
    app: &App,
    session: &SessionRow,
    agent: &UserRow,
    status: StatusCode,
    shown: Shown,
) -> Response {
    let state_url = match shown.cursors.query() {
        query if query.is_empty() => "/console/state".to_string(),
        query => format!("/console/state?{query}"),
    };
    let (lists, clients) = match current(app, agent, shown.cursors).await {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "storage failed");
            return pages::unavailable();
        }
    };
    let notice = shown
        .done
        .map(|(done, id)| notice::sentence(done, id.as_deref(), &lists))
        .unwrap_or_default();
    let form = ask_form::view(&shown.sent, &clients, &app.settings.policy);
    let mut context = Context::new();
    context.insert("username", &agent.username);
    context.insert("team", &agent.team);
    context.insert("csrf_token", &session.csrf_token);
    context.insert("notice", &notice);
    context.insert("message", &shown.message);
    context.insert("form", &form);
    context.insert("lists", &lists);
    context.insert("state_url", &state_url);
    pages::render(status, "console.html", &context)
}

/// The first pages with the "Ask for access" form as sent and its message.
pub(super) async fn render_form(
    app: &App,
    session: &SessionRow,
    agent: &UserRow,
    status: StatusCode,
    sent: Sent,
) -> Response {
    let shown = Shown {
        sent,
        ..Shown::default()
    };
    render(app, session, agent, status, shown).await
}

pub async fn show(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (session, agent) = match agent::for_page(&app, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let shown = Shown {
        cursors: Cursors::parse(query.as_deref()),
        done: notice::read(query.as_deref()),
        ..Shown::default()
    };
    render(&app, &session, &agent, StatusCode::OK, shown).await
}
