//! Agents that are programs (OpenID CIBA Core 1.0; docs/contract.md "Agents
//! that are programs"; docs/security.md P1–P2): an assistant registered as a
//! program agent asks alice with a backchannel authentication request, she
//! answers on `/account` as she answers a person, and its token requests
//! meet every CIBA state: pending, too soon, declined, expired, issued once,
//! ended. What it gets acts in its own name: `act.sub` is its client id.

use crate::fixtures::{
    Receiver, World, approve_on_the_screen, csrf, deny_on_the_screen, end_on_the_screen,
    introspect_as, signed_in_to_account,
};
use crate::helpers::{TestApp, jwt_claims};
use behalf::oauth::registration::{self, NewClient};
use reqwest::StatusCode;
use serde_json::Value;

const CIBA: &str = "urn:openid:params:grant-type:ciba";
const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// How long a ping may take to arrive.
const PING_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// "Invoice Assistant", a program agent in poll mode; its secret.
async fn add_assistant(app: &TestApp) -> String {
    add_program_agent(app, "assistant").await
}

/// A program agent `id` in poll mode, named "Invoice Assistant"; its secret.
async fn add_program_agent(app: &TestApp, id: &str) -> String {
    register(
        app,
        NewClient {
            client_id: id.into(),
            grant_types: vec![CIBA.into(), "client_credentials".into(), EXCHANGE.into()],
            scopes: ["openid", "read", "write", "agent"]
                .map(String::from)
                .to_vec(),
            name: Some("Invoice Assistant".into()),
            program_agent: true,
            ..NewClient::default()
        },
    )
    .await
}

/// Registers `new` as `behalf client add` does, with its agent account; its secret.
async fn register(app: &TestApp, new: NewClient) -> String {
    let (row, secret) = registration::register(new, app.clock_now()).unwrap();
    let agent = registration::program_agent_account(&row, app.clock_now());
    app.state
        .db
        .run(move |c| {
            row.insert(c)?;
            agent.insert(c)
        })
        .await
        .unwrap();
    secret.unwrap().expose().clone()
}

struct Assistant {
    app: TestApp,
    secret: String,
}

async fn assistant() -> Assistant {
    let scene = World::new().user("alice").build().await;
    let secret = add_assistant(&scene.app).await;
    Assistant {
        app: scene.app,
        secret,
    }
}

impl Assistant {
    async fn ask(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .app
            .http
            .post(self.app.url("/bc-authorize"))
            .basic_auth("assistant", Some(&self.secret))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Asks alice for `read` for an hour; the `auth_req_id`.
    async fn ask_alice(&self) -> String {
        let (status, body) = self.ask(&alice_for_an_hour()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["auth_req_id"].as_str().unwrap().to_string()
    }

    async fn poll(&self, auth_req_id: &str) -> (StatusCode, Value) {
        let (status, _, body) = self
            .app
            .post_token(
                Some(("assistant", &self.secret)),
                &[("grant_type", CIBA), ("auth_req_id", auth_req_id)],
            )
            .await;
        (status, body)
    }

    /// The id of the one request waiting on alice's `/account`.
    async fn waiting_request(&self) -> String {
        let id: String = self
            .app
            .state
            .db
            .run(|c| {
                use behalf::store::schema::access_requests as t;
                use diesel::prelude::*;
                Ok(t::table
                    .filter(t::status.eq("pending"))
                    .select(t::id)
                    .first(c)?)
            })
            .await
            .unwrap();
        id
    }
}

fn alice_for_an_hour() -> [(&'static str, &'static str); 4] {
    [
        ("scope", "openid read"),
        ("login_hint", "alice"),
        ("binding_message", "Fetch your March invoices"),
        ("duration", "3600"),
    ]
}

fn error_of(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_assistant_asks_alice_approves_and_one_poll_yields_tokens_in_its_own_name() {
    let a = assistant().await;
    let (status, asked) = a.ask(&alice_for_an_hour()).await;
    assert_eq!(status, StatusCode::OK, "{asked}");
    assert_eq!(asked["interval"], 5);
    assert_eq!(asked["expires_in"], 86_400, "the policy's request lifetime");
    let auth_req_id = asked["auth_req_id"].as_str().unwrap();
    assert!(auth_req_id.len() >= 32, "unguessable");

    let (status, body) = a.poll(auth_req_id).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, "authorization_pending")
    );

    let alice = signed_in_to_account(&a.app, "alice").await;
    let page = alice.get("/account").await;
    assert!(page.body.contains("Invoice Assistant"), "{}", page.body);
    assert!(
        page.body.contains("Fetch your March invoices"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("<option value=\"assistant\""),
        "a program is neither a person to give access to nor a support tool: {}",
        page.body
    );
    assert!(
        page.body.contains("this server has no support tool set up"),
        "without a support tool the form is not offered: {}",
        page.body
    );
    let id = a.waiting_request().await;
    let approved = alice
        .post(&format!("/account/requests/{id}/approve"), &[csrf(&page)])
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);

    let (status, body) = a.poll(auth_req_id).await;
    assert_eq!(
        error_of(&body),
        "slow_down",
        "polled within the interval: {status} {body}"
    );
    a.app.clock.advance(9);
    let (status, body) = a.poll(auth_req_id).await;
    assert_eq!(
        error_of(&body),
        "slow_down",
        "the interval grew to 10 s: {body}"
    );
    a.app.clock.advance(15);
    let (status2, tokens) = a.poll(auth_req_id).await;
    assert_eq!(status2, StatusCode::OK, "{status} {tokens}");
    let access = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["act"]["sub"], "assistant");
    assert_eq!(access["client_id"], "assistant");
    let alice_sub = a.app.get_json("/.well-known/openid-configuration").await;
    assert!(
        alice_sub["grant_types_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == CIBA)
    );
    let grant_id = access["grant_id"].as_str().unwrap().to_string();
    assert!(access["exp"].as_i64().unwrap() <= a.app.clock_now() + 3600);
    let id_token = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["act"]["sub"], "assistant");
    assert_eq!(id_token["sub"], access["sub"]);
    assert_eq!(id_token["aud"], "assistant");

    let (status, again) = a.poll(auth_req_id).await;
    a.app.clock.advance(60);
    let (status3, later) = a.poll(auth_req_id).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{again}");
    assert_eq!(
        (status3, error_of(&later)),
        (StatusCode::BAD_REQUEST, "invalid_grant"),
        "once"
    );

    let rs = a.app.add_client("rs", &[], &[]).await;
    let token = tokens["access_token"].as_str().unwrap();
    let active = introspect_as(&a.app, ("rs", &rs), token).await;
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["act"]["sub"], "assistant");
    assert_eq!(
        end_on_the_screen(&a.app, "alice", &grant_id).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        introspect_as(&a.app, ("rs", &rs), token).await["active"],
        false,
        "ended at the next check"
    );
}

#[tokio::test]
async fn every_refused_backchannel_request_carries_the_ciba_error() {
    let a = assistant().await;
    let with = |name: &'static str, value: &'static str| {
        let mut form: Vec<(&str, &str)> = alice_for_an_hour().to_vec();
        form.retain(|(n, _)| *n != name);
        if !value.is_empty() {
            form.push((name, value));
        }
        form
    };
    let long_message = "x".repeat(65);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (with("scope", "read"), "invalid_scope"),
        (with("scope", "openid admin"), "invalid_scope"),
        (with("login_hint", ""), "invalid_request"),
        (with("login_hint", "nobody"), "unknown_user_id"),
        (with("binding_message", ""), "invalid_request"),
        (with("binding_message", "two\nlines"), "invalid_request"),
        (with("requested_expiry", "soon"), "invalid_request"),
        (with("requested_expiry", "-5"), "invalid_request"),
        (with("duration", "1"), "invalid_request"),
        (with("login_hint_token", "eyJ"), "invalid_request"),
    ];
    for (form, error) in cases {
        let (status, body) = a.ask(&form).await;
        assert_eq!(
            (status, error_of(&body)),
            (StatusCode::BAD_REQUEST, error),
            "{form:?}: {body}"
        );
    }
    let mut form = alice_for_an_hour().to_vec();
    form.retain(|(n, _)| *n != "binding_message");
    form.push(("binding_message", &long_message));
    let (status, body) = a.ask(&form).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, "invalid_binding_message")
    );

    let anonymous = a
        .app
        .http
        .post(a.app.url("/bc-authorize"))
        .form(&alice_for_an_hour())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let person_client = a.app.add_client("desk", &["openid", "read"], &[]).await;
    let not_a_program = a
        .app
        .http
        .post(a.app.url("/bc-authorize"))
        .basic_auth("desk", Some(person_client))
        .form(&alice_for_an_hour())
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_program.status(), StatusCode::BAD_REQUEST);
    let body: Value = not_a_program.json().await.unwrap();
    assert_eq!(error_of(&body), "unauthorized_client");

    a.ask_alice().await;
    let (status, body) = a.ask(&alice_for_an_hour()).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "one waiting per user: {body}"
    );
}

#[tokio::test]
async fn a_declined_request_is_access_denied_and_an_unanswered_one_expires() {
    let a = assistant().await;
    let declined = a.ask_alice().await;
    deny_on_the_screen(&a.app, "alice", &a.waiting_request().await).await;
    let (_, body) = a.poll(&declined).await;
    assert_eq!(error_of(&body), "access_denied", "{body}");

    let mut form = alice_for_an_hour().to_vec();
    form.push(("requested_expiry", "120"));
    let (status, asked) = a.ask(&form).await;
    assert_eq!(asked["expires_in"], 120, "{status} {asked}");
    let unanswered = asked["auth_req_id"].as_str().unwrap();
    a.app.clock.advance(120);
    let (_, body) = a.poll(unanswered).await;
    assert_eq!(error_of(&body), "expired_token", "{body}");
    let (_, body) = a.poll("not-an-auth-req-id").await;
    assert_eq!(error_of(&body), "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn polls_at_once_yield_one_token_response() {
    let a = assistant().await;
    let auth_req_id = a.ask_alice().await;
    approve_on_the_screen(&a.app, "alice", &a.waiting_request().await).await;
    let mut polls = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (http, url) = (a.app.http.clone(), a.app.url("/token"));
        let (secret, id) = (a.secret.clone(), auth_req_id.clone());
        polls.spawn(async move {
            let response = http
                .post(url)
                .basic_auth("assistant", Some(secret))
                .form(&[("grant_type", CIBA), ("auth_req_id", id.as_str())])
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        });
    }
    let answers = polls.join_all().await;
    let issued = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(issued, 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(*status, StatusCode::BAD_REQUEST);
        assert!(
            ["invalid_grant", "slow_down"].contains(&error_of(body)),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_poll_after_the_grant_ended_is_refused() {
    let a = assistant().await;
    let auth_req_id = a.ask_alice().await;
    approve_on_the_screen(&a.app, "alice", &a.waiting_request().await).await;
    let grant_id: String = a
        .app
        .state
        .db
        .run(|c| {
            use behalf::store::schema::grants as t;
            use diesel::prelude::*;
            Ok(t::table.select(t::id).first(c)?)
        })
        .await
        .unwrap();
    assert_eq!(
        end_on_the_screen(&a.app, "alice", &grant_id).await,
        StatusCode::SEE_OTHER
    );
    let (status, body) = a.poll(&auth_req_id).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, "invalid_grant"),
        "{body}"
    );
}

#[tokio::test]
async fn the_assistant_exchanges_under_its_grant_with_its_own_client_credentials_token() {
    let a = assistant().await;
    let auth_req_id = a.ask_alice().await;
    approve_on_the_screen(&a.app, "alice", &a.waiting_request().await).await;
    a.app.clock.advance(5);
    let (_, tokens) = a.poll(&auth_req_id).await;
    let grant_id = jwt_claims(tokens["access_token"].as_str().unwrap())["grant_id"]
        .as_str()
        .unwrap()
        .to_string();
    let own = a
        .app
        .client_credentials_token("assistant", &a.secret, "agent")
        .await;
    let (status, _, exchanged) = a
        .app
        .post_token(
            Some(("assistant", &a.secret)),
            &[
                ("grant_type", EXCHANGE),
                ("subject_token", &grant_id),
                (
                    "subject_token_type",
                    "urn:behalf:params:oauth:token-type:grant_id",
                ),
                ("actor_token", &own),
                (
                    "actor_token_type",
                    "urn:ietf:params:oauth:token-type:access_token",
                ),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{exchanged}");
    let claims = jwt_claims(exchanged["access_token"].as_str().unwrap());
    assert_eq!(claims["act"]["sub"], "assistant");
    assert_eq!(claims["grant_id"], grant_id.as_str());
}

fn behalf(db: &crate::helpers::TestDb, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_behalf"))
        .args(args)
        .env("BEHALF_DATABASE_URL", &db.url)
        .env("BEHALF_KEY_ENCRYPTION_KEY", crate::helpers::TEST_KEK)
        .output()
        .expect("the binary runs")
}

#[test]
fn client_add_program_agent_makes_its_agent_account_and_refuses_what_cannot_work() {
    let db = crate::helpers::TestDb::new();
    let added = behalf(
        &db,
        &[
            "client",
            "add",
            "assistant",
            "--program-agent",
            "--grant-type",
            CIBA,
            "--scope",
            "openid",
            "--scope",
            "read",
            "--name",
            "Invoice Assistant",
        ],
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let shown: Value =
        serde_json::from_slice(&behalf(&db, &["client", "show", "assistant"]).stdout).unwrap();
    assert_eq!(shown["program_agent"], true);
    assert_eq!(shown["ciba_mode"], "poll");
    let user: Value =
        serde_json::from_slice(&behalf(&db, &["user", "show", "assistant"]).stdout).unwrap();
    assert_eq!(
        user["sub"], "assistant",
        "act.sub of its tokens is its client id"
    );
    assert_eq!(user["agent"], true, "{user}");

    for (args, says) in [
        (
            vec!["client", "add", "bot", "--program-agent"],
            "needs --grant-type urn:openid:params:grant-type:ciba",
        ),
        (
            vec!["client", "add", "bot", "--grant-type", CIBA],
            "only for a client registered --program-agent",
        ),
        (
            vec![
                "client",
                "add",
                "bot",
                "--program-agent",
                "--grant-type",
                CIBA,
                "--ciba-mode",
                "ping",
            ],
            "needs --ciba-notification-endpoint",
        ),
        (
            vec![
                "client",
                "add",
                "bot",
                "--program-agent",
                "--grant-type",
                CIBA,
                "--ciba-mode",
                "push",
            ],
            "poll or ping",
        ),
        (
            vec![
                "client",
                "add",
                "bot",
                "--program-agent",
                "--grant-type",
                CIBA,
                "--ciba-mode",
                "ping",
                "--ciba-notification-endpoint",
                "http://example.com/ping",
            ],
            "--ciba-notification-endpoint",
        ),
        (
            vec![
                "client",
                "add",
                "assistant",
                "--program-agent",
                "--grant-type",
                CIBA,
            ],
            "already exists",
        ),
    ] {
        let refused = behalf(&db, &args);
        let err = String::from_utf8_lossy(&refused.stderr);
        assert!(
            !refused.status.success() && err.contains(says),
            "{args:?}: {err}"
        );
    }
    let removed = behalf(&db, &["client", "remove", "assistant"]);
    assert!(
        removed.status.success(),
        "{}",
        String::from_utf8_lossy(&removed.stderr)
    );
    assert!(
        !behalf(&db, &["user", "show", "assistant"]).status.success(),
        "its account went with it"
    );
}

#[tokio::test]
async fn in_ping_mode_the_answer_is_pinged_with_the_clients_token_then_collected() {
    let scene = World::new().user("alice").build().await;
    let app = scene.app;
    // The assistant's notification endpoint; it answers 204 (CIBA Core §10.2).
    let endpoint = Receiver::start_then("/ciba", &[], 204).await;
    let secret = register(
        &app,
        NewClient {
            client_id: "assistant".into(),
            grant_types: vec![CIBA.into()],
            scopes: ["openid", "read"].map(String::from).to_vec(),
            name: Some("Invoice Assistant".into()),
            program_agent: true,
            ciba_mode: Some("ping".into()),
            ciba_notification_endpoint: Some(endpoint.url.clone()),
            ..NewClient::default()
        },
    )
    .await;
    let a = Assistant { app, secret };
    let mut form = alice_for_an_hour().to_vec();
    let (status, body) = a.ask(&form).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "ping mode needs client_notification_token: {body}"
    );
    form.push(("client_notification_token", "tell-me-8f3a9c"));
    let (status, asked) = a.ask(&form).await;
    assert_eq!(status, StatusCode::OK, "{asked}");
    let auth_req_id = asked["auth_req_id"].as_str().unwrap();

    approve_on_the_screen(&a.app, "alice", &a.waiting_request().await).await;
    let pings = endpoint.wait_for(1, PING_WITHIN).await;
    assert_eq!(
        pings[0].header("authorization"),
        Some("Bearer tell-me-8f3a9c")
    );
    let body: Value = serde_json::from_str(pings[0].text()).unwrap();
    assert_eq!(body, serde_json::json!({"auth_req_id": auth_req_id}));
    let (status, tokens) = a.poll(auth_req_id).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(
        jwt_claims(tokens["access_token"].as_str().unwrap())["act"]["sub"],
        "assistant"
    );

    let mut again = alice_for_an_hour().to_vec();
    again.push(("client_notification_token", "tell-me-again"));
    let (_, asked) = a.ask(&again).await;
    let declined = asked["auth_req_id"].as_str().unwrap();
    deny_on_the_screen(&a.app, "alice", &a.waiting_request().await).await;
    let pings = endpoint.wait_for(2, PING_WITHIN).await;
    assert_eq!(
        pings[1].header("authorization"),
        Some("Bearer tell-me-again")
    );
    let body: Value = serde_json::from_str(pings[1].text()).unwrap();
    assert_eq!(body["auth_req_id"], declined);
    let (_, body) = a.poll(declined).await;
    assert_eq!(error_of(&body), "access_denied");
}

#[tokio::test]
async fn the_tokens_never_outlive_a_short_grant_and_only_the_asking_client_collects_them() {
    let a = assistant().await;
    let mut form = alice_for_an_hour().to_vec();
    form.retain(|(n, _)| *n != "duration");
    form.push(("duration", "600"));
    let (_, asked) = a.ask(&form).await;
    let auth_req_id = asked["auth_req_id"].as_str().unwrap().to_string();
    approve_on_the_screen(&a.app, "alice", &a.waiting_request().await).await;

    let helper = add_program_agent(&a.app, "helper").await;
    let (status, _, stolen) = a
        .app
        .post_token(
            Some(("helper", &helper)),
            &[("grant_type", CIBA), ("auth_req_id", &auth_req_id)],
        )
        .await;
    assert_eq!(
        (status, error_of(&stolen)),
        (StatusCode::BAD_REQUEST, "invalid_grant"),
        "P1: {stolen}"
    );

    let (status, tokens) = a.poll(&auth_req_id).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the other client's try did not use it up: {tokens}"
    );
    let grant_ends = a.app.clock_now() + 600;
    let access = jwt_claims(tokens["access_token"].as_str().unwrap());
    let id_token = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        access["exp"], grant_ends,
        "P2: bounded by the grant, not the 1-hour token life"
    );
    assert!(id_token["exp"].as_i64().unwrap() <= grant_ends);
    assert_eq!(tokens["expires_in"], 600);
}
