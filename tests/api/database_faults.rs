//! Faults of the database (docs/security.md K2, K3): when it cannot take a write or
//! cannot be reached, the server answers 503 and never a success it did not
//! persist, never `active: true` from memory; when it comes back, so does the
//! server, without a restart.
//!
//! The failure is each backend's own: SQLite fills its disk (the file may not
//! grow past its current size, and the free space left is taken); PostgreSQL
//! refuses connections and drops the ones it has, as a server going down does.

use crate::fixtures::{Granted, granted};
use crate::helpers::{TestApp, TestDb};
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::StatusCode;
use serde_json::Value;

/// Posts `form` to `path` as `client`; the status and the JSON body.
async fn post(
    app: &TestApp,
    path: &str,
    client: (&str, &str),
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = app
        .http
        .post(app.url(path))
        .basic_auth(client.0, Some(client.1))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn introspect(g: &Granted, token: &str) -> (StatusCode, Value) {
    post(
        &g.d.app,
        "/introspect",
        ("rs", &g.rs_secret),
        &[("token", token)],
    )
    .await
}

async fn revoke(g: &Granted, token: &str) -> (StatusCode, Value) {
    post(
        &g.d.app,
        "/revoke",
        ("console", &g.d.secret),
        &[("token", token)],
    )
    .await
}

fn is_temporarily_unavailable(status: StatusCode, body: &Value) -> bool {
    status == StatusCode::SERVICE_UNAVAILABLE && body["error"] == "temporarily_unavailable"
}

/// Runs `sql` against PostgreSQL's maintenance database, as an operator would.
fn postgres_admin(db: &TestDb, sql: &str) {
    let (base, _) = db.postgres().expect("a PostgreSQL test database");
    let mut admin = PgConnection::establish(&format!("{base}/postgres")).unwrap();
    diesel::sql_query(sql).execute(&mut admin).unwrap();
}

/// Drops every connection the server holds to its database; with `refuse`,
/// new ones are refused too until `postgres_come_back`.
fn postgres_go_down(db: &TestDb, refuse: bool) {
    let (_, name) = db.postgres().unwrap();
    if refuse {
        postgres_admin(
            db,
            &format!("ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false"),
        );
    }
    postgres_admin(
        db,
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ),
    );
}

fn postgres_come_back(db: &TestDb) {
    let (_, name) = db.postgres().unwrap();
    postgres_admin(
        db,
        &format!("ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true"),
    );
}

/// How many exchanges the audit trail records.
async fn exchanges_on_record(app: &TestApp) -> i64 {
    use behalf::store::schema::audit_events::dsl::*;
    use diesel::prelude::*;
    app.state
        .db
        .run(|c| {
            Ok(audit_events
                .filter(action.eq("token.exchanged"))
                .count()
                .get_result(c)?)
        })
        .await
        .unwrap()
}

/// SQLite: the file may not grow past its size, and ballast takes the space
/// left inside it. The limit is a setting of each connection: the writer's is
/// set first; the ballast goes in through the readers' connections, each
/// limited before it writes, so that a full disk there costs the writer nothing.
async fn sqlite_fill_the_disk(app: &TestApp) {
    let db = &app.state.db;
    db.write(|c| {
        diesel::sql_query("CREATE TABLE IF NOT EXISTS ballast (b BLOB NOT NULL)").execute(c)?;
        // Below the current size it means: no bigger than now.
        diesel::sql_query("PRAGMA max_page_count = 1").execute(c)?;
        Ok(())
    })
    .await
    .unwrap();
    for size in [4000, 500, 50, 1] {
        let full = db
            .run(move |c| {
                diesel::sql_query("PRAGMA max_page_count = 1").execute(c)?;
                let insert = format!("INSERT INTO ballast VALUES (zeroblob({size}))");
                Ok((0..100_000).any(|_| diesel::sql_query(&insert).execute(c).is_err()))
            })
            .await
            .unwrap();
        assert!(full, "ballast of {size} bytes filled the space left");
    }
}

async fn sqlite_free_the_disk(app: &TestApp) {
    app.state
        .db
        .write(|c| {
            diesel::sql_query("DELETE FROM ballast").execute(c)?;
            diesel::sql_query("PRAGMA max_page_count = 1073741823").execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn when_the_database_fails_the_server_says_503_and_claims_nothing_then_recovers() {
    let g = std::sync::Arc::new(granted("read", 3600).await);
    let app = &g.d.app;
    let earlier = g.delegated_token().await;
    // Checked once while all is well: its signature check is now cached.
    assert_eq!(introspect(&g, &earlier).await.1["active"], true);

    let postgres = app.db.postgres().is_some();
    if postgres {
        postgres_go_down(&app.db, true);
    } else {
        sqlite_fill_the_disk(app).await;
    }

    // Sixteen exchanges at once, so that some share the group commit that the
    // database fails: each 200 names a token that really is on record (active
    // at introspection), and the others are 503s.
    let mut exchanges = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let g = g.clone();
        exchanges.spawn(async move { g.exchange(&[]).await });
    }
    let answers = exchanges.join_all().await;
    let mut issued = Vec::new();
    for (status, body) in &answers {
        if *status == StatusCode::OK {
            issued.push(body["access_token"].as_str().unwrap().to_string());
        } else {
            assert!(is_temporarily_unavailable(*status, body), "{status} {body}");
        }
    }
    assert!(
        issued.len() < answers.len(),
        "the outage refused at least one exchange"
    );
    if !postgres {
        // ...and a 503 wrote nothing: no exchange is on record but those answered.
        sqlite_free_the_disk(app).await;
        assert_eq!(exchanges_on_record(app).await, 1 + issued.len() as i64);
        sqlite_fill_the_disk(app).await;
    }
    let revoked = revoke(&g, &earlier).await;
    if postgres {
        assert!(
            issued.is_empty(),
            "PostgreSQL is down: nothing could be issued"
        );
        assert!(
            is_temporarily_unavailable(revoked.0, &revoked.1),
            "{revoked:?}"
        );
        // A token known good a moment ago is not vouched for from memory.
        let checked = introspect(&g, &earlier).await;
        assert!(
            is_temporarily_unavailable(checked.0, &checked.1),
            "{checked:?}"
        );
        let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    } else {
        // The disk is full, not the database gone: reads still tell the truth.
        assert!(
            revoked.0 == StatusCode::OK || is_temporarily_unavailable(revoked.0, &revoked.1),
            "{revoked:?}"
        );
        let checked = introspect(&g, &earlier).await.1;
        assert_eq!(checked["active"], revoked.0 != StatusCode::OK, "{checked}");
        for token in &issued {
            assert_eq!(introspect(&g, token).await.1["active"], true);
        }
    }
    let alive = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(alive.status(), StatusCode::OK);

    if postgres {
        postgres_come_back(&app.db);
    } else {
        sqlite_free_the_disk(app).await;
    }
    // Back without a restart: the pool reconnects and writes commit again.
    let later = g.delegated_token().await;
    assert_eq!(introspect(&g, &later).await.1["active"], true);
    assert_eq!(revoke(&g, &later).await.0, StatusCode::OK);
    assert_eq!(
        introspect(&g, &later).await.1,
        serde_json::json!({"active": false})
    );
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

/// PostgreSQL restarts while clients are busy (K3): requests caught by it fail
/// cleanly with 503, none hangs or errs otherwise, and the pool reconnects.
/// Only PostgreSQL has a server to lose: `scripts/test` runs this in its
/// PostgreSQL pass.
#[tokio::test]
async fn postgres_only_a_restart_under_load_fails_in_flight_requests_cleanly_and_reconnects() {
    if crate::helpers::skip_without_postgres(
        "postgres_only_a_restart_under_load_fails_in_flight_requests_cleanly_and_reconnects",
    ) {
        return;
    }
    let g = std::sync::Arc::new(granted("read", 3600).await);
    let token = g.delegated_token().await;
    let restarted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for worker in 0..8 {
        let (g, token, restarted) = (g.clone(), token.clone(), restarted.clone());
        workers.push(tokio::spawn(async move {
            let (mut answers, mut after_restart) = (Vec::new(), Vec::new());
            let until = std::time::Instant::now() + std::time::Duration::from_millis(1500);
            while std::time::Instant::now() < until {
                let restarted = restarted.load(std::sync::atomic::Ordering::SeqCst);
                let call = async {
                    if worker % 2 == 0 {
                        g.exchange(&[]).await
                    } else {
                        introspect(&g, &token).await
                    }
                };
                let answer = tokio::time::timeout(std::time::Duration::from_secs(10), call)
                    .await
                    .expect("no request hangs through a database restart");
                if restarted {
                    after_restart.push(answer.0);
                }
                answers.push(answer);
            }
            (answers, after_restart)
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let db = g.d.app.db.clone();
    tokio::task::spawn_blocking(move || postgres_go_down(&db, false))
        .await
        .unwrap();
    restarted.store(true, std::sync::atomic::Ordering::SeqCst);
    let (mut ok, mut unavailable) = (0, 0);
    for worker in workers {
        let (answers, after_restart) = worker.await.unwrap();
        for (status, body) in answers {
            match status {
                StatusCode::OK => ok += 1,
                _ if is_temporarily_unavailable(status, &body) => unavailable += 1,
                _ => panic!("neither a success nor a clean 503: {status} {body}"),
            }
        }
        assert_eq!(
            after_restart.last(),
            Some(&StatusCode::OK),
            "every client is served again after the restart"
        );
    }
    assert!(ok > 0, "{ok} answered, {unavailable} refused");
}

/// PostgreSQL drops every connection the server holds (an operator's
/// `pg_terminate_backend`, a failover), and takes new ones at once: the very
/// next introspection and exchange are answered, not refused. A read found its
/// connection gone and ran again on a fresh one; a write's `SELECT 1` found it
/// gone before the write began (src/store/pool.rs).
#[tokio::test]
async fn postgres_only_dropped_connections_cost_the_next_requests_nothing() {
    if crate::helpers::skip_without_postgres(
        "postgres_only_dropped_connections_cost_the_next_requests_nothing",
    ) {
        return;
    }
    let g = granted("read", 3600).await;
    let token = g.delegated_token().await;
    assert_eq!(introspect(&g, &token).await.1["active"], true);
    let drop_connections = || {
        let db = g.d.app.db.clone();
        tokio::task::spawn_blocking(move || postgres_go_down(&db, false))
    };
    for _ in 0..3 {
        drop_connections().await.unwrap();
        let (status, body) = introspect(&g, &token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["active"], true, "{body}");
        drop_connections().await.unwrap();
        let (status, body) = g.exchange(&[]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}
