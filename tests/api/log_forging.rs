//! Log forging (docs/security.md L7, the log part): a CR/LF in a `client_id`,
//! sent in Basic credentials or in the form, does not start a log line of its
//! own, nor reach the log at all (it is refused first). The real binary in its
//! default text format, its log read back.

use crate::helpers::{TEST_KEK, TestDb};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const FORGED: &str = "INFO signed in sub=ADMIN-FORGED";

#[test]
fn a_line_break_in_a_client_id_does_not_forge_a_log_line() {
    let db = TestDb::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_behalf"))
        .args(["serve", "--log-format", "text"])
        .env("BEHALF_DATABASE_URL", &db.url)
        .env("BEHALF_KEY_ENCRYPTION_KEY", TEST_KEK)
        .env("BEHALF_LISTEN", format!("127.0.0.1:{port}"))
        .env("BEHALF_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = server.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr)
            .split(b'\n')
            .map_while(Result::ok)
            .map(|line| String::from_utf8_lossy(&line).into_owned())
            .collect::<Vec<_>>()
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if http.get(format!("{base}/healthz")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let evil = format!("evil\r\n{FORGED}");
        // Basic credentials are form-encoded (RFC 6749 §2.3.1): %0D%0A is CR LF.
        let basic = format!("evil%0D%0A{}", FORGED.replace(' ', "+"));
        let by_basic = http
            .post(format!("{base}/token"))
            .basic_auth(basic, Some("secret"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(by_basic.status(), reqwest::StatusCode::UNAUTHORIZED);
        let by_form = http
            .post(format!("{base}/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &evil),
                ("client_secret", "secret"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(by_form.status(), reqwest::StatusCode::BAD_REQUEST);
        for (path, field) in [("/introspect", "token"), ("/revoke", "token")] {
            http.post(format!("{base}{path}"))
                .form(&[(field, "x"), ("client_id", &evil), ("client_secret", "s")])
                .send()
                .await
                .unwrap();
        }
    });
    server.kill().unwrap();
    server.wait().unwrap();
    let lines = reader.join().unwrap();
    // A CR alone also starts a line on a terminal.
    let starts: Vec<&str> = lines.iter().flat_map(|l| l.split('\r')).collect();
    let forged: Vec<&&str> = starts
        .iter()
        .filter(|l| l.trim_start().starts_with(FORGED))
        .collect();
    assert!(
        forged.is_empty(),
        "forged log lines: {forged:#?}\nlog: {lines:#?}"
    );
    // The values themselves are refused before anything logs them (L7, the input
    // part: `hostile_input`); the text formatter's escaping of whatever else
    // reaches a log is proved by unit `escaped_fields::a_line_break_in_a_value_cannot_start_a_forged_line`.
    assert!(
        !lines.iter().any(|l| l.contains("ADMIN-FORGED")),
        "the refused values reach no log: {lines:#?}"
    );
}
