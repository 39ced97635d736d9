//! Continuing an authorization as the signed-in user themselves (OIDC Core
//! §3.1.2.3, §3.1.2.4): the remembered consent is read when it matters,
//! `decision::decide` says code, consent page or refusal, and `prompt=none`
//! never shows a page (§3.1.2.6).

use super::app_consent;
use super::decision::{Decision, decide, needs_remembered_consent};
use super::request::AuthorizationRequest;
use super::response::issue_code;
use crate::app::App;
use crate::store::app_consents::AppConsentRow;
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use crate::web::pages;
use axum::response::{IntoResponse, Response};

pub async fn continue_as_self(
    app: &App,
    request: &AuthorizationRequest,
    session: &SessionRow,
    user: &UserRow,
) -> Response {
    let now = app.now();
    let fail =
        |error: &str, description: &str| request.error_redirect(&app.issuer, error, description);
    let remembered = if needs_remembered_consent(request) {
        let (sub, client_id) = (user.sub.clone(), request.client.client_id.clone());
        match app
            .db
            .run(move |c| AppConsentRow::find(c, &sub, &client_id))
            .await
        {
            Ok(row) => row,
            Err(_) => return pages::unavailable(),
        }
    } else {
        None
    };
    match decide(request, user, remembered.as_ref()) {
        Decision::Consent if request.prompt.none => {
            fail("consent_required", "the user has not consented")
        }
        Decision::Consent => app_consent::page(
            &app.settings.policy.scope_descriptions,
            request,
            user,
            session,
        ),
        Decision::Refuse(error, description) => fail(error, description),
        Decision::Issue => {
            let auth_time = session.auth_time.unwrap_or(now);
            match issue_code(&app.db, &app.issuer, now, request, user, auth_time).await {
                Ok(redirect) => redirect.into_response(),
                Err(_) => pages::unavailable(),
            }
        }
    }
}
