//! Calls to an identity provider: one client for every IdP (4.5 s per call,
//! connecting included; redirects not followed; at most 1 MiB read), so that
//! an IdP that is down or never answers costs a sign-in or an exchange less
//! than 5 s, answer included (docs/security.md O4), and a failure in words without its URL.

use serde::de::DeserializeOwned;
use std::error::Error;
use std::time::Duration;

/// The longest one call to an IdP may take (its documents' fetch in all:
/// `refetched`), leaving room to answer within 5 s.
pub const TIMEOUT: Duration = Duration::from_millis(4500);

/// The most of one answer read: discovery documents and key sets are small.
const MAX_BODY: usize = 1 << 20;

/// An IdP that could not be asked, or whose answer was not what was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable(pub String);

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("behalf/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a client with rustls and no proxy settings builds")
}

/// A failed call in words: what went wrong and its causes, without the URL.
/// `limit`: the timeout the client was built with. The outbox's deliveries
/// say their failures with it too (`outbox::http`).
pub fn failure_in_words(error: &reqwest::Error, limit: Duration) -> String {
    let mut words = if error.is_timeout() {
        format!("no answer within {} s", limit.as_secs_f32())
    } else if error.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut cause = error.source();
    while let Some(e) = cause {
        words.push_str(": ");
        words.push_str(&e.to_string());
        cause = e.source();
    }
    words
}

/// A failed call to an IdP in words.
pub fn in_words(error: &reqwest::Error) -> String {
    failure_in_words(error, TIMEOUT)
}

/// Where `issuer` publishes its metadata (OIDC Discovery §4): a trailing
/// slash of the issuer (Auth0's) is not doubled.
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// The claims of a compact JWT, read without checking anything: for a
/// token whose signature was verified, or to pick which issuer's keys to try.
pub fn jwt_claims(compact: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    use base64::Engine;
    let payload = compact.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The body of `response`, at most `MAX_BODY` bytes of it.
async fn body(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BODY {
            break;
        }
    }
    Ok(body)
}

/// `GET url` as JSON of type `T`: a 200 with a body that parses, else `Unreachable`.
pub async fn get_json<T: DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
    what: &str,
) -> Result<T, Unreachable> {
    let response = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| Unreachable(format!("{what}: {}", in_words(&e))))?;
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        return Err(Unreachable(format!("{what}: answered HTTP {status}")));
    }
    let bytes = body(response)
        .await
        .map_err(|e| Unreachable(format!("{what}: {}", in_words(&e))))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Unreachable(format!("{what}: not JSON of the expected shape: {e}")))
}

/// The HTTP client `openidconnect` calls (its requests, sent with reqwest).
pub async fn openid_http(
    client: reqwest::Client,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, reqwest::Error> {
    let (parts, request_body) = request.into_parts();
    let response = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(request_body)
        .send()
        .await?;
    let mut builder = openidconnect::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let bytes = body(response).await?;
    Ok(builder
        .body(bytes)
        .expect("a status and headers from a response make a response"))
}
