//! `GET /account/grants/{id}/activity?page=N`: all the activity under one of
//! the signed-in user's grants, `activity::PAGE` lines a page, newest first,
//! with "Newer" and "Older" links and a way back to `/account` (DESIGN "The
//! consent screen as a product", docs/contract.md "Consent screen"). Another
//! user's grant or an unknown id is the 404 page; without a session, 303 to
//! sign in and back here. Read-only.

use super::activity::Slice;
use super::cards::{self, Known};
use crate::app::{App, AppState};
use crate::store::clients::ClientRow;
use crate::store::grants::GrantRow;
use crate::store::users::UserRow;
use crate::store::{AnyConnection, StoreError};
use crate::web::{pages, return_to, session};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use std::collections::HashMap;
use tera::Context;

/// The highest page number read as one (beyond it: the first page).
const LAST_PAGE: usize = 100_000;

/// `?page=N`, from 1; anything else is the first page.
#[derive(Deserialize, Default)]
pub struct ActivityQuery {
    page: Option<String>,
}

impl ActivityQuery {
    fn number(&self) -> usize {
        self.page
            .as_deref()
            .and_then(|p| p.parse::<usize>().ok())
            .filter(|p| (1..=LAST_PAGE).contains(p))
            .unwrap_or(1)
    }
}

/// The grant, the page of its activity, and the names and teams its card shows.
struct Loaded {
    grant: GrantRow,
    slice: Slice,
    names: HashMap<String, String>,
    teams: HashMap<String, String>,
}

/// `None` when grant `id` is not the user `sub`'s (or does not exist).
fn load(
    conn: &mut AnyConnection,
    sub: &str,
    id: &str,
    page: usize,
) -> Result<Option<Loaded>, StoreError> {
    let Some(grant) = GrantRow::find(conn, id)?.filter(|g| g.subject_sub == sub) else {
        return Ok(None);
    };
    let slice = Slice::load(conn, id, page)?;
    let mut subs: Vec<String> = slice
        .people()
        .chain(grant.agent_sub.clone())
        .chain(std::iter::once(sub.to_string()))
        .collect();
    subs.sort();
    subs.dedup();
    let users = UserRow::find_by_subs(conn, &subs)?;
    let (names, teams) = cards::names_and_teams(users, &ClientRow::all(conn)?);
    Ok(Some(Loaded {
        grant,
        slice,
        names,
        teams,
    }))
}

/// Where signing in leads back to: this page, when its id can travel in a path.
fn login_location(id: &str, page: usize) -> String {
    let plain = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let here = match (plain, page) {
        (false, _) => return_to::DEFAULT.to_string(),
        (true, 1) => format!("/account/grants/{id}/activity"),
        (true, page) => format!("/account/grants/{id}/activity?page={page}"),
    };
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("return_to", return_to::or_default(Some(&here)))
        .finish();
    format!("/login?{query}")
}

async fn render(app: &App, user: &UserRow, id: String, page: usize) -> Response {
    let (sub, now) = (user.sub.clone(), app.now());
    let loaded = match app.db.run(move |c| load(c, &sub, &id, page)).await {
        Ok(Some(loaded)) => loaded,
        Ok(None) => {
            return pages::error(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such access.",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "storage failed");
            return pages::unavailable();
        }
    };
    let known = Known {
        words: &app.settings.policy.scope_descriptions,
        names: &loaded.names,
        teams: &loaded.teams,
        now,
    };
    let card = cards::grant(&known, &loaded.grant, Some(&loaded.slice));
    let empty = loaded.slice.events.is_empty();
    let mut context = Context::new();
    context.insert("username", &user.username);
    context.insert("grant", &card);
    context.insert("page", &page);
    // Past the end, "Newer" would lead to more empty pages: the first instead.
    context.insert("newer_page", &(page > 1 && !empty).then(|| page - 1));
    context.insert("older_page", &loaded.slice.older.then_some(page + 1));
    context.insert("past_the_end", &(page > 1 && empty));
    pages::render(StatusCode::OK, "grant_activity.html", &context)
}

pub async fn show(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<ActivityQuery>,
    headers: HeaderMap,
) -> Response {
    let page = query.number();
    match session::signed_in(&app.db, &headers, app.now()).await {
        Ok(Some((_, user))) => render(&app, &user, id, page).await,
        Ok(None) => pages::see_other(&login_location(&id, page)),
        Err(e) => {
            tracing::error!(error = %e, "storage failed");
            pages::unavailable()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::login_location;

    #[test]
    fn signing_in_leads_back_to_the_page_or_else_to_the_account() {
        assert_eq!(
            login_location("g-1_A", 1),
            "/login?return_to=%2Faccount%2Fgrants%2Fg-1_A%2Factivity"
        );
        assert_eq!(
            login_location("g1", 3),
            "/login?return_to=%2Faccount%2Fgrants%2Fg1%2Factivity%3Fpage%3D3"
        );
        assert_eq!(login_location("a/../b", 1), "/login?return_to=%2Faccount");
    }
}
