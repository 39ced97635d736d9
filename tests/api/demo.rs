//! The demo's printed walkthrough, run as a user would paste it into a shell
//! (with alice's approval on the consent screen done by a scripted browser).

use crate::fixtures::Browser;
use crate::helpers::{TEST_KEK, TestDb};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn section<'a>(text: &'a str, from: &str, to: &str) -> &'a str {
    let start = text.find(from).unwrap_or_else(|| panic!("{from} missing"));
    let end = text[start..]
        .find(to)
        .map(|e| start + e)
        .unwrap_or(text.len());
    &text[start..end]
}

fn bash(script: &str) -> String {
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn the_demo_walkthrough_works_by_copy_and_paste() {
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
        .env("BEHALF_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let last = line.starts_with("Discovery:");
        printed.push_str(&line);
        printed.push('\n');
        if last {
            break;
        }
    }
    let vars = section(&printed, "export BEHALF=", "\n# 1.");
    let request = bash(&format!(
        "{vars}\n{}\necho $REQUEST_ID",
        section(&printed, "# 1.", "# 2.")
    ));
    let request_id = request.lines().last().unwrap().trim().to_string();
    assert!(!request_id.is_empty(), "{request}");

    // A step run too early says so and stops, instead of passing an empty value on.
    let early = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{vars}\nREQUEST_ID={request_id}\n{}",
            section(&printed, "# 3.", "# 4.")
        ))
        .output()
        .unwrap();
    assert!(!early.status.success());
    assert!(
        String::from_utf8_lossy(&early.stderr)
            .contains("no grant yet: has alice approved? (step 2)"),
        "{}",
        String::from_utf8_lossy(&early.stderr)
    );
    // A bad token fails loudly at step 1.
    let refused = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{vars}\nBOB_TOKEN=not-a-token\n{}",
            section(&printed, "# 1.", "# 2.")
        ))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("401") && said.contains("no request: see the error above"),
        "{said}"
    );

    // Step 2: alice approves on the consent screen.
    let base = format!("http://127.0.0.1:{port}");
    let browser = Browser::at(&base);
    let signed_in = browser
        .sign_in("/login?return_to=/account", "alice", "alice-demo-password")
        .await;
    assert_eq!(signed_in.status, reqwest::StatusCode::SEE_OTHER);
    let page = browser.get("/account").await;
    assert!(page.body.contains(&request_id));
    // The demo's scopes and agent read as a person would (issue 12 item 10).
    assert!(
        page.body
            .contains("See your orders, invoices and account details"),
        "{}",
        page.body
    );
    assert!(page.body.contains("bob, Support"), "{}", page.body);
    let approved = browser
        .post(
            &format!("/account/requests/{request_id}/approve"),
            &[("csrf_token".into(), page.input("csrf_token").unwrap())],
        )
        .await;
    assert_eq!(approved.status, reqwest::StatusCode::SEE_OTHER);

    let rest = section(&printed, "# 3.", "Discovery:");
    let out = bash(&format!("{vars}\nREQUEST_ID={request_id}\n{rest}"));
    let _ = server.kill();
    let _ = server.wait();
    assert!(out.contains("\"status\":\"approved\""), "{out}");
    let introspections: Vec<&str> = out.lines().filter(|l| l.contains("\"active\":")).collect();
    assert_eq!(introspections.len(), 2, "{out}");
    assert!(
        introspections[0].contains("\"active\":true") && introspections[0].contains("\"act\""),
        "{out}"
    );
    assert_eq!(introspections[1], "{\"active\":false}", "{out}");
    let checkpoint = out
        .lines()
        .find(|l| l.contains("\"checkpoint\""))
        .unwrap_or_else(|| panic!("step 7 printed no checkpoint: {out}"));
    let checkpoint: serde_json::Value = serde_json::from_str(checkpoint).unwrap();
    assert!(checkpoint["seq"].as_i64().unwrap() > 0, "{checkpoint}");
}
