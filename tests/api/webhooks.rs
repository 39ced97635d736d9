//! Webhooks (Standard Webhooks; docs/contract.md "Webhooks"; docs/security.md
//! N1, N2, N5): a receiver served by the test on 127.0.0.1 gets each event it
//! hears as a signed POST, the same `webhook-id` on every retry, retried after
//! 1 then 2 seconds of the server's clock; each event type with its data
//! through a request's and a grant's life; nothing for a refused change;
//! delivered after a kill -9; once per event (counted) with two instances on
//! one PostgreSQL database; and a destination that hangs does not slow
//! `/token`.

use crate::fixtures::outbox_rows;
use crate::fixtures::{
    Delivery, Desk, HANG, Receiver, Webhook, add_receiver, add_webhook, api, approve, behalf_cli,
    body_of, console_token, csrf, desk, desk_on, file_request, file_request_as, granted_at,
    signed_in_to_account,
};
use crate::helpers::{TEST_KEK, TestApp, skip_without_postgres};
use behalf::store::events::EventRow;
use behalf::store::outbox::OutboxRow;
use behalf::store::schema::events;
use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

async fn webhook_endpoint(answers: &[u16]) -> Receiver {
    Receiver::start("/hooks/behalf", answers).await
}

/// The webhook rows of the outbox, oldest first.
async fn webhook_rows(app: &TestApp) -> Vec<OutboxRow> {
    outbox_rows(app, "webhook").await
}

/// Waits until `done` holds of the webhook rows, at most five seconds.
async fn rows_when(app: &TestApp, done: impl Fn(&[OutboxRow]) -> bool) -> Vec<OutboxRow> {
    let start = Instant::now();
    loop {
        let found = webhook_rows(app).await;
        if done(&found) {
            return found;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{found:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until a delivery of `event_type` arrived; all deliveries so far.
async fn wait_for_type(receiver: &Receiver, event_type: &str) -> Vec<Delivery> {
    let start = Instant::now();
    loop {
        let got = receiver.received();
        if got.iter().any(|d| body_of(d)["type"] == event_type) {
            return got;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no {event_type} within 5 s: {:?}",
            got.iter()
                .map(|d| body_of(d)["type"].clone())
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The bodies received, by event type (the last of each type).
fn by_type(got: &[Delivery]) -> HashMap<String, Value> {
    got.iter()
        .map(body_of)
        .map(|b| (b["type"].as_str().unwrap().to_string(), b))
        .collect()
}

/// What every delivery must be: a signed JSON POST of `{type, timestamp, data}`
/// whose `webhook-id` is an event id.
fn assert_standard(hook: &Webhook, delivery: &Delivery) {
    assert_eq!(delivery.content_type(), Some("application/json"));
    assert!(hook.signed(delivery), "the signature verifies");
    assert!(
        delivery.header("webhook-id").unwrap().starts_with("evt_"),
        "{delivery:?}"
    );
    let body = body_of(delivery);
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "{body}");
    for key in ["type", "timestamp", "data"] {
        assert!(body.get(key).is_some(), "{key} in {body}");
    }
    assert!(
        is_rfc3339_utc(body["timestamp"].as_str().unwrap()),
        "{}",
        body["timestamp"]
    );
}

/// RFC 3339 UTC as behalf writes it: `2026-12-01T09:00:00Z`.
fn is_rfc3339_utc(text: &str) -> bool {
    text.len() == 20 && text.ends_with('Z') && text.as_bytes()[10] == b'T'
}

#[tokio::test]
async fn a_webhook_that_fails_twice_gets_the_same_id_signed_anew_each_try_after_1_then_2_seconds() {
    let receiver = webhook_endpoint(&[500, 500]).await;
    let d = desk().await;
    let hook = add_webhook(&d.app, &receiver.url, &["access_request.created"]).await;
    let request = file_request(&d, "read", 3600).await;

    let failed = rows_when(&d.app, |r| r.len() == 1 && r[0].attempts == 1).await;
    assert_eq!(failed[0].last_error.as_deref(), Some("answered HTTP 500"));
    assert_eq!(failed[0].next_attempt_at, d.app.clock_now() + 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(receiver.received().len(), 1, "not again before 1 s");

    d.app.clock.advance(1);
    let again = rows_when(&d.app, |r| r[0].attempts == 2).await;
    assert_eq!(again[0].next_attempt_at, d.app.clock_now() + 2);
    d.app.clock.advance(1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(receiver.received().len(), 2, "not again before 2 s");

    d.app.clock.advance(1);
    let delivered = rows_when(&d.app, |r| r[0].delivered_at.is_some()).await;
    assert_eq!(delivered[0].delivered_at, Some(d.app.clock_now()));
    let got = receiver.wait_for(3, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 3);
    for delivery in &got {
        assert_standard(&hook, delivery);
    }
    let ids: Vec<&str> = got
        .iter()
        .map(|d| d.header("webhook-id").unwrap())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "one id: {ids:?}");
    let stamps: Vec<i64> = got
        .iter()
        .map(|d| d.header("webhook-timestamp").unwrap().parse().unwrap())
        .collect();
    let start = d.app.clock_now() - 3;
    assert_eq!(
        stamps,
        [start, start + 1, start + 3],
        "each attempt's own time"
    );
    let sigs: Vec<&str> = got
        .iter()
        .map(|d| d.header("webhook-signature").unwrap())
        .collect();
    assert_ne!(sigs[0], sigs[2], "signed at each attempt");
    let body = body_of(&got[2]);
    assert_eq!(body["type"], "access_request.created");
    assert_eq!(body["data"]["id"], request["id"]);
    assert_eq!(body["data"]["status"], "pending");
    assert_eq!(body["timestamp"], behalf::clock::rfc3339(start));

    // A body changed on the way no longer verifies.
    let mut tampered = got[2].clone();
    tampered.body = tampered.text().replace("pending", "approved").into();
    assert!(!hook.signed(&tampered));
}

#[tokio::test]
async fn a_webhook_for_grant_ended_hears_only_that() {
    let all = webhook_endpoint(&[]).await;
    let ended_only = webhook_endpoint(&[]).await;
    let d = desk().await;
    add_webhook(&d.app, &all.url, &[]).await;
    let hook = add_webhook(&d.app, &ended_only.url, &["grant.ended"]).await;
    let grant = approve(&d, "read", 3600).await;
    wait_for_type(&all, "grant.created").await;
    assert!(
        ended_only.received().is_empty(),
        "{:?}",
        ended_only.received()
    );

    let (status, _, _) = api(
        &d.app,
        Method::DELETE,
        &format!("/api/grants/{grant}"),
        Some(&d.bob),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let got = ended_only.wait_for(1, Duration::from_secs(5)).await;
    wait_for_type(&all, "audit.checkpoint").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got_after = ended_only.received();
    assert_eq!(got_after.len(), 1, "only grant.ended: {got:?}");
    assert_standard(&hook, &got_after[0]);
    let body = body_of(&got_after[0]);
    assert_eq!(body["type"], "grant.ended");
    assert_eq!(body["data"]["id"], grant.as_str());
    assert_eq!(body["data"]["ended_by"], "agent");
}

#[tokio::test]
async fn a_refused_approval_writes_no_event_and_sends_nothing() {
    let receiver = webhook_endpoint(&[]).await;
    let d = desk().await;
    add_webhook(&d.app, &receiver.url, &[]).await;
    let id = file_request(&d, "read", 3600).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let alice = signed_in_to_account(&d.app, "alice").await;
    let page = alice.get("/account").await;
    let denied = alice
        .post(&format!("/account/requests/{id}/deny"), &[csrf(&page)])
        .await;
    assert_eq!(denied.status, StatusCode::SEE_OTHER);
    wait_for_type(&receiver, "access_request.denied").await;
    let before = webhook_rows(&d.app).await.len();

    let page = alice.get("/account").await;
    let approved = alice
        .post(&format!("/account/requests/{id}/approve"), &[csrf(&page)])
        .await;
    assert_ne!(approved.status, StatusCode::SEE_OTHER, "refused");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut types: Vec<String> = d
        .app
        .state
        .db
        .run(|c| {
            Ok(events::table
                .filter(events::dropped_at.is_null())
                .select(events::event_type)
                .load(c)?)
        })
        .await
        .unwrap();
    types.sort();
    assert_eq!(
        types,
        ["access_request.created", "access_request.denied"],
        "no approved, no grant.created"
    );
    assert_eq!(webhook_rows(&d.app).await.len(), before);
    let got: Vec<Value> = receiver.received().iter().map(body_of).collect();
    assert_eq!(got.len(), 2, "{got:?}");
}

#[tokio::test]
async fn each_step_of_a_request_and_its_grant_arrives_with_its_data() {
    let receiver = webhook_endpoint(&[]).await;
    let d = desk().await;
    let hook = add_webhook(&d.app, &receiver.url, &[]).await;
    let g = granted_at(d, "read", 3600).await;
    let token = g.delegated_token().await;
    // `grant.used` is drawn when it is sent: wait for it before the end.
    wait_for_type(&receiver, "grant.used").await;
    let alice = signed_in_to_account(&g.d.app, "alice").await;
    let page = alice.get("/account").await;
    let ended = alice
        .post(
            &format!("/account/grants/{}/revoke", g.grant_id),
            &[csrf(&page)],
        )
        .await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    let every = [
        "access_request.created",
        "access_request.approved",
        "grant.created",
        "grant.used",
        "grant.ended",
        "audit.checkpoint",
    ];
    for kind in every {
        wait_for_type(&receiver, kind).await;
    }
    let got = receiver.received();
    for delivery in &got {
        assert_standard(&hook, delivery);
    }
    let seen = by_type(&got);
    let request_id = seen["access_request.created"]["data"]["id"].clone();
    for (kind, status) in [
        ("access_request.created", "pending"),
        ("access_request.approved", "approved"),
    ] {
        assert_eq!(seen[kind]["data"]["status"], status, "{kind}");
        assert_eq!(seen[kind]["data"]["id"], request_id, "{kind}");
    }
    assert_eq!(
        seen["access_request.approved"]["data"]["grant_id"],
        g.grant_id.as_str()
    );
    for (kind, status) in [
        ("grant.created", "active"),
        ("grant.used", "active"),
        ("grant.ended", "revoked"),
    ] {
        assert_eq!(seen[kind]["data"]["status"], status, "{kind}");
        assert_eq!(seen[kind]["data"]["id"], g.grant_id.as_str(), "{kind}");
        assert_eq!(seen[kind]["data"]["request_id"], request_id, "{kind}");
    }
    assert_eq!(seen["grant.ended"]["data"]["ended_by"], "user");
    let checkpoint = &seen["audit.checkpoint"]["data"];
    assert!(
        checkpoint["checkpoint"]
            .as_str()
            .unwrap()
            .split('.')
            .count()
            == 3
    );
    assert!(checkpoint["seq"].as_i64().unwrap() > 0);
    // Each event once, each with its own id; the delegated token nowhere.
    let ids: std::collections::BTreeSet<&str> = got
        .iter()
        .map(|d| d.header("webhook-id").unwrap())
        .collect();
    assert_eq!(ids.len(), got.len());
    assert!(got.iter().all(|d| !d.text().contains(&token)));
}

#[tokio::test]
async fn an_unanswered_request_and_a_grant_left_to_run_out_arrive_as_expired_ending_soon_and_ended()
{
    let receiver = webhook_endpoint(&[]).await;
    let d = desk().await;
    add_webhook(&d.app, &receiver.url, &[]).await;
    let grant = approve(&d, "read", 3600).await;
    let carol = console_token(&d.app, &d.secret, "carol", "openid agent").await;
    let pending = file_request_as(&d.app, &carol, "read", 3600).await;
    wait_for_type(&receiver, "access_request.created").await;
    let started = d.app.clock_now();

    d.app.clock.advance(2700);
    let got = wait_for_type(&receiver, "grant.ending_soon").await;
    let soon = by_type(&got)["grant.ending_soon"].clone();
    assert_eq!(soon["data"]["id"], grant.as_str());
    assert_eq!(soon["data"]["status"], "active");
    assert_eq!(soon["timestamp"], behalf::clock::rfc3339(started + 2700));

    d.app.clock.advance(900);
    let got = wait_for_type(&receiver, "grant.ended").await;
    let ended = by_type(&got)["grant.ended"].clone();
    assert_eq!(ended["data"]["id"], grant.as_str());
    assert_eq!(ended["data"]["status"], "expired");
    assert_eq!(ended["data"]["ended_by"], "expiry");
    assert_eq!(ended["timestamp"], behalf::clock::rfc3339(started + 3600));

    d.app.clock.advance(24 * 3600);
    let got = wait_for_type(&receiver, "access_request.expired").await;
    let expired = by_type(&got)["access_request.expired"].clone();
    assert_eq!(expired["data"]["id"], pending["id"]);
    assert_eq!(expired["data"]["status"], "expired");
}

#[tokio::test]
async fn removing_a_webhook_ends_its_retries_with_a_clear_error() {
    let receiver = webhook_endpoint(&[500]).await;
    let d = desk().await;
    let hook = add_webhook(&d.app, &receiver.url, &["access_request.created"]).await;
    file_request(&d, "read", 3600).await;
    rows_when(&d.app, |r| r.len() == 1 && r[0].attempts == 1).await;

    let listed = behalf_cli(&d.app, &["webhook", "list"]).await;
    let line: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(line["id"], hook.id.as_str());
    assert_eq!(
        line["events"],
        serde_json::json!(["access_request.created"])
    );
    assert!(line.get("secret").is_none());
    assert!(!String::from_utf8_lossy(&listed.stdout).contains("whsec_"));

    let removed = behalf_cli(&d.app, &["webhook", "remove", &hook.id]).await;
    assert!(removed.status.success(), "{removed:?}");
    let rows = webhook_rows(&d.app).await;
    assert_eq!(
        rows[0].last_error.as_deref(),
        Some("its webhook was removed")
    );
    assert!(rows[0].delivered_at.is_some(), "done: not retried");
    d.app.clock.advance(60);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(receiver.received().len(), 1, "not tried again");

    let again = behalf_cli(&d.app, &["webhook", "remove", &hook.id]).await;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains(&format!("no webhook {}", hook.id)));
}

#[tokio::test]
async fn webhook_add_refuses_plain_http_off_loopback_and_an_unknown_event_type() {
    let app = TestApp::spawn().await;
    let plain = behalf_cli(&app, &["webhook", "add", "http://hooks.example/in"]).await;
    assert!(!plain.status.success());
    assert!(String::from_utf8_lossy(&plain.stderr).contains("https"));
    let unknown = behalf_cli(
        &app,
        &[
            "webhook",
            "add",
            "https://hooks.example/in",
            "--event",
            "grant.deleted",
        ],
    )
    .await;
    assert!(!unknown.status.success());
    let said = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        said.contains("grant.deleted") && said.contains("grant.ended"),
        "{said}"
    );
    let listed = behalf_cli(&app, &["webhook", "list"]).await;
    assert!(listed.stdout.is_empty(), "none added");
}

/// A port nothing listens on (yet).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `behalf serve` as a child process on `app`'s database, with its issuer.
fn serve_child(app: &TestApp, port: u16) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_behalf"))
        .args(["serve"])
        .env("BEHALF_DATABASE_URL", &app.db.url)
        .env("BEHALF_KEY_ENCRYPTION_KEY", TEST_KEK)
        .env("BEHALF_LISTEN", format!("127.0.0.1:{port}"))
        .env("BEHALF_ISSUER", app.issuer())
        .env("BEHALF_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn a_grant_ended_just_before_a_kill_9_still_reaches_the_webhook_and_the_set_receiver() {
    // The destinations are down while the killed server runs, so only the
    // database can carry the ending past the kill.
    let (hook_port, set_port) = (free_port(), free_port());
    let hook_url = format!("http://127.0.0.1:{hook_port}/hooks/behalf");
    let set_url = format!("http://127.0.0.1:{set_port}/security-events");
    let d = desk().await;
    let hook = add_webhook(&d.app, &hook_url, &["grant.ended"]).await;
    add_receiver(&d.app, &set_url, "https://api.example").await;
    let grant = approve(&d, "read", 3600).await;
    let Desk { app, bob, .. } = d;
    let mut settings = app.db.settings();
    settings.issuer = Some(app.issuer().to_string());
    let clock = app.clock.clone();
    let port = free_port();
    let mut child = serve_child(&app, port);
    let db = app.stop_and_wait().await;

    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..200 {
        let answer = http.get(format!("{base}/readyz")).send().await;
        if answer.is_ok_and(|r| r.status().is_success()) {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the child server starts");
    let ended = http
        .delete(format!("{base}/api/grants/{grant}"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), StatusCode::OK, "acknowledged");
    child.kill().unwrap(); // SIGKILL: nothing of it runs on
    child.wait().unwrap();

    // The destinations come up; a server starts again on the same database,
    // its clock past the killed one's time and any claim it left.
    let hook_receiver = Receiver::start_on(hook_port, "/hooks/behalf", 200).await;
    let set_receiver = Receiver::start_on(set_port, "/security-events", 202).await;
    clock.advance(120);
    let app = TestApp::spawn_with(db, settings, clock).await;
    let got = hook_receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_standard(&hook, &got[0]);
    let body = body_of(&got[0]);
    assert_eq!(body["type"], "grant.ended");
    assert_eq!(body["data"]["id"], grant.as_str());
    assert_eq!(body["data"]["ended_by"], "agent");
    let sets = set_receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(sets[0].content_type(), Some("application/secevent+jwt"));
    let claims = crate::helpers::jwt_claims(sets[0].text());
    assert_eq!(claims["sub_id"]["id"], grant.as_str());
    assert_eq!(claims["jti"], got[0].header("webhook-id").unwrap());
    drop(app);
}

/// bob files a request and alice approves it, `count` times, alice signed in once.
async fn grants(d: &Desk, count: usize) -> Vec<String> {
    let alice = signed_in_to_account(&d.app, "alice").await;
    let mut made = Vec::new();
    for _ in 0..count {
        let id = file_request(d, "read", 3600).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let page = alice.get("/account").await;
        let approved = alice
            .post(&format!("/account/requests/{id}/approve"), &[csrf(&page)])
            .await;
        assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
        let (_, _, request) = api(
            &d.app,
            Method::GET,
            &format!("/api/access-requests/{id}"),
            Some(&d.bob),
            None,
        )
        .await;
        made.push(request["grant_id"].as_str().unwrap().to_string());
    }
    made
}

#[tokio::test]
async fn two_instances_on_one_postgresql_database_deliver_every_ending_and_count_the_repeats() {
    if skip_without_postgres(
        "two_instances_on_one_postgresql_database_deliver_every_ending_and_count_the_repeats",
    ) {
        return;
    }
    let receiver = webhook_endpoint(&[]).await;
    let d = desk().await;
    let hook = add_webhook(&d.app, &receiver.url, &["grant.ended"]).await;
    let made = grants(&d, 30).await;
    let mut settings = d.app.db.settings();
    settings.issuer = Some(d.app.issuer().to_string());
    let other = TestApp::spawn_with(d.app.db.clone(), settings, d.app.clock.clone()).await;
    // Half ended through each instance, all at once.
    let mut ends = tokio::task::JoinSet::new();
    for (i, grant) in made.iter().enumerate() {
        let base = if i % 2 == 0 { &d.app.base } else { &other.base };
        let (url, bob) = (format!("{base}/api/grants/{grant}"), d.bob.clone());
        let http = d.app.http.clone();
        ends.spawn(async move {
            http.delete(url)
                .bearer_auth(bob)
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    while let Some(status) = ends.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    let start = Instant::now();
    let mut ended: std::collections::BTreeSet<String> = Default::default();
    while ended.len() < made.len() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} of {} endings arrived",
            ended.len(),
            made.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        ended = receiver
            .received()
            .iter()
            .map(|d| body_of(d)["data"]["id"].as_str().unwrap().to_string())
            .collect();
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let got = receiver.received();
    let ids: std::collections::BTreeSet<&str> = got
        .iter()
        .map(|d| d.header("webhook-id").unwrap())
        .collect();
    let repeats = got.len() - ids.len();
    eprintln!(
        "two instances, one PostgreSQL database: {} grant.ended events, {} deliveries, {repeats} repeated webhook-id(s)",
        made.len(),
        got.len()
    );
    assert_eq!(ids.len(), made.len(), "none lost");
    let mut expected = made.clone();
    expected.sort();
    assert_eq!(ended.into_iter().collect::<Vec<_>>(), expected);
    assert!(got.iter().all(|d| hook.signed(d)));
    assert!(
        webhook_rows(&d.app)
            .await
            .iter()
            .all(|r| r.delivered_at.is_some())
    );
}

/// The `q`-th quantile (0..1) of `samples` (sorted here).
fn quantile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * q).round() as usize]
}

#[tokio::test]
async fn a_webhook_that_never_answers_does_not_slow_the_token_endpoint() {
    // Two servers, measured turn about so that whatever else the machine
    // does weighs on both: one without webhooks, one whose only webhook
    // hangs past the 10 s timeout with many deliveries queued.
    let hanging = Receiver::start_then("/hooks/behalf", &[], HANG).await;
    let quiet = TestApp::spawn().await;
    let busy = desk_on(TestApp::spawn().await).await;
    add_webhook(&busy.app, &hanging.url, &[]).await;
    for _ in 0..30 {
        let id = file_request(&busy, "read", 3600).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, _, _) = api(
            &busy.app,
            Method::DELETE,
            &format!("/api/access-requests/{id}"),
            Some(&busy.bob),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    hanging.wait_for(2, Duration::from_secs(5)).await;
    let queued = webhook_rows(&busy.app).await;
    assert!(queued.len() >= 60, "{} rows queued", queued.len());

    let quiet_secret = quiet.add_client("svc", &["read"], &[]).await;
    let busy_secret = busy.app.add_client("svc", &["read"], &[]).await;
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        for (app, secret, samples) in [
            (&quiet, &quiet_secret, &mut without),
            (&busy.app, &busy_secret, &mut with),
        ] {
            let start = Instant::now();
            app.client_credentials_token("svc", secret, "read").await;
            samples.push(start.elapsed());
        }
    }
    let (p50_without, p95_without) = (quantile(&mut without, 0.5), quantile(&mut without, 0.95));
    let (p50_with, p95_with) = (quantile(&mut with, 0.5), quantile(&mut with, 0.95));
    eprintln!(
        "/token client_credentials, 200 requests each: without webhooks p50 {p50_without:?} p95 {p95_without:?}; \
         with a hanging webhook ({} rows queued) p50 {p50_with:?} p95 {p95_with:?}",
        queued.len()
    );
    let hung = webhook_rows(&busy.app)
        .await
        .iter()
        .filter(|r| r.delivered_at.is_none())
        .count();
    assert!(hung >= 58, "the hanging webhook delivered nothing: {hung}");
    assert!(
        p95_with <= p95_without * 2 + Duration::from_millis(5),
        "p95 {p95_with:?} with the hanging webhook, {p95_without:?} without"
    );
}

#[tokio::test]
async fn an_event_row_holds_no_token_and_the_webhook_secret_is_sealed() {
    let receiver = webhook_endpoint(&[]).await;
    let d = desk().await;
    let hook = add_webhook(&d.app, &receiver.url, &[]).await;
    let g = granted_at(d, "read", 3600).await;
    let token = g.delegated_token().await;
    wait_for_type(&receiver, "grant.used").await;
    let (stored, secret_column) =
        g.d.app
            .state
            .db
            .run(|c| {
                let rows = events::table
                    .select(EventRow::as_select())
                    .load::<EventRow>(c)?;
                let sealed = behalf::store::schema::webhooks::table
                    .select(behalf::store::schema::webhooks::sealed_secret)
                    .load::<Vec<u8>>(c)?;
                Ok((rows, sealed))
            })
            .await
            .unwrap();
    let text = format!("{stored:?}");
    assert!(!text.contains(&token));
    assert!(!text.contains(&g.d.bob));
    assert_eq!(secret_column.len(), 1);
    assert!(
        !secret_column[0]
            .windows(hook.secret.len())
            .any(|w| w == hook.secret.as_slice()),
        "the secret's bytes are not stored as they are"
    );
}
