//! Sign-in, sessions and pages (docs/security.md J1–J5): CSRF, security headers,
//! cookie attributes, session id rotation, server-side logout, throttling,
//! indistinguishable failures, and `return_to`.

use crate::fixtures::{Browser, PASSWORD, add_user};
use crate::helpers::TestApp;
use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;
use std::time::Instant;

fn set_cookie(page: &crate::fixtures::Page, name: &str) -> Option<String> {
    page.headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{name}=")))
}

fn session_cookie(page: &crate::fixtures::Page) -> String {
    set_cookie(page, "behalf_session").expect("a session cookie")
}

fn limits() -> behalf::config::SignInLimits {
    behalf::config::SignInLimits::default()
}

#[tokio::test]
async fn every_html_page_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    let browser = Browser::new(&app);
    let login = browser.get("/login").await;
    let error = browser.get("/authorize?client_id=nobody").await;
    let signed_in = browser.sign_in("/login", "alice", PASSWORD).await;
    let account = browser.get("/account").await;
    for page in [&login, &error, &signed_in, &account] {
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(page.headers["x-frame-options"], "DENY");
        assert!(
            page.headers["cache-control"]
                .to_str()
                .unwrap()
                .contains("no-store")
        );
        assert_eq!(page.headers["referrer-policy"], "no-referrer");
    }
    // The one script is same-origin (`/static/behalf.js`): never an inline one.
    for page in [&login, &account] {
        let scripts: Vec<&str> = page.body.split("<script").skip(1).collect();
        assert!(!scripts.is_empty(), "the page loads behalf.js");
        for script in scripts {
            assert!(
                script.starts_with(" src=\"/static/behalf.js\" defer></script>"),
                "{script}"
            );
        }
    }
}

/// The form's CSRF cookie and the session's are HttpOnly and SameSite; the
/// session starts only at sign-in (no fixation, and showing the form writes
/// nothing, L6).
#[tokio::test]
async fn the_sign_in_cookies_are_httponly_samesite_and_the_session_starts_at_sign_in() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    let browser = Browser::new(&app);
    let form = browser.get("/login").await;
    assert_eq!(set_cookie(&form, "behalf_session"), None, "no session yet");
    let before = set_cookie(&form, "behalf_login").expect("the form's CSRF cookie");
    assert!(
        before.contains("HttpOnly") && before.contains("SameSite=Lax"),
        "{before}"
    );
    assert!(
        !before.contains("Secure"),
        "no Secure flag under an http issuer"
    );
    let fields = vec![
        ("username".to_string(), "alice".to_string()),
        ("password".to_string(), PASSWORD.to_string()),
        ("csrf_token".to_string(), form.input("csrf_token").unwrap()),
        ("return_to".to_string(), "/account".to_string()),
    ];
    let signed_in = browser.post("/login", &fields).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_in.location(), "/account");
    for name in ["behalf_session", "behalf_device"] {
        let cookie = set_cookie(&signed_in, name).expect(name);
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
    }
    assert_eq!(browser.get("/account").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_sign_in_cookies_are_secure_under_an_https_issuer() {
    let db = std::sync::Arc::new(crate::helpers::TestDb::new());
    let mut settings = db.settings();
    settings.issuer = Some("https://id.example.test".into());
    let app = TestApp::spawn_with(db, settings, behalf::clock::ManualClock::starting_now()).await;
    add_user(&app, "alice", false).await;
    let browser = Browser::new(&app);
    let page = browser.get("/login").await;
    assert!(
        set_cookie(&page, "behalf_login")
            .unwrap()
            .contains("Secure")
    );
    // reqwest keeps no Secure cookie over http: post the form's cookie by hand.
    let cookie = set_cookie(&page, "behalf_login").unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let signed_in = app
        .http
        .post(app.url("/login"))
        .header("cookie", cookie)
        .form(&[
            ("username", "alice"),
            ("password", PASSWORD),
            ("csrf_token", &page.input("csrf_token").unwrap()),
            ("return_to", "/account"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let cookies: Vec<&str> = signed_in
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    for name in ["behalf_session=", "behalf_device="] {
        let cookie = cookies.iter().find(|c| c.starts_with(name)).expect(name);
        assert!(cookie.contains("Secure"), "{cookie}");
    }
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    let browser = Browser::new(&app);
    let signed_in = browser.sign_in("/login", "alice", PASSWORD).await;
    let stolen = session_cookie(&signed_in)
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let account = browser.get("/account").await;
    assert_eq!(account.status, StatusCode::OK);
    let csrf = account.input("csrf_token").unwrap();
    let out = browser
        .post("/logout", &[("csrf_token".into(), csrf)])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    // Even replaying the old cookie value, the session is gone.
    let replay = app
        .http
        .get(app.url("/account"))
        .header("cookie", stolen)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
    assert!(
        replay.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
}

#[tokio::test]
async fn posts_without_the_sessions_csrf_token_are_403() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    let alice = Browser::new(&app);
    alice.sign_in("/login", "alice", PASSWORD).await;
    let mallory = Browser::new(&app);
    let mallory_form = mallory.get("/login").await;
    let foreign = mallory_form.input("csrf_token").unwrap();
    for token in [None, Some(foreign.clone()), Some("forged".to_string())] {
        let form: Vec<(String, String)> = token
            .iter()
            .map(|t| ("csrf_token".to_string(), t.clone()))
            .collect();
        assert_eq!(
            alice.post("/logout", &form).await.status,
            StatusCode::FORBIDDEN
        );
        let mut consent = form.clone();
        consent.push(("decision".into(), "approve".into()));
        assert_eq!(
            alice.post("/authorize/consent", &consent).await.status,
            StatusCode::FORBIDDEN
        );
    }
    // A sign-in form posted with another session's token is refused too (login CSRF).
    let fields = vec![
        ("username".to_string(), "alice".to_string()),
        ("password".to_string(), PASSWORD.to_string()),
        ("csrf_token".to_string(), foreign),
        ("return_to".to_string(), "/account".to_string()),
    ];
    let fresh = Browser::new(&app);
    fresh.get("/login").await;
    assert_eq!(
        fresh.post("/login", &fields).await.status,
        StatusCode::FORBIDDEN
    );
    // And alice is still signed in: nothing changed.
    assert_eq!(alice.get("/account").await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_user_and_a_wrong_password_look_the_same() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    let browser = Browser::new(&app);
    let time = |name: &'static str, password: &'static str| {
        let browser = &browser;
        async move {
            let started = Instant::now();
            let page = browser.sign_in("/login", name, password).await;
            (page, started.elapsed())
        }
    };
    // Warm up the dummy hash so that neither measurement pays for creating it.
    time("nobody", "x").await;
    let (wrong, wrong_time) = time("alice", "not the password").await;
    let (unknown, unknown_time) = time("nobody", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, wrong.status);
    let strip = |body: &str, name: &str| {
        body.replace(name, "NAME")
            .replace(&wrong.input("csrf_token").unwrap(), "CSRF")
    };
    assert_eq!(strip(&wrong.body, "alice"), strip(&unknown.body, "nobody"));
    // Both paths run one argon2 verification: same order of time.
    let (a, b) = (wrong_time.as_secs_f64(), unknown_time.as_secs_f64());
    assert!(
        a / b < 3.0 && b / a < 3.0,
        "wrong password {a:.3}s vs unknown user {b:.3}s"
    );
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_per_account() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    let browser = Browser::new(&app);
    for _ in 0..limits().max_failures {
        assert_eq!(
            browser.sign_in("/login", "alice", "wrong").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let throttled = browser.sign_in("/login", "alice", PASSWORD).await;
    assert_eq!(
        throttled.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    app.clock.advance(limits().window_seconds);
    assert_eq!(
        browser.sign_in("/login", "alice", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

/// Two instances on one database (K4) enforce one limit: failures counted on
/// either one count on both.
#[tokio::test]
async fn the_throttle_is_shared_by_every_instance_on_the_database() {
    let first = TestApp::spawn().await;
    add_user(&first, "alice", false).await;
    let mut settings = first.db.settings();
    settings.issuer = Some(first.issuer().to_string());
    let second = TestApp::spawn_with(first.db.clone(), settings, first.clock.clone()).await;
    for attempt in 0..limits().max_failures {
        let app = if attempt % 2 == 0 { &first } else { &second };
        let page = Browser::new(app).sign_in("/login", "alice", "wrong").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    for app in [&first, &second] {
        let page = Browser::new(app).sign_in("/login", "alice", PASSWORD).await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    }
    // Past the window the sweep forgets the failures, and alice may sign in.
    first.clock.advance(limits().window_seconds);
    let swept = behalf::sweep::sweep(&first.state).await.unwrap();
    assert_eq!(
        swept.login_failures, 10,
        "five per account, five per address"
    );
    let page = Browser::new(&second)
        .sign_in("/login", "alice", PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
}

/// Twenty failures from one address, whatever the names, stop the next name too.
#[tokio::test]
async fn an_address_is_throttled_across_account_names() {
    use behalf::accounts::throttle::{CountedOn, reserve};
    let app = TestApp::spawn().await;
    let (db, now, limits) = (&app.state.db, app.clock_now(), limits());
    let from =
        |account: &'static str, address: &'static str| CountedOn::Anyone { account, address };
    let names: Vec<&'static str> = (0..limits.max_failures_per_address)
        .map(|i| -> &'static str { format!("user{i}").leak() })
        .collect();
    for name in names {
        let attempt = reserve(db, from(name, "192.0.2.9"), &limits, now).await;
        assert!(attempt.unwrap().is_some(), "{name} is counted");
    }
    let next = reserve(db, from("someone-new", "192.0.2.9"), &limits, now).await;
    assert!(next.unwrap().is_none(), "the address is at its limit");
    let elsewhere = reserve(db, from("someone-new", "198.51.100.7"), &limits, now).await;
    assert!(elsewhere.unwrap().is_some());
}

/// Behind a trusted proxy the throttle counts the client's address from
/// `X-Forwarded-For`; without one, the header is ignored and counts nothing.
#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_is_throttled_on_its_own() {
    async fn fail_from_many_names(app: &TestApp, forwarded_for: &str) {
        for i in 0..limits().max_failures_per_address {
            let page = Browser::behind_proxy(app, forwarded_for)
                .sign_in("/login", &format!("user{i}"), "wrong")
                .await;
            assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        }
    }
    let db = std::sync::Arc::new(crate::helpers::TestDb::new());
    let mut settings = db.settings();
    settings.trusted_proxies = vec!["127.0.0.1".into()];
    let proxied =
        TestApp::spawn_with(db, settings, behalf::clock::ManualClock::starting_now()).await;
    add_user(&proxied, "alice", false).await;
    fail_from_many_names(&proxied, "192.0.2.1").await;
    let alice_from = |app, forwarded_for| async move {
        Browser::behind_proxy(app, forwarded_for)
            .sign_in("/login", "alice", PASSWORD)
            .await
            .status
    };
    assert_eq!(
        alice_from(&proxied, "192.0.2.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        alice_from(&proxied, "192.0.2.2").await,
        StatusCode::SEE_OTHER,
        "another client of the proxy signs in"
    );
    // A client cannot pick its address: what it sends sits left of the proxy's entry.
    assert_eq!(
        alice_from(&proxied, "198.51.100.7, 192.0.2.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );

    let direct = TestApp::spawn().await;
    add_user(&direct, "alice", false).await;
    fail_from_many_names(&direct, "192.0.2.1").await;
    assert_eq!(
        alice_from(&direct, "192.0.2.99").await,
        StatusCode::TOO_MANY_REQUESTS,
        "an untrusted header changes nothing"
    );
}

#[tokio::test]
async fn return_to_accepts_only_same_origin_relative_paths() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    for evil in [
        "//evil.example",
        "/\\evil.example",
        "https:evil.example",
        "https://evil.example/x",
    ] {
        let browser = Browser::new(&app);
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("return_to", evil)
            .finish();
        let page = browser
            .sign_in(&format!("/login?{query}"), "alice", PASSWORD)
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), "/account", "{evil}");
    }
}

#[tokio::test]
async fn get_requests_never_change_state() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    let browser = Browser::new(&app);
    browser.sign_in("/login", "alice", PASSWORD).await;
    // A GET on the form targets does nothing: no logout, no consent.
    assert_eq!(
        browser.get("/logout").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        browser.get("/authorize/consent").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(browser.get("/account").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_sign_in_is_recorded_in_the_audit_trail() {
    let app = TestApp::spawn().await;
    let sub = add_user(&app, "alice", false).await;
    let browser = Browser::new(&app);
    assert_eq!(
        browser.sign_in("/login", "alice", "wrong").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        browser.sign_in("/login", "alice", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let subject = sub.clone();
    let events = app
        .state
        .db
        .run(move |c| behalf::store::audit_events::for_subject(c, &subject))
        .await
        .unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec!["session.signed_in"],
        "one sign-in, none for the failure"
    );
    assert_eq!(events[0].actor, sub);
}
