//! `/readyz` fails while the database cannot be written (docs/security.md
//! L10), though it still answers reads, and recovers when it can again.
//!
//! The fault is each backend's own, seen by the running server: on SQLite
//! another process holds the write lock (as a stuck admin shell or backup
//! would: every write of the server waits out its busy timeout and fails);
//! on PostgreSQL the database is made read-only for new sessions and the
//! server's sessions are ended, so that the pool reconnects into read-only.
//! (Tests run as root, where `chmod` would not stop a write.)

use crate::helpers::{TestApp, TestDb};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

fn postgres_admin(db: &TestDb, sql: &str) {
    let (base, _) = db.postgres().expect("a PostgreSQL test database");
    let mut admin = PgConnection::establish(&format!("{base}/postgres")).unwrap();
    diesel::sql_query(sql).execute(&mut admin).unwrap();
}

fn postgres_read_only(db: &TestDb, read_only: bool) {
    let (_, name) = db.postgres().unwrap();
    let on = if read_only { "on" } else { "off" };
    postgres_admin(
        db,
        &format!("ALTER DATABASE {name} SET default_transaction_read_only = {on}"),
    );
    postgres_admin(
        db,
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ),
    );
}

/// SQLite: another connection takes the write lock and keeps it until dropped.
fn sqlite_lock_writes(db: &TestDb) -> SqliteConnection {
    let path = db.url.strip_prefix("sqlite://").unwrap();
    let mut holder = SqliteConnection::establish(path).unwrap();
    holder
        .batch_execute("PRAGMA busy_timeout = 5000; BEGIN IMMEDIATE;")
        .unwrap();
    holder
}

async fn readyz(app: &TestApp) -> (StatusCode, String) {
    let response = app.http.get(app.url("/readyz")).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn readyz_fails_while_the_database_cannot_be_written_and_recovers() {
    let app = TestApp::spawn().await;
    assert_eq!(readyz(&app).await.0, StatusCode::OK);
    let postgres = app.db.postgres().is_some();

    let lock = if postgres {
        postgres_read_only(&app.db, true);
        None
    } else {
        Some(sqlite_lock_writes(&app.db))
    };
    // The fault is real for the server: its own writes fail...
    let db = app.state.db.clone();
    let write = tokio::spawn(async move {
        db.write(|c| Ok(diesel::sql_query("UPDATE clients SET name = name").execute(c)?))
            .await
    });
    // ...though it still answers reads.
    let read = app
        .state
        .db
        .run(|c| Ok(diesel::sql_query("SELECT 1").execute(c)?))
        .await;
    assert!(read.is_ok(), "{read:?}");
    let reads = app.http.get(app.url("/jwks.json")).send().await.unwrap();
    assert_eq!(reads.status(), StatusCode::OK);
    let (status, body) = readyz(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let reason: Value = serde_json::from_str(&body).expect("a JSON reason");
    assert!(
        reason["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{body}"
    );
    assert!(
        write.await.unwrap().is_err(),
        "a write of the server's own failed meanwhile"
    );

    drop(lock);
    if postgres {
        postgres_read_only(&app.db, false);
    }
    let mut last = None;
    for _ in 0..40 {
        let answer = readyz(&app).await;
        if answer.0 == StatusCode::OK {
            return;
        }
        last = Some(answer);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("/readyz did not recover: {last:?}");
}
