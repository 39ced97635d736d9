//! Example Shop: a small web app that signs its users in through behalf and
//! shows, on every page, when a support agent is acting as one of them. It is
//! what an app registered `behalf client add shop --delegated-sign-in` does:
//!
//! - sign in with the code flow, PKCE, `state` and `nonce`, and verify the ID
//!   token (the `openidconnect` crate: signature, `iss`, `aud`, `exp`, `nonce`;
//!   `at_hash` here), the browser's session id renewed at sign-in;
//! - read `act` from the ID token: when an agent signed in as the user, say
//!   who ("bob (support) is acting as alice — 42 minutes left");
//! - `/initiate`: third-party-initiated login (OIDC Core §4), the app's
//!   `--initiate-login-uri`, where behalf or a support tool sends an agent to
//!   sign in as a user (`login_hint`);
//! - `/backchannel-logout`: end the sessions behalf names in a logout token
//!   (OIDC Back-Channel Logout 1.0), the app's `--backchannel-logout-uri`, so
//!   that an agent's session ends when the user's grant does (`logout_token.rs`).
//!
//! Sessions live in memory. Against `cargo run --release -- serve --demo`
//! (README "An example app: Example Shop" gives the `client add` command):
//!
//!     SHOP_CLIENT_SECRET=... cargo run --example example_shop   # http://127.0.0.1:3000

mod logout_token;
mod pages;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use clap::Parser;
use logout_token::{Logout, LogoutTokens};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreIdTokenVerifier, CoreJsonWebKey, CoreJsonWebKeySet,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessToken, AccessTokenHash, AdditionalClaims, AuthorizationCode, Client, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    HttpRequest, HttpResponse, IdTokenFields, IssuerUrl, JsonWebKeySetUrl, LoginHint, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope,
    StandardErrorResponse, StandardTokenResponse, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

#[derive(Parser)]
#[command(about = "Example Shop: an app that signs its users in through behalf")]
struct Config {
    /// behalf's issuer URL.
    #[arg(long, env = "SHOP_ISSUER", default_value = "http://127.0.0.1:8080")]
    issuer: String,
    /// The shop's client id at behalf.
    #[arg(long, env = "SHOP_CLIENT_ID", default_value = "shop")]
    client_id: String,
    /// The secret `behalf client add` printed (better in the environment than on the command line).
    #[arg(long, env = "SHOP_CLIENT_SECRET", hide_env_values = true)]
    client_secret: String,
    /// Where to listen.
    #[arg(long, env = "SHOP_LISTEN", default_value = "127.0.0.1:3000")]
    listen: String,
    /// The shop's own URL as browsers reach it (default `http://LISTEN`); `/callback` is under it.
    #[arg(long, env = "SHOP_BASE_URL")]
    base_url: Option<String>,
}

/// What behalf adds to the ID token (and `act` to UserInfo) when an agent signs in as the user.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct BehalfClaims {
    /// Who is really acting (RFC 8693 §4.1): behalf names the agent by `sub`.
    act: Option<Actor>,
    grant_id: Option<String>,
    /// The session, as logout tokens name it.
    sid: Option<String>,
}
impl AdditionalClaims for BehalfClaims {}

#[derive(Clone, Debug, Deserialize, Serialize)]
struct Actor {
    sub: String,
}

type ShopTokenResponse = StandardTokenResponse<
    IdTokenFields<
        BehalfClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// openidconnect's client, reading `BehalfClaims`, with the endpoints discovery gives.
type OidcClient = Client<
    BehalfClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    ShopTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

const SESSION_COOKIE: &str = "shop_session";
/// A sign-in not finished in this time is forgotten.
const PENDING_TTL: Duration = Duration::from_secs(600);

struct Shop {
    issuer: IssuerUrl,
    jwks_uri: JsonWebKeySetUrl,
    base_url: String,
    oidc: OidcClient,
    http: reqwest::Client,
    logout_tokens: LogoutTokens,
    /// Browser sessions by the id in their cookie.
    sessions: Mutex<HashMap<String, Session>>,
}

#[derive(Default)]
struct Session {
    /// A sign-in under way: what the callback must match.
    pending: Option<Pending>,
    user: Option<User>,
    /// Why the session ended, said once on the next page.
    notice: Option<&'static str>,
}

struct Pending {
    state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
    /// Where to go once signed in: a path of the shop.
    next: String,
    started: Instant,
}

#[derive(Clone)]
pub struct User {
    sub: String,
    pub username: String,
    /// `act.sub`: the agent acting as the user, when it is a delegated session.
    pub agent: Option<String>,
    grant_id: Option<String>,
    sid: Option<String>,
    access_token: AccessToken,
    refresh_token: Option<RefreshToken>,
    /// The access token's expiry, which behalf never lets outlive the grant.
    pub expires_at: SystemTime,
}

/// One HTTP call for openidconnect over reqwest (built not to follow
/// redirects, as openidconnect advises against SSRF). The client is a
/// cheap handle: an owned one keeps the future free of borrows.
async fn send(http: reqwest::Client, request: HttpRequest) -> Result<HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut builder = openidconnect::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = response.bytes().await?.to_vec();
    Ok(builder.body(body).expect("a response from its own parts"))
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("shop_session="))
        .map(str::to_string)
}

impl Shop {
    fn cookie(&self, id: &str) -> String {
        let secure = if self.base_url.starts_with("https:") {
            "; Secure"
        } else {
            ""
        };
        format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax{secure}")
    }

    /// Sends the browser to behalf's `/authorize`, the sign-in's secrets kept in a new session.
    fn start_sign_in(&self, login_hint: Option<&str>, next: String) -> Response {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .oidc
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge);
        if let Some(hint) = login_hint {
            request = request.set_login_hint(LoginHint::new(hint.into()));
        }
        let (url, state, nonce) = request.url();
        let pending = Pending {
            state,
            nonce,
            verifier,
            next,
            started: Instant::now(),
        };
        let id = CsrfToken::new_random().secret().clone();
        let mut sessions = self.sessions.lock().unwrap();
        sessions.retain(|_, s| {
            s.user.is_some()
                || s.pending
                    .as_ref()
                    .is_some_and(|p| p.started.elapsed() < PENDING_TTL)
        });
        sessions.insert(
            id.clone(),
            Session {
                pending: Some(pending),
                ..Session::default()
            },
        );
        ([(SET_COOKIE, self.cookie(&id))], Redirect::to(url.as_str())).into_response()
    }

    /// Redeems the code and checks what comes back; the user it signs in.
    async fn finish_sign_in(&self, code: String, pending: Pending) -> Result<User, String> {
        let http = |request| send(self.http.clone(), request);
        let tokens = self
            .oidc
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| e.to_string())?
            .set_pkce_verifier(pending.verifier)
            .request_async(&http)
            .await
            .map_err(|e| format!("the code was not redeemed: {e}"))?;
        let id_token = tokens.id_token().ok_or("no ID token")?;
        // behalf rotates its keys: its JWKS as it is now, not as discovery found it.
        let jwks = CoreJsonWebKeySet::fetch_async(&self.jwks_uri, &http)
            .await
            .map_err(|e| format!("JWKS: {e}"))?;
        // RS256, the ID-token algorithm of an app registered without
        // `--id-token-alg`, as the shop is, is the verifier's only one; the
        // client secret would key only HMAC-signed ID tokens, so none is given.
        let verifier = CoreIdTokenVerifier::new_public_client(
            self.oidc.client_id().clone(),
            self.issuer.clone(),
            jwks,
        );
        let claims = id_token
            .claims(&verifier, &pending.nonce)
            .map_err(|e| format!("the ID token does not verify: {e}"))?;
        // at_hash binds the access token to the ID token (OIDC Core §3.1.3.8).
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token.signing_alg().map_err(|e| e.to_string())?;
            let key = id_token.signing_key(&verifier).map_err(|e| e.to_string())?;
            let actual = AccessTokenHash::from_token(tokens.access_token(), alg, key)
                .map_err(|e| e.to_string())?;
            if actual != *expected {
                return Err("the ID token's at_hash is not the access token's".into());
            }
        }
        // The ID token is the word on who is acting; UserInfo gives the user's name.
        let info: UserInfoClaims<BehalfClaims, CoreGenderClaim> = self
            .oidc
            .user_info(
                tokens.access_token().clone(),
                Some(claims.subject().clone()),
            )
            .map_err(|e| e.to_string())?
            .request_async(&http)
            .await
            .map_err(|e| format!("UserInfo: {e}"))?;
        let sub = claims.subject().to_string();
        let behalf = claims.additional_claims();
        Ok(User {
            username: info
                .preferred_username()
                .map_or_else(|| sub.clone(), |u| u.to_string()),
            sub,
            agent: behalf.act.as_ref().map(|act| act.sub.clone()),
            grant_id: behalf.grant_id.clone(),
            sid: behalf.sid.clone(),
            access_token: tokens.access_token().clone(),
            refresh_token: tokens.refresh_token().cloned(),
            expires_at: SystemTime::now() + tokens.expires_in().unwrap_or(Duration::ZERO),
        })
    }

    /// The session's user, the tokens refreshed once they ran out; `None` once
    /// refresh fails (for an agent: the grant ended; behalf refuses it then).
    async fn current_user(&self, id: &str) -> Option<User> {
        let user = self.sessions.lock().unwrap().get(id)?.user.clone()?;
        if SystemTime::now() < user.expires_at {
            return Some(user);
        }
        let http = |request| send(self.http.clone(), request);
        let refreshed = match &user.refresh_token {
            Some(token) => match self.oidc.exchange_refresh_token(token) {
                Ok(request) => request.request_async(&http).await.ok(),
                Err(_) => None,
            },
            None => None,
        };
        let mut sessions = self.sessions.lock().unwrap();
        let session = sessions.get_mut(id)?;
        let current = session.user.as_mut()?;
        match refreshed {
            Some(tokens) => {
                current.access_token = tokens.access_token().clone();
                current.refresh_token = tokens.refresh_token().cloned().or(user.refresh_token);
                current.expires_at =
                    SystemTime::now() + tokens.expires_in().unwrap_or(Duration::ZERO);
                Some(current.clone())
            }
            None => {
                session.user = None;
                session.notice = Some(ended_notice(&user));
                None
            }
        }
    }
}

/// Ends the sessions a verified logout token names (Back-Channel Logout 1.0
/// §2.7): those of its `sid` (and `sub`, if given), or without a `sid` all of its `sub`.
fn end_sessions(sessions: &mut HashMap<String, Session>, logout: &Logout) -> usize {
    let mut ended = 0;
    for session in sessions.values_mut() {
        let Some(user) = &session.user else { continue };
        let sub_matches = logout.sub.as_ref().is_none_or(|sub| *sub == user.sub);
        let sid_matches = logout
            .sid
            .as_ref()
            .is_none_or(|sid| user.sid.as_ref() == Some(sid));
        if sub_matches && sid_matches {
            session.notice = Some(ended_notice(user));
            session.user = None;
            ended += 1;
        }
    }
    ended
}

/// What the next page says when a session ended without the browser's doing.
fn ended_notice(user: &User) -> &'static str {
    match user.agent {
        Some(_) => "The support access you were using has ended.",
        None => "You were signed out. Please sign in again.",
    }
}

type AppState = State<Arc<Shop>>;

/// `GET /`: "Sign in", or "Hello alice" and, when an agent acts, who and for how long.
async fn home(State(shop): AppState, headers: HeaderMap) -> Response {
    let Some(id) = session_id(&headers) else {
        return pages::home(None, None);
    };
    let user = shop.current_user(&id).await;
    let notice = match &user {
        Some(_) => None,
        None => shop
            .sessions
            .lock()
            .unwrap()
            .get_mut(&id)
            .and_then(|s| s.notice.take()),
    };
    pages::home(user.as_ref(), notice)
}

/// `GET /login`.
async fn login(State(shop): AppState) -> Response {
    shop.start_sign_in(None, "/".into())
}

/// `GET`/`POST /initiate` (OIDC Core §4): `iss` must be our issuer, or anyone
/// could send the browser to sign in elsewhere; `login_hint` is passed on;
/// `target_link_uri` is followed only within the shop.
fn initiate(shop: &Shop, params: &HashMap<String, String>) -> Response {
    if params.get("iss").map(String::as_str) != Some(shop.issuer.as_str()) {
        return pages::problem(
            StatusCode::BAD_REQUEST,
            "This sign-in was not started by the provider the shop trusts.",
        );
    }
    let next = params
        .get("target_link_uri")
        .and_then(|t| t.strip_prefix(&shop.base_url))
        .filter(|path| path.starts_with('/') && !path.starts_with("//"))
        .unwrap_or("/");
    let hint = params.get("login_hint").map(String::as_str);
    shop.start_sign_in(hint.filter(|h| !h.is_empty()), next.to_string())
}

async fn initiate_get(
    State(shop): AppState,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    initiate(&shop, &params)
}

async fn initiate_post(State(shop): AppState, body: Bytes) -> Response {
    initiate(&shop, &form_urlencoded::parse(&body).into_owned().collect())
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

/// `GET /callback`: the sign-in's own session, its `state` and behalf's `iss`
/// (RFC 9207, against mix-up) must match; then the code is redeemed and the
/// user has a new session id.
async fn callback(
    State(shop): AppState,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let pending = session_id(&headers).and_then(|id| {
        let mut sessions = shop.sessions.lock().unwrap();
        let pending = sessions.get_mut(&id)?.pending.take();
        sessions.remove(&id);
        pending
    });
    let Some(pending) = pending else {
        return pages::problem(
            StatusCode::BAD_REQUEST,
            "No sign-in was under way in this browser. Please sign in again.",
        );
    };
    if query.state.as_deref() != Some(pending.state.secret().as_str()) {
        return pages::problem(
            StatusCode::BAD_REQUEST,
            "This sign-in is not the one this browser started.",
        );
    }
    // behalf advertises `authorization_response_iss_parameter_supported`: no `iss`, no answer.
    if query.iss.as_deref() != Some(shop.issuer.as_str()) {
        return pages::problem(
            StatusCode::BAD_REQUEST,
            "The answer did not come from the provider the shop trusts.",
        );
    }
    if let Some(error) = query.error {
        return pages::problem(
            StatusCode::FORBIDDEN,
            &format!("Sign-in did not complete ({error})."),
        );
    }
    let Some(code) = query.code else {
        return pages::problem(StatusCode::BAD_REQUEST, "The answer has no code.");
    };
    let next = pending.next.clone();
    match shop.finish_sign_in(code, pending).await {
        Ok(user) => {
            match &user.agent {
                Some(agent) => println!(
                    "signed in: {} as {} (grant {}, sid {})",
                    agent,
                    user.username,
                    user.grant_id.as_deref().unwrap_or("?"),
                    user.sid.as_deref().unwrap_or("?"),
                ),
                None => println!("signed in: {}", user.username),
            }
            let id = CsrfToken::new_random().secret().clone();
            let session = Session {
                user: Some(user),
                ..Session::default()
            };
            shop.sessions.lock().unwrap().insert(id.clone(), session);
            ([(SET_COOKIE, shop.cookie(&id))], Redirect::to(&next)).into_response()
        }
        Err(why) => {
            eprintln!("sign-in refused: {why}");
            pages::problem(StatusCode::BAD_GATEWAY, "Sign-in failed. Please try again.")
        }
    }
}

/// `POST /logout`: the shop's session ends (the cookie is `SameSite=Lax`, so
/// no other site can post this with it).
async fn logout(State(shop): AppState, headers: HeaderMap) -> Response {
    if let Some(id) = session_id(&headers) {
        shop.sessions.lock().unwrap().remove(&id);
    }
    let expired = format!("{SESSION_COOKIE}=; Path=/; Max-Age=0");
    ([(SET_COOKIE, expired)], Redirect::to("/")).into_response()
}

/// `POST /backchannel-logout` (Back-Channel Logout 1.0 §2.5, §2.8): 200 once
/// the sessions are ended, 400 for a logout token that does not verify.
async fn backchannel_logout(State(shop): AppState, body: Bytes) -> Response {
    let no_store = [(CACHE_CONTROL, "no-store")];
    let token = form_urlencoded::parse(&body)
        .find(|(name, _)| name == "logout_token")
        .map(|(_, value)| value.into_owned());
    let verified = match token {
        Some(token) => shop.logout_tokens.verify(&shop.http, &token).await,
        None => Err("no logout_token".into()),
    };
    match verified {
        Ok(logout) => {
            let ended = end_sessions(&mut shop.sessions.lock().unwrap(), &logout);
            println!(
                "back-channel logout: ended {ended} session(s) (sid {}, sub {})",
                logout.sid.as_deref().unwrap_or("-"),
                logout.sub.as_deref().unwrap_or("-"),
            );
            (StatusCode::OK, no_store).into_response()
        }
        Err(why) => {
            eprintln!("back-channel logout refused: {why}");
            let body = serde_json::json!({"error": "invalid_request", "error_description": why});
            (StatusCode::BAD_REQUEST, no_store, axum::Json(body)).into_response()
        }
    }
}

#[tokio::main]
async fn main() {
    let config = Config::parse();
    let base_url = config
        .base_url
        .unwrap_or_else(|| format!("http://{}", config.listen));
    let base_url = base_url.trim_end_matches('/').to_string();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    let issuer = IssuerUrl::new(config.issuer.clone()).unwrap_or_else(|e| {
        eprintln!("--issuer {}: {e}", config.issuer);
        std::process::exit(2);
    });
    let metadata = CoreProviderMetadata::discover_async(issuer.clone(), &|r| send(http.clone(), r))
        .await
        .unwrap_or_else(|e| {
            eprintln!("cannot discover {}: {e}", config.issuer);
            std::process::exit(1);
        });
    let jwks_uri = metadata.jwks_uri().clone();
    let redirect = RedirectUrl::new(format!("{base_url}/callback")).expect("a callback URL");
    let oidc = OidcClient::from_provider_metadata(
        metadata,
        ClientId::new(config.client_id.clone()),
        Some(ClientSecret::new(config.client_secret)),
    )
    .set_redirect_uri(redirect);
    let shop = Arc::new(Shop {
        logout_tokens: LogoutTokens::new(&config.issuer, &config.client_id, jwks_uri.to_string()),
        issuer,
        jwks_uri,
        base_url: base_url.clone(),
        oidc,
        http,
        sessions: Mutex::new(HashMap::new()),
    });
    let app = Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/initiate", get(initiate_get).post(initiate_post))
        .route("/callback", get(callback))
        .route("/logout", post(logout))
        .route("/backchannel-logout", post(backchannel_logout))
        .with_state(shop);
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .unwrap_or_else(|e| {
            eprintln!("cannot listen on {}: {e}", config.listen);
            std::process::exit(1);
        });
    println!(
        "Example Shop on {base_url}, signing in through {} as {}",
        config.issuer, config.client_id
    );
    axum::serve(listener, app).await.expect("serves");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_in(sub: &str, sid: Option<&str>, agent: Option<&str>) -> Session {
        Session {
            user: Some(User {
                sub: sub.into(),
                username: sub.into(),
                agent: agent.map(String::from),
                grant_id: None,
                sid: sid.map(String::from),
                access_token: AccessToken::new("at".into()),
                refresh_token: None,
                expires_at: SystemTime::now() + Duration::from_secs(3600),
            }),
            ..Session::default()
        }
    }

    fn still_signed_in(sessions: &HashMap<String, Session>) -> Vec<&str> {
        let mut ids: Vec<&str> = sessions
            .iter()
            .filter(|(_, s)| s.user.is_some())
            .map(|(id, _)| id.as_str())
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn a_logout_token_ends_the_sessions_of_its_sid_or_else_of_its_sub() {
        let mut sessions = HashMap::from([
            (
                "bob-as-alice".to_string(),
                signed_in("alice", Some("sid-1"), Some("bob")),
            ),
            (
                "dave-as-alice".to_string(),
                signed_in("alice", Some("sid-2"), Some("dave")),
            ),
            ("alice".to_string(), signed_in("alice", None, None)),
            ("carol".to_string(), signed_in("carol", None, None)),
        ]);
        let by_sid = Logout {
            sub: Some("alice".into()),
            sid: Some("sid-1".into()),
        };
        assert_eq!(end_sessions(&mut sessions, &by_sid), 1);
        assert_eq!(
            still_signed_in(&sessions),
            ["alice", "carol", "dave-as-alice"]
        );
        assert_eq!(
            sessions["bob-as-alice"].notice,
            Some("The support access you were using has ended.")
        );
        // A sid of another sub ends nothing.
        let mismatched = Logout {
            sub: Some("carol".into()),
            sid: Some("sid-2".into()),
        };
        assert_eq!(end_sessions(&mut sessions, &mismatched), 0);
        // A sub alone ends every session of that user.
        let by_sub = Logout {
            sub: Some("alice".into()),
            sid: None,
        };
        assert_eq!(end_sessions(&mut sessions, &by_sub), 2);
        assert_eq!(still_signed_in(&sessions), ["carol"]);
    }
}
