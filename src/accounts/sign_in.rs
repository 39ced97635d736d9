//! `GET /login`, `POST /login`, `POST /logout`. An unknown user, a disabled one
//! and a wrong password get the same answer in status, body and time (a dummy
//! argon2 verification runs when there is no hash to check). Each attempt is
//! counted before its check (`throttle`), per account and address or per
//! device cookie, and at most `[sign_in] checks_at_once` checks run at once
//! (docs/security.md J3, J4, J5, L1, L2, L6). The page also offers each
//! `[[upstream]]` IdP (`upstream_sign_in`); `password_login = false` removes
//! the password form, and `POST /login` is then refused.

use super::throttle::{self, CountedOn};
use super::upstream_sign_in::{self, Reauth};
use super::{device_cookie, password, sessions};
use crate::app::{App, AppState};
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use crate::web::client_address::client_address;
use crate::web::form::OAuthForm;
use crate::web::{login_csrf, pages, return_to, session};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;
use tera::Context;

const WRONG: &str = "Wrong username or password.";
const THROTTLED: &str = "Too many sign-in attempts. Wait a few minutes and try again.";
const EXPIRED: &str = "This sign-in form has expired. Please try again.";
const NOT_ALLOWED: &str = "The username or password holds a character that is not allowed.";
const SIGNED_OUT: &str = "You are signed out.";
const PASSWORD_OFF: &str =
    "Signing in with a password is turned off here: use your company's sign-in.";
const BUSY: &str = "Sign-in is busy right now. Please try again in a moment.";

/// What the sign-in page shows beyond its form's fields.
struct LoginPage<'a> {
    csrf_token: &'a str,
    return_to: &'a str,
    username: &'a str,
    message: &'a str,
    notice: &'a str,
    /// `prompt=login` / `max_age` from `/authorize`, passed on to an upstream.
    reauth: Reauth,
}

fn login_page(app: &App, status: StatusCode, page: LoginPage<'_>) -> Response {
    let mut context = Context::new();
    context.insert("notice", page.notice);
    context.insert("csrf_token", page.csrf_token);
    context.insert("return_to", page.return_to);
    context.insert("username", page.username);
    context.insert("message", page.message);
    context.insert("password_login", &app.settings.password_login);
    let upstreams: Vec<_> = app
        .federation
        .upstreams
        .iter()
        .map(|u| {
            json!({
                "name": u.settings.name,
                "href": upstream_sign_in::start_path(&u.settings.id, page.return_to, page.reauth),
            })
        })
        .collect();
    context.insert("upstreams", &upstreams);
    pages::render(status, "login.html", &context)
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "storage failed");
    pages::unavailable()
}

/// The sign-in form. A browser without a session gets the stateless CSRF
/// cookie (`web::login_csrf`): showing the form writes nothing (docs/security.md L6).
pub async fn show(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = OAuthForm::parse(query.unwrap_or_default().as_bytes());
    let return_to = return_to::or_default(query.single("return_to").ok().flatten());
    // After `POST /logout` (a fixed sentence: nothing of the query is shown).
    let notice = match query.single("signed_out").ok().flatten() {
        Some("1") => SIGNED_OUT,
        _ => "",
    };
    let reauth = Reauth::read(&query);
    let page = |csrf_token| LoginPage {
        csrf_token,
        return_to,
        username: "",
        message: "",
        notice,
        reauth,
    };
    match session::current(&app.db, &headers, app.now()).await {
        Ok(Some(existing)) => login_page(&app, StatusCode::OK, page(&existing.csrf_token)),
        Ok(None) => {
            let (token, new_cookie) = login_csrf::token(&app.mac, &headers);
            let mut response = login_page(&app, StatusCode::OK, page(&token));
            if let Some(cookie) = new_cookie {
                response.headers_mut().insert(
                    header::SET_COOKIE,
                    login_csrf::set_cookie(app.secure_cookies(), &cookie),
                );
            }
            response
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

/// Checks `candidate` against `user`'s hash (or the dummy one) when one of the
/// `[sign_in] checks_at_once` slots frees up within `check_wait_ms`; `None`
/// when none did.
async fn check_password(app: &AppState, user: Option<&UserRow>, candidate: &str) -> Option<bool> {
    let wait = Duration::from_millis(app.settings.sign_in.check_wait_ms);
    let Ok(Ok(_slot)) = tokio::time::timeout(wait, app.password_checks.acquire()).await else {
        return None;
    };
    let candidate = candidate.to_string();
    let stored = user
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    // argon2 is deliberately slow: keep it off the async workers.
    let verified = tokio::task::spawn_blocking(move || password::verify(&candidate, &stored))
        .await
        .unwrap_or(false);
    Some(verified)
}

pub async fn submit(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !app.settings.password_login {
        return pages::error_with_way_back(
            StatusCode::FORBIDDEN,
            "Sign-in refused",
            PASSWORD_OFF,
            pages::SIGN_IN,
        );
    }
    let form = OAuthForm::parse(&body);
    let field = |name| form.single(name).ok().flatten().unwrap_or_default();
    let (username, password_given) = (field("username"), field("password"));
    let (return_to, csrf) = (
        return_to::or_default(Some(field("return_to"))),
        field("csrf_token"),
    );
    let now = app.now();
    let session = match session::current(&app.db, &headers, now).await {
        Ok(session) => session,
        Err(e) => return unavailable(e),
    };
    let form_is_ours = session
        .as_ref()
        .is_some_and(|s| session::csrf_matches(s, Some(csrf)))
        || login_csrf::matches(&app.mac, &headers, Some(csrf));
    if !form_is_ours {
        return pages::error(StatusCode::FORBIDDEN, "Sign-in refused", EXPIRED);
    }
    let page = |status, message| {
        let page = LoginPage {
            csrf_token: csrf,
            return_to,
            username,
            message,
            notice: "",
            reauth: Reauth::default(),
        };
        login_page(&app, status, page)
    };
    if form.control_character().is_some() {
        // Before any lookup or count: no account name holds one (docs/security.md L7).
        return page(StatusCode::BAD_REQUEST, NOT_ALLOWED);
    }
    let address = client_address(peer.ip(), &headers, &app.trusted_proxies).to_string();
    let device = device_cookie::read(&app.mac, &headers).filter(|d| d.knows(username));
    let counted_on = match &device {
        Some(device) => CountedOn::Device { device: &device.id },
        None => CountedOn::Anyone {
            account: username,
            address: &address,
        },
    };
    let attempt = match throttle::reserve(&app.db, counted_on, &app.settings.sign_in, now).await {
        Ok(Some(attempt)) => attempt,
        Ok(None) => {
            tracing::info!(%address, "sign-in throttled");
            return page(StatusCode::TOO_MANY_REQUESTS, THROTTLED);
        }
        Err(e) => return unavailable(e),
    };
    let name = username.to_string();
    let user = match app
        .db
        .run(move |c| UserRow::find_by_username(c, &name))
        .await
    {
        Ok(user) => user,
        Err(e) => return unavailable(e),
    };
    let Some(verified) = check_password(&app, user.as_ref(), password_given).await else {
        if let Err(e) = throttle::withdraw(&app.db, attempt).await {
            return unavailable(e);
        }
        tracing::warn!(%address, "sign-in refused: every password check busy");
        let mut busy = page(StatusCode::SERVICE_UNAVAILABLE, BUSY);
        busy.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return busy;
    };
    let user = match user {
        Some(u) if verified && u.is_active() && u.password_hash.is_some() => u,
        _ => {
            tracing::info!(%address, "sign-in failed");
            return page(StatusCode::UNAUTHORIZED, WRONG);
        }
    };
    if let Err(e) = throttle::succeeded(&app.db, counted_on, attempt).await {
        return unavailable(e);
    }
    let ttl = app.settings.session_ttl_seconds;
    let previous = session.map(|s| s.id);
    match sessions::start(&app.db, now, ttl, Some(&user), previous).await {
        Ok((cookie, _)) => {
            tracing::info!(sub = %user.sub, "signed in");
            let secure = app.secure_cookies();
            let mut response = pages::see_other(return_to);
            let headers = response.headers_mut();
            headers.append(header::SET_COOKIE, session::set_cookie(secure, &cookie));
            let device = device_cookie::issue(&app.mac, &user.username);
            headers.append(
                header::SET_COOKIE,
                device_cookie::set_cookie(secure, &device),
            );
            headers.append(header::SET_COOKIE, login_csrf::clear_cookie(secure));
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
    let mut response = pages::see_other("/login?signed_out=1");
    response.headers_mut().insert(
        header::SET_COOKIE,
        session::clear_cookie(app.secure_cookies()),
    );
    response.into_response()
}
