//! The keyed audit chain (docs/security.md N6) as an administrator with the
//! database but not the key-encryption key meets it: history rewritten and the
//! chain recomputed with plain SHA-256 is reported broken at the rewritten
//! event by `behalf audit verify` (the real binary); a trail written before the
//! chain was keyed is re-keyed once by the migration's start-up step.

use crate::fixtures::granted;
use crate::helpers::{TEST_KEK, TestDb};
use behalf::store::audit_events::{self, AuditEventRow};
use behalf::store::chain_key::ChainedFields;
use behalf::store::schema::audit_events as table;
use diesel::prelude::*;
use std::process::{Command, Output};

fn audit_verify(db: &TestDb) -> Output {
    Command::new(env!("CARGO_BIN_EXE_behalf"))
        .args(["audit", "verify"])
        .env("BEHALF_DATABASE_URL", &db.url)
        .env("BEHALF_KEY_ENCRYPTION_KEY", TEST_KEK)
        .output()
        .expect("the binary runs")
}

fn intact_line(output: &Output) -> String {
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "stdout: {out}\nstderr: {err}");
    out.into_owned()
}

fn broken_line(output: &Output) -> String {
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "verify passed: {err}");
    err
}

/// Five events, the middle one (seq 3) a grant.created, through the keyed store.
async fn five_events(db: &TestDb) {
    let store = db.open_keyed().await;
    for (i, action) in [
        behalf::audit::Action::AccessRequestCreated,
        behalf::audit::Action::SessionSignedIn,
        behalf::audit::Action::GrantCreated,
        behalf::audit::Action::TokenExchanged,
        behalf::audit::Action::GrantRevoked,
    ]
    .into_iter()
    .enumerate()
    {
        store
            .write(move |c| {
                let detail = serde_json::json!({"scope": "read", "n": i});
                behalf::audit::record(c, 1000 + i as i64, "alice", action, Some("g1"), detail)
            })
            .await
            .unwrap();
    }
}

fn all_events(c: &mut behalf::store::AnyConnection) -> Vec<AuditEventRow> {
    audit_events::page(c, 0, 10_000).unwrap()
}

/// What someone with the database alone can do: change `detail` of event
/// `at_seq`, then recompute that hash and every later one with plain SHA-256,
/// each linked to the one before; `era`, if given, is written on those rows too.
async fn rewrite_and_rechain_with_sha256(db: &TestDb, at_seq: i64, detail: &str, era: Option<i32>) {
    let store =
        behalf::store::Database::connect(behalf::store::Backend::from_url(&db.url).unwrap())
            .await
            .unwrap();
    let detail = detail.to_string();
    store
        .run(move |c| {
            let mut prev = vec![0u8; 32];
            for row in all_events(c) {
                if row.seq < at_seq {
                    prev = row.hash;
                    continue;
                }
                let detail = if row.seq == at_seq {
                    detail.clone()
                } else {
                    row.detail.clone()
                };
                let hash = ChainedFields {
                    detail: &detail,
                    ..row.chained()
                }
                .unkeyed_hash(&prev);
                diesel::update(table::table.find(row.seq))
                    .set((
                        table::detail.eq(&detail),
                        table::prev_hash.eq(&prev),
                        table::hash.eq(&hash),
                        table::key_era.eq(era.unwrap_or(row.key_era)),
                    ))
                    .execute(c)?;
                prev = hash;
            }
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_middle_grant_created_rewritten_and_rechained_with_sha256_is_reported_at_that_event() {
    let db = TestDb::new();
    five_events(&db).await;
    let line = intact_line(&audit_verify(&db));
    assert!(
        line.contains("intact: 5 events, chain keyed (HMAC-SHA256, era 1)"),
        "{line}"
    );

    rewrite_and_rechain_with_sha256(&db, 3, r#"{"scope":"read write admin","n":2}"#, None).await;
    let line = broken_line(&audit_verify(&db));
    assert!(line.contains("broken at event 3"), "{line}");

    // Labelling the rewritten events as the unkeyed era of old does not help.
    rewrite_and_rechain_with_sha256(&db, 3, r#"{"scope":"read write admin","n":2}"#, Some(0)).await;
    let line = broken_line(&audit_verify(&db));
    assert!(line.contains("broken at event 3"), "{line}");

    // Nor does passing the whole trail off as unkeyed: it is never re-keyed again.
    rewrite_and_rechain_with_sha256(&db, 1, r#"{"scope":"read","n":0}"#, Some(0)).await;
    let line = broken_line(&audit_verify(&db));
    assert!(line.contains("broken at event 1"), "{line}");
}

/// The database as the previous migrations left it, holding `details` as an
/// unkeyed SHA-256 trail (as the previous version wrote it); `tamper_at`, if
/// given, names an event whose detail was edited afterwards without rechaining.
async fn unkeyed_trail(db: &TestDb, details: &[&str], tamper_at: Option<i64>) {
    let store =
        behalf::store::Database::connect(behalf::store::Backend::from_url(&db.url).unwrap())
            .await
            .unwrap();
    let details: Vec<String> = details.iter().map(|d| d.to_string()).collect();
    store
        .run(move |c| {
            let mut prev = vec![0u8; 32];
            for (i, detail) in details.iter().enumerate() {
                let occurred_at = 500 + i as i64;
                let hash = ChainedFields {
                    occurred_at,
                    actor: "alice",
                    action: "grant.created",
                    subject: Some("g-old"),
                    detail,
                }
                .unkeyed_hash(&prev);
                diesel::insert_into(table::table)
                    .values((
                        table::occurred_at.eq(occurred_at),
                        table::actor.eq("alice"),
                        table::action.eq("grant.created"),
                        table::subject.eq("g-old"),
                        table::detail.eq(detail),
                        table::prev_hash.eq(&prev),
                        table::hash.eq(&hash),
                        table::key_era.eq(0),
                    ))
                    .execute(c)?;
                prev = hash;
            }
            if let Some(seq) = tamper_at {
                diesel::update(table::table.find(seq))
                    .set(table::detail.eq(r#"{"scope":"admin"}"#))
                    .execute(c)?;
            }
            // Undo the migration that keyed the chain (its down.sql), so the next
            // command finds the database as the previous version left it.
            diesel::sql_query("DROP TABLE audit_rekey_due").execute(c)?;
            diesel::sql_query("ALTER TABLE audit_events DROP COLUMN key_era").execute(c)?;
            let forgotten = diesel::sql_query(
                "DELETE FROM __diesel_schema_migrations WHERE version = '20261201000020'",
            )
            .execute(c)?;
            assert_eq!(forgotten, 1, "the keying migration was recorded");
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unkeyed_trail_from_the_previous_version_is_rekeyed_once_and_verifies_naming_the_era() {
    let db = TestDb::new();
    unkeyed_trail(&db, &[r#"{"n":1}"#, r#"{"n":2}"#, r#"{"n":3}"#], None).await;

    let line = intact_line(&audit_verify(&db));
    // The three old events and the record of their re-keying.
    assert!(
        line.contains("intact: 4 events, chain keyed (HMAC-SHA256, era 1)"),
        "{line}"
    );
    assert!(
        line.contains("the 3 events before event 4 were re-keyed"),
        "{line}"
    );

    let store = db.open_keyed().await;
    let rows = store.run(|c| Ok(all_events(c))).await.unwrap();
    assert!(rows.iter().all(|r| r.key_era == 1), "{rows:?}");
    assert_eq!(rows[3].action, "audit.chain_keyed");
    // Once: a second start re-keys nothing and records nothing more.
    let line = intact_line(&audit_verify(&db));
    assert!(line.contains("intact: 4 events"), "{line}");
}

#[tokio::test]
async fn an_unkeyed_trail_already_broken_is_rekeyed_only_up_to_the_break_which_stays_reported() {
    let db = TestDb::new();
    unkeyed_trail(
        &db,
        &[r#"{"n":1}"#, r#"{"n":2}"#, r#"{"n":3}"#, r#"{"n":4}"#],
        Some(3),
    )
    .await;
    let line = broken_line(&audit_verify(&db));
    assert!(line.contains("broken at event 3"), "{line}");
}

#[tokio::test]
async fn the_trail_the_server_writes_verifies_intact_under_the_keyed_chain() {
    let g = granted("read", 3600).await;
    let (status, _) = g.exchange(&[]).await;
    assert!(status.is_success());
    let token = g.delegated_token().await;
    assert_eq!(g.introspect(&token).await["active"], true);
    g.d.app.state.deferred_audit.flush(&g.d.app.state.db).await;
    let events = g.audit_events_count().await;
    assert!(
        events >= 4,
        "request, grant, exchanges, introspection: {events}"
    );

    let line = intact_line(&audit_verify(&g.d.app.db));
    assert!(
        line.contains(&format!(
            "intact: {events} events, chain keyed (HMAC-SHA256, era 1)"
        )),
        "{line}"
    );
    assert!(
        !line.contains("re-keyed"),
        "a new trail is keyed from its first event: {line}"
    );
}
