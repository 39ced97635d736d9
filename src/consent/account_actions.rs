//! The consent screen's forms: `POST /account/requests/{id}/approve` (optional
//! `duration` in seconds, optional repeated `scope`; `narrow=1` marks a form
//! whose unticked boxes mean "fewer scopes"), `.../deny`,
//! `POST /account/grants/{id}/revoke`, and `POST /account/grants` (a grant on
//! the user's own initiative; `Accept: application/json` answers 201 with it).
//! Each checks the session's CSRF token and answers 303 to `/account`.

use super::{account, pages, session};
use crate::app::{App, AppState};
use crate::delegation::error::DelegationError;
use crate::delegation::grants::{self, EndedBy, NewGrant};
use crate::delegation::requests::{self, Answer};
use crate::http::form::OAuthForm;
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The signed-in user behind a form with the right CSRF token, or the answer to send.
async fn form_user(
    app: &App,
    headers: &HeaderMap,
    form: &OAuthForm,
) -> Result<(SessionRow, UserRow), Response> {
    match session::signed_in(app, headers).await {
        Ok(Some((s, u))) if session::csrf_matches(&s, form.single("csrf_token").ok().flatten()) => {
            Ok((s, u))
        }
        Ok(_) => Err(pages::error(
            StatusCode::FORBIDDEN,
            "Request refused",
            "This form has expired or was not sent from your session. Please reload the page.",
        )),
        Err(_) => Err(pages::unavailable()),
    }
}

async fn done(
    app: &App,
    s: &SessionRow,
    u: &UserRow,
    result: Result<(), DelegationError>,
) -> Response {
    match result {
        Ok(()) => pages::see_other("/account"),
        Err(e) if e.status == StatusCode::NOT_FOUND => pages::error(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such request or access.",
        ),
        Err(e) => account::render(app, s, u, e.status, &e.description).await,
    }
}

fn seconds(form: &OAuthForm, name: &str) -> Result<Option<i64>, DelegationError> {
    form.single(name)
        .map_err(|_| DelegationError::invalid_request(format!("{name} is repeated")))?
        .map(|v| {
            v.parse::<i64>().map_err(|_| {
                DelegationError::invalid_request(format!("{name} must be a number of seconds"))
            })
        })
        .transpose()
}

pub async fn approve(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = OAuthForm::parse(&body);
    let (s, u) = match form_user(&app, &headers, &form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result = async {
        let duration = seconds(&form, "duration")?;
        let ticked: Vec<String> = form
            .all("scope")
            .iter()
            .flat_map(|v| v.split(' '))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let narrowing_form = form.single("narrow").ok().flatten() == Some("1");
        let scopes = (narrowing_form || !ticked.is_empty()).then_some(ticked);
        requests::answer(&app, &u, &id, Answer::Approve { duration, scopes }).await
    }
    .await;
    done(&app, &s, &u, result).await
}

pub async fn deny(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = OAuthForm::parse(&body);
    let (s, u) = match form_user(&app, &headers, &form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result = requests::answer(&app, &u, &id, Answer::Deny).await;
    done(&app, &s, &u, result).await
}

pub async fn revoke(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = OAuthForm::parse(&body);
    let (s, u) = match form_user(&app, &headers, &form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result = grants::end(&app, &id, EndedBy::User, &u.sub)
        .await
        .map(|_| ());
    done(&app, &s, &u, result).await
}

pub async fn create(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = OAuthForm::parse(&body);
    let (s, u) = match form_user(&app, &headers, &form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let result = async {
        let field = |name: &str| {
            form.single(name)
                .map_err(|_| DelegationError::invalid_request(format!("{name} is repeated")))
        };
        let new = NewGrant {
            agent: field("agent")?.unwrap_or_default().to_string(),
            scope: form.all("scope").join(" "),
            duration: seconds(&form, "duration")?
                .ok_or_else(|| DelegationError::invalid_request("duration is required"))?,
            client_id: field("client_id")?.unwrap_or_default().to_string(),
            reason: field("reason")?.map(str::to_string),
        };
        grants::create_by_user(&app, &u, new).await
    }
    .await;
    match (result, wants_json) {
        (Ok(grant), true) => (StatusCode::CREATED, Json(grant)).into_response(),
        (Err(e), true) => e.into_response(),
        (Ok(_), false) => pages::see_other("/account"),
        (Err(e), false) => done(&app, &s, &u, Err(e)).await,
    }
}
