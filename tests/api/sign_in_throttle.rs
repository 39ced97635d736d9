//! docs/security.md L1, L2, L6: the sign-in throttle under real concurrency, on
//! SQLite and PostgreSQL. Each attempt is counted before its password is
//! checked, so a burst in flight at once gets no more checks than the limit;
//! at most `[sign_in] checks_at_once` checks run at once; a browser that signed
//! in before (its device cookie) is counted apart from everyone else; and
//! showing the sign-in form writes nothing.

use crate::fixtures::{Browser, PASSWORD, add_user};
use crate::helpers::{TestApp, TestDb};
use behalf::clock::ManualClock;
use behalf::config::SignInLimits;
use diesel::prelude::*;
use reqwest::StatusCode;
use std::sync::Arc;

/// A fresh browser with the sign-in form loaded, ready to post these fields.
async fn form_filled_in(
    app: &TestApp,
    username: &str,
    password: &str,
) -> (Browser, Vec<(String, String)>) {
    let browser = Browser::new(app);
    let form = browser.get("/login").await;
    let fields = vec![
        ("username".to_string(), username.to_string()),
        ("password".to_string(), password.to_string()),
        ("csrf_token".to_string(), form.input("csrf_token").unwrap()),
        ("return_to".to_string(), "/account".to_string()),
    ];
    (browser, fields)
}

/// Posts every form at the same moment; the answers, in the forms' order.
async fn post_all_at_once(
    forms: Vec<(Browser, Vec<(String, String)>)>,
) -> Vec<crate::fixtures::Page> {
    let start = Arc::new(tokio::sync::Barrier::new(forms.len()));
    let tasks: Vec<_> = forms
        .into_iter()
        .map(|(browser, fields)| {
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                browser.post("/login", &fields).await
            })
        })
        .collect();
    let mut pages = Vec::new();
    for task in tasks {
        pages.push(task.await.unwrap());
    }
    pages
}

fn count(pages: &[crate::fixtures::Page], status: StatusCode) -> usize {
    pages.iter().filter(|p| p.status == status).count()
}

async fn attempts_counted_on(app: &TestApp, key: &str) -> i64 {
    let key = key.to_string();
    app.state
        .db
        .run(move |c| behalf::store::login_failures::count_since(c, &key, 0))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_passwords_sent_at_once_for_one_account_are_checked_no_more_than_the_limit() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    let limit = SignInLimits::default().max_failures as usize;
    let mut forms = Vec::new();
    for _ in 0..40 {
        forms.push(form_filled_in(&app, "alice", "wrong password").await);
    }
    let pages = post_all_at_once(forms).await;
    assert_eq!(count(&pages, StatusCode::UNAUTHORIZED), limit, "checked");
    assert_eq!(
        count(&pages, StatusCode::TOO_MANY_REQUESTS),
        40 - limit,
        "throttled"
    );
    assert_eq!(
        attempts_counted_on(&app, "account:alice").await,
        limit as i64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_right_password_inside_a_burst_past_the_limit_is_checked_only_within_the_limit() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    let limit = SignInLimits::default().max_failures as usize;
    let mut forms = Vec::new();
    for i in 0..31 {
        let password = if i == 15 { PASSWORD } else { "wrong password" };
        forms.push(form_filled_in(&app, "alice", password).await);
    }
    let pages = post_all_at_once(forms).await;
    let (failed, signed_in) = (
        count(&pages, StatusCode::UNAUTHORIZED),
        count(&pages, StatusCode::SEE_OTHER),
    );
    // A success takes back its own count (DESIGN "Limits": a failure until it
    // succeeds), so when alice's attempt won a slot one more wrong one may be
    // checked after it; wrong passwords checked never pass the limit.
    assert!(failed <= limit, "{failed} wrong passwords were checked");
    if signed_in == 0 {
        assert_eq!(failed, limit, "no more than the limit were checked");
        assert_eq!(pages[15].status, StatusCode::TOO_MANY_REQUESTS);
    } else {
        assert!(failed >= limit - 1, "the burst was checked up to the limit");
    }
    // Only the failures stay counted: at the limit, the right password from a
    // browser alice never used waits too; one short of it, it is checked.
    assert_eq!(
        attempts_counted_on(&app, "account:alice").await,
        failed as i64
    );
    let (browser, fields) = form_filled_in(&app, "alice", PASSWORD).await;
    let expected = if failed == limit {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::SEE_OTHER
    };
    assert_eq!(browser.post("/login", &fields).await.status, expected);
}

/// L2: five wrong passwords anyone can send for "alice" do not keep her own
/// browser from signing in to end an agent's access; her browser's own
/// failures count on it alone, and a device cookie for another account counts
/// for nothing.
#[tokio::test]
async fn an_attackers_failures_do_not_lock_out_a_browser_that_signed_in_before() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    add_user(&app, "mallory", false).await;
    let limits = SignInLimits::default();
    let alice = Browser::new(&app);
    assert_eq!(
        alice.sign_in("/login", "alice", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let account = alice.get("/account").await;
    let csrf = account.input("csrf_token").unwrap();
    alice.post("/logout", &[("csrf_token".into(), csrf)]).await;

    // mallory signs in as herself (her browser now has a device cookie for
    // mallory) and then guesses alice's password until the account is throttled.
    let mallory = Browser::new(&app);
    assert_eq!(
        mallory.sign_in("/login", "mallory", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    for _ in 0..limits.max_failures {
        let page = mallory.sign_in("/login", "alice", "guess").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        mallory.sign_in("/login", "alice", "guess").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        Browser::new(&app)
            .sign_in("/login", "alice", PASSWORD)
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS,
        "a browser alice never used is throttled with the account"
    );
    assert_eq!(
        alice.sign_in("/login", "alice", PASSWORD).await.status,
        StatusCode::SEE_OTHER,
        "alice's own browser signs in"
    );

    // Her browser's own failures are counted on it, and stop it at the limit.
    let account = alice.get("/account").await;
    let csrf = account.input("csrf_token").unwrap();
    alice.post("/logout", &[("csrf_token".into(), csrf)]).await;
    for _ in 0..limits.max_failures {
        let page = alice.sign_in("/login", "alice", "typo").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        alice.sign_in("/login", "alice", PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// L1: the password checks running at once are bounded; past the bound an
/// attempt that could not be checked in time answers 503 with `Retry-After`
/// and is not counted as a failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_checks_past_the_bound_are_refused_with_retry_after_and_not_counted() {
    let db = Arc::new(TestDb::new());
    let mut settings = db.settings();
    settings.sign_in.checks_at_once = 1;
    settings.sign_in.check_wait_ms = 0;
    let app = TestApp::spawn_with(db, settings, ManualClock::starting_now()).await;
    let mut forms = Vec::new();
    for i in 0..12 {
        forms.push(form_filled_in(&app, &format!("nobody{i}"), "wrong password").await);
    }
    let pages = post_all_at_once(forms).await;
    let busy: Vec<_> = pages
        .iter()
        .filter(|p| p.status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(!busy.is_empty(), "12 checks at once with room for 1");
    for page in &busy {
        assert_eq!(page.headers["retry-after"], "1");
        assert!(page.body.contains("try again"), "{}", page.body);
    }
    let checked = count(&pages, StatusCode::UNAUTHORIZED);
    assert_eq!(checked + busy.len(), 12, "each was checked or refused");
    assert_eq!(
        attempts_counted_on(&app, "address:127.0.0.1").await,
        checked as i64,
        "a refused attempt is not counted"
    );
}

/// L6: a browser that only reads the sign-in form writes nothing, however often.
#[tokio::test]
async fn reading_the_sign_in_form_without_a_session_writes_nothing() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    let rows = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            db.run(|c| {
                use behalf::store::schema::{audit_events, login_failures, sessions};
                let sessions: i64 = sessions::table.count().get_result(c)?;
                let failures: i64 = login_failures::table.count().get_result(c)?;
                let events: i64 = audit_events::table.count().get_result(c)?;
                Ok((sessions, failures, events))
            })
            .await
            .unwrap()
        }
    };
    let before = rows(&app).await;
    for _ in 0..50 {
        let page = app.http.get(app.url("/login")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
    }
    assert_eq!(rows(&app).await, before);
    // The form those browsers got still signs in.
    assert_eq!(
        Browser::new(&app)
            .sign_in("/login", "alice", PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}
