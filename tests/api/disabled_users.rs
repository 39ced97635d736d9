//! docs/security.md E16: a disabled subject or agent. `behalf user disable`
//! ends every grant where the user is the subject or the agent (audited,
//! `ended_by: user_disabled`), every token under them is inactive at the next
//! check, an exchange for a disabled subject is `invalid_request`, and
//! `behalf user enable` brings no ended grant back. Runs on SQLite, and on
//! PostgreSQL when BEHALF_TEST_POSTGRES_URL is set.

use crate::fixtures::{Granted, console_token, granted};
use behalf::store::audit_events;
use behalf::store::grants::GrantRow;
use reqwest::StatusCode;
use serde_json::Value;

/// Runs `behalf user <verb> <name>` against the test's database, as an admin would.
fn user_command(g: &Granted, verb: &str, name: &str) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_behalf"))
        .args(["user", verb, name])
        .env("BEHALF_DATABASE_URL", &g.d.app.db.url)
        .env("BEHALF_KEY_ENCRYPTION_KEY", crate::helpers::TEST_KEK)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

async fn grant_row(g: &Granted) -> GrantRow {
    let id = g.grant_id.clone();
    g.d.app
        .state
        .db
        .run(move |c| GrantRow::find(c, &id))
        .await
        .unwrap()
        .unwrap()
}

/// The `grant.revoked` events of the grant, as `(actor, detail)`.
async fn revocations(g: &Granted) -> Vec<(String, Value)> {
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
        .filter(|e| e.action == "grant.revoked")
        .map(|e| (e.actor, serde_json::from_str(&e.detail).unwrap()))
        .collect()
}

fn assert_invalid_request((status, body): (StatusCode, Value)) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_request", "{body}");
    assert!(body.get("access_token").is_none(), "{body}");
}

#[tokio::test]
async fn disabling_the_subject_ends_her_grant_and_no_exchange_mints_a_token_for_her() {
    let g = granted("read", 3600).await;
    let delegated = g.delegated_token().await;
    user_command(&g, "disable", "alice");

    assert_invalid_request(g.exchange(&[]).await);
    assert!(!g.is_active(&delegated).await);
    let grant = grant_row(&g).await;
    assert!(grant.revoked_at.is_some());
    assert_eq!(grant.revoked_by.as_deref(), Some("user_disabled"));
    let ended = revocations(&g).await;
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0].0, g.d.alice_sub);
    assert_eq!(ended[0].1["by"], "user_disabled");

    // Enabling her again brings nothing back.
    user_command(&g, "enable", "alice");
    assert_invalid_request(g.exchange(&[]).await);
    assert!(!g.is_active(&delegated).await);
    assert_eq!(
        grant_row(&g).await.revoked_by.as_deref(),
        Some("user_disabled")
    );
    assert_eq!(revocations(&g).await.len(), 1);
}

#[tokio::test]
async fn disabling_the_agent_ends_the_grants_given_to_him_for_good() {
    let g = granted("read", 3600).await;
    user_command(&g, "disable", "bob");
    let grant = grant_row(&g).await;
    assert_eq!(grant.revoked_by.as_deref(), Some("user_disabled"));
    assert_eq!(revocations(&g).await[0].1["by"], "user_disabled");

    user_command(&g, "enable", "bob");
    let fresh = console_token(&g.d.app, &g.d.secret, "bob", "openid agent").await;
    let refused = g.exchange(&[("actor_token", &fresh)]).await;
    assert_invalid_request(refused.clone());
    assert_eq!(
        refused.1["error_description"],
        "the grant is unknown, expired or revoked"
    );
}

/// The exchange itself checks the subject: a grant still standing over a
/// disabled account (disabled by any other path, or between the grant's
/// check and now) yields no token.
#[tokio::test]
async fn an_exchange_under_a_standing_grant_over_a_disabled_subject_is_invalid_request() {
    use behalf::store::schema::users;
    use diesel::prelude::*;
    let g = granted("read", 3600).await;
    let now = g.d.app.clock_now();
    g.d.app
        .state
        .db
        .run(move |c| {
            diesel::update(users::table.filter(users::username.eq("alice")))
                .set(users::disabled_at.eq(now))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    assert!(grant_row(&g).await.is_active(now));
    let refused = g.exchange(&[]).await;
    assert_invalid_request(refused.clone());
    assert_eq!(
        refused.1["error_description"],
        "the user the grant is over is disabled"
    );
}
