//! `GET /login`, `POST /login`, `POST /logout`. An unknown user, a disabled one
//! and a wrong password get the same answer in status, body and time (a dummy
//! argon2 verification runs when there is no hash to check). Failures are
//! throttled per account and per address (docs/security.md J3, J4, J5).

use super::{password, sessions, throttle};
use crate::app::AppState;
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use crate::web::client_address::client_address;
use crate::web::form::OAuthForm;
use crate::web::{pages, return_to, session};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::OnceLock;
use tera::Context;

const WRONG: &str = "Wrong username or password.";
const THROTTLED: &str = "Too many sign-in attempts. Wait a few minutes and try again.";
const EXPIRED: &str = "This sign-in form has expired. Please try again.";

fn login_page(
    status: StatusCode,
    session: &SessionRow,
    return_to: &str,
    username: &str,
    message: &str,
) -> Response {
    let mut context = Context::new();
    context.insert("csrf_token", &session.csrf_token);
    context.insert("return_to", return_to);
    context.insert("username", username);
    context.insert("message", message);
    pages::render(status, "login.html", &context)
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "storage failed");
    pages::unavailable()
}

pub async fn show(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = OAuthForm::parse(query.unwrap_or_default().as_bytes());
    let return_to = return_to::or_default(query.single("return_to").ok().flatten());
    let now = app.now();
    match session::current(&app.db, &headers, now).await {
        Ok(Some(existing)) => login_page(StatusCode::OK, &existing, return_to, "", ""),
        Ok(None) => {
            match sessions::start(&app.db, now, sessions::ANONYMOUS_TTL, None, None).await {
                Ok((cookie, row)) => {
                    let mut response = login_page(StatusCode::OK, &row, return_to, "", "");
                    response.headers_mut().insert(
                        header::SET_COOKIE,
                        session::set_cookie(app.secure_cookies(), &cookie),
                    );
                    response
                }
                Err(e) => unavailable(e),
            }
        }
        Err(e) => unavailable(e),
    }
}

/// An argon2id hash of a random password, verified against when there is no
/// real hash, so that every failed sign-in costs the same.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| password::hash(&crate::random::secret()).expect("hashing works"))
}

pub async fn submit(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = OAuthForm::parse(&body);
    let field = |name| form.single(name).ok().flatten().unwrap_or_default();
    let (username, password_given) = (field("username"), field("password"));
    let return_to = return_to::or_default(Some(field("return_to")));
    let now = app.now();
    let session = match session::current(&app.db, &headers, now).await {
        Ok(Some(s)) if session::csrf_matches(&s, Some(field("csrf_token"))) => s,
        Ok(_) => return pages::error(StatusCode::FORBIDDEN, "Sign-in refused", EXPIRED),
        Err(e) => return unavailable(e),
    };
    let address = client_address(peer.ip(), &headers, &app.trusted_proxies).to_string();
    let allowed = match throttle::allows(&app.db, username, &address, now).await {
        Ok(allowed) => allowed,
        Err(e) => return unavailable(e),
    };
    if !allowed {
        tracing::info!(%address, "sign-in throttled");
        return login_page(
            StatusCode::TOO_MANY_REQUESTS,
            &session,
            return_to,
            username,
            THROTTLED,
        );
    }
    let name = username.to_string();
    let user = match app
        .db
        .run(move |c| UserRow::find_by_username(c, &name))
        .await
    {
        Ok(user) => user,
        Err(e) => return unavailable(e),
    };
    let candidate = password_given.to_string();
    let stored = user
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    // argon2 is deliberately slow: keep it off the async workers.
    let verified = tokio::task::spawn_blocking(move || password::verify(&candidate, &stored))
        .await
        .unwrap_or(false);
    let user = match user {
        Some(u) if verified && u.is_active() && u.password_hash.is_some() => u,
        _ => {
            if let Err(e) = throttle::record_failure(&app.db, username, &address, now).await {
                return unavailable(e);
            }
            tracing::info!(%address, "sign-in failed");
            return login_page(
                StatusCode::UNAUTHORIZED,
                &session,
                return_to,
                username,
                WRONG,
            );
        }
    };
    if let Err(e) = throttle::record_success(&app.db, username).await {
        return unavailable(e);
    }
    let ttl = app.settings.session_ttl_seconds;
    match sessions::start(&app.db, now, ttl, Some(&user), Some(session.id.clone())).await {
        Ok((cookie, _)) => {
            tracing::info!(sub = %user.sub, "signed in");
            let mut response = pages::see_other(return_to);
            response.headers_mut().insert(
                header::SET_COOKIE,
                session::set_cookie(app.secure_cookies(), &cookie),
            );
            response
        }
        Err(e) => unavailable(e),
    }
}

pub async fn logout(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = OAuthForm::parse(&body);
    let presented = form.single("csrf_token").ok().flatten();
    let session = match session::current(&app.db, &headers, app.now()).await {
        Ok(Some(s)) if session::csrf_matches(&s, presented) => s,
        Ok(_) => {
            return pages::error(StatusCode::FORBIDDEN, "Sign-out refused", EXPIRED);
        }
        Err(e) => return unavailable(e),
    };
    if let Err(e) = app
        .db
        .write(move |c| SessionRow::delete(c, &session.id))
        .await
    {
        return unavailable(e);
    }
    let mut response = pages::see_other("/login");
    response.headers_mut().insert(
        header::SET_COOKIE,
        session::clear_cookie(app.secure_cookies()),
    );
    response.into_response()
}
