//! Test support: a fresh database per test (a temp SQLite file, or a PostgreSQL
//! database created here and dropped on `Drop`), the real app on port 0 with a
//! manual clock, and small client helpers.
//!
//! Set-up that costs CPU happens once per process: the signing keys of the
//! first app started with `TestApp::spawn` are copied into every later
//! `spawn`'s database (they are sealed under `TEST_KEK`, so they open there
//! too), and each test password is hashed once (`password_hash`).

use behalf::app::AppState;
use behalf::clock::ManualClock;
use behalf::config::Settings;
use behalf::oauth::registration::{self, NewClient};
use behalf::secret::Secret;
use behalf::startup::Application;
use behalf::store::signing_keys::SigningKeyRow;
use behalf::store::users::UserRow;
use behalf::store::{Backend, Database};
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

pub const TEST_KEK: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";

/// The argon2id hash of `password`, computed once per process: hashing is
/// deliberately slow, and a test user's hash need not be unique to be valid.
pub fn password_hash(password: &str) -> String {
    static HASHES: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let hashes = HASHES.get_or_init(Default::default);
    if let Some(hash) = hashes.lock().unwrap().get(password) {
        return hash.clone();
    }
    let hash = behalf::accounts::password::hash(password).expect("a valid test password");
    hashes
        .lock()
        .unwrap()
        .entry(password.to_string())
        .or_insert(hash)
        .clone()
}

/// A new account as `behalf user add` makes it, its password hashed through
/// the process-wide cache.
pub fn new_user(name: &str, password: Option<&str>, agent: bool, now: i64) -> UserRow {
    let mut user = behalf::accounts::new_user(name, None, agent, now).expect("a valid user");
    user.password_hash = password.map(password_hash);
    user
}

/// The signing keys `TestApp::spawn` gives every app after the first (whose
/// keys they are): generating them, an RSA key among them, is slow.
static SIGNING_KEYS: Mutex<Option<Vec<SigningKeyRow>>> = Mutex::new(None);

/// Tests that only make sense with PostgreSQL call this first: without
/// `BEHALF_TEST_POSTGRES_URL` it says so on stderr and the test returns.
pub fn skip_without_postgres(test: &str) -> bool {
    if std::env::var_os("BEHALF_TEST_POSTGRES_URL").is_some() {
        return false;
    }
    eprintln!(
        "skipped: {test} needs PostgreSQL (set BEHALF_TEST_POSTGRES_URL; scripts/test runs it)"
    );
    true
}

/// A database of this test's own.
pub struct TestDb {
    pub url: String,
    _dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match std::env::var("BEHALF_TEST_POSTGRES_URL") {
            Ok(base) => {
                let base = base.trim_end_matches('/').to_string();
                let name = format!(
                    "behalf_test_{}",
                    behalf::random::token(8)
                        .to_lowercase()
                        .replace(['-', '_'], "x")
                );
                let mut admin = PgConnection::establish(&format!("{base}/postgres"))
                    .expect("PostgreSQL at BEHALF_TEST_POSTGRES_URL answers");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create test database");
                Self {
                    url: format!("{base}/{name}"),
                    _dir: dir,
                    postgres: Some((base, name)),
                }
            }
            Err(_) => Self {
                url: format!("sqlite://{}", dir.path().join("behalf.db").display()),
                _dir: dir,
                postgres: None,
            },
        }
    }

    /// PostgreSQL only: the server's address and this test's database name.
    pub fn postgres(&self) -> Option<(&str, &str)> {
        self.postgres
            .as_ref()
            .map(|(b, n)| (b.as_str(), n.as_str()))
    }

    pub fn settings(&self) -> Settings {
        Settings {
            database_url: self.url.clone(),
            listen: "127.0.0.1:0".into(),
            key_encryption_key: Some(Secret::new(TEST_KEK.into())),
            log: "warn".into(),
            ..Settings::default()
        }
    }
}

impl TestDb {
    /// The database opened and migrated as the test servers open it: its audit
    /// chain keyed under `TEST_KEK` (without a key, audit appends fail).
    pub async fn open_keyed(&self) -> Database {
        let root = Secret::new(behalf::tokens::kek::decode_key(TEST_KEK).unwrap());
        Database::connect(Backend::from_url(&self.url).unwrap())
            .await
            .expect("the test database opens and migrates")
            .with_audit_chain(behalf::audit::chain_key(&root))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, name)) = &self.postgres
            && let Ok(mut admin) = PgConnection::establish(&format!("{base}/postgres"))
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

pub struct TestApp {
    pub base: String,
    /// `http://<address>` of the metrics listener, when `metrics_listen` is set.
    pub metrics_base: Option<String>,
    pub state: AppState,
    pub clock: ManualClock,
    pub http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
    pub db: Arc<TestDb>,
}

impl TestApp {
    /// The app on a fresh database with the default settings and the
    /// process's shared signing keys (see `SIGNING_KEYS`).
    pub async fn spawn() -> Self {
        Self::spawn_configured(|_| {}).await
    }

    /// As `spawn`, with the settings changed by `configure` first.
    pub async fn spawn_configured(configure: impl FnOnce(&mut Settings)) -> Self {
        let db = Arc::new(TestDb::new());
        let mut settings = db.settings();
        configure(&mut settings);
        let shared = SIGNING_KEYS.lock().unwrap().clone();
        let Some(rows) = shared else {
            let app = Self::spawn_own_keys_on(db, settings).await;
            let rows = app.state.db.run(SigningKeyRow::all).await.unwrap();
            SIGNING_KEYS.lock().unwrap().get_or_insert(rows);
            return app;
        };
        let store = Database::connect(Backend::from_url(&db.url).unwrap())
            .await
            .expect("the test database opens and migrates");
        store
            .run(move |c| rows.iter().try_for_each(|row| row.insert(c)))
            .await
            .expect("the shared signing keys go in");
        drop(store);
        Self::spawn_with(db, settings, ManualClock::starting_now()).await
    }

    /// As `spawn`, but the app generates signing keys of its own (for tests
    /// of the keys themselves).
    pub async fn spawn_own_keys() -> Self {
        let db = Arc::new(TestDb::new());
        let settings = db.settings();
        Self::spawn_own_keys_on(db, settings).await
    }

    async fn spawn_own_keys_on(db: Arc<TestDb>, settings: Settings) -> Self {
        Self::spawn_with(db, settings, ManualClock::starting_now()).await
    }

    /// The app on `db` with `settings`: the database keeps whatever keys it
    /// has, and the app generates any it lacks (as a real start does).
    pub async fn spawn_with(db: Arc<TestDb>, settings: Settings, clock: ManualClock) -> Self {
        let app = Application::build(settings, Arc::new(clock.clone()))
            .await
            .expect("the app builds");
        let base = format!("http://{}", app.address());
        let metrics_base = app.metrics_address().map(|a| format!("http://{a}"));
        let state = app.state();
        let server = tokio::spawn(async move {
            app.run_until_stopped().await.expect("server runs");
        });
        Self {
            base,
            metrics_base,
            state,
            clock,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            server,
            db,
        }
    }

    /// Stops the server; the database stays for a restart.
    pub fn stop(self) -> Arc<TestDb> {
        self.server.abort();
        self.db.clone()
    }

    /// As `stop`, returning only once the server and its background tasks
    /// are gone: nothing of it runs after this (a restart test moves the clock).
    pub async fn stop_and_wait(mut self) -> Arc<TestDb> {
        let server = std::mem::replace(&mut self.server, tokio::spawn(async {}));
        server.abort();
        let _ = server.await;
        self.db.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn issuer(&self) -> &str {
        &self.state.issuer
    }

    /// Registers a confidential client with `client_credentials`; returns its secret.
    pub async fn add_client(&self, id: &str, scopes: &[&str], audiences: &[&str]) -> String {
        let (row, secret) = registration::register(
            NewClient {
                client_id: id.into(),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                audiences: audiences.iter().map(|s| s.to_string()).collect(),
                ..NewClient::default()
            },
            self.clock_now(),
        )
        .expect("valid client");
        self.state.db.run(move |c| row.insert(c)).await.unwrap();
        secret.unwrap().expose().clone()
    }

    pub fn clock_now(&self) -> i64 {
        behalf::clock::Clock::now(&self.clock)
    }

    pub async fn post_token(
        &self,
        auth: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut request = self.http.post(self.url("/token")).form(form);
        if let Some((id, secret)) = auth {
            request = request.basic_auth(id, Some(secret));
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.json::<Value>().await.expect("JSON body");
        (status, headers, body)
    }

    pub async fn client_credentials_token(&self, id: &str, secret: &str, scope: &str) -> String {
        let (status, _, body) = self
            .post_token(
                Some((id, secret)),
                &[("grant_type", "client_credentials"), ("scope", scope)],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.http.get(self.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Verifies `token` the way an independent resource server would: keys from the
/// published JWKS, the algorithm fixed, `iss` and `aud` required.
/// The claims of a JWT, read without checking it (for what a test must look at).
pub fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

pub async fn verify_with_jwks(app: &TestApp, token: &str, audience: &str) -> Result<Value, String> {
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
    let jwks: JwkSet = serde_json::from_value(app.get_json("/jwks.json").await).unwrap();
    let header = decode_header(token).map_err(|e| e.to_string())?;
    if header.typ.as_deref() != Some("at+jwt") {
        return Err(format!("typ is {:?}", header.typ));
    }
    let kid = header.kid.ok_or("no kid")?;
    let jwk = jwks.find(&kid).ok_or("kid not in the JWKS")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[app.issuer()]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    // The server's clock is injected; let jsonwebtoken judge `exp` against it.
    validation.validate_exp = false;
    let data = decode::<Value>(token, &key, &validation).map_err(|e| e.to_string())?;
    let exp = data.claims["exp"].as_i64().ok_or("exp not a number")?;
    if exp <= app.clock_now() {
        return Err("expired".into());
    }
    Ok(data.claims)
}
