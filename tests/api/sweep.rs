//! The sweep of expired rows (`behalf::sweep`): it deletes what can no longer
//! change an answer and nothing else; above all, a revoked actor token's record
//! outlives every delegated token minted with it.

use crate::fixtures::{desk_on, granted_at};
use crate::helpers::{TestApp, TestDb, jwt_claims};
use behalf::clock::ManualClock;
use behalf::store::schema::{
    audit_events, authorization_codes, grants, issued_tokens, refresh_tokens, sessions,
};
use behalf::sweep::{MARGIN, Swept, sweep};
use diesel::prelude::*;
use reqwest::StatusCode;
use std::sync::Arc;

const HOUR: i64 = 3600;

/// The desk and alice's grant to bob, on an app whose delegated tokens live
/// three hours: longer than the sweep's margin, so a sweep that forgot them
/// would delete an actor token's revocation while its delegated token lives.
async fn long_delegations() -> crate::fixtures::Granted {
    let db = Arc::new(TestDb::new());
    let mut settings = db.settings();
    settings.policy.delegated_token_ttl_seconds = 3 * HOUR;
    let app = TestApp::spawn_with(db, settings, ManualClock::starting_now()).await;
    granted_at(desk_on(app).await, "read", 24 * HOUR).await
}

async fn rows(app: &TestApp) -> [i64; 6] {
    app.state
        .db
        .run(|c| {
            Ok([
                issued_tokens::table.count().get_result(c)?,
                refresh_tokens::table.count().get_result(c)?,
                authorization_codes::table.count().get_result(c)?,
                sessions::table.count().get_result(c)?,
                grants::table.count().get_result(c)?,
                audit_events::table.count().get_result(c)?,
            ])
        })
        .await
        .unwrap()
}

fn exp_of(token: &str) -> i64 {
    jwt_claims(token)["exp"].as_i64().unwrap()
}

#[tokio::test]
async fn a_revoked_actor_tokens_record_outlives_the_delegated_tokens_minted_with_it() {
    let g = long_delegations().await;
    let app = &g.d.app;
    // Just before bob's token expires, the console mints a delegated token: a
    // policy of hours, but it ends with bob's token (E10); then bob's token is revoked.
    app.clock.advance(exp_of(&g.d.bob) - app.clock_now() - 10);
    let delegated = g.delegated_token().await;
    assert_eq!(exp_of(&delegated), exp_of(&g.d.bob));
    assert_eq!(
        g.revoke(("console", &g.d.secret), &g.d.bob, None).await,
        StatusCode::OK
    );
    assert!(!g.is_active(&delegated).await);

    // Past bob's token's expiry by more than the margin, sweeping brings nothing back.
    app.clock.advance(MARGIN + 20 + 10);
    sweep(&app.state).await.unwrap();
    assert_eq!(
        g.introspect(&delegated).await,
        serde_json::json!({"active": false}),
        "the actor token's revocation still ends the delegated token"
    );
}

#[tokio::test]
async fn a_sweep_deletes_only_what_has_expired_for_good() {
    let g = long_delegations().await;
    let app = &g.d.app;
    let delegated = g.delegated_token().await;
    assert_eq!(
        g.revoke(("console", &g.d.secret), &delegated, None).await,
        StatusCode::OK
    );
    // A refresh token as a code flow with the refresh grant leaves one.
    let now = app.clock_now();
    let refresh = behalf::store::refresh_tokens::RefreshTokenRow {
        id: "refresh-token-hash".into(),
        family_id: "family".into(),
        client_id: "console".into(),
        user_sub: g.d.alice_sub.clone(),
        scopes: "openid".into(),
        auth_time: now,
        issued_at: now,
        expires_at: now + app.state.settings.refresh_token_idle_seconds,
        family_expires_at: now + app.state.settings.refresh_token_absolute_seconds,
        used_at: None,
        revoked_at: None,
        grant_id: None,
        actor_sub: None,
        sid: None,
    };
    app.state.db.run(move |c| refresh.insert(c)).await.unwrap();
    let before = rows(app).await;
    assert!(
        before[..4].iter().all(|&n| n > 0),
        "a token, a refresh token, a code and a session: {before:?}"
    );

    // Nothing has expired for good yet: nothing goes, everything still answers.
    assert_eq!(sweep(&app.state).await.unwrap(), Swept::default());
    assert_eq!(rows(app).await, before);
    assert!(g.is_active(&g.d.bob).await);

    // Long after every lifetime (refresh families last 30 days) has ended.
    app.clock.advance(40 * 24 * HOUR);
    let swept = sweep(&app.state).await.unwrap();
    assert!(
        swept.tokens > 0 && swept.refresh_tokens > 0 && swept.codes > 0 && swept.sessions > 0,
        "{swept:?}"
    );
    let after = rows(app).await;
    assert_eq!(after[..4], [0, 0, 0, 0], "{after:?}");
    assert_eq!(
        after[4..],
        before[4..],
        "grants and the audit trail are history: kept"
    );
    let verify = app.state.db.clone();
    assert_eq!(
        behalf::audit::verify(&verify).await.unwrap(),
        behalf::audit::ChainReport::Intact {
            events: before[5] as u64
        }
    );
}
