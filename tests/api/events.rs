//! Events (docs/contract.md "Events"; docs/security.md N1, N6) as the
//! database records them: each written in its change's transaction and only
//! with it, the waiting ones happening at their time or dropped when a change
//! made them moot, the first use told once, and a signed checkpoint of the
//! audit trail at every ending and every five minutes, which `GET
//! /audit/checkpoint` serves and `behalf audit verify --checkpoint` holds the
//! trail to. Deliveries to webhooks, mail and receivers have their own files.

use crate::fixtures::{
    Granted, approve_on_the_screen, csrf, desk, end_on_the_screen, file_request, granted,
    signed_in_to_account,
};
use crate::helpers::{TEST_KEK, TestApp, TestDb, jwt_claims};
use behalf::store::audit_events;
use behalf::store::events::EventRow;
use reqwest::StatusCode;
use serde_json::Value;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

async fn events_about(app: &TestApp, id: &str) -> Vec<EventRow> {
    let id = id.to_string();
    app.state
        .db
        .run(move |c| EventRow::about(c, &id))
        .await
        .unwrap()
}

fn of_type<'a>(events: &'a [EventRow], event_type: &str) -> Vec<&'a EventRow> {
    events
        .iter()
        .filter(|e| e.event_type == event_type)
        .collect()
}

/// The one event of `event_type` about `id`.
async fn the_event(app: &TestApp, id: &str, event_type: &str) -> EventRow {
    let events = events_about(app, id).await;
    let found = of_type(&events, event_type);
    assert_eq!(found.len(), 1, "one {event_type} about {id}: {events:#?}");
    found[0].clone()
}

/// Waits until the deliverer has made the event of `event_type` about `id` happen.
async fn happened(app: &TestApp, id: &str, event_type: &str) -> EventRow {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let event = the_event(app, id, event_type).await;
        if event.happened_at.is_some() {
            return event;
        }
        assert!(
            Instant::now() < deadline,
            "{event_type} never happened: {event:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn data(event: &EventRow) -> Value {
    serde_json::from_str(event.data.as_deref().expect("it has data")).unwrap()
}

/// The checkpoints made so far, oldest first, once `at_least` have happened.
async fn checkpoints(app: &TestApp, at_least: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let made: Vec<Value> = events_about(app, "")
            .await
            .iter()
            .filter(|e| e.event_type == "audit.checkpoint" && e.happened_at.is_some())
            .map(data)
            .collect();
        if made.len() >= at_least {
            return made;
        }
        assert!(
            Instant::now() < deadline,
            "{} checkpoints, not {at_least}",
            made.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits for a checkpoint that covers the event `seq`.
async fn covering(app: &TestApp, seq: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let made = checkpoints(app, 1).await;
        if let Some(found) = made.into_iter().find(|c| c["seq"] == seq) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint covers event {seq}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_request_and_its_answer_each_write_their_event_with_the_object_as_it_was() {
    let d = desk().await;
    let asked = file_request(&d, "read", 3600).await;
    let id = asked["id"].as_str().unwrap();
    let created = the_event(&d.app, id, "access_request.created").await;
    assert_eq!(data(&created)["status"], "pending");
    assert_eq!(data(&created)["id"], id);
    assert!(created.id.starts_with("evt_"));
    let waiting = the_event(&d.app, id, "access_request.expired").await;
    assert_eq!(waiting.data, None, "drawn when it comes due");
    assert_eq!(
        waiting.due_at,
        d.app.clock_now() + 86_400,
        "due at the request's expiry"
    );

    approve_on_the_screen(&d.app, "alice", id).await;
    let approved = the_event(&d.app, id, "access_request.approved").await;
    assert_eq!(data(&approved)["status"], "approved");
    let grant_id = data(&approved)["grant_id"].as_str().unwrap().to_string();
    let expired = the_event(&d.app, id, "access_request.expired").await;
    assert!(
        expired.dropped_at.is_some(),
        "an answered request does not expire"
    );
    assert_eq!(
        data(&created)["status"],
        "pending",
        "written then, not redrawn"
    );

    let grant = the_event(&d.app, &grant_id, "grant.created").await;
    assert_eq!(data(&grant)["status"], "active");
    assert_eq!(data(&grant)["agent_username"], "bob");
    let now = d.app.clock_now();
    let soon = the_event(&d.app, &grant_id, "grant.ending_soon").await;
    assert_eq!(soon.due_at, now + 3600 - 900, "15 minutes before it ends");
    let ends = the_event(&d.app, &grant_id, "grant.ended").await;
    assert_eq!(ends.due_at, now + 3600);
    assert_eq!((soon.data.as_ref(), ends.data.as_ref()), (None, None));
}

#[tokio::test]
async fn a_refused_answer_or_cancel_writes_no_event() {
    let d = desk().await;
    let id = file_request(&d, "read", 600).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let alice = signed_in_to_account(&d.app, "alice").await;
    let page = alice.get("/account").await;
    let denied = alice
        .post(&format!("/account/requests/{id}/deny"), &[csrf(&page)])
        .await;
    assert_eq!(denied.status, StatusCode::SEE_OTHER, "{}", denied.body);
    let before = events_about(&d.app, &id).await;
    assert_eq!(of_type(&before, "access_request.denied").len(), 1);

    let again = alice
        .post(&format!("/account/requests/{id}/approve"), &[csrf(&page)])
        .await;
    assert_ne!(
        again.status,
        StatusCode::SEE_OTHER,
        "a denied request cannot be approved"
    );
    let cancel = d
        .app
        .http
        .delete(d.app.url(&format!("/api/access-requests/{id}")))
        .bearer_auth(&d.bob)
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), StatusCode::CONFLICT);
    assert_eq!(
        events_about(&d.app, &id).await,
        before,
        "nothing more was written"
    );
}

#[tokio::test]
async fn the_first_use_of_a_grant_is_told_once_with_the_grant() {
    let g = granted("read", 3600).await;
    assert!(of_type(&events_about(&g.d.app, &g.grant_id).await, "grant.used").is_empty());
    for _ in 0..3 {
        g.delegated_token().await;
    }
    let used = happened(&g.d.app, &g.grant_id, "grant.used").await;
    assert_eq!(data(&used)["id"], g.grant_id.as_str());
    assert_eq!(data(&used)["status"], "active");
}

#[tokio::test]
async fn an_unanswered_request_expires_when_its_time_comes() {
    let d = desk().await;
    let id = file_request(&d, "read", 600).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    d.app.clock.advance(86_399);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        the_event(&d.app, &id, "access_request.expired")
            .await
            .happened_at,
        None
    );
    d.app.clock.advance(1);
    let expired = happened(&d.app, &id, "access_request.expired").await;
    assert_eq!(data(&expired)["status"], "expired");
    assert_eq!(expired.due_at, d.app.clock_now());
}

#[tokio::test]
async fn a_grant_is_ending_soon_then_ends_by_its_expiry_with_a_checkpoint() {
    let g = granted("read", 600).await;
    let app = &g.d.app;
    app.clock.advance(300);
    let soon = happened(app, &g.grant_id, "grant.ending_soon").await;
    assert_eq!(
        data(&soon)["status"],
        "active",
        "half of a grant shorter than 30 minutes"
    );

    app.clock.advance(300);
    let ended = happened(app, &g.grant_id, "grant.ended").await;
    assert_eq!(data(&ended)["status"], "expired");
    assert_eq!(data(&ended)["ended_by"], "expiry");
    let newest = app
        .state
        .db
        .run(audit_events::newest)
        .await
        .unwrap()
        .unwrap();
    let expiry = app
        .state
        .db
        .run(move |c| audit_events::find(c, newest.0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        expiry.action, "grant.expired",
        "the trail records the expiry"
    );
    covering(app, newest.0).await;
}

#[tokio::test]
async fn an_early_end_drops_what_waited_for_the_expiry_and_makes_a_checkpoint() {
    let g = granted("read", 3600).await;
    let app = &g.d.app;
    assert_eq!(
        end_on_the_screen(app, "alice", &g.grant_id).await,
        StatusCode::SEE_OTHER
    );
    let events = events_about(app, &g.grant_id).await;
    let ended = of_type(&events, "grant.ended");
    assert_eq!(
        ended.len(),
        2,
        "the one that waited and the one that happened"
    );
    let (early, waited): (Vec<_>, Vec<_>) = ended.into_iter().partition(|e| e.data.is_some());
    assert_eq!(data(early[0])["ended_by"], "user");
    assert!(waited[0].dropped_at.is_some());
    assert!(
        the_event(app, &g.grant_id, "grant.ending_soon")
            .await
            .dropped_at
            .is_some()
    );

    let made = checkpoints(app, 1).await;
    let checkpoint = made.last().unwrap();
    let newest = app
        .state
        .db
        .run(audit_events::newest)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(checkpoint["seq"], newest.0);
    let token = checkpoint["checkpoint"].as_str().unwrap();
    assert_checkpoint_verifies(app, token).await;
    assert_eq!(jwt_claims(token)["seq"], checkpoint["seq"]);
    assert_eq!(jwt_claims(token)["head"], checkpoint["head"]);
    assert_eq!(jwt_claims(token)["iss"], app.issuer());
}

/// The published key `kid`, from `/jwks.json`.
async fn jwks_key(app: &TestApp, kid: &str) -> jsonwebtoken::DecodingKey {
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(app.get_json("/jwks.json").await).unwrap();
    jsonwebtoken::DecodingKey::from_jwk(jwks.find(kid).expect("the kid is published")).unwrap()
}

/// The JWS verifies against the JWKS as any receiver would check it: ES256,
/// its `kid`, `typ: audit-checkpoint+jwt`.
async fn assert_checkpoint_verifies(app: &TestApp, token: &str) {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("audit-checkpoint+jwt"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let key = jwks_key(app, header.kid.as_deref().unwrap()).await;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    jsonwebtoken::decode::<Value>(token, &key, &validation).expect("it verifies");
}

#[tokio::test]
async fn the_newest_checkpoint_is_served_to_an_authenticated_client_only() {
    let g = granted("read", 3600).await;
    let app = &g.d.app;
    let none_yet = app
        .http
        .get(app.url("/audit/checkpoint"))
        .basic_auth("rs", Some(&g.rs_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(none_yet.status(), StatusCode::NOT_FOUND);
    end_on_the_screen(app, "alice", &g.grant_id).await;
    let made = checkpoints(app, 1).await;

    let served = app
        .http
        .get(app.url("/audit/checkpoint"))
        .basic_auth("rs", Some(&g.rs_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["cache-control"], "no-store");
    let body: Value = served.json().await.unwrap();
    assert_eq!(&body, made.last().unwrap());

    for wrong in [None, Some("not-the-secret")] {
        let mut request = app.http.get(app.url("/audit/checkpoint"));
        if let Some(secret) = wrong {
            request = request.basic_auth("rs", Some(secret));
        }
        let refused = request.send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{wrong:?}");
    }
}

#[tokio::test]
async fn a_checkpoint_is_made_every_five_minutes_while_the_trail_grows() {
    let g = granted("read", 7200).await;
    let app = &g.d.app;
    app.clock.advance(300);
    let first = checkpoints(app, 1).await;
    g.delegated_token().await;
    app.clock.advance(150);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        checkpoints(app, 1).await.len(),
        1,
        "not before five minutes"
    );
    app.clock.advance(150);
    let second = checkpoints(app, 2).await;
    assert!(
        second[1]["seq"].as_i64() > first[0]["seq"].as_i64(),
        "{second:?}"
    );

    app.clock.advance(300);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        checkpoints(app, 2).await.len(),
        2,
        "none while nothing happens"
    );
}

fn audit_verify(db: &TestDb, checkpoints: &[&str]) -> Output {
    let mut args = vec!["audit", "verify"];
    for token in checkpoints {
        args.extend(["--checkpoint", token]);
    }
    Command::new(env!("CARGO_BIN_EXE_behalf"))
        .args(args)
        .env("BEHALF_DATABASE_URL", &db.url)
        .env("BEHALF_KEY_ENCRYPTION_KEY", TEST_KEK)
        .output()
        .expect("the binary runs")
}

fn said(output: &Output) -> (bool, String) {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// A grant ended (so a checkpoint was sent out), the checkpoint kept, the app stopped.
async fn a_checkpoint_kept(g: Granted) -> (std::sync::Arc<TestDb>, String) {
    end_on_the_screen(&g.d.app, "alice", &g.grant_id).await;
    let token = checkpoints(&g.d.app, 1).await.last().unwrap()["checkpoint"]
        .as_str()
        .unwrap()
        .to_string();
    (g.d.app.stop_and_wait().await, token)
}

#[tokio::test]
async fn audit_verify_holds_the_trail_to_a_checkpoint_sent_out_earlier() {
    let (db, token) = a_checkpoint_kept(granted("read", 3600).await).await;
    let (ok, text) = said(&audit_verify(&db, &[&token]));
    assert!(ok, "{text}");
    assert!(text.contains("audit trail intact"), "{text}");
    assert!(
        text.contains("checkpoint 1") && text.contains("matches"),
        "{text}"
    );

    let mut forged = token.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let (ok, text) = said(&audit_verify(&db, &[&forged]));
    assert!(!ok, "a forged checkpoint passed: {text}");
    assert!(text.contains("checkpoint 1 is not one of ours"), "{text}");
}

#[tokio::test]
async fn deleting_the_newest_events_passes_the_chain_but_not_a_checkpoint() {
    let (db, token) = a_checkpoint_kept(granted("read", 3600).await).await;
    let store = db.open_keyed().await;
    let covered = jwt_claims(&token)["seq"].as_i64().unwrap();
    store
        .run(move |c| {
            use behalf::store::schema::audit_events as table;
            use diesel::prelude::*;
            diesel::delete(table::table.filter(table::seq.ge(covered - 1))).execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    drop(store);

    let (ok, text) = said(&audit_verify(&db, &[]));
    assert!(ok, "the chain alone cannot see a truncation: {text}");
    let (ok, text) = said(&audit_verify(&db, &[&token]));
    assert!(!ok, "the truncation was not caught: {text}");
    assert!(
        text.contains("events deleted: checkpoint 1")
            && text.contains(&format!("covers event {covered}")),
        "{text}"
    );
}
