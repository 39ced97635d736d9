//! docs/security.md N4: no token, code, secret or password in any event,
//! mail or log line. The real binary (`serve --demo`, logging at debug for
//! behalf) goes through a whole delegated flow with mail on — bob asks,
//! alice signs in and allows it, the console exchanges bob's token, an API
//! introspects the delegated token, alice signs in to Example Shop (a code,
//! tokens, a refresh), bob ends the access — and then every event's data,
//! every mail as sent and the whole log are searched for each value used on
//! the way. And without `smtp_url`, each mail is one log line instead.

use crate::fixtures::{Browser, SmtpSink, pkce, query_of};
use crate::helpers::{TEST_KEK, TestDb};
use behalf::store::outbox::OutboxRow;
use behalf::store::schema::{events, outbox};
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CONSOLE_SECRET: &str = "demo-console-secret-for-local-trials-only";
const API_SECRET: &str = "demo-api-secret-for-local-trials-only";
const SHOP_SECRET: &str = "demo-shop-secret-for-local-trials-only";
const ALICE_PASSWORD: &str = "alice-demo-password";
const BOB_PASSWORD: &str = "bob-demo-password";
const SHOP_CALLBACK: &str = "http://127.0.0.1:3000/callback";

/// `behalf serve --demo` on a free port, its log collected line by line.
struct Demo {
    base: String,
    bob_token: String,
    server: Child,
    log: Arc<Mutex<Vec<String>>>,
    /// Kept open: a closed pipe would end the server at its next line on stdout.
    _stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl Demo {
    fn start(db: &TestDb, env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_behalf"));
        command
            .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
            .env("BEHALF_DATABASE_URL", &db.url)
            .env("BEHALF_KEY_ENCRYPTION_KEY", TEST_KEK)
            .env_remove("BEHALF_EMAIL_SMTP_URL")
            .env_remove("BEHALF_LOG_FORMAT")
            .env("BEHALF_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut server = command.spawn().unwrap();
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let (stderr, lines) = (server.stderr.take().unwrap(), log.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let mut bob_token = String::new();
        let mut stdout = BufReader::new(server.stdout.take().unwrap()).lines();
        for line in stdout.by_ref() {
            let line = line.unwrap();
            if let Some(token) = line.strip_prefix("export BOB_TOKEN=") {
                bob_token = token.to_string();
            }
            if line.starts_with("Discovery:") {
                break;
            }
        }
        assert!(!bob_token.is_empty(), "the walkthrough printed bob's token");
        Self {
            base: format!("http://127.0.0.1:{port}"),
            bob_token,
            server,
            log,
            _stdout: stdout,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Stops the server (SIGTERM) and waits for it; the log is complete then.
    fn stop(&mut self) {
        unsafe extern "C" {
            fn kill(pid: i32, sig: i32) -> i32;
        }
        unsafe { kill(self.server.id() as i32, 15) };
        let _ = self.server.wait();
        std::thread::sleep(Duration::from_millis(200));
    }

    /// bob asks alice for read access for an hour; the request.
    async fn bob_asks(&self, http: &reqwest::Client) -> Value {
        let response = http
            .post(self.url("/api/access-requests"))
            .bearer_auth(&self.bob_token)
            .json(
                &json!({"subject": "alice", "scope": "read", "duration": 3600,
                "reason": "Checking a billing error you reported", "ticket": "SUP-1234"}),
            )
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap_or_default();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// Waits until `log` has a line containing `words`.
fn wait_for_line(demo: &Demo, words: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(line) = demo.log.lock().unwrap().iter().find(|l| l.contains(words)) {
            return line.clone();
        }
        assert!(Instant::now() < deadline, "no {words:?} in {}", demo.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn no_token_code_secret_password_cookie_or_csrf_token_reaches_an_event_a_mail_or_the_log() {
    let db = TestDb::new();
    let sink = SmtpSink::start().await;
    let mut demo = Demo::start(
        &db,
        &[
            ("BEHALF_EMAIL_SMTP_URL", &sink.url()),
            ("BEHALF_LOG", "info,behalf=debug"),
        ],
    );
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let request = demo.bob_asks(&http).await;

    let alice = Browser::at(&demo.base);
    let signed_in = alice
        .sign_in("/login?return_to=/account", "alice", ALICE_PASSWORD)
        .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let cookies: Vec<String> = signed_in
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| {
            let pair = v.to_str().ok()?.split(';').next()?;
            Some(pair.split_once('=')?.1.to_string())
        })
        .filter(|value| value.len() >= 16)
        .collect();
    assert!(!cookies.is_empty(), "a session cookie was set");
    let page = alice.get("/account").await;
    let csrf_token = page.input("csrf_token").unwrap();
    let approved = alice
        .post(
            &format!(
                "/account/requests/{}/approve",
                request["id"].as_str().unwrap()
            ),
            &[("csrf_token".into(), csrf_token.clone())],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER);
    let read: Value = http
        .get(demo.url(&format!(
            "/api/access-requests/{}",
            request["id"].as_str().unwrap()
        )))
        .bearer_auth(&demo.bob_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let grant_id = read["grant_id"].as_str().unwrap().to_string();

    let exchanged: Value = http
        .post(demo.url("/token"))
        .basic_auth("demo-console", Some(CONSOLE_SECRET))
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token", &grant_id),
            (
                "subject_token_type",
                "urn:behalf:params:oauth:token-type:grant_id",
            ),
            ("actor_token", &demo.bob_token),
            (
                "actor_token_type",
                "urn:ietf:params:oauth:token-type:access_token",
            ),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let delegated = exchanged["access_token"].as_str().unwrap().to_string();
    let introspected: Value = http
        .post(demo.url("/introspect"))
        .basic_auth("demo-api", Some(API_SECRET))
        .form(&[("token", &delegated)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], true, "{introspected}");

    // alice signs in to Example Shop: a code, an access, ID and refresh token, a refresh.
    let (verifier, challenge) = pkce();
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", "shop"),
            ("redirect_uri", SHOP_CALLBACK),
            ("scope", "openid profile read"),
            ("state", "st-1"),
            ("nonce", "n-1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let mut answer = alice.get(&format!("/authorize?{query}")).await;
    if answer.status == StatusCode::OK {
        let mut form = answer.hidden_inputs();
        form.push(("decision".into(), "approve".into()));
        answer = alice.post("/authorize/consent", &form).await;
    }
    let code = query_of(&answer.location())["code"].clone();
    let tokens: Value = http
        .post(demo.url("/token"))
        .basic_auth("shop", Some(SHOP_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", SHOP_CALLBACK),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let refreshed: Value = http
        .post(demo.url("/token"))
        .basic_auth("shop", Some(SHOP_SECRET))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(refreshed["refresh_token"].is_string(), "{refreshed}");

    let ended = http
        .delete(demo.url(&format!("/api/grants/{grant_id}")))
        .bearer_auth(&demo.bob_token)
        .send()
        .await
        .unwrap();
    assert!(ended.status().is_success(), "{}", ended.status());
    // alice: asked, allowed, used, ended; bob: allowed.
    let mails = sink.wait_for(5, Duration::from_secs(15)).await;
    demo.stop();

    let mut secrets: Vec<(&str, String)> = vec![
        ("the delegated access token", delegated),
        (
            "bob's agent token (the actor token)",
            demo.bob_token.clone(),
        ),
        ("the code", code),
        ("the refresh token", refresh),
        (
            "the refreshed refresh token",
            refreshed["refresh_token"].as_str().unwrap().into(),
        ),
        (
            "the shop's access token",
            tokens["access_token"].as_str().unwrap().into(),
        ),
        (
            "the refreshed access token",
            refreshed["access_token"].as_str().unwrap().into(),
        ),
        ("the ID token", tokens["id_token"].as_str().unwrap().into()),
        ("the console's secret", CONSOLE_SECRET.into()),
        ("the API's secret", API_SECRET.into()),
        ("the shop's secret", SHOP_SECRET.into()),
        ("alice's password", ALICE_PASSWORD.into()),
        ("bob's password", BOB_PASSWORD.into()),
        ("the CSRF token", csrf_token),
        ("the PKCE verifier", verifier),
    ];
    for cookie in cookies {
        secrets.push(("a cookie value", cookie));
    }

    let store = db.open_keyed().await;
    let (data, payloads) = store
        .run(|c| {
            let data: Vec<Option<String>> = events::table.select(events::data).load(c)?;
            let rows: Vec<OutboxRow> = outbox::table.select(OutboxRow::as_select()).load(c)?;
            Ok((data, rows))
        })
        .await
        .unwrap();
    let events_text: String = data.into_iter().flatten().collect::<Vec<_>>().join("\n");
    assert!(
        events_text.contains(&grant_id),
        "the events were read: {events_text}"
    );
    let outbox_text: String = payloads
        .iter()
        .map(|r| format!("{} {} {:?}", r.payload, r.destination, r.last_error))
        .collect::<Vec<_>>()
        .join("\n");
    let mails_text: String = mails
        .iter()
        .map(|m| format!("{}\n{}", m.raw, m.text_and_html()))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(mails_text.contains("SUP-1234"), "the mails were read");
    let log = demo.log();
    assert!(
        log.contains("outbox message delivered"),
        "the log was read: {log}"
    );
    for (what, value) in &secrets {
        assert!(value.len() >= 8, "{what} is a real value: {value:?}");
        for (place, text) in [
            ("an event's data", &events_text),
            ("an outbox row", &outbox_text),
            ("a mail", &mails_text),
            ("the log", &log),
        ] {
            assert!(!text.contains(value.as_str()), "{what} is in {place}");
        }
    }
}

#[tokio::test]
async fn without_smtp_url_each_mail_is_one_log_line_and_counts_as_delivered() {
    let db = TestDb::new();
    let mut demo = Demo::start(&db, &[]);
    let http = reqwest::Client::new();
    demo.bob_asks(&http).await;
    let line = wait_for_line(&demo, "mail not sent (no [email] smtp_url)");
    assert!(
        line.contains(
            "mail not sent (no [email] smtp_url): to=alice@example.com, \
             subject=bob from Support asks to access your account\\nHello alice,\\n"
        ),
        "{line}"
    );
    assert!(line.contains("Ticket: SUP-1234"), "{line}");
    assert_eq!(
        demo.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("mail not sent"))
            .count(),
        1,
        "one line: {}",
        demo.log()
    );
    wait_for_line(&demo, "outbox message delivered");
    demo.stop();
    let store = db.open_keyed().await;
    let rows: Vec<OutboxRow> = store
        .run(|c| Ok(outbox::table.select(OutboxRow::as_select()).load(c)?))
        .await
        .unwrap();
    let mail = rows.iter().find(|r| r.kind == "email").unwrap();
    assert_eq!(mail.destination, "alice@example.com");
    assert!(
        mail.delivered_at.is_some() && mail.last_error.is_none(),
        "{mail:?}"
    );
}
