//! A restart keeps signing keys, clients and users (and so earlier tokens stay
//! valid), and a process opening the database while another closes it waits
//! for it rather than failing.

use crate::helpers::{TestApp, TestDb, verify_with_jwks};
use behalf::store::users::UserRow;
use behalf::store::{Backend, Database};

#[tokio::test]
async fn a_restart_keeps_keys_clients_and_users() {
    let app = TestApp::spawn().await;
    let secret = app.add_client("svc", &["read"], &[]).await;
    let user = crate::helpers::new_user("alice", Some("correct horse"), false, 0);
    let sub = user.sub.clone();
    app.state.db.run(move |c| user.insert(c)).await.unwrap();
    let token = app.client_credentials_token("svc", &secret, "read").await;
    let jwks_before = app.get_json("/jwks.json").await;
    let mut settings = app.db.settings();
    // The same public issuer, as behind a load balancer; the port behind it changes.
    settings.issuer = Some(app.issuer().to_string());
    let clock = app.clock.clone();
    let db = app.stop();

    let app = TestApp::spawn_with(db, settings, clock).await;
    assert_eq!(
        app.get_json("/jwks.json").await,
        jwks_before,
        "same keys after restart"
    );
    verify_with_jwks(&app, &token, app.issuer())
        .await
        .expect("earlier token verifies");
    let again = app.client_credentials_token("svc", &secret, "read").await;
    verify_with_jwks(&app, &again, app.issuer()).await.unwrap();
    let found = app
        .state
        .db
        .run(|c| UserRow::find_by_username(c, "alice"))
        .await
        .unwrap()
        .expect("user kept");
    assert_eq!(found.sub, sub);
    assert!(behalf::accounts::password::verify(
        "correct horse",
        found.password_hash.as_deref().unwrap()
    ));
}

/// An admin command started just as the server stops (or a second instance
/// starting as the first stops) finds SQLite checkpointing and removing the
/// WAL as the last connection closes: it must wait, not fail with "database is
/// locked" (as it did when the busy timeout was set after switching to WAL).
#[tokio::test]
async fn opening_the_database_while_another_process_closes_it_waits() {
    let db = TestDb::new();
    let backend = Backend::from_url(&db.url).unwrap();
    for round in 0..30 {
        let first = db.open_keyed().await;
        first
            .write(move |c| {
                behalf::audit::record(
                    c,
                    round,
                    "test",
                    behalf::audit::Action::GrantCreated,
                    None,
                    serde_json::json!({}),
                )
            })
            .await
            .unwrap();
        let opening = tokio::spawn(Database::connect(backend.clone()));
        drop(first);
        let second = opening.await.unwrap();
        assert!(second.is_ok(), "round {round}: {:?}", second.err());
    }
}
