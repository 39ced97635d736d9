//! The operator's command line (issue 12 item 8, docs/contract.md "Command line"):
//! users, clients and the audit trail managed without SQL, readable dates, flags
//! only where they apply, settings errors in plain words, and a `serve` that binds
//! before it creates anything. The real binary, its stdout, stderr and exit codes.

use crate::helpers::{TEST_KEK, TestDb};
use behalf::store::grants::{EndedBy, GrantRow};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn behalf(db: &TestDb, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_behalf"))
        .args(args)
        .env("BEHALF_DATABASE_URL", &db.url)
        .env("BEHALF_KEY_ENCRYPTION_KEY", TEST_KEK)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(input) = stdin {
        // A command that refuses before reading stdin may exit first: a broken pipe is its answer.
        let written = child.stdin.take().unwrap().write_all(input.as_bytes());
        if let Err(e) = written {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn user_add_without_a_password_choice_refuses_with_exit_2_and_adds_no_one() {
    let db = TestDb::new();
    let refused = behalf(&db, &["user", "add", "erin"], None);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("--password-stdin|--no-password"),
        "{}",
        stderr(&refused)
    );
    let both = behalf(
        &db,
        &["user", "add", "erin", "--no-password", "--password-stdin"],
        Some("correct horse battery\n"),
    );
    assert_eq!(both.status.code(), Some(2));
    assert_eq!(stdout(&behalf(&db, &["user", "list"], None)), "");
}

#[test]
fn users_get_an_email_a_name_and_a_team_that_list_and_show_print_as_json() {
    let db = TestDb::new();
    let erin = stdout(&behalf(
        &db,
        &[
            "user",
            "add",
            "erin",
            "--agent",
            "--email",
            "erin@example.com",
            "--name",
            "Erin Example",
            "--team",
            "Support",
            "--no-password",
        ],
        None,
    ));
    stdout(&behalf(
        &db,
        &["user", "add", "alice", "--password-stdin"],
        Some("alice-password-1\n"),
    ));
    stdout(&behalf(&db, &["user", "disable", "alice"], None));
    let listed = json_lines(&stdout(&behalf(&db, &["user", "list"], None)));
    assert_eq!(listed.len(), 2);
    assert_eq!(
        listed[1],
        serde_json::json!({
            "sub": erin.trim(), "username": "erin", "email": "erin@example.com",
            "name": "Erin Example", "team": "Support", "agent": true, "disabled": false,
        })
    );
    assert_eq!(listed[0]["username"], "alice");
    assert_eq!(listed[0]["disabled"], true);
    assert_eq!(listed[0]["email"], Value::Null);
    assert!(listed[0].get("password_hash").is_none());
    let shown: Value =
        serde_json::from_str(&stdout(&behalf(&db, &["user", "show", "erin"], None))).unwrap();
    // `show` adds the IdP accounts linked to the user: none for a local account.
    let mut expected = listed[1].clone();
    expected["identities"] = serde_json::json!([]);
    assert_eq!(shown, expected);
    let missing = behalf(&db, &["user", "show", "nobody"], None);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("no user named nobody"));
}

#[test]
fn a_team_needs_the_agent_role_and_profile_values_stay_on_one_line() {
    let db = TestDb::new();
    let team = behalf(
        &db,
        &["user", "add", "erin", "--team", "Support", "--no-password"],
        None,
    );
    assert_eq!(team.status.code(), Some(2), "{}", stderr(&team));
    assert!(stderr(&team).contains("--agent"));
    let forged = behalf(
        &db,
        &[
            "user",
            "add",
            "erin",
            "--name",
            "Erin\nINFO x",
            "--no-password",
        ],
        None,
    );
    assert!(!forged.status.success());
    assert!(stderr(&forged).contains("--name"), "{}", stderr(&forged));
}

#[test]
fn set_password_gives_a_password_to_a_user_added_without_one() {
    let db = TestDb::new();
    stdout(&behalf(
        &db,
        &["user", "add", "erin", "--no-password"],
        None,
    ));
    let out = behalf(
        &db,
        &["user", "set-password", "erin", "--password-stdin"],
        Some("a-new-password-9\n"),
    );
    stdout(&out);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let hash = runtime.block_on(async {
        let store = db.open_keyed().await;
        store
            .run(|c| behalf::store::users::UserRow::find_by_username(c, "erin"))
            .await
            .unwrap()
            .unwrap()
            .password_hash
    });
    let hash = hash.expect("erin has a password now");
    assert!(behalf::accounts::password::verify(
        "a-new-password-9",
        &hash
    ));
    let unknown = behalf(
        &db,
        &["user", "set-password", "nobody", "--password-stdin"],
        Some("a-new-password-9\n"),
    );
    assert!(stderr(&unknown).contains("no user named nobody"));
    let without = behalf(&db, &["user", "set-password", "erin"], None);
    assert_eq!(without.status.code(), Some(2));
}

#[test]
fn client_list_and_show_print_json_without_the_secret() {
    let db = TestDb::new();
    let added: Value = serde_json::from_str(&stdout(&behalf(
        &db,
        &[
            "client", "add", "svc", "--scope", "read", "--name", "Billing",
        ],
        None,
    )))
    .unwrap();
    let secret = added["client_secret"].as_str().unwrap().to_string();
    stdout(&behalf(
        &db,
        &[
            "client",
            "add",
            "spa",
            "--public",
            "--redirect-uri",
            "https://app.example.com/cb",
        ],
        None,
    ));
    let listed_text = stdout(&behalf(&db, &["client", "list"], None));
    assert!(!listed_text.contains(&secret));
    let listed = json_lines(&listed_text);
    assert_eq!(
        listed
            .iter()
            .map(|c| c["client_id"].clone())
            .collect::<Vec<_>>(),
        ["spa", "svc"]
    );
    assert_eq!(listed[0]["public"], true);
    assert_eq!(
        listed[0]["redirect_uris"],
        serde_json::json!(["https://app.example.com/cb"])
    );
    assert_eq!(listed[1]["scopes"], serde_json::json!(["read"]));
    assert_eq!(listed[1]["name"], "Billing");
    assert!(listed[1]["created_at"].as_str().unwrap().ends_with('Z'));
    let shown: Value =
        serde_json::from_str(&stdout(&behalf(&db, &["client", "show", "svc"], None))).unwrap();
    assert_eq!(shown, listed[1]);
    assert!(stderr(&behalf(&db, &["client", "show", "nope"], None)).contains("no client nope"));
}

#[test]
fn client_remove_is_refused_while_a_grant_through_it_is_active_then_removes_it() {
    let db = TestDb::new();
    stdout(&behalf(
        &db,
        &[
            "client",
            "add",
            "desk",
            "--grant-type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
            "--scope",
            "read",
        ],
        None,
    ));
    let alice = stdout(&behalf(
        &db,
        &["user", "add", "alice", "--no-password"],
        None,
    ));
    let bob = stdout(&behalf(
        &db,
        &["user", "add", "bob", "--agent", "--no-password"],
        None,
    ));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let grant = GrantRow {
        id: "g-desk".into(),
        subject_sub: alice.trim().into(),
        agent_sub: Some(bob.trim().into()),
        client_id: "desk".into(),
        scopes: "read".into(),
        audiences: "https://api.example.com".into(),
        reason: "a ticket".into(),
        ticket: "T-1".into(),
        request_id: None,
        created_at: now,
        expires_at: now + 3600,
        revoked_at: None,
        revoked_by: None,
        team: None,
        apps: String::new(),
        first_used_at: None,
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The pool is dropped inside the runtime.
    let _inside = runtime.enter();
    let store = runtime.block_on(db.open_keyed());
    runtime
        .block_on(store.run(move |c| grant.insert(c)))
        .unwrap();

    let refused = behalf(&db, &["client", "remove", "desk"], None);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("client desk has 1 active grant(s)"),
        "{}",
        stderr(&refused)
    );
    stdout(&behalf(&db, &["client", "show", "desk"], None));

    runtime
        .block_on(store.run(move |c| GrantRow::revoke(c, "g-desk", EndedBy::User, now)))
        .unwrap();
    let removed = behalf(&db, &["client", "remove", "desk"], None);
    stdout(&removed);
    assert!(stderr(&removed).contains("client desk is removed"));
    assert!(stderr(&behalf(&db, &["client", "show", "desk"], None)).contains("no client desk"));
    assert_eq!(stdout(&behalf(&db, &["client", "list"], None)), "");
    assert!(stderr(&behalf(&db, &["client", "remove", "desk"], None)).contains("no client desk"));
}

fn seed_audit(db: &TestDb) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = db.open_keyed().await;
        // 2026-12-01T09:00:00Z, then an hour apart.
        for (i, subject) in ["g1", "g2", "g1"].into_iter().enumerate() {
            store
                .write(move |c| {
                    behalf::audit::record(
                        c,
                        1_796_115_600 + 3600 * i as i64,
                        "alice",
                        behalf::audit::Action::GrantCreated,
                        Some(subject),
                        serde_json::json!({"n": i}),
                    )
                })
                .await
                .unwrap();
        }
    });
}

#[test]
fn audit_export_prints_one_json_object_per_event_with_rfc3339_times() {
    let db = TestDb::new();
    seed_audit(&db);
    let events = json_lines(&stdout(&behalf(&db, &["audit", "export"], None)));
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[0],
        serde_json::json!({
            "seq": events[0]["seq"], "occurred_at": "2026-12-01T09:00:00Z", "actor": "alice",
            "action": "grant.created", "subject": "g1", "detail": {"n": 0},
        })
    );
    assert!(events[0]["seq"].as_i64().unwrap() < events[1]["seq"].as_i64().unwrap());
    assert_eq!(events[2]["occurred_at"], "2026-12-01T11:00:00Z");
}

#[test]
fn audit_list_prints_readable_lines_by_grant_and_since() {
    let db = TestDb::new();
    seed_audit(&db);
    let all = stdout(&behalf(&db, &["audit", "list"], None));
    assert_eq!(all.lines().count(), 3, "{all}");
    assert!(
        all.lines()
            .next()
            .unwrap()
            .starts_with("2026-12-01T09:00:00Z #")
            && all.contains(" grant.created by alice about g1 {\"n\":0}"),
        "{all}"
    );
    let g1 = stdout(&behalf(&db, &["audit", "list", "--grant", "g1"], None));
    assert_eq!(g1.lines().count(), 2, "{g1}");
    assert!(g1.lines().all(|l| l.contains(" about g1 ")), "{g1}");
    let since = stdout(&behalf(
        &db,
        &["audit", "list", "--since", "2026-12-01T11:00:00+01:00"],
        None,
    ));
    assert_eq!(since.lines().count(), 2, "{since}");
    let both = stdout(&behalf(
        &db,
        &[
            "audit",
            "list",
            "--grant",
            "g1",
            "--since",
            "2026-12-01T09:30:00Z",
        ],
        None,
    ));
    assert_eq!(both.lines().count(), 1, "{both}");
    assert!(both.starts_with("2026-12-01T11:00:00Z"), "{both}");
    let bad = behalf(&db, &["audit", "list", "--since", "yesterday"], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("RFC 3339"), "{}", stderr(&bad));
}

#[test]
fn events_list_prints_what_the_outbox_has_yet_to_deliver_and_never_a_payload() {
    use behalf::store::outbox::{OutboxKind, OutboxRow};
    let db = TestDb::new();
    // 2026-12-01T09:00:00Z, then an hour apart: due later, failing, delivered.
    let at = |hours: i64| 1_796_115_600 + 3600 * hours;
    let row = |id: &str, due: i64| {
        OutboxRow::new(
            id.into(),
            OutboxKind::BackchannelLogout,
            "https://shop.example/logout",
            r#"{"sid":"sid-1","sub":"sub-1","aud":"shop"}"#.into(),
            Some("g1"),
            due,
            at(0),
        )
    };
    let later = row("later", at(2));
    let failing = OutboxRow {
        attempts: 3,
        next_attempt_at: at(1) + 8,
        last_error: Some("answered HTTP 500".into()),
        ..row("failing", at(1))
    };
    let delivered = OutboxRow {
        delivered_at: Some(at(0)),
        ..row("delivered", at(0))
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = db.open_keyed().await;
        for r in [later, failing, delivered] {
            store.write(move |c| r.insert(c)).await.unwrap();
        }
    });

    let listed = stdout(&behalf(&db, &["events", "list"], None));
    assert!(
        !listed.contains("sid-1") && !listed.contains("payload"),
        "{listed}"
    );
    let pending = json_lines(&listed);
    assert_eq!(
        pending,
        [
            serde_json::json!({
                "id": "failing", "kind": "backchannel_logout",
                "event_id": null, "event_type": null,
                "destination": "https://shop.example/logout", "grant_id": "g1",
                "due_at": "2026-12-01T10:00:00Z", "next_attempt_at": "2026-12-01T10:00:08Z",
                "attempts": 3, "last_error": "answered HTTP 500",
            }),
            serde_json::json!({
                "id": "later", "kind": "backchannel_logout",
                "event_id": null, "event_type": null,
                "destination": "https://shop.example/logout", "grant_id": "g1",
                "due_at": "2026-12-01T11:00:00Z", "next_attempt_at": "2026-12-01T11:00:00Z",
                "attempts": 0, "last_error": null,
            }),
        ]
    );
    let failed = json_lines(&stdout(&behalf(&db, &["events", "list", "--failed"], None)));
    assert_eq!(failed, pending[..1]);
}

#[test]
fn keys_list_prints_rfc3339_times() {
    let db = TestDb::new();
    let listed = stdout(&behalf(&db, &["keys", "list"], None));
    let row = listed.lines().nth(1).unwrap();
    let signs_from = row.split_whitespace().last().unwrap();
    assert!(
        signs_from.len() == 20 && signs_from.ends_with('Z') && signs_from.as_bytes()[10] == b'T',
        "{listed}"
    );
}

#[test]
fn serve_flags_are_on_serve_alone_and_database_flags_on_every_command() {
    let db = TestDb::new();
    let help = stdout(&behalf(&db, &["user", "add", "--help"], None));
    for absent in ["--listen", "--issuer", "--log-format"] {
        assert!(
            !help.contains(absent),
            "{absent} in user add --help:\n{help}"
        );
    }
    for present in [
        "--database-url",
        "--config",
        "--email",
        "--team",
        "--no-password",
    ] {
        assert!(help.contains(present), "{present} missing:\n{help}");
    }
    let serve = stdout(&behalf(&db, &["serve", "--help"], None));
    for present in ["--listen", "--issuer", "--log-format", "--database-url"] {
        assert!(serve.contains(present), "{present} missing:\n{serve}");
    }
    let misplaced = behalf(&db, &["user", "list", "--listen", "127.0.0.1:1"], None);
    assert_eq!(misplaced.status.code(), Some(2));
    // The database flag works after the subcommand too.
    let other = TestDb::new();
    stdout(&behalf(
        &db,
        &[
            "user",
            "add",
            "erin",
            "--no-password",
            "--database-url",
            &other.url,
        ],
        None,
    ));
    assert_eq!(stdout(&behalf(&db, &["user", "list"], None)), "");
    assert_eq!(
        json_lines(&stdout(&behalf(&other, &["user", "list"], None))).len(),
        1
    );
}

#[test]
fn a_bad_number_in_the_environment_names_the_variable_and_what_is_expected() {
    let db = TestDb::new();
    for (var, value, said) in [
        (
            "BEHALF_SESSION_TTL_SECONDS",
            "abc",
            "session_ttl_seconds (BEHALF_SESSION_TTL_SECONDS): expected a whole number of seconds, got \"abc\"",
        ),
        (
            "BEHALF_MAX_CONNECTIONS",
            "-1",
            "max_connections (BEHALF_MAX_CONNECTIONS): expected a whole number, got \"-1\" (must not be negative)",
        ),
        (
            "BEHALF_MIN_GRANT_SECONDS",
            "1.5",
            "policy.min_grant_seconds (BEHALF_MIN_GRANT_SECONDS): expected a whole number of seconds, got \"1.5\"",
        ),
        (
            "BEHALF_LOG_FORMAT",
            "xml",
            "log_format (BEHALF_LOG_FORMAT): expected one of text, json, got \"xml\"",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_behalf"))
            .arg("migrate")
            .env("BEHALF_DATABASE_URL", &db.url)
            .env("BEHALF_KEY_ENCRYPTION_KEY", TEST_KEK)
            .env(var, value)
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert_eq!(stderr(&out).trim(), format!("behalf: {said}"));
    }
}

/// A fresh SQLite path: `serve` must find the port taken before it creates a
/// database or a key file there.
#[test]
fn a_port_in_use_stops_serve_before_the_database_or_key_file_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = Command::new(env!("CARGO_BIN_EXE_behalf"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env(
            "BEHALF_DATABASE_URL",
            format!("sqlite://{}", path.display()),
        )
        .env_remove("BEHALF_KEY_ENCRYPTION_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!(
            "listen (BEHALF_LISTEN): cannot listen on 127.0.0.1:{port}"
        )),
        "{}",
        stderr(&out)
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files created: {left:?}");
}

#[tokio::test]
async fn serve_accepts_localhost_for_listen() {
    let db = TestDb::new();
    let port = free_port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_behalf"))
        .args(["serve", "--listen", &format!("localhost:{port}")])
        .env("BEHALF_DATABASE_URL", &db.url)
        .env("BEHALF_KEY_ENCRYPTION_KEY", TEST_KEK)
        .env("BEHALF_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let mut answered = None;
    for _ in 0..200 {
        if let Ok(r) = http
            .get(format!(
                "http://127.0.0.1:{port}/.well-known/openid-configuration"
            ))
            .send()
            .await
        {
            answered = Some(r.json::<Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = server.kill();
    let _ = server.wait();
    let discovery = answered.expect("the server answers on the loopback");
    assert_eq!(discovery["issuer"], format!("http://127.0.0.1:{port}"));
}
