//! Security Event Tokens (RFC 8417) pushed per RFC 8935 when a grant ends
//! (docs/contract.md "Security Event Tokens"; docs/security.md N3): a
//! receiver served by the test on 127.0.0.1 gets a SET that verifies against
//! `/jwks.json` (ES256, its `kid`), with `typ: secevent+jwt`, `iss`, its own
//! `aud`, `jti` the event's id, `sub_id` the grant, and the CAEP
//! session-revoked event naming who ended it; only a 202 delivers, anything
//! else is retried; `/.well-known/ssf-configuration` says where to look.

use crate::fixtures::outbox_rows;
use crate::fixtures::{
    Delivery, Desk, Receiver, add_receiver, api, approve, behalf_cli, desk, end_on_the_screen,
};
use crate::helpers::TestApp;
use behalf::store::events::EventRow;
use behalf::store::outbox::OutboxRow;
use behalf::store::schema::events;
use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
const AUDIENCE: &str = "https://api.example";

async fn set_endpoint(answers: &[u16]) -> Receiver {
    Receiver::start_then("/security-events", answers, 202).await
}

/// The SET of `delivery`, verified as a receiver must (RFC 8417 §2.3,
/// RFC 8725): the key of its `kid` from the published JWKS, ES256 only,
/// `typ`, `iss`, `aud`; its claims.
async fn verified(app: &TestApp, delivery: &Delivery) -> Value {
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
    assert_eq!(delivery.content_type(), Some("application/secevent+jwt"));
    assert_eq!(delivery.header("accept"), Some("application/json"));
    let token = delivery.text();
    let jwks: JwkSet = serde_json::from_value(app.get_json("/jwks.json").await).unwrap();
    let header = decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("secevent+jwt"));
    assert_eq!(header.alg, Algorithm::ES256);
    let jwk = jwks
        .find(header.kid.as_deref().expect("a kid"))
        .expect("the kid is in the JWKS");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[app.issuer()]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["iss", "aud", "iat"]);
    validation.validate_exp = false;
    let claims = decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .expect("the SET verifies")
        .claims;
    assert!(claims.get("exp").is_none(), "a SET has no exp: {claims}");
    claims
}

/// The `grant.ended` event of `grant`.
async fn ended_event(app: &TestApp, grant: &str) -> EventRow {
    let grant = grant.to_string();
    app.state
        .db
        .run(move |c| {
            Ok(events::table
                .filter(events::subject_id.eq(grant))
                .filter(events::event_type.eq("grant.ended"))
                .filter(events::happened_at.is_not_null())
                .select(EventRow::as_select())
                .get_result(c)?)
        })
        .await
        .unwrap()
}

async fn set_rows(app: &TestApp) -> Vec<OutboxRow> {
    outbox_rows(app, "security_event").await
}

async fn row_when(app: &TestApp, done: impl Fn(&OutboxRow) -> bool) -> OutboxRow {
    let start = Instant::now();
    loop {
        let found = set_rows(app).await;
        if found.len() == 1 && done(&found[0]) {
            return found[0].clone();
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{found:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What every SET about `grant` ending says.
async fn assert_session_revoked(d: &Desk, delivery: &Delivery, grant: &str, entity: &str) {
    let claims = verified(&d.app, delivery).await;
    let event = ended_event(&d.app, grant).await;
    assert_eq!(claims["jti"], event.id.as_str());
    assert_eq!(claims["sub_id"], json!({"format": "opaque", "id": grant}));
    assert_eq!(
        claims["events"],
        json!({SESSION_REVOKED: {"event_timestamp": event.due_at, "initiating_entity": entity}})
    );
    assert!(claims["iat"].as_i64().unwrap() >= event.due_at);
}

async fn agent_ends(d: &Desk, grant: &str) {
    let (status, _, _) = api(
        &d.app,
        Method::DELETE,
        &format!("/api/grants/{grant}"),
        Some(&d.bob),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn when_alice_ends_a_grant_each_receiver_gets_a_set_that_verifies_naming_the_user() {
    let receiver = set_endpoint(&[]).await;
    let d = desk().await;
    add_receiver(&d.app, &receiver.url, AUDIENCE).await;
    let grant = approve(&d, "read", 3600).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(receiver.received().is_empty(), "only an ending is told");

    assert_eq!(
        end_on_the_screen(&d.app, "alice", &grant).await,
        StatusCode::SEE_OTHER
    );
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    assert_session_revoked(&d, &got[0], &grant, "user").await;
    let row = row_when(&d.app, |r| r.delivered_at.is_some()).await;
    assert_eq!(row.attempts, 0, "a 202 delivers");
    let as_bearer = d
        .app
        .http
        .get(d.app.url("/userinfo"))
        .bearer_auth(got[0].text())
        .send()
        .await
        .unwrap();
    assert_eq!(
        as_bearer.status(),
        StatusCode::UNAUTHORIZED,
        "a SET is no access token"
    );
}

#[tokio::test]
async fn when_the_agent_ends_a_grant_the_set_names_an_admin() {
    let receiver = set_endpoint(&[]).await;
    let d = desk().await;
    add_receiver(&d.app, &receiver.url, AUDIENCE).await;
    let grant = approve(&d, "read", 3600).await;
    agent_ends(&d, &grant).await;
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    assert_session_revoked(&d, &got[0], &grant, "admin").await;
}

#[tokio::test]
async fn when_alice_is_disabled_her_grants_set_names_an_admin() {
    let receiver = set_endpoint(&[]).await;
    let d = desk().await;
    add_receiver(&d.app, &receiver.url, AUDIENCE).await;
    let grant = approve(&d, "read", 3600).await;
    let disabled = behalf_cli(&d.app, &["user", "disable", "alice"]).await;
    assert!(disabled.status.success(), "{disabled:?}");
    // The command ends the grant at the system's time; the server's clock is
    // the test's, started with it: bring it to the command's time.
    let start = Instant::now();
    let event = loop {
        let grant = grant.clone();
        let found = d
            .app
            .state
            .db
            .run(move |c| {
                Ok(events::table
                    .filter(events::subject_id.eq(grant))
                    .filter(events::event_type.eq("grant.ended"))
                    .filter(events::dropped_at.is_null())
                    .select(EventRow::as_select())
                    .load(c)?)
            })
            .await
            .unwrap();
        if let Some(event) = found.into_iter().find(|e| e.data.is_some()) {
            break event;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no grant.ended event"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    d.app
        .clock
        .advance((event.due_at - d.app.clock_now()).max(0));
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    assert_session_revoked(&d, &got[0], &grant, "admin").await;
}

#[tokio::test]
async fn when_a_grant_expires_the_set_names_policy_and_the_expiry_time() {
    let receiver = set_endpoint(&[]).await;
    let d = desk().await;
    add_receiver(&d.app, &receiver.url, AUDIENCE).await;
    let grant = approve(&d, "read", 3600).await;
    let expires = d.app.clock_now() + 3600;
    d.app.clock.advance(3599);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(receiver.received().is_empty(), "not before the expiry");
    d.app.clock.advance(1);
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    assert_session_revoked(&d, &got[0], &grant, "policy").await;
    assert_eq!(ended_event(&d.app, &grant).await.due_at, expires);
}

#[tokio::test]
async fn only_a_202_delivers_a_set_a_500_or_a_200_is_tried_again_with_the_same_jti() {
    let receiver = set_endpoint(&[500, 200]).await;
    let d = desk().await;
    add_receiver(&d.app, &receiver.url, AUDIENCE).await;
    let grant = approve(&d, "read", 3600).await;
    agent_ends(&d, &grant).await;

    let failed = row_when(&d.app, |r| r.attempts == 1).await;
    assert_eq!(failed.last_error.as_deref(), Some("answered HTTP 500"));
    d.app.clock.advance(1);
    let again = row_when(&d.app, |r| r.attempts == 2).await;
    assert_eq!(again.last_error.as_deref(), Some("answered HTTP 200"));
    assert_eq!(again.delivered_at, None);
    d.app.clock.advance(2);
    let delivered = row_when(&d.app, |r| r.delivered_at.is_some()).await;
    assert_eq!(delivered.attempts, 2);
    let got = receiver.wait_for(3, Duration::from_secs(5)).await;
    let mut iats = Vec::new();
    for delivery in &got {
        assert_session_revoked(&d, delivery, &grant, "admin").await;
        iats.push(verified(&d.app, delivery).await["iat"].as_i64().unwrap());
    }
    assert!(iats[0] < iats[2], "signed at each attempt: {iats:?}");
}

#[tokio::test]
async fn receivers_are_listed_and_a_removed_one_is_sent_nothing_more() {
    let receiver = set_endpoint(&[500]).await;
    let d = desk().await;
    let id = add_receiver(&d.app, &receiver.url, AUDIENCE).await;
    assert!(id.starts_with("rcv_"), "{id}");
    let listed = behalf_cli(&d.app, &["receiver", "list"]).await;
    let line: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(line["id"], id.as_str());
    assert_eq!(line["url"], receiver.url.as_str());
    assert_eq!(line["audience"], AUDIENCE);

    let grant = approve(&d, "read", 3600).await;
    agent_ends(&d, &grant).await;
    row_when(&d.app, |r| r.attempts == 1).await;
    let removed = behalf_cli(&d.app, &["receiver", "remove", &id]).await;
    assert!(removed.status.success(), "{removed:?}");
    let row = set_rows(&d.app).await.remove(0);
    assert_eq!(row.last_error.as_deref(), Some("its receiver was removed"));
    d.app.clock.advance(60);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(receiver.received().len(), 1);

    let unknown = behalf_cli(&d.app, &["receiver", "remove", &id]).await;
    assert!(!unknown.status.success());
    let plain = behalf_cli(
        &d.app,
        &[
            "receiver",
            "add",
            "http://rs.example/in",
            "--audience",
            AUDIENCE,
        ],
    )
    .await;
    assert!(!plain.status.success(), "plain http off loopback");
}

#[tokio::test]
async fn the_ssf_configuration_names_the_issuer_the_jwks_and_push_delivery() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(app.url("/.well-known/ssf-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let config: Value = response.json().await.unwrap();
    assert_eq!(
        config,
        json!({
            "spec_version": "1_0",
            "issuer": app.issuer(),
            "jwks_uri": format!("{}/jwks.json", app.issuer()),
            "delivery_methods_supported": ["urn:ietf:rfc:8935"],
            "events_supported": [SESSION_REVOKED],
        })
    );
}
