//! docs/security.md L9: a resource server introspecting one delegated token
//! over and over writes at most one activity line per token, client and
//! minute to the user's grant, also when several instances share the
//! database; another client, or the next minute, adds its own line. Runs on
//! SQLite, and on PostgreSQL when BEHALF_TEST_POSTGRES_URL is set.

use crate::fixtures::{Granted, granted, signed_in_to_account};
use crate::helpers::TestApp;
use behalf::store::audit_events;
use reqwest::StatusCode;

const CHECKS: usize = 50;

/// `CHECKS` introspections of `token` by `client`, all at once, at `app`.
async fn introspect_many(app: &TestApp, client: (&str, &str), token: &str) {
    let mut checks = tokio::task::JoinSet::new();
    for _ in 0..CHECKS {
        let request = app
            .http
            .post(app.url("/introspect"))
            .basic_auth(client.0, Some(client.1))
            .form(&[("token", token)]);
        checks.spawn(async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["active"], true, "{body}");
        });
    }
    checks.join_all().await;
    app.state.deferred_audit.flush(&app.state.db).await;
}

/// The grant's `token.introspected` lines, by which client.
async fn introspection_lines(g: &Granted) -> Vec<String> {
    let id = g.grant_id.clone();
    let events =
        g.d.app
            .state
            .db
            .run(move |c| audit_events::for_subject(c, &id))
            .await
            .unwrap();
    events
        .into_iter()
        .filter(|e| e.action == "token.introspected")
        .map(|e| e.actor)
        .collect()
}

#[tokio::test]
async fn fifty_checks_of_one_token_are_one_line_per_client_and_minute() {
    let g = granted("read", 3600).await;
    let token = g.delegated_token().await;
    let rs = ("rs", g.rs_secret.as_str());
    introspect_many(&g.d.app, rs, &token).await;
    introspect_many(&g.d.app, rs, &token).await;
    assert_eq!(introspection_lines(&g).await, ["rs"]);

    let other_secret = g.d.app.add_client("billing", &[], &[]).await;
    introspect_many(&g.d.app, ("billing", &other_secret), &token).await;
    assert_eq!(introspection_lines(&g).await, ["rs", "billing"]);

    g.d.app.clock.advance(60);
    introspect_many(&g.d.app, rs, &token).await;
    assert_eq!(introspection_lines(&g).await, ["rs", "billing", "rs"]);

    // alice's activity reads one line per check that counts, naming the app and the agent.
    let alice = signed_in_to_account(&g.d.app, "alice").await;
    let page = alice.get("/account").await;
    assert_eq!(
        page.body.matches("checked bob&#39;s access token").count(),
        3
    );
    assert!(page.body.contains("billing checked bob&#39;s access token"));
}

#[tokio::test]
async fn instances_sharing_the_database_write_one_line_between_them() {
    let g = granted("read", 3600).await;
    let token = g.delegated_token().await;
    let mut settings = g.d.app.db.settings();
    settings.issuer = Some(g.d.app.issuer().to_string());
    let other = TestApp::spawn_with(g.d.app.db.clone(), settings, g.d.app.clock.clone()).await;
    let rs = ("rs", g.rs_secret.as_str());
    tokio::join!(
        introspect_many(&g.d.app, rs, &token),
        introspect_many(&other, rs, &token)
    );
    assert_eq!(introspection_lines(&g).await, ["rs"]);
    assert_eq!(
        behalf::audit::verify(&g.d.app.state.db).await.unwrap(),
        behalf::audit::ChainReport::Intact {
            events: g.audit_events_count().await
        }
    );
}
