//! Signing in through a company IdP (docs/contract.md "Beside an existing
//! identity provider"; OpenID Connect Core 1.0 §3.1; docs/security.md O1, O2):
//! `GET /login/upstream/{id}` records the sign-in (`upstream_logins`: `state`
//! hashed, `nonce`, PKCE verifier, `return_to`), sets the `behalf_upstream`
//! cookie to the `state` and sends the browser to the IdP;
//! `GET /login/upstream/{id}/callback` accepts only a `state` that is this
//! browser's cookie, unused, under 10 minutes old and begun for this upstream
//! (a callback at one upstream's path carrying another's state is refused),
//! checks RFC 9207's `iss`, redeems the code, verifies the ID token
//! (`federation::upstream`), finds or makes the linked user
//! (`federation::link`), refuses a disabled one, and starts a new session
//! as a password sign-in does. Every failure is a page saying what happened,
//! the IdP's words escaped, with a way to try again.

use super::sessions;
use crate::app::{App, AppState};
use crate::digest;
use crate::federation::link::{self, Refresh};
use crate::federation::upstream::{Failure, Started, Upstream};
use crate::random;
use crate::store::upstream_logins::{UPSTREAM_LOGIN_TTL, UpstreamLoginRow};
use crate::web::form::OAuthForm;
use crate::web::{cookies, login_csrf, pages, return_to, session};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use tera::Context;

/// The cookie that ties a callback to the browser that began the sign-in.
const COOKIE: &str = "behalf_upstream";
const COOKIE_PATH: &str = "/login/upstream";

/// `prompt=login` and `max_age` as `/authorize` asked for them (OIDC Core
/// §3.1.2.1), passed on to the IdP so that its sign-in is fresh too.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reauth {
    pub prompt_login: bool,
    pub max_age: Option<i64>,
}

impl Reauth {
    pub fn read(query: &OAuthForm) -> Self {
        let single = |name| query.single(name).ok().flatten();
        Self {
            prompt_login: single("prompt").is_some_and(|p| p.split(' ').any(|p| p == "login")),
            max_age: single("max_age")
                .and_then(|m| m.parse::<i64>().ok())
                .filter(|m| *m >= 0),
        }
    }

    fn append_to(self, query: &mut form_urlencoded::Serializer<'_, String>) {
        if self.prompt_login {
            query.append_pair("prompt", "login");
        }
        if let Some(max_age) = self.max_age {
            query.append_pair("max_age", &max_age.to_string());
        }
    }
}

/// Where the "Sign in with <name>" link of upstream `id` points.
pub fn start_path(id: &str, return_to: &str, reauth: Reauth) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("return_to", return_to);
    reauth.append_to(&mut query);
    format!("/login/upstream/{id}?{}", query.finish())
}

/// A failure page (docs/contract.md gives each heading and sentence).
struct Problem {
    status: StatusCode,
    title: String,
    message: String,
    /// The way to begin again, when there is one.
    retry: Option<String>,
}

impl Problem {
    fn render(self) -> Response {
        let mut context = Context::new();
        context.insert("title", &self.title);
        context.insert("message", &self.message);
        context.insert("retry", &self.retry);
        pages::render(self.status, "upstream_error.html", &context)
    }

    fn cannot_continue() -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            title: "This sign-in cannot continue".into(),
            message: "It was already used, or it did not start in this browser.".into(),
            retry: Some("/login".into()),
        }
    }

    fn took_too_long(retry: String) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            title: "This sign-in took too long".into(),
            message: "Please start again.".into(),
            retry: Some(retry),
        }
    }

    fn unreachable(upstream: &Upstream, retry: String) -> Self {
        Self {
            status: StatusCode::BAD_GATEWAY,
            title: format!("{} cannot be reached", upstream.settings.name),
            message: "Please try again in a few minutes.".into(),
            retry: Some(retry),
        }
    }

    fn refused(upstream: &Upstream, words: &str, retry: String) -> Self {
        let name = &upstream.settings.name;
        let words: String = words
            .chars()
            .filter(|c| !c.is_control())
            .take(500)
            .collect();
        Self {
            status: StatusCode::BAD_REQUEST,
            title: format!("{name} did not sign you in"),
            message: format!("{name} said: {words}"),
            retry: Some(retry),
        }
    }

    fn untrusted(upstream: &Upstream, retry: String) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            title: format!("{}'s answer was not accepted", upstream.settings.name),
            message: "behalf could not confirm who signed in.".into(),
            retry: Some(retry),
        }
    }

    /// The database could not answer (the cause is logged, never shown).
    fn storage(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "storage failed");
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            title: "Temporarily unavailable".into(),
            message: "The server cannot reach its database. Please try again shortly.".into(),
            retry: Some("/login".into()),
        }
    }

    fn disabled() -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            title: "This account is disabled".into(),
            message: "Ask your administrator to enable it.".into(),
            retry: None,
        }
    }
}

fn unknown_upstream() -> Response {
    pages::error_with_way_back(
        StatusCode::NOT_FOUND,
        "No such sign-in",
        "This server offers no sign-in by that name.",
        pages::SIGN_IN,
    )
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "storage failed");
    pages::unavailable()
}

/// `GET /login/upstream/{id}?return_to=...[&prompt=login][&max_age=N]`.
pub async fn start(
    State(app): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(upstream) = app.federation.upstream(&id) else {
        return unknown_upstream();
    };
    let query = OAuthForm::parse(query.unwrap_or_default().as_bytes());
    let return_to = return_to::or_default(query.single("return_to").ok().flatten());
    let reauth = Reauth::read(&query);
    let retry = start_path(&id, return_to, reauth);
    let (state, nonce, pkce_verifier) = (random::secret(), random::secret(), random::secret());
    let started = Started {
        state: &state,
        nonce: &nonce,
        pkce_verifier: &pkce_verifier,
        prompt_login: reauth.prompt_login,
        max_age: reauth.max_age,
    };
    let location = match upstream
        .authorization_url(&app.federation.http, &started)
        .await
    {
        Ok(location) => location,
        Err(e) => {
            tracing::warn!(upstream = %id, error = %e, "upstream sign-in: the IdP cannot be reached");
            return Problem::unreachable(upstream, retry).render();
        }
    };
    let row = UpstreamLoginRow {
        state_hash: digest::hash_hex(&state),
        upstream_id: id.clone(),
        nonce,
        pkce_verifier,
        return_to: return_to.to_string(),
        max_age: reauth.max_age,
        created_at: app.now(),
    };
    if let Err(e) = app.db.write(move |c| row.insert(c)).await {
        return unavailable(e);
    }
    let mut response = pages::see_other(&location);
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(
            COOKIE,
            &state,
            COOKIE_PATH,
            Some(UPSTREAM_LOGIN_TTL),
            app.secure_cookies(),
        ),
    );
    response
}

/// `GET /login/upstream/{id}/callback?code=...&state=...[&iss=...]`, or
/// `?error=...&error_description=...&state=...` (RFC 6749 §4.1.2.1).
pub async fn callback(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(upstream) = app.federation.upstream(&id) else {
        return unknown_upstream();
    };
    let query = OAuthForm::parse(query.unwrap_or_default().as_bytes());
    let single = |name| query.single(name).ok().flatten();
    match finish(&app, upstream, &headers, single).await {
        Ok(response) => response,
        Err(problem) => {
            tracing::info!(upstream = %id, title = %problem.title, "upstream sign-in failed");
            let mut page = problem.render();
            page.headers_mut().append(
                header::SET_COOKIE,
                cookies::set(COOKIE, "", COOKIE_PATH, Some(0), app.secure_cookies()),
            );
            page
        }
    }
}

async fn finish<'q>(
    app: &App,
    upstream: &Upstream,
    headers: &HeaderMap,
    single: impl Fn(&'static str) -> Option<&'q str>,
) -> Result<Response, Problem> {
    // This browser began it: the state is its cookie (RFC 6749 §10.12).
    let state = single("state").ok_or_else(Problem::cannot_continue)?;
    let ours = cookies::value(headers, COOKIE).is_some_and(|cookie| {
        use subtle::ConstantTimeEq;
        bool::from(cookie.as_bytes().ct_eq(state.as_bytes()))
    });
    if !ours {
        return Err(Problem::cannot_continue());
    }
    let state_hash = digest::hash_hex(state);
    let login = app
        .db
        .write(move |c| UpstreamLoginRow::claim(c, &state_hash))
        .await
        .map_err(Problem::storage)?
        .ok_or_else(Problem::cannot_continue)?;
    // A state begun for another upstream (mix-up, docs/security.md O1).
    if login.upstream_id != upstream.settings.id {
        return Err(Problem::cannot_continue());
    }
    let reauth = Reauth {
        prompt_login: false,
        max_age: login.max_age,
    };
    let retry = start_path(&upstream.settings.id, &login.return_to, reauth);
    let now = app.now();
    if now - login.created_at > UPSTREAM_LOGIN_TTL {
        return Err(Problem::took_too_long(retry));
    }
    if let Some(error) = single("error") {
        let words = single("error_description").unwrap_or(error);
        return Err(Problem::refused(upstream, words, retry));
    }
    let provider = upstream
        .provider(&app.federation.http, false)
        .await
        .map_err(|_| Problem::unreachable(upstream, retry.clone()))?;
    // RFC 9207 §2.4: the response names its issuer; one that names another is a mix-up.
    match single("iss") {
        Some(iss) if iss != upstream.issuer() => return Err(Problem::untrusted(upstream, retry)),
        None if provider.sends_iss => return Err(Problem::untrusted(upstream, retry)),
        _ => {}
    }
    let code = single("code").ok_or_else(Problem::cannot_continue)?;
    let started = Started {
        state,
        nonce: &login.nonce,
        pkce_verifier: &login.pkce_verifier,
        prompt_login: false,
        max_age: login.max_age,
    };
    let identity = upstream
        .redeem(&app.federation.http, code, &started, now)
        .await
        .map_err(|failure| match failure {
            Failure::Unreachable(why) => {
                tracing::warn!(upstream = %upstream.settings.id, %why, "upstream sign-in: the IdP cannot be reached");
                Problem::unreachable(upstream, retry.clone())
            }
            Failure::Refused(words) => Problem::refused(upstream, &words, retry.clone()),
            Failure::Untrusted(why) => {
                tracing::warn!(upstream = %upstream.settings.id, %why, "upstream sign-in: ID token refused");
                Problem::untrusted(upstream, retry.clone())
            }
        })?;
    let settings = &upstream.settings;
    let refresh = Refresh {
        agent_claim: settings.agent_claim(),
        team_claim: settings.team_claim.clone(),
        profile: true,
        may_create: true,
    };
    let user = app
        .db
        .write(move |c| link::link(c, &identity, &refresh, now))
        .await
        .map_err(Problem::storage)?
        .ok_or_else(Problem::cannot_continue)?;
    if !user.is_active() {
        return Err(Problem::disabled());
    }
    let previous = session::cookie_value(headers).map(|v| digest::hash_hex(&v));
    let ttl = app.settings.session_ttl_seconds;
    let (cookie, _) = sessions::start(&app.db, now, ttl, Some(&user), previous)
        .await
        .map_err(Problem::storage)?;
    tracing::info!(sub = %user.sub, upstream = %settings.id, "signed in through an upstream");
    let secure = app.secure_cookies();
    let mut response = pages::see_other(&login.return_to);
    let out = response.headers_mut();
    out.append(header::SET_COOKIE, session::set_cookie(secure, &cookie));
    out.append(header::SET_COOKIE, login_csrf::clear_cookie(secure));
    out.append(
        header::SET_COOKIE,
        cookies::set(COOKIE, "", COOKIE_PATH, Some(0), secure),
    );
    Ok(response)
}
