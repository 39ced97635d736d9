//! The command line as an operator uses it: the real binary, its stdout and
//! exit codes (docs/contract.md "Command line", "Details clients rely on").

use crate::helpers::{TEST_KEK, TestDb};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
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
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
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

#[test]
fn user_add_prints_the_new_sub_alone_on_one_line() {
    let db = TestDb::new();
    let out = stdout(&behalf(
        &db,
        &["user", "add", "alice", "--password-stdin"],
        Some("correct horse\n"),
    ));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].len() >= 22 && !lines[0].contains(' '));
    let again = behalf(&db, &["user", "add", "alice", "--no-password"], None);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[test]
fn client_add_prints_json_with_a_generated_256_bit_secret() {
    let db = TestDb::new();
    let out = stdout(&behalf(
        &db,
        &[
            "client",
            "add",
            "svc",
            "--generate-secret",
            "--scope",
            "read",
            "--scope",
            "write",
        ],
        None,
    ));
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["client_id"], "svc");
    assert!(json["client_secret"].as_str().unwrap().len() >= 43);
    let public = stdout(&behalf(
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
    assert_eq!(
        serde_json::from_str::<Value>(&public).unwrap()["client_secret"],
        Value::Null
    );
}

#[test]
fn client_add_reads_a_secret_from_stdin_stripping_one_newline() {
    let db = TestDb::new();
    let secret = "s".repeat(40);
    let out = stdout(&behalf(
        &db,
        &["client", "add", "svc", "--secret-stdin"],
        Some(&format!("{secret}\n")),
    ));
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["client_secret"],
        secret
    );
}

#[test]
fn client_add_refuses_dangerous_redirect_uris() {
    let db = TestDb::new();
    for uri in [
        "javascript:alert(1)",
        "http://evil.example/cb",
        "https://*.example.com/cb",
        "https://a.example/cb#x",
    ] {
        let out = behalf(&db, &["client", "add", "web", "--redirect-uri", uri], None);
        assert!(!out.status.success(), "{uri} accepted");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--redirect-uri"));
    }
}

#[test]
fn keys_rotate_adds_keys_that_keys_list_shows_as_next() {
    let db = TestDb::new();
    let listed = stdout(&behalf(&db, &["keys", "list"], None));
    let mut signing: Vec<(&str, &str)> = listed
        .lines()
        .filter(|l| l.contains(" signing "))
        .map(|l| {
            let columns: Vec<&str> = l.split_whitespace().collect();
            (columns[2], columns[1])
        })
        .collect();
    signing.sort_unstable();
    assert_eq!(
        signing,
        [
            ("access_token", "ES256"),
            ("id_token", "ES256"),
            ("id_token", "RS256"),
            ("security_event", "ES256"),
        ],
        "{listed}: one key signs for each purpose (access tokens, ID tokens of each \
         algorithm, security events)"
    );
    let rotated = stdout(&behalf(&db, &["keys", "rotate"], None));
    for state in [" next ", " signing "] {
        assert_eq!(
            rotated.lines().filter(|l| l.contains(state)).count(),
            4,
            "{state}: {rotated}"
        );
    }
}

#[test]
fn client_add_takes_an_id_token_algorithm_shows_it_and_refuses_any_other() {
    let db = TestDb::new();
    let add = |id: &str, alg: Option<&str>| {
        let mut args = vec![
            "client",
            "add",
            id,
            "--redirect-uri",
            "https://a.example/cb",
        ];
        args.extend(alg.map(|alg| ["--id-token-alg", alg]).into_iter().flatten());
        behalf(&db, &args, None)
    };
    for (id, alg, expected) in [
        ("fast", Some("ES256"), "ES256"),
        ("plain", None, "RS256"),
        ("explicit", Some("RS256"), "RS256"),
    ] {
        let added: Value = serde_json::from_str(&stdout(&add(id, alg))).unwrap();
        assert_eq!(added["id_token_signed_response_alg"], expected, "{id}");
        let shown: Value =
            serde_json::from_str(&stdout(&behalf(&db, &["client", "show", id], None))).unwrap();
        assert_eq!(shown["id_token_signed_response_alg"], expected, "{id}");
    }
    for refused in ["none", "HS256", "es256", "PS256"] {
        let out = add("odd", Some(refused));
        assert_eq!(out.status.code(), Some(1), "{refused} accepted");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains(&format!("--id-token-alg \"{refused}\""))
                && said.contains("RS256 or ES256"),
            "{said}"
        );
    }
    assert!(!stdout(&behalf(&db, &["client", "list"], None)).contains("\"odd\""));
}

#[test]
fn a_bad_setting_stops_the_start_with_a_message_naming_it() {
    let db = TestDb::new();
    for (var, value, named) in [
        ("BEHALF_LISTEN", "not-an-address", "listen"),
        ("BEHALF_ISSUER", "http://id.example.com", "issuer"),
        (
            "BEHALF_ACCESS_TOKEN_TTL_SECONDS",
            "soon",
            "ACCESS_TOKEN_TTL_SECONDS",
        ),
        ("BEHALF_KEY_ENCRYPTION_KEY", "short", "key_encryption_key"),
        ("BEHALF_DATABASE_URL", "mysql://x", "database_url"),
        (
            "BEHALF_TRUSTED_PROXIES",
            "10.0.0.1, proxy.internal",
            "trusted_proxies",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_behalf"))
            .arg("migrate")
            .env("BEHALF_DATABASE_URL", &db.url)
            .env("BEHALF_KEY_ENCRYPTION_KEY", TEST_KEK)
            .env(var, value)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{var}={value} accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(named), "{var}: {stderr}");
        assert!(
            !stderr.contains(TEST_KEK),
            "the key leaked into the message"
        );
    }
}

#[test]
fn postgres_without_a_key_encryption_key_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_behalf"))
        .arg("migrate")
        .env(
            "BEHALF_DATABASE_URL",
            "postgres://postgres@127.0.0.1:1/none",
        )
        .env_remove("BEHALF_KEY_ENCRYPTION_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("BEHALF_KEY_ENCRYPTION_KEY"));
}

/// Runs `behalf serve` with debug logs in JSON, gets a token, and checks that
/// neither the client secret nor the token reached the log.
#[test]
fn no_secret_or_token_reaches_the_log() {
    let db = TestDb::new();
    let out = stdout(&behalf(
        &db,
        &["client", "add", "svc", "--scope", "read"],
        None,
    ));
    let secret = serde_json::from_str::<Value>(&out).unwrap()["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_behalf"))
        .args(["serve", "--log-format", "json"])
        .env("BEHALF_DATABASE_URL", &db.url)
        .env("BEHALF_KEY_ENCRYPTION_KEY", TEST_KEK)
        .env("BEHALF_LISTEN", format!("127.0.0.1:{port}"))
        .env("BEHALF_LOG", "debug")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = server.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let token = runtime.block_on(async {
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if http.get(format!("{base}/readyz")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let _ = http
            .post(format!("{base}/token"))
            .basic_auth("svc", Some("wrong-secret-value"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        let body: Value = http
            .post(format!("{base}/token"))
            .basic_auth("svc", Some(&secret))
            .form(&[("grant_type", "client_credentials"), ("scope", "read")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["access_token"].as_str().unwrap().to_string()
    });
    unsafe { libc_kill(server.id()) };
    let _ = server.wait();
    let lines = reader.join().unwrap();
    assert!(
        lines.iter().any(|l| l.contains("/token")),
        "requests are logged: {lines:?}"
    );
    assert!(
        lines
            .iter()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "JSON logs"
    );
    let all = lines.join("\n");
    for needle in [
        secret.as_str(),
        token.as_str(),
        "wrong-secret-value",
        TEST_KEK,
    ] {
        assert!(!all.contains(needle), "a secret reached the log");
    }
}

/// SIGTERM, so the server shuts down gracefully and flushes its log.
unsafe fn libc_kill(pid: u32) {
    unsafe extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
    unsafe { kill(pid as i32, 15) };
}

#[test]
fn audit_verify_passes_an_intact_trail_and_names_the_first_tampered_event() {
    let db = TestDb::new();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = db.open_keyed().await;
        for i in 0..5 {
            store
                .write(move |c| {
                    behalf::audit::record(
                        c,
                        1000 + i,
                        "alice",
                        behalf::audit::Action::GrantCreated,
                        Some("g1"),
                        serde_json::json!({"n": i}),
                    )
                })
                .await
                .unwrap();
        }
    });
    let out = stdout(&behalf(&db, &["audit", "verify"], None));
    assert!(
        out.contains("intact: 5 events, chain keyed (HMAC-SHA256, era 1)"),
        "{out}"
    );
    runtime.block_on(async {
        let store =
            behalf::store::Database::connect(behalf::store::Backend::from_url(&db.url).unwrap())
                .await
                .unwrap();
        store
            .run(|c| {
                use diesel::RunQueryDsl;
                diesel::sql_query("UPDATE audit_events SET detail = '{\"n\":99}' WHERE seq = 3")
                    .execute(c)?;
                Ok(())
            })
            .await
            .unwrap();
    });
    let tampered = behalf(&db, &["audit", "verify"], None);
    let stderr = String::from_utf8_lossy(&tampered.stderr);
    assert!(!tampered.status.success(), "{stderr}");
    assert!(stderr.contains("broken at event 3"), "{stderr}");
}

#[test]
fn adding_and_removing_a_webhook_or_a_receiver_is_on_the_audit_trail_without_its_secret() {
    let db = TestDb::new();
    let added: Value = serde_json::from_slice(
        &behalf(
            &db,
            &[
                "webhook",
                "add",
                "https://hooks.example/in",
                "--event",
                "grant.ended",
            ],
            None,
        )
        .stdout,
    )
    .unwrap();
    let webhook = added["id"].as_str().unwrap();
    let secret = added["secret"].as_str().unwrap();
    let receiver: Value = serde_json::from_slice(
        &behalf(
            &db,
            &[
                "receiver",
                "add",
                "https://api.example/set",
                "--audience",
                "https://api.example",
            ],
            None,
        )
        .stdout,
    )
    .unwrap();
    let receiver = receiver["id"].as_str().unwrap();
    assert!(
        behalf(&db, &["webhook", "remove", webhook], None)
            .status
            .success()
    );
    assert!(
        behalf(&db, &["receiver", "remove", receiver], None)
            .status
            .success()
    );

    let trail = stdout(&behalf(&db, &["audit", "export"], None));
    let events: Vec<Value> = trail
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of = |action: &str| {
        events
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} in {trail}"))
            .clone()
    };
    assert_eq!(of("webhook.added")["subject"], webhook);
    assert_eq!(
        of("webhook.added")["detail"]["url"],
        "https://hooks.example/in"
    );
    assert_eq!(of("webhook.added")["detail"]["events"], "grant.ended");
    assert_eq!(of("webhook.removed")["subject"], webhook);
    assert_eq!(
        of("set_receiver.added")["detail"]["audience"],
        "https://api.example"
    );
    assert_eq!(of("set_receiver.removed")["subject"], receiver);
    assert_eq!(of("webhook.added")["actor"], "operator");
    let raw_secret = secret.trim_start_matches("whsec_");
    assert!(!trail.contains(raw_secret), "the secret reached the trail");
    assert!(stdout(&behalf(&db, &["audit", "verify"], None)).contains("audit trail intact"));
}
