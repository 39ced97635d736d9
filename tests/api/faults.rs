//! Faults (docs/security.md K1): the server is killed with SIGKILL while revocations
//! are in flight; after a restart every revocation that was answered 200 is
//! still in force, and SQLite's integrity check passes.

use crate::helpers::TEST_KEK;
use reqwest::StatusCode;
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A SQLite file of its own, whichever backend the rest of the run uses: this is
/// about the durability of behalf's own group commit.
struct SqliteFile {
    url: String,
    _dir: tempfile::TempDir,
}

fn start(db: &SqliteFile, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_behalf"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--issuer",
            &format!("http://127.0.0.1:{port}"),
        ])
        .env("BEHALF_DATABASE_URL", &db.url)
        .env("BEHALF_KEY_ENCRYPTION_KEY", TEST_KEK)
        .env("BEHALF_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts")
}

async fn wait_ready(http: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

#[tokio::test]
async fn revocations_answered_200_survive_a_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteFile {
        url: format!("sqlite://{}", dir.path().join("behalf.db").display()),
        _dir: dir,
    };
    let out = Command::new(env!("CARGO_BIN_EXE_behalf"))
        .args(["client", "add", "svc", "--scope", "read"])
        .env("BEHALF_DATABASE_URL", &db.url)
        .env("BEHALF_KEY_ENCRYPTION_KEY", TEST_KEK)
        .output()
        .unwrap();
    let secret = serde_json::from_slice::<Value>(&out.stdout).unwrap()["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut server = start(&db, port);
    wait_ready(&http, &base).await;

    let mut tokens = Vec::new();
    for _ in 0..400 {
        let body: Value = http
            .post(format!("{base}/token"))
            .basic_auth("svc", Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.push(body["access_token"].as_str().unwrap().to_string());
    }
    let tokens = Arc::new(tokens);
    let confirmed = Arc::new(std::sync::Mutex::new(Vec::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..8 {
        let (http, base, secret) = (http.clone(), base.clone(), secret.clone());
        let (tokens, confirmed, next) = (tokens.clone(), confirmed.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= tokens.len() {
                    return;
                }
                let answer = http
                    .post(format!("{base}/revoke"))
                    .basic_auth("svc", Some(&secret))
                    .form(&[("token", tokens[i].as_str())])
                    .send()
                    .await;
                match answer {
                    Ok(r) if r.status() == StatusCode::OK => confirmed.lock().unwrap().push(i),
                    _ => return,
                }
            }
        }));
    }
    // Kill it mid-flight, once some revocations have been confirmed.
    while confirmed.lock().unwrap().len() < 100 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    for w in workers {
        let _ = w.await;
    }
    let confirmed = confirmed.lock().unwrap().clone();
    assert!(
        confirmed.len() >= 100 && confirmed.len() < tokens.len(),
        "killed mid-run: {}",
        confirmed.len()
    );

    let mut server = start(&db, port);
    wait_ready(&http, &base).await;
    for i in &confirmed {
        let answer: Value = http
            .post(format!("{base}/introspect"))
            .basic_auth("svc", Some(&secret))
            .form(&[("token", tokens[*i].as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            answer,
            serde_json::json!({"active": false}),
            "revocation {i} was answered 200 but lost"
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let store =
        behalf::store::Database::connect(behalf::store::Backend::from_url(&db.url).unwrap())
            .await
            .unwrap();
    let check = store
        .run(|c| {
            use diesel::RunQueryDsl;
            #[derive(diesel::QueryableByName)]
            struct Row {
                #[diesel(sql_type = diesel::sql_types::Text)]
                integrity_check: String,
            }
            Ok(diesel::sql_query("PRAGMA integrity_check")
                .load::<Row>(c)?
                .into_iter()
                .map(|r| r.integrity_check)
                .collect::<Vec<_>>())
        })
        .await
        .unwrap();
    assert_eq!(check, vec!["ok".to_string()]);
}
