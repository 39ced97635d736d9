//! A scripted browser for the sign-in and consent pages: a cookie jar, no
//! automatic redirects, and form fields read out of the HTML.

use crate::helpers::TestApp;
use behalf::oauth::registration::{self, NewClient};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION};
use serde_json::Value;

pub const CALLBACK: &str = "http://127.0.0.1:9/cb";
pub const PASSWORD: &str = "correct horse battery";

pub struct Browser {
    pub http: reqwest::Client,
    base: String,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> String {
        self.headers
            .get(LOCATION)
            .unwrap_or_else(|| panic!("no Location; status {} body {}", self.status, self.body))
            .to_str()
            .unwrap()
            .to_string()
    }

    /// The `value` of the input named `name`, as the HTML carries it (unescaped).
    pub fn input(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(unescape(&self.body[start..end]))
    }

    /// Every hidden input of the page's form, in order.
    pub fn hidden_inputs(&self) -> Vec<(String, String)> {
        self.body
            .split("<input type=\"hidden\" ")
            .skip(1)
            .filter_map(|chunk| {
                let name = chunk
                    .strip_prefix("name=\"")?
                    .split('"')
                    .next()?
                    .to_string();
                let value = chunk.split("value=\"").nth(1)?.split('"').next()?;
                Some((name, unescape(value)))
            })
            .collect()
    }
}

fn unescape(html: &str) -> String {
    html.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2F;", "/")
        .replace("&#47;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        Self::at(&app.base)
    }

    /// A browser for a server at `base` (e.g. one started as a separate process).
    pub fn at(base: &str) -> Self {
        Self::with_headers(base, reqwest::header::HeaderMap::new())
    }

    /// A browser whose requests arrive through a proxy that adds
    /// `X-Forwarded-For: forwarded_for`.
    pub fn behind_proxy(app: &TestApp, forwarded_for: &str) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", forwarded_for.parse().unwrap());
        Self::with_headers(&app.base, headers)
    }

    fn with_headers(base: &str, headers: reqwest::header::HeaderMap) -> Self {
        Self {
            http: reqwest::Client::builder()
                .default_headers(headers)
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_string(),
        }
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{url}", self.base)
        } else {
            url.to_string()
        }
    }

    async fn page(response: reqwest::Response) -> Page {
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&self, url: &str) -> Page {
        Self::page(self.http.get(self.absolute(url)).send().await.unwrap()).await
    }

    pub async fn post(&self, url: &str, form: &[(String, String)]) -> Page {
        Self::page(
            self.http
                .post(self.absolute(url))
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Signs in through the form at `login_url`; returns the answer to the POST.
    pub async fn sign_in(&self, login_url: &str, username: &str, password: &str) -> Page {
        let form = self.get(login_url).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let fields = vec![
            ("username".to_string(), username.to_string()),
            ("password".to_string(), password.to_string()),
            (
                "csrf_token".to_string(),
                form.input("csrf_token").expect("csrf_token"),
            ),
            (
                "return_to".to_string(),
                form.input("return_to").expect("return_to"),
            ),
        ];
        self.post("/login", &fields).await
    }

    /// From an authorization URL to the redirect that carries the code or error:
    /// signs in when asked, approves consent when asked.
    pub async fn authorize(&self, url: &str, username: &str, decision: &str) -> String {
        let mut page = self.get(url).await;
        if page.status == StatusCode::SEE_OTHER && page.location().starts_with("/login") {
            let signed_in = self.sign_in(&page.location(), username, PASSWORD).await;
            assert_eq!(
                signed_in.status,
                StatusCode::SEE_OTHER,
                "{}",
                signed_in.body
            );
            page = self.get(&signed_in.location()).await;
        }
        if page.status == StatusCode::OK && page.body.contains("action=\"/authorize/consent\"") {
            let mut form = page.hidden_inputs();
            form.push(("decision".into(), decision.into()));
            page = self.post("/authorize/consent", &form).await;
        }
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        page.location()
    }
}

/// A user with `PASSWORD`; returns the `sub`.
pub async fn add_user(app: &TestApp, name: &str, agent: bool) -> String {
    let user = behalf::accounts::new_user(name, Some(PASSWORD), agent, 0).unwrap();
    let sub = user.sub.clone();
    app.state.db.run(move |c| user.insert(c)).await.unwrap();
    sub
}

pub struct ClientSpec<'a> {
    pub id: &'a str,
    pub public: bool,
    pub first_party: bool,
    pub refresh: bool,
}

/// A code-flow client redirecting to `CALLBACK`; returns its secret (none if public).
pub async fn add_code_client(app: &TestApp, spec: ClientSpec<'_>) -> Option<String> {
    let mut grants = vec!["authorization_code".to_string()];
    if spec.refresh {
        grants.push("refresh_token".into());
    }
    let (row, secret) = registration::register(
        NewClient {
            client_id: spec.id.into(),
            is_public: spec.public,
            first_party: spec.first_party,
            redirect_uris: vec![CALLBACK.into()],
            grant_types: grants,
            scopes: vec!["openid".into(), "profile".into(), "agent".into()],
            name: Some(format!("{} app", spec.id)),
            ..NewClient::default()
        },
        0,
    )
    .unwrap();
    app.state.db.run(move |c| row.insert(c)).await.unwrap();
    secret.map(|s| s.expose().clone())
}

/// The query parameters of a redirect URL.
pub fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// A PKCE pair: (verifier, S256 challenge).
pub fn pkce() -> (String, String) {
    use base64::Engine;
    let verifier = behalf::random::token(32);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(behalf::digest::sha256(verifier.as_bytes()));
    (verifier, challenge)
}

/// An authorization URL for `client_id` with PKCE; `extra` adds or overrides parameters.
pub fn authorize_url(
    app: &TestApp,
    client_id: &str,
    challenge: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("scope", "openid profile"),
        ("state", "st-123"),
        ("nonce", "n-456"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    for (name, value) in extra {
        params.retain(|(n, _)| n != name);
        if !value.is_empty() {
            params.push((name, value));
        }
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    app.url(&format!("/authorize?{query}"))
}

/// Redeems `code` at the token endpoint.
pub async fn redeem(
    app: &TestApp,
    client: (&str, Option<&str>),
    code: &str,
    verifier: &str,
) -> (StatusCode, serde_json::Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", verifier),
    ];
    let auth = match client {
        (id, Some(secret)) => Some((id, secret)),
        (id, None) => {
            form.push(("client_id", id));
            None
        }
    };
    let (status, _, body) = app.post_token(auth, &form).await;
    (status, body)
}

/// The support console: confidential, first-party, code flow and token exchange,
/// scopes `openid agent read write`. Returns its secret.
pub async fn add_support_client(app: &TestApp) -> String {
    let (row, secret) = registration::register(
        NewClient {
            client_id: "console".into(),
            first_party: true,
            redirect_uris: vec![CALLBACK.into()],
            grant_types: vec![
                "authorization_code".into(),
                "urn:ietf:params:oauth:grant-type:token-exchange".into(),
            ],
            scopes: ["openid", "agent", "read", "write", "admin"]
                .map(String::from)
                .to_vec(),
            name: Some("Support console".into()),
            ..NewClient::default()
        },
        0,
    )
    .unwrap();
    app.state.db.run(move |c| row.insert(c)).await.unwrap();
    secret.unwrap().expose().clone()
}

/// `username` signs in to the console with scope `scope`; returns the access token.
pub async fn console_token(app: &TestApp, secret: &str, username: &str, scope: &str) -> String {
    console_tokens(app, secret, username, scope).await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// As `console_token`, the whole token response (ID token, refresh token when
/// the console has that grant).
pub async fn console_tokens(app: &TestApp, secret: &str, username: &str, scope: &str) -> Value {
    let (verifier, challenge) = pkce();
    let url = authorize_url(app, "console", &challenge, &[("scope", scope)]);
    let location = Browser::new(app).authorize(&url, username, "approve").await;
    let (status, tokens) = redeem(
        app,
        ("console", Some(secret)),
        &query_of(&location)["code"],
        &verifier,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}
