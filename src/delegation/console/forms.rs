//! The console's buttons: "Cancel" (`POST /console/requests/{id}/cancel`,
//! the agent API's `DELETE /api/access-requests/{id}`) and "End access"
//! (`POST /console/grants/{id}/end`, `DELETE /api/grants/{id}`: the named
//! agent or any agent of the team). Each needs the session's CSRF token
//! (`agent::for_form`) and answers 303 to the notice (`notice`); a request or
//! grant that is not the agent's is the 404 page, one that has already ended
//! the console again with the message (409).

use super::agent;
use super::notice::Done;
use super::page::{self, Shown};
use crate::app::{App, AppState};
use crate::delegation::grants;
use crate::delegation::refusal::Refusal;
use crate::delegation::requests;
use crate::store::grants::EndedBy;
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use crate::web::pages;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// 303 to the notice of `what` about `id`, or the refusal as a page.
async fn done(
    app: &App,
    (s, u): (&SessionRow, &UserRow),
    (what, id): (Done, &str),
    result: Result<(), Refusal>,
) -> Response {
    let message = match result {
        Ok(()) => return pages::see_other(&what.location(id)),
        Err(Refusal::NotFound) => {
            return pages::error_with_way_back(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such request or access of yours.",
                pages::CONSOLE,
            );
        }
        Err(Refusal::Unavailable) => return pages::unavailable(),
        Err(Refusal::NoLongerPending(status)) => format!(
            "That request is no longer waiting for an answer: it is {}.",
            status.as_str()
        ),
        Err(Refusal::AlreadyEnded) => "That access has already ended.".to_string(),
        Err(other) => other.description().into_owned(),
    };
    let shown = Shown {
        message,
        ..Shown::default()
    };
    page::render(app, s, u, StatusCode::CONFLICT, shown).await
}

pub async fn cancel(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (_, s, u) = match agent::for_form(&app, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result = requests::cancel(&app.db, app.now(), &u.sub, &id)
        .await
        .map(|_| ());
    done(&app, (&s, &u), (Done::Cancelled, &id), result).await
}

pub async fn end(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (_, s, u) = match agent::for_form(&app, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result = grants::end(&app.db, &app.outbox_due, app.now(), &id, EndedBy::Agent, &u)
        .await
        .map(|_| ());
    done(&app, (&s, &u), (Done::Ended, &id), result).await
}
