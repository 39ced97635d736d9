//! Who may use the support console (docs/contract.md "Support console";
//! docs/security.md M5): a signed-in, enabled agent, as themselves. Anyone
//! else signed in gets a 403 page (or JSON for `state`); without a session a
//! page is a 303 to `/login?return_to=/console`. Forms also need the
//! session's CSRF token (`consent_screen::forms::signed_form`).

use crate::app::App;
use crate::delegation::consent_screen::forms::signed_form;
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use crate::web::form::OAuthForm;
use crate::web::{json, pages, session};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// Where a browser without a session is sent to sign in first.
const SIGN_IN: &str = "/login?return_to=/console";

/// The 403 page for a signed-in user who is not an agent.
fn not_an_agent() -> Response {
    pages::error(
        StatusCode::FORBIDDEN,
        "Not for your account",
        "The support console is for support agents. Your own account is where you see who can act in it.",
    )
}

fn unavailable(e: crate::store::StoreError) -> Response {
    tracing::error!(error = %e, "storage failed");
    pages::unavailable()
}

/// The signed-in agent behind a request for a console page.
pub(super) async fn for_page(
    app: &App,
    headers: &HeaderMap,
) -> Result<(SessionRow, UserRow), Response> {
    match session::signed_in(&app.db, headers, app.now()).await {
        Ok(Some((s, u))) if u.is_agent => Ok((s, u)),
        Ok(Some(_)) => Err(not_an_agent()),
        Ok(None) => Err(pages::see_other(SIGN_IN)),
        Err(e) => Err(unavailable(e)),
    }
}

/// The signed-in agent behind a request for the console's state, or a JSON
/// refusal: 401 without a session, 403 for anyone but an agent.
pub(super) async fn for_state(app: &App, headers: &HeaderMap) -> Result<UserRow, Response> {
    match session::signed_in(&app.db, headers, app.now()).await {
        Ok(Some((_, u))) if u.is_agent => Ok(u),
        Ok(Some(_)) => Err(json::error(
            StatusCode::FORBIDDEN,
            "access_denied",
            "the support console is for support agents",
        )),
        Ok(None) => Err(json::error(
            StatusCode::UNAUTHORIZED,
            "login_required",
            "sign in to use the support console",
        )),
        Err(e) => {
            tracing::error!(error = %e, "storage failed");
            Err(json::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the server cannot reach its database; try again",
            ))
        }
    }
}

/// The form and the agent behind it, if it carries the session's CSRF token.
pub(super) async fn for_form(
    app: &App,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(OAuthForm, SessionRow, UserRow), Response> {
    let (form, s, u) = signed_form(app, headers, body, pages::CONSOLE).await?;
    if !u.is_agent {
        return Err(not_an_agent());
    }
    Ok((form, s, u))
}
