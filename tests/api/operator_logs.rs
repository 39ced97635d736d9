//! The server's log at the default level (issue 12 item 9, docs/contract.md
//! "Operations"): one line per request (method, route template, status, duration,
//! request id) and one per grant decision, use and ending naming the grant, the
//! agent and the user; never a token or a query string. The demo's walkthrough,
//! run against the real binary, its stderr read back (the default text format
//! quotes string values: `grant="..."`).

use crate::fixtures::Browser;
use crate::helpers::{TEST_KEK, TestDb};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn section<'a>(text: &'a str, from: &str, to: &str) -> &'a str {
    let start = text.find(from).unwrap();
    let end = text[start..].find(to).map_or(text.len(), |e| start + e);
    &text[start..end]
}

fn bash(script: &str) -> String {
    let out = Command::new("bash").arg("-c").arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn sub_of(db: &TestDb, name: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_behalf"))
        .args(["user", "show", name])
        .env("BEHALF_DATABASE_URL", &db.url)
        .env("BEHALF_KEY_ENCRYPTION_KEY", TEST_KEK)
        .output()
        .unwrap();
    let user: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    user["sub"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn requests_and_grant_decisions_uses_and_endings_are_logged_at_the_default_level() {
    let db = TestDb::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_behalf"))
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .env("BEHALF_DATABASE_URL", &db.url)
        .env("BEHALF_KEY_ENCRYPTION_KEY", TEST_KEK)
        .env_remove("BEHALF_LOG")
        .env_remove("BEHALF_LOG_FORMAT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = server.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    let mut printed = String::new();
    let mut stdout = BufReader::new(server.stdout.take().unwrap()).lines();
    for line in stdout.by_ref() {
        let line = line.unwrap();
        let last = line.starts_with("Discovery:");
        printed.push_str(&line);
        printed.push('\n');
        if last {
            break;
        }
    }
    let vars = section(&printed, "export BEHALF=", "\n# 1.");
    let bob_token = vars
        .lines()
        .find_map(|l| l.strip_prefix("export BOB_TOKEN="))
        .unwrap()
        .to_string();
    let request = bash(&format!("{vars}\n{}", section(&printed, "# 1.", "# 2.")));
    let request_id = request
        .lines()
        .last()
        .unwrap()
        .trim_start_matches("request ")
        .to_string();

    let browser = Browser::at(&format!("http://127.0.0.1:{port}"));
    browser
        .sign_in("/login?return_to=/account", "alice", "alice-demo-password")
        .await;
    let page = browser.get("/account").await;
    let approved = browser
        .post(
            &format!("/account/requests/{request_id}/approve"),
            &[("csrf_token".into(), page.input("csrf_token").unwrap())],
        )
        .await;
    assert_eq!(approved.status, reqwest::StatusCode::SEE_OTHER);
    let rest = bash(&format!(
        "{vars}\nREQUEST_ID={request_id}\n{}",
        section(&printed, "# 3.", "Discovery:")
    ));
    let grant_id = rest
        .lines()
        .find_map(|l| l.strip_prefix("grant "))
        .unwrap()
        .to_string();
    let delegated = rest
        .lines()
        .find_map(|l| l.strip_prefix("delegated token "))
        .unwrap()
        .trim_end_matches("...")
        .to_string();
    // A second request, denied.
    let second = bash(&format!("{vars}\n{}", section(&printed, "# 1.", "# 2.")));
    let denied_id = second
        .lines()
        .last()
        .unwrap()
        .trim_start_matches("request ")
        .to_string();
    let page = browser.get("/account").await;
    let denied = browser
        .post(
            &format!("/account/requests/{denied_id}/deny"),
            &[("csrf_token".into(), page.input("csrf_token").unwrap())],
        )
        .await;
    assert_eq!(denied.status, reqwest::StatusCode::SEE_OTHER);
    // A query string that must not reach the log.
    reqwest::get(format!("http://127.0.0.1:{port}/jwks.json?secret=hunter2"))
        .await
        .unwrap();
    unsafe { sigterm(server.id()) };
    let _ = server.wait();
    drop(stdout);
    let lines = log.join().unwrap();
    let (alice, bob) = (sub_of(&db, "alice"), sub_of(&db, "bob"));

    let request_line = lines
        .iter()
        .find(|l| l.contains(" request ") && l.contains("route=\"/account/requests/{id}/approve\""))
        .unwrap_or_else(|| panic!("no request line: {lines:#?}"));
    for field in ["method=POST", "status=303", "ms=", "request_id="] {
        assert!(request_line.contains(field), "{field}: {request_line}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("route=\"/api/grants/{id}\"") && l.contains("method=DELETE")),
        "{lines:#?}"
    );
    let grant_line = |what: &str| {
        lines
            .iter()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("no {what:?} line: {lines:#?}"))
            .clone()
    };
    for (what, extra) in [
        ("grant approved", format!("request={request_id:?}")),
        ("grant used", "client=\"demo-console\"".to_string()),
        ("grant ended", "by=\"agent\"".to_string()),
    ] {
        let line = grant_line(what);
        for field in [
            format!("grant={grant_id:?}"),
            format!("agent={bob:?}"),
            format!("user={alice:?}"),
            extra,
        ] {
            assert!(line.contains(&field), "{field} missing: {line}");
        }
    }
    let denial = grant_line("access request denied");
    for field in [
        format!("request={denied_id:?}"),
        format!("agent={bob:?}"),
        format!("user={alice:?}"),
    ] {
        assert!(denial.contains(&field), "{field} missing: {denial}");
    }
    let all = lines.join("\n");
    assert!(!all.contains("hunter2"), "a query string reached the log");
    assert!(
        !all.contains(&bob_token) && !all.contains(&delegated),
        "a token reached the log"
    );
}

unsafe fn sigterm(pid: u32) {
    unsafe extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
    unsafe { kill(pid as i32, 15) };
}
