//! The consent screen's forms: `POST /account/requests/{id}/approve` (optional
//! `duration` in seconds, optional repeated `scope`; `narrow=1` marks a form
//! whose unticked boxes mean "fewer scopes"), `.../deny`,
//! `POST /account/grants/{id}/revoke`, and `POST /account/apps/{client_id}/withdraw`
//! (`oauth::authorize::withdraw`); "Allow support access" is `allow_support`.
//! Each checks the session's CSRF token and answers 303 to `/account` with
//! what was done (`/account?done=approved&request=ID`: `notice`); a refusal
//! becomes a page here and nowhere else (`refusal_page`).

use super::notice::Done;
use super::page;
use crate::app::{App, AppState};
use crate::delegation::grants;
use crate::delegation::refusal::Refusal;
use crate::delegation::requests::{self, Answer};
use crate::oauth::authorize::withdraw;
use crate::store::grants::EndedBy;
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use crate::web::form::OAuthForm;
use crate::web::pages::{self, WayBack};
use crate::web::session;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// The form, and the signed-in user behind it if it carries the right CSRF
/// token; otherwise the answer to send.
pub(super) async fn form_user(
    app: &App,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(OAuthForm, SessionRow, UserRow), Response> {
    signed_form(app, headers, body, pages::ACCOUNT).await
}

/// As `form_user`, for a form of the page `back` (where its refusals lead).
pub(crate) async fn signed_form(
    app: &App,
    headers: &HeaderMap,
    body: &[u8],
    back: WayBack,
) -> Result<(OAuthForm, SessionRow, UserRow), Response> {
    let form = OAuthForm::parse(body);
    if form.control_character().is_some() {
        return Err(pages::error_with_way_back(
            StatusCode::BAD_REQUEST,
            "Request refused",
            "The form holds a character that is not allowed.",
            back,
        ));
    }
    let csrf = form.single("csrf_token").ok().flatten();
    match session::form_user(&app.db, headers, app.now(), csrf).await {
        Ok(Some((s, u))) => Ok((form, s, u)),
        Ok(None) => Err(pages::error_with_way_back(
            StatusCode::FORBIDDEN,
            "Request refused",
            &format!(
                "This form has expired or was not sent from your session, so nothing was changed. Go back to {} to try again.",
                back.place
            ),
            back,
        )),
        Err(_) => Err(pages::unavailable()),
    }
}

/// The one rendering of a `Refusal` as a page: the account page again with the
/// message, except for what is not the user's (404) or a database failure (503).
pub(super) async fn refusal_page(
    app: &App,
    s: &SessionRow,
    u: &UserRow,
    refusal: Refusal,
) -> Response {
    let status = match &refusal {
        Refusal::NotFound => {
            return pages::error(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such request or access.",
            );
        }
        Refusal::Unavailable => return pages::unavailable(),
        Refusal::NoLongerPending(_) | Refusal::AlreadyEnded | Refusal::AlreadyPending(_) => {
            StatusCode::CONFLICT
        }
        Refusal::TooManyPending { .. } => StatusCode::TOO_MANY_REQUESTS,
        Refusal::InvalidScope(_) | Refusal::Invalid(_) => StatusCode::BAD_REQUEST,
    };
    page::render(app, s, u, status, &refusal.description()).await
}

/// 303 to the notice of `what` about `id`, or the refusal as a page.
async fn done(
    app: &App,
    s: &SessionRow,
    u: &UserRow,
    (what, id): (Done, &str),
    result: Result<(), Refusal>,
) -> Response {
    match result {
        Ok(()) => pages::see_other(&what.location(id)),
        Err(refusal) => refusal_page(app, s, u, refusal).await,
    }
}

fn seconds(form: &OAuthForm, name: &str) -> Result<Option<i64>, Refusal> {
    form.single(name)
        .map_err(|_| Refusal::invalid(format!("{name} is repeated")))?
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| Refusal::invalid(format!("{name} must be a number of seconds")))
        })
        .transpose()
}

/// The approve form's answer: ticked scopes narrow only on a narrowing form or when some are ticked.
fn approval(form: &OAuthForm) -> Result<Answer, Refusal> {
    let duration = seconds(form, "duration")?;
    let ticked = form.words("scope");
    let narrowing_form = form.single("narrow").ok().flatten() == Some("1");
    let scopes = (narrowing_form || !ticked.is_empty()).then_some(ticked);
    Ok(Answer::Approve { duration, scopes })
}

async fn answer(app: &App, user: &UserRow, id: &str, answer: Answer) -> Result<(), Refusal> {
    let policy = &app.settings.policy;
    let audience = &app.default_audience;
    requests::answer(&app.db, policy, audience, app.now(), &user.sub, id, answer).await
}

pub async fn approve(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (form, s, u) = match form_user(&app, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result = match approval(&form) {
        Ok(choice) => answer(&app, &u, &id, choice).await,
        Err(refusal) => Err(refusal),
    };
    done(&app, &s, &u, (Done::Approved, &id), result).await
}

pub async fn deny(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (_, s, u) = match form_user(&app, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result = answer(&app, &u, &id, Answer::Deny).await;
    done(&app, &s, &u, (Done::Denied, &id), result).await
}

pub async fn revoke(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (_, s, u) = match form_user(&app, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result = grants::end(&app.db, &app.outbox_due, app.now(), &id, EndedBy::User, &u)
        .await
        .map(|_| ());
    done(&app, &s, &u, (Done::Ended, &id), result).await
}

/// Withdraws the user's consent to the app: the same 303 whether or not they had allowed it.
pub async fn withdraw_app(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
    body: Bytes,
) -> Response {
    let (_, s, u) = match form_user(&app, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (sub, id, now) = (u.sub.clone(), client_id.clone(), app.now());
    let result = app
        .db
        .write(move |c| withdraw::withdraw(c, &sub, &id, now))
        .await
        .map(|_| ())
        .map_err(|e| {
            tracing::error!(error = %e, "storage failed");
            Refusal::Unavailable
        });
    done(&app, &s, &u, (Done::Withdrawn, &client_id), result).await
}
