//! Back-channel logout of delegated sessions (OIDC Back-Channel Logout 1.0;
//! docs/security.md M3): bob acts as alice in Example Shop, which registered a
//! `backchannel_logout_uri` served by the test itself on 127.0.0.1. When the
//! grant ends (alice, bob, alice disabled, or its expiry) the shop receives a
//! logout token for the session, form-encoded, that verifies against the
//! JWKS; it is retried until a 200 with the same `jti`, survives a restart,
//! and is sent once by two instances sharing a PostgreSQL database.

use crate::fixtures::outbox_rows;
use crate::fixtures::{
    Delivery, HANG, Receiver, Shop, act, arrive, csrf, query_of, redeem, shop_signed,
    shop_with_logout, signed_in_to_account,
};
use crate::helpers::{TEST_KEK, TestApp, jwt_claims, skip_without_postgres};
use behalf::clock::ManualClock;
use behalf::store::outbox::OutboxRow;
use behalf::store::schema::outbox;
use diesel::prelude::*;
use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The logout token of a delivery: its form's one field (§2.5).
fn logout_token(delivery: &Delivery) -> String {
    match delivery.form().as_slice() {
        [(name, token)] if name == "logout_token" => token.clone(),
        other => panic!("not one logout_token: {other:?}"),
    }
}

/// The shop's back-channel logout endpoint, answering `answers` then 200.
async fn logout_endpoint(answers: &[u16]) -> Receiver {
    Receiver::start("/backchannel-logout", answers).await
}

/// bob acts as alice in the shop: the claims of the session's ID token.
async fn delegated_sign_in(s: &Shop) -> Value {
    let (browser, page, verifier) = arrive(s, "bob", "shop", &[("login_hint", "alice")]).await;
    let redirect = act(s, &browser, &page).await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER, "{}", redirect.body);
    let code = query_of(&redirect.location())["code"].clone();
    let (status, tokens) = redeem(&s.scene.app, ("shop", Some(&s.secret)), &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    jwt_claims(tokens["id_token"].as_str().unwrap())
}

/// alice ends her grant on the consent screen.
async fn alice_ends_the_grant(s: &Shop) {
    let alice = signed_in_to_account(&s.scene.app, "alice").await;
    let account = alice.get("/account").await;
    let ended = alice
        .post(
            &format!("/account/grants/{}/revoke", s.grant_id),
            &[csrf(&account)],
        )
        .await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
}

async fn rows(app: &TestApp) -> Vec<OutboxRow> {
    outbox_rows(app, "backchannel_logout").await
}

/// Waits until the only outbox row meets `done`, at most five seconds.
async fn row_when(app: &TestApp, done: impl Fn(&OutboxRow) -> bool) -> OutboxRow {
    let start = Instant::now();
    loop {
        let found = rows(app).await;
        assert_eq!(found.len(), 1, "{found:?}");
        if done(&found[0]) {
            return found[0].clone();
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{found:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Verifies a logout token as an app with RS256 ID tokens must (Back-Channel
/// Logout 1.0 §2.6): `typ`, signature with a key of the published JWKS, `iss`,
/// `aud`; its claims.
async fn verified(app: &TestApp, token: &str) -> Value {
    verified_as(app, token, Algorithm::RS256).await
}

/// As `verified`, for an app whose ID tokens are signed with `alg` (§2.6:
/// "in the same way that an ID Token signature is validated").
async fn verified_as(app: &TestApp, token: &str, alg: Algorithm) -> Value {
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
    let jwks: JwkSet = serde_json::from_value(app.get_json("/jwks.json").await).unwrap();
    let header = decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    assert_eq!(header.alg, alg);
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid in the JWKS");
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[app.issuer()]);
    validation.set_audience(&["shop"]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
    // The server's clock is the test's: `exp` is judged against it below.
    validation.validate_exp = false;
    let claims = decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .expect("the logout token verifies")
        .claims;
    assert_eq!(claims["iat"].as_i64().unwrap(), app.clock_now());
    assert_eq!(claims["exp"].as_i64().unwrap(), app.clock_now() + 120);
    claims
}

/// The checks of §2.6 beyond the signature: a logout token for this session.
fn assert_logs_out(claims: &Value, s: &Shop, sid: &str, jti: &str) {
    assert_eq!(claims["sub"], s.scene.subs["alice"].as_str());
    assert_eq!(claims["sid"], sid);
    assert_eq!(claims["jti"], jti);
    assert_eq!(claims["events"], json!({ EVENT: {} }));
    assert!(claims.get("nonce").is_none(), "{claims}");
}

#[tokio::test]
async fn when_alice_ends_the_grant_the_shop_gets_a_logout_token_within_5_seconds_that_verifies() {
    let receiver = logout_endpoint(&[]).await;
    let s = shop_with_logout(Some(&receiver.url)).await;
    let app = &s.scene.app;
    let id_token = delegated_sign_in(&s).await;
    let sid = id_token["sid"].as_str().unwrap().to_string();

    // One row, in the transaction of the sign-in: due when the grant expires, holding no token.
    let queued = rows(app).await;
    assert_eq!(queued.len(), 1);
    let row = &queued[0];
    assert_eq!(
        (row.kind.as_str(), row.destination.as_str()),
        ("backchannel_logout", receiver.url.as_str())
    );
    assert_eq!(row.due_at, app.clock_now() + 3600);
    assert_eq!(row.grant_id.as_deref(), Some(s.grant_id.as_str()));
    let payload: Value = serde_json::from_str(&row.payload).unwrap();
    assert_eq!(
        payload,
        json!({"sid": sid, "sub": s.scene.subs["alice"], "aud": "shop"})
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(receiver.received().is_empty(), "nothing before the end");

    let ended_at = Instant::now();
    alice_ends_the_grant(&s).await;
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    assert!(ended_at.elapsed() < Duration::from_secs(5));
    assert_eq!(
        got[0].content_type(),
        Some("application/x-www-form-urlencoded")
    );
    let claims = verified(app, &logout_token(&got[0])).await;
    assert_logs_out(&claims, &s, &sid, &row.id);
    let as_bearer = app
        .http
        .get(app.url("/userinfo"))
        .bearer_auth(logout_token(&got[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        as_bearer.status(),
        StatusCode::UNAUTHORIZED,
        "a logout token is no access token"
    );

    let delivered = row_when(app, |r| r.delivered_at.is_some()).await;
    assert_eq!(delivered.delivered_at, Some(app.clock_now()));
    assert_eq!(delivered.claimed_until, None);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(receiver.received().len(), 1, "sent once");
}

#[tokio::test]
async fn an_app_registered_es256_gets_es256_id_tokens_and_logout_tokens() {
    let receiver = logout_endpoint(&[]).await;
    let s = shop_signed(Some(&receiver.url), Some("ES256")).await;
    let app = &s.scene.app;
    let (browser, page, verifier) = arrive(&s, "bob", "shop", &[("login_hint", "alice")]).await;
    let redirect = act(&s, &browser, &page).await;
    let code = query_of(&redirect.location())["code"].clone();
    let (status, tokens) = redeem(app, ("shop", Some(&s.secret)), &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(
        header.alg,
        Algorithm::ES256,
        "the delegated session's ID token"
    );
    let sid = jwt_claims(id_token)["sid"].as_str().unwrap().to_string();
    let row_id = rows(app).await[0].id.clone();

    alice_ends_the_grant(&s).await;
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    let token = logout_token(&got[0]);
    let claims = verified_as(app, &token, Algorithm::ES256).await;
    assert_logs_out(&claims, &s, &sid, &row_id);
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().kid,
        header.kid,
        "the key of its ID tokens"
    );
}

#[tokio::test]
async fn when_the_grant_expires_the_logout_token_goes_out_at_the_expiry_time() {
    let receiver = logout_endpoint(&[]).await;
    let s = shop_with_logout(Some(&receiver.url)).await;
    let app = &s.scene.app;
    let sid = delegated_sign_in(&s).await["sid"]
        .as_str()
        .unwrap()
        .to_string();
    app.clock.advance(3599);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(receiver.received().is_empty(), "not before the expiry");

    app.clock.advance(1);
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    let row = row_when(app, |r| r.delivered_at.is_some()).await;
    assert_logs_out(
        &verified(app, &logout_token(&got[0])).await,
        &s,
        &sid,
        &row.id,
    );
}

#[tokio::test]
async fn when_the_agent_ends_the_grant_the_shop_is_told() {
    let receiver = logout_endpoint(&[]).await;
    let s = shop_with_logout(Some(&receiver.url)).await;
    let sid = delegated_sign_in(&s).await["sid"]
        .as_str()
        .unwrap()
        .to_string();
    let bob = s.scene.agent_token("bob").await;
    let ended = s
        .scene
        .app
        .http
        .delete(s.scene.app.url(&format!("/api/grants/{}", s.grant_id)))
        .bearer_auth(bob)
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), StatusCode::OK);
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    let claims = verified(&s.scene.app, &logout_token(&got[0])).await;
    assert_eq!(claims["sid"], sid.as_str());
}

#[tokio::test]
async fn when_alice_is_disabled_the_shop_is_told() {
    let receiver = logout_endpoint(&[]).await;
    let s = shop_with_logout(Some(&receiver.url)).await;
    let sid = delegated_sign_in(&s).await["sid"]
        .as_str()
        .unwrap()
        .to_string();
    let url = s.scene.app.db.url.clone();
    let disabled = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_behalf"))
            .args(["user", "disable", "alice"])
            .env("BEHALF_DATABASE_URL", url)
            .env("BEHALF_KEY_ENCRYPTION_KEY", TEST_KEK)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(disabled.status.success(), "{disabled:?}");
    // The command ends the grant at the system's time; the server's clock is
    // the test's, started when the test did: bring it to the command's time.
    let row = rows(&s.scene.app).await.remove(0);
    assert!(row.due_at >= s.scene.app.clock_now());
    s.scene
        .app
        .clock
        .advance(row.due_at - s.scene.app.clock_now());
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    let claims = verified(&s.scene.app, &logout_token(&got[0])).await;
    assert_eq!(claims["sid"], sid.as_str());
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_the_same_jti_on_each_try_until_it_answers_200() {
    let receiver = logout_endpoint(&[500, 500]).await;
    let s = shop_with_logout(Some(&receiver.url)).await;
    let app = &s.scene.app;
    let sid = delegated_sign_in(&s).await["sid"]
        .as_str()
        .unwrap()
        .to_string();
    alice_ends_the_grant(&s).await;

    let failed = row_when(app, |r| r.attempts == 1).await;
    assert_eq!(failed.last_error.as_deref(), Some("answered HTTP 500"));
    assert_eq!(failed.next_attempt_at, app.clock_now() + 1);
    assert_eq!((failed.delivered_at, failed.claimed_until), (None, None));
    let first = verified(app, &logout_token(&receiver.received()[0])).await;

    app.clock.advance(1);
    let again = row_when(app, |r| r.attempts == 2).await;
    assert_eq!(again.next_attempt_at, app.clock_now() + 2, "twice as long");
    let second = verified(app, &logout_token(&receiver.received()[1])).await;

    app.clock.advance(2);
    let delivered = row_when(app, |r| r.delivered_at.is_some()).await;
    assert_eq!(delivered.attempts, 2);
    let got = receiver.wait_for(3, Duration::from_secs(5)).await;
    let third = verified(app, &logout_token(&got[2])).await;
    for claims in [&first, &second, &third] {
        assert_logs_out(claims, &s, &sid, &failed.id);
    }
    assert!(
        first["iat"].as_i64() < third["iat"].as_i64(),
        "signed at each try"
    );
}

#[tokio::test]
async fn a_destination_that_hangs_delays_neither_the_end_nor_another_logout() {
    let receiver = logout_endpoint(&[HANG]).await;
    let s = shop_with_logout(Some(&receiver.url)).await;
    let app = &s.scene.app;
    for _ in 0..2 {
        delegated_sign_in(&s).await;
    }
    let ended_at = Instant::now();
    alice_ends_the_grant(&s).await;
    assert!(
        ended_at.elapsed() < Duration::from_secs(2),
        "the end waits for no one"
    );
    // The first logout sent hangs; the other is sent beside it and answered.
    receiver.wait_for(2, Duration::from_secs(5)).await;
    let start = Instant::now();
    loop {
        let found = rows(app).await;
        let delivered = found.iter().filter(|r| r.delivered_at.is_some()).count();
        let hanging = found.iter().filter(|r| r.claimed_until.is_some()).count();
        if (delivered, hanging) == (1, 1) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{found:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The server stopped (all of it: `stop_and_wait`), `while_down` done, and
/// started again on the same database with the same public issuer and clock.
async fn restarted(app: TestApp, while_down: impl FnOnce(&ManualClock)) -> TestApp {
    let mut settings = app.db.settings();
    settings.issuer = Some(app.issuer().to_string());
    let clock = app.clock.clone();
    let db = app.stop_and_wait().await;
    while_down(&clock);
    TestApp::spawn_with(db, settings, clock).await
}

#[tokio::test]
async fn a_logout_that_failed_before_a_restart_is_delivered_after_it_with_the_same_jti() {
    let receiver = logout_endpoint(&[503]).await;
    let mut s = shop_with_logout(Some(&receiver.url)).await;
    let sid = delegated_sign_in(&s).await["sid"]
        .as_str()
        .unwrap()
        .to_string();
    alice_ends_the_grant(&s).await;
    let failed = row_when(&s.scene.app, |r| r.attempts == 1).await;
    assert_eq!(failed.last_error.as_deref(), Some("answered HTTP 503"));

    s.scene.app = restarted(s.scene.app, |_| {}).await;
    s.scene.app.clock.advance(2);
    let got = receiver.wait_for(2, Duration::from_secs(5)).await;
    let claims = verified(&s.scene.app, &logout_token(&got[1])).await;
    assert_logs_out(&claims, &s, &sid, &failed.id);
    row_when(&s.scene.app, |r| r.delivered_at.is_some()).await;
}

#[tokio::test]
async fn a_logout_that_fell_due_while_the_server_was_down_is_delivered_when_it_starts() {
    let receiver = logout_endpoint(&[]).await;
    let mut s = shop_with_logout(Some(&receiver.url)).await;
    let sid = delegated_sign_in(&s).await["sid"]
        .as_str()
        .unwrap()
        .to_string();
    // The grant expires while no server runs.
    s.scene.app = restarted(s.scene.app, |clock| clock.advance(3600)).await;
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    let row = row_when(&s.scene.app, |r| r.delivered_at.is_some()).await;
    assert_eq!(row.attempts, 0);
    let claims = verified(&s.scene.app, &logout_token(&got[0])).await;
    assert_logs_out(&claims, &s, &sid, &row.id);
}

#[tokio::test]
async fn an_app_without_a_backchannel_logout_uri_is_sent_nothing() {
    let s = shop_with_logout(None).await;
    delegated_sign_in(&s).await;
    assert!(rows(&s.scene.app).await.is_empty());
    alice_ends_the_grant(&s).await;
    s.scene.app.clock.advance(3600);
    assert!(rows(&s.scene.app).await.is_empty());
}

#[tokio::test]
async fn discovery_says_back_channel_logout_with_sessions_is_supported() {
    let app = TestApp::spawn().await;
    let metadata = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(metadata["backchannel_logout_supported"], true);
    assert_eq!(metadata["backchannel_logout_session_supported"], true);
    let claims = metadata["claims_supported"].as_array().unwrap();
    for claim in ["act", "grant_id", "sid"] {
        assert!(claims.contains(&claim.into()), "{claim}");
    }
}

#[tokio::test]
async fn two_instances_on_one_postgresql_database_deliver_each_logout_once() {
    if skip_without_postgres("two_instances_on_one_postgresql_database_deliver_each_logout_once") {
        return;
    }
    let receiver = logout_endpoint(&[]).await;
    let s = shop_with_logout(Some(&receiver.url)).await;
    let mut sids = Vec::new();
    for _ in 0..4 {
        sids.push(
            delegated_sign_in(&s).await["sid"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let mut settings = s.scene.app.db.settings();
    settings.issuer = Some(s.scene.app.issuer().to_string());
    let other =
        TestApp::spawn_with(s.scene.app.db.clone(), settings, s.scene.app.clock.clone()).await;

    // The claim itself: of two instances claiming one ready row at once, one wins.
    let now = s.scene.app.clock_now() + 3600;
    let id = rows(&s.scene.app).await[0].id.clone();
    let claim = |db: behalf::store::Database, id: String| async move {
        db.write(move |c| OutboxRow::claim(c, &id, now, now + 60))
            .await
            .unwrap()
    };
    let (a, b) = tokio::join!(
        claim(s.scene.app.state.db.clone(), id.clone()),
        claim(other.state.db.clone(), id.clone())
    );
    assert!(a ^ b, "one claim wins: {a} {b}");
    // Released as a stopped instance's claim would lapse.
    s.scene
        .app
        .state
        .db
        .write(move |c| {
            Ok(diesel::update(outbox::table.find(&id))
                .set(outbox::claimed_until.eq(None::<i64>))
                .execute(c)?)
        })
        .await
        .unwrap();

    // Both deliverers find the four rows due at once.
    s.scene.app.clock.advance(3600);
    let got = receiver.wait_for(4, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let got_after = receiver.received();
    assert_eq!(got_after.len(), 4, "each sent once: {got:?}");
    let mut sent: Vec<String> = Vec::new();
    for delivery in &got_after {
        let claims = verified(&s.scene.app, &logout_token(delivery)).await;
        sent.push(claims["sid"].as_str().unwrap().to_string());
    }
    sent.sort();
    sids.sort();
    assert_eq!(sent, sids);
    assert!(
        rows(&s.scene.app)
            .await
            .iter()
            .all(|r| r.delivered_at.is_some())
    );
}
