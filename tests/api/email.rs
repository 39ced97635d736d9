//! Mail (docs/contract.md "Email"): a real SMTP conversation with a sink the
//! test starts (`fixtures::smtp`). alice, who has an address, is mailed when
//! bob asks, when she allows it, when bob first uses it, when it is about to
//! end and when it ends; bob is told her answer. Someone without an address
//! gets nothing. A mail server that is down delays no request: the delivery
//! fails in words and the mail arrives once the server is up. Each mail is
//! plain words with a link to the reader's own page and nothing after it.

use crate::fixtures::{
    Desk, Granted, SmtpSink, approve_on_the_screen, deny_on_the_screen, desk_on, file_request,
    set_email, set_team, signed_in_to_account, smtp,
};
use crate::helpers::{TEST_KEK, TestApp};
use behalf::config::SmtpUrl;
use std::process::Command;
use std::time::{Duration, Instant};

const WITHIN: Duration = Duration::from_secs(10);
const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";

/// The desk on an app that sends mail to `smtp_url`; alice and bob have addresses
/// (`with_alice_address` false: alice has none), bob is in the Support team.
async fn mail_desk(smtp_url: &str, with_alice_address: bool) -> Desk {
    let url = smtp_url.to_string();
    let app = TestApp::spawn_configured(move |s| s.email.smtp_url = Some(SmtpUrl::new(&url))).await;
    let d = desk_on(app).await;
    if with_alice_address {
        set_email(&d.app, "alice", ALICE).await;
    }
    set_email(&d.app, "bob", BOB).await;
    set_team(&d.app, "bob", "Support").await;
    d
}

/// The mails to `to`, in the order they came.
fn to(mails: &[smtp::Mail], address: &str) -> Vec<smtp::Mail> {
    mails
        .iter()
        .filter(|m| m.to == [address.to_string()])
        .cloned()
        .collect()
}

/// What every mail must be: both parts, the headers, the link to `page`
/// with nothing after the path, and nothing that looks like a JWT.
fn assert_well_formed(mail: &smtp::Mail, base: &str, page: &str) {
    for header in ["From", "To", "Subject", "Date", "Message-ID"] {
        assert!(mail.header(header).is_some(), "no {header}: {}", mail.raw);
    }
    assert!(
        mail.header("Content-Type")
            .unwrap()
            .starts_with("multipart/alternative"),
        "{}",
        mail.raw
    );
    let (text, html) = (mail.part("text/plain"), mail.part("text/html"));
    let link = format!("{base}{page}");
    assert!(text.contains(&format!("\n{link}\n")), "{text}");
    assert!(html.contains(&format!("<a href=\"{link}\">")), "{html}");
    assert!(!mail.raw.contains(&format!("{link}?")), "{}", mail.raw);
    assert!(!mail.raw.contains("eyJ"), "{}", mail.raw);
}

#[tokio::test]
async fn alice_is_mailed_at_each_step_of_bobs_access_and_bob_when_she_allows_it() {
    let sink = SmtpSink::start().await;
    let d = mail_desk(&sink.url(), true).await;
    let base = d.app.base.clone();

    let request = file_request(&d, "read", 3600).await;
    let asked = sink.wait_for(1, WITHIN).await;
    assert_eq!(asked[0].to, [ALICE]);
    assert_eq!(asked[0].from, "behalf@localhost");
    assert_eq!(
        asked[0].subject(),
        "bob from Support asks to access your account"
    );
    let text = asked[0].part("text/plain");
    for words in [
        "Hello alice,",
        "bob from Support asks to act in your account for 1 hour.",
        "Nothing happens unless you allow it.",
        "Reason: Customer reported a billing bug",
        "Ticket: SUP-42",
        "For how long: 1 hour",
        "Answer by: ",
        " UTC\n",
        "To allow or decline it, sign in to your account:",
    ] {
        assert!(text.contains(words), "{words:?} in {text}");
    }
    assert_well_formed(&asked[0], &base, "/account");

    approve_on_the_screen(&d.app, "alice", request["id"].as_str().unwrap()).await;
    let answered = sink.wait_for(3, WITHIN).await;
    let allowed = &to(&answered, ALICE)[1];
    assert!(
        allowed
            .subject()
            .starts_with("You allowed bob to access your account until "),
        "{}",
        allowed.subject()
    );
    assert!(allowed.subject().ends_with(" UTC"), "{}", allowed.subject());
    assert_well_formed(allowed, &base, "/account");
    let told = &to(&answered, BOB)[0];
    assert_eq!(told.subject(), "alice allowed your request");
    assert!(
        told.part("text/plain")
            .contains("alice allowed your request to act in their account until "),
        "{}",
        told.part("text/plain")
    );
    assert_well_formed(told, &base, "/console");

    let g: Granted = granted_from(d, &request).await;
    g.delegated_token().await;
    let used = sink.wait_for(4, WITHIN).await;
    assert_eq!(used[3].to, [ALICE]);
    assert_eq!(used[3].subject(), "bob started using the access you gave");
    assert_well_formed(&used[3], &base, "/account");

    // 15 minutes before the end of the hour.
    g.d.app.clock.advance(3600 - 15 * 60);
    let soon = sink.wait_for(5, WITHIN).await;
    assert_eq!(
        soon[4].subject(),
        "bob's access to your account ends in 15 minutes"
    );
    assert!(
        soon[4]
            .part("text/plain")
            .contains("You don't need to do anything: it ends by itself."),
        "{}",
        soon[4].part("text/plain")
    );

    g.d.app.clock.advance(15 * 60 + 1);
    let ended = sink.wait_for(6, WITHIN).await;
    assert_eq!(ended[5].to, [ALICE]);
    assert_eq!(ended[5].subject(), "bob's access to your account has ended");
    let text = ended[5].part("text/plain");
    assert!(text.contains("Its time ran out at "), "{text}");
    assert!(
        text.contains("bob can no longer act in your account."),
        "{text}"
    );
    assert_well_formed(&ended[5], &base, "/account");
    assert_eq!(to(&ended, BOB).len(), 1, "bob hears only of the answer");
}

/// The grant alice's approval of `request` made, as `Granted` for the exchange.
async fn granted_from(d: Desk, request: &serde_json::Value) -> Granted {
    let read =
        crate::fixtures::read_request_as(&d.app, &d.bob, request["id"].as_str().unwrap()).await;
    let grant_id = read["grant_id"].as_str().unwrap().to_string();
    let rs_secret = d.app.add_client("rs", &[], &[]).await;
    Granted {
        d,
        grant_id,
        rs_secret,
    }
}

#[tokio::test]
async fn bob_is_told_when_alice_declines_his_request() {
    let sink = SmtpSink::start().await;
    let d = mail_desk(&sink.url(), true).await;
    let request = file_request(&d, "read", 3600).await;
    sink.wait_for(1, WITHIN).await;
    deny_on_the_screen(&d.app, "alice", request["id"].as_str().unwrap()).await;
    let mails = sink.wait_for(2, WITHIN).await;
    assert_eq!(mails[1].to, [BOB]);
    assert_eq!(mails[1].subject(), "alice declined your request");
    let text = mails[1].part("text/plain");
    assert!(
        text.contains("alice declined your request to act in their account."),
        "{text}"
    );
    assert!(text.contains("Ticket: SUP-42"), "{text}");
    assert_well_formed(&mails[1], &d.app.base, "/console");
}

#[tokio::test]
async fn a_user_without_an_address_gets_no_mail_and_her_page_says_so() {
    let sink = SmtpSink::start().await;
    let d = mail_desk(&sink.url(), false).await;
    let request = file_request(&d, "read", 3600).await;
    let alice = approve_on_the_screen(&d.app, "alice", request["id"].as_str().unwrap()).await;
    let mails = sink.wait_for(1, WITHIN).await;
    assert_eq!(mails[0].to, [BOB]);
    assert_eq!(mails[0].subject(), "alice allowed your request");
    // Give the deliverer a few more passes: still nothing for alice.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(sink.mails().len(), 1, "{:?}", sink.mails());
    assert_eq!(sink.connections(), 1, "one connection, for bob's mail");
    let page = alice.get("/account").await;
    assert!(
        page.body
            .contains("We can&#39;t email you: your account has no email address."),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn the_account_page_names_the_address_it_mails() {
    let sink = SmtpSink::start().await;
    let d = mail_desk(&sink.url(), true).await;
    let page = signed_in_to_account(&d.app, "alice")
        .await
        .get("/account")
        .await;
    assert!(
        page.body.contains(
            "We email you at alice@example.com when someone asks for access and when \
             access starts, is first used, is about to end and ends."
        ),
        "{}",
        page.body
    );
}

/// `behalf events list --failed` against the test's database: one JSON object a line.
fn failed_deliveries(app: &TestApp) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_behalf"))
        .args(["events", "list", "--failed"])
        .env("BEHALF_DATABASE_URL", &app.db.url)
        .env("BEHALF_KEY_ENCRYPTION_KEY", TEST_KEK)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn a_mail_server_that_is_down_delays_no_request_and_the_mail_arrives_once_it_is_up() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = mail_desk(&format!("smtp://127.0.0.1:{port}"), true).await;
    let started = Instant::now();
    file_request(&d, "read", 3600).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the request waited {:?}",
        started.elapsed()
    );
    let deadline = Instant::now() + WITHIN;
    let failed = loop {
        let failed = failed_deliveries(&d.app);
        if let Some(row) = failed.into_iter().find(|r| r["kind"] == "email") {
            break row;
        }
        assert!(Instant::now() < deadline, "no failed mail delivery");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(failed["destination"], ALICE);
    let error = failed["last_error"].as_str().unwrap();
    assert!(
        error.starts_with("could not reach the mail server"),
        "{error}"
    );

    let sink = SmtpSink::start_on(port).await;
    d.app.clock.advance(3600);
    let mails = sink.wait_for(1, WITHIN).await;
    assert_eq!(
        mails[0].subject(),
        "bob from Support asks to access your account"
    );
    // Its delivery is recorded just after the server took it.
    let deadline = Instant::now() + WITHIN;
    while !failed_deliveries(&d.app).is_empty() {
        assert!(Instant::now() < deadline, "the delivery stays failed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
