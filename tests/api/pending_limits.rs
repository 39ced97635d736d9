//! docs/security.md L5: an agent cannot flood a user's consent screen. One
//! pending request per agent and user (a second is 409 naming the first), and
//! at most `max_pending_requests_per_agent` pending in all (more are 429 with
//! `Retry-After`), also when the requests arrive at once: on PostgreSQL they
//! run in parallel transactions (BEHALF_TEST_POSTGRES_URL), on SQLite the
//! writer orders them.

use crate::fixtures::{World, api, ask, desk, file_request};
use crate::helpers::{TestApp, TestDb};
use behalf::store::access_requests::AccessRequestRow;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

/// How many requests go out at the same moment.
const BURST: usize = 24;

type Answer = (StatusCode, Option<String>, Value);

async fn post_request(app: &TestApp, token: &str, body: Value) -> Answer {
    let (status, headers, body) = api(
        app,
        Method::POST,
        "/api/access-requests",
        Some(token),
        Some(body),
    )
    .await;
    let retry_after = headers
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry_after, body)
}

/// Sends every body at once, each on a task of its own; the answers.
async fn burst(app: &TestApp, token: &str, bodies: Vec<Value>) -> Vec<Answer> {
    let mut requests = tokio::task::JoinSet::new();
    for body in bodies {
        let request = app
            .http
            .post(app.url("/api/access-requests"))
            .bearer_auth(token)
            .json(&body);
        requests.spawn(async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            (status, retry_after, response.json().await.unwrap())
        });
    }
    requests.join_all().await
}

async fn pending_of(app: &TestApp, agent_sub: String) -> Vec<AccessRequestRow> {
    let now = app.clock_now();
    app.state
        .db
        .run(move |c| AccessRequestRow::pending_of_agent(c, &agent_sub, now))
        .await
        .unwrap()
}

fn agent_sub(token: &str) -> String {
    crate::helpers::jwt_claims(token)["sub"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_second_request_to_the_same_user_is_409_naming_the_pending_one() {
    let d = desk().await;
    let first = file_request(&d, "read", 3600).await;
    let (status, _, body) = post_request(&d.app, &d.bob, ask("read", 600)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["id"], first["id"], "{body}");
    assert_eq!(body["error"], "invalid_request");

    // Once it is no longer pending, the agent may ask again.
    let id = first["id"].as_str().unwrap();
    let path = format!("/api/access-requests/{id}");
    let (cancelled, _, _) = api(&d.app, Method::DELETE, &path, Some(&d.bob), None).await;
    assert_eq!(cancelled, StatusCode::OK);
    let (status, _, body) = post_request(&d.app, &d.bob, ask("read", 600)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn requests_to_one_user_sent_at_once_leave_exactly_one_pending() {
    let d = desk().await;
    let bodies = (0..BURST).map(|_| ask("read", 600)).collect();
    let answers = burst(&d.app, &d.bob, bodies).await;
    let created: Vec<&Value> = answers
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::CREATED)
        .map(|(_, _, b)| b)
        .collect();
    assert_eq!(created.len(), 1, "{answers:?}");
    for (status, _, body) in &answers {
        if *status != StatusCode::CREATED {
            assert_eq!(*status, StatusCode::CONFLICT, "{body}");
            assert_eq!(body["id"], created[0]["id"], "{body}");
        }
    }
    let pending = pending_of(&d.app, agent_sub(&d.bob)).await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(json!(pending[0].id), created[0]["id"]);
}

#[tokio::test]
async fn past_the_per_agent_cap_requests_sent_at_once_are_429_with_retry_after() {
    const CAP: usize = 3;
    let db = Arc::new(TestDb::new());
    let mut settings = db.settings();
    settings.policy.max_pending_requests_per_agent = CAP as i64;
    let app = TestApp::spawn_with(db, settings, behalf::clock::ManualClock::starting_now()).await;
    let users: Vec<String> = (0..BURST).map(|i| format!("user{i}")).collect();
    let world = users
        .iter()
        .fold(World::new().agent("bob").console(), |w, u| w.user(u));
    let scene = world.build_on(app).await;
    let bob = scene.agent_token("bob").await;
    let app = &scene.app;

    let bodies = users
        .iter()
        .map(|u| {
            let mut body = ask("read", 600);
            body["subject"] = json!(u);
            body
        })
        .collect();
    let answers = burst(app, &bob, bodies).await;
    let created = answers
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, CAP, "{answers:?}");
    let ttl = behalf::config::Policy::default().request_ttl_seconds;
    for (status, retry_after, body) in &answers {
        if *status != StatusCode::CREATED {
            assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "{body}");
            assert_eq!(body["error"], "too_many_requests", "{body}");
            let seconds: i64 = retry_after
                .as_deref()
                .expect("Retry-After")
                .parse()
                .unwrap();
            assert!((1..=ttl).contains(&seconds), "{seconds}");
        }
    }
    let pending = pending_of(app, scene.subs["bob"].clone()).await;
    assert_eq!(pending.len(), CAP);

    // When the pending ones expire, the agent may ask again.
    app.clock.advance(ttl);
    let bob = scene.agent_token("bob").await;
    let mut body = ask("read", 600);
    body["subject"] = json!(users[BURST - 1]);
    let (status, _, body) = post_request(app, &bob, body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// However many requests wait (say, from many agents), `/account` shows
/// `PAGE` a page, with links to the others.
#[tokio::test]
async fn the_account_page_shows_twenty_pending_requests_a_page_with_links_to_the_rest() {
    use behalf::delegation::consent_screen::page::PAGE;
    use behalf::store::access_requests::RequestState;
    let d = desk().await;
    let (bob, alice, now) = (agent_sub(&d.bob), d.alice_sub.clone(), d.app.clock_now());
    let waiting = PAGE + 5;
    d.app
        .state
        .db
        .run(move |c| {
            (0..waiting as i64).try_for_each(|i| {
                AccessRequestRow {
                    id: format!("r{i:03}"),
                    agent_sub: bob.clone(),
                    subject_sub: alice.clone(),
                    client_id: "console".into(),
                    scopes: "read".into(),
                    duration: 600,
                    reason: "seeded".into(),
                    ticket: String::new(),
                    status: RequestState::Pending.as_str().into(),
                    created_at: now - i,
                    expires_at: now + 3600,
                    decided_at: None,
                    grant_id: None,
                    apps: String::new(),
                }
                .insert(c)
            })
        })
        .await
        .unwrap();
    let alice = crate::fixtures::signed_in_to_account(&d.app, "alice").await;
    let first = alice.get("/account").await;
    assert_eq!(first.body.matches("data-request-id=").count(), PAGE);
    assert!(
        first.body.contains("href=\"/account?page=2\""),
        "{}",
        first.body
    );
    assert!(!first.body.contains("rel=\"prev\""));
    let second = alice.get("/account?page=2").await;
    assert_eq!(second.body.matches("data-request-id=").count(), 5);
    assert!(second.body.contains("data-request-id=\"r024\""));
    assert!(second.body.contains("href=\"/account?page=1\""));
    assert!(!second.body.contains("rel=\"next\""));
}
