//! Delegated sign-in at `/authorize` (DESIGN.md "Delegated sign-in into any
//! OIDC app"; docs/security.md M1–M5). When an app registered
//! `--delegated-sign-in` sends a signed-in agent here, `offer` shows "Act as
//! <user> in <app>?" for each grant the agent may use that lists the app
//! (only the hinted user's with `login_hint`; none, and saying so, when that
//! user gave none), with "Continue as yourself". `prompt=none` never starts a
//! delegated session. `POST /authorize/act` (CSRF: the session's token) with
//! `decision=act` and `grant_id` checks the grant again and, in one
//! transaction, records the session (`delegated_sessions`), its audit event,
//! a code for the user acted by the agent and, for an app with a
//! `backchannel_logout_uri`, the session's logout in the outbox, due when the
//! grant expires (`backchannel_logout`); `decision=self` continues as
//! the agent. The app's own consent page never appears: the grant is the
//! user's consent.

use super::as_self::continue_as_self;
use super::request::{self, AuthorizationRequest};
use super::response::{code_redirect, new_code};
use crate::app::{App, AppState};
use crate::audit::{self, Action};
use crate::clock::exact_duration;
use crate::oauth::backchannel_logout;
use crate::oauth::delegated_session::{may_run, standing_grant};
use crate::oauth::scope;
use crate::random;
use crate::store::delegated_sessions::DelegatedSessionRow;
use crate::store::events::EventRow;
use crate::store::grants::GrantRow;
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use crate::store::{AnyConnection, StoreError};
use crate::telemetry::grant_events;
use crate::web::form::OAuthForm;
use crate::web::{pages, session};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use tera::Context;

/// At most this many grants are offered on one page.
const MAX_OFFERED: i64 = 50;

/// Scopes a delegated session carries beyond the grant's: signing in itself.
const SIGN_IN_SCOPES: &[&str] = &["openid", "profile"];

/// The scopes of the session: what the app asked for, within the grant (and sign-in itself).
pub fn session_scopes(requested: &[String], grant: &GrantRow) -> Vec<String> {
    let granted = grant.scope_list();
    requested
        .iter()
        .filter(|s| SIGN_IN_SCOPES.contains(&s.as_str()) || granted.contains(s))
        .cloned()
        .collect()
}

/// The grants `agent` may sign in to `client_id` under, with their users.
fn usable(
    conn: &mut AnyConnection,
    agent: &UserRow,
    client_id: &str,
    now: i64,
) -> Result<Vec<(GrantRow, UserRow)>, StoreError> {
    let grants =
        GrantRow::active_usable_by(conn, &agent.sub, agent.team.as_deref(), now, MAX_OFFERED)?;
    let subs: Vec<String> = grants.iter().map(|g| g.subject_sub.clone()).collect();
    let users = UserRow::find_by_subs(conn, &subs)?;
    Ok(grants
        .into_iter()
        .filter_map(|g| {
            let subject = users.iter().find(|u| u.sub == g.subject_sub)?.clone();
            may_run(&g, agent, Some(&subject), client_id, now).then_some((g, subject))
        })
        .collect())
}

#[derive(Serialize)]
struct Offered {
    grant_id: String,
    user: String,
    reason: String,
    ticket: String,
    scopes: Vec<String>,
    time_left: String,
    expires_at: String,
    /// The hidden end of the button's name: which access it uses.
    label: String,
}

#[derive(Serialize)]
struct Param<'a> {
    name: &'a str,
    value: &'a str,
}

/// The page offering delegated sign-in, or `None` to continue as the agent.
pub async fn offer(
    app: &App,
    request: &AuthorizationRequest,
    session: &SessionRow,
    user: &UserRow,
) -> Option<Response> {
    if !request.client.delegated_sign_in || !user.is_agent || request.prompt.none {
        return None;
    }
    let hint = request.login_hint.as_deref().filter(|h| !h.is_empty());
    if hint.is_some_and(|h| h == user.username || h == user.sub) {
        return None;
    }
    let (agent, client_id, now) = (user.clone(), request.client.client_id.clone(), app.now());
    let found = app
        .db
        .run(move |c| usable(c, &agent, &client_id, now))
        .await;
    let mut offered = match found {
        Ok(offered) => offered,
        Err(e) => {
            tracing::error!(error = %e, "storage failed");
            return Some(pages::unavailable());
        }
    };
    if let Some(hint) = hint {
        offered.retain(|(_, subject)| subject.username == hint || subject.sub == hint);
    } else if offered.is_empty() {
        return None;
    }
    Some(page(app, request, session, user, hint, offered))
}

fn page(
    app: &App,
    request: &AuthorizationRequest,
    session: &SessionRow,
    agent: &UserRow,
    hint: Option<&str>,
    offered: Vec<(GrantRow, UserRow)>,
) -> Response {
    let words = &app.settings.policy.scope_descriptions;
    let now = app.now();
    let grants: Vec<Offered> = offered
        .iter()
        .map(|(grant, subject)| Offered {
            grant_id: grant.id.clone(),
            user: subject.username.clone(),
            reason: grant.reason.clone(),
            ticket: grant.ticket.clone(),
            scopes: grant
                .scope_list()
                .iter()
                .map(|s| scope::describe(words, s))
                .collect(),
            time_left: exact_duration(grant.expires_at - now),
            expires_at: crate::clock::rfc3339(grant.expires_at),
            label: match grant.ticket.is_empty() {
                true => format!("with {}'s access", subject.username),
                false => format!("with {}'s access ({})", subject.username, grant.ticket),
            },
        })
        .collect();
    let params: Vec<Param> = request
        .params
        .iter()
        .map(|(name, value)| Param { name, value })
        .collect();
    let mut context = Context::new();
    context.insert("app_name", &request.client.name);
    context.insert("agent", &agent.username);
    context.insert("hint", &hint);
    let only_user = match grants.as_slice() {
        [one] => one.user.as_str(),
        _ => "",
    };
    context.insert("only_user", only_user);
    context.insert("grants", &grants);
    context.insert("params", &params);
    context.insert("csrf_token", &session.csrf_token);
    pages::render(StatusCode::OK, "act_as.html", &context)
}

/// Records the session and its code in one transaction, if the grant still stands.
fn start(
    conn: &mut AnyConnection,
    request: &AuthorizationRequest,
    agent: &UserRow,
    grant_id: &str,
    auth_time: i64,
    now: i64,
) -> Result<Option<(String, GrantRow)>, StoreError> {
    let client_id = &request.client.client_id;
    let Some(grant) = standing_grant(conn, grant_id, &agent.sub, client_id, now)? else {
        return Ok(None);
    };
    let Some(subject) = UserRow::find_by_sub(conn, &grant.subject_sub)? else {
        return Ok(None);
    };
    let sid = random::identifier();
    let scoped = AuthorizationRequest {
        scopes: session_scopes(&request.scopes, &grant),
        ..request.clone()
    };
    let (code, mut row) = new_code(&scoped, &subject, auth_time, now);
    row.grant_id = Some(grant.id.clone());
    row.actor_sub = Some(agent.sub.clone());
    row.sid = Some(sid.clone());
    row.insert(conn)?;
    let session = DelegatedSessionRow {
        sid: sid.clone(),
        grant_id: grant.id.clone(),
        client_id: client_id.clone(),
        subject_sub: grant.subject_sub.clone(),
        agent_sub: agent.sub.clone(),
        started_at: now,
    };
    session.insert(conn)?;
    if let Some(uri) = &request.client.backchannel_logout_uri {
        backchannel_logout::enqueue(conn, &session, uri, grant.expires_at, now)?;
    }
    audit::record(
        conn,
        now,
        &agent.sub,
        Action::DelegatedSignInStarted,
        Some(&grant.id),
        json!({"client": client_id, "sid": sid, "subject": grant.subject_sub}),
    )?;
    EventRow::grant_used(conn, &grant, now)?;
    Ok(Some((code, grant)))
}

fn refused(status: StatusCode, message: &str) -> Response {
    pages::error(status, "Request refused", message)
}

/// `POST /authorize/act`.
pub async fn decision(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = OAuthForm::parse(&body);
    if form.control_character().is_some() {
        return refused(
            StatusCode::BAD_REQUEST,
            "The form holds a character that is not allowed.",
        );
    }
    let now = app.now();
    let csrf = form.single("csrf_token").ok().flatten();
    let (session, agent) = match session::form_user(&app.db, &headers, now, csrf).await {
        Ok(Some(signed_in)) => signed_in,
        Ok(None) => {
            return refused(
                StatusCode::FORBIDDEN,
                "This form has expired or was not sent from your session. Please start again.",
            );
        }
        Err(_) => return pages::unavailable(),
    };
    let request = match request::validate(&app, &form).await {
        Ok(r) => r,
        Err(rejection) => return rejection.into_response(),
    };
    match form.single("decision").ok().flatten() {
        Some("self") => return continue_as_self(&app, &request, &session, &agent).await,
        Some("act") if request.client.delegated_sign_in && !request.prompt.none => {}
        _ => {
            return refused(
                StatusCode::BAD_REQUEST,
                "Choose to act as the user or to continue as yourself.",
            );
        }
    }
    let Some(grant_id) = form.single("grant_id").ok().flatten().map(str::to_string) else {
        return refused(StatusCode::BAD_REQUEST, "Choose which access to use.");
    };
    let auth_time = session.auth_time.unwrap_or(now);
    let (req, who) = (request.clone(), agent.clone());
    let started = app
        .db
        .transaction(move |c| {
            Ok::<_, crate::store::TxError<()>>(start(c, &req, &who, &grant_id, auth_time, now)?)
        })
        .await;
    match started {
        Ok(Some((code, grant))) => {
            grant_events::used(
                &grant.id,
                &agent.sub,
                &grant.subject_sub,
                &request.client.client_id,
            );
            code_redirect(&app.issuer, &request, &code).into_response()
        }
        Ok(None) => refused(
            StatusCode::FORBIDDEN,
            "This access has ended, or it does not let you sign in to this app. Go back to the app to sign in as yourself.",
        ),
        Err(_) => pages::unavailable(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rows::grant;

    #[test]
    fn a_session_carries_the_asked_scopes_within_the_grant_and_signing_in() {
        let asked: Vec<String> = ["openid", "profile", "read", "write"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            session_scopes(&asked, &grant("read", "api")),
            ["openid", "profile", "read"]
        );
    }
}
