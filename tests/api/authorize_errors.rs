//! The authorization endpoint's refusals (docs/security.md A1–A5, B4, B5, I2):
//! untrusted client or redirect → an error page and never a redirect; anything
//! else → back to the client with `error`, `state` and `iss`.

use crate::fixtures::{
    Browser, CALLBACK, ClientSpec, PASSWORD, World, add_code_client, add_user, authorize_url, pkce,
    query_of,
};
use crate::helpers::TestApp;
use reqwest::StatusCode;

async fn setup() -> (TestApp, Browser, String) {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    add_code_client(
        &app,
        ClientSpec {
            id: "rp",
            public: false,
            first_party: true,
            refresh: false,
        },
    )
    .await;
    let browser = Browser::new(&app);
    let (_, challenge) = pkce();
    (app, browser, challenge)
}

#[tokio::test]
async fn an_unregistered_redirect_uri_or_unknown_client_gets_a_page_never_a_redirect() {
    let (app, browser, challenge) = setup().await;
    for extra in [
        vec![("redirect_uri", "http://127.0.0.1:9/cb/other")],
        vec![("redirect_uri", "http://127.0.0.1:9/cb?x=1")],
        vec![("redirect_uri", "http://127.0.0.1:10/cb")],
        vec![("redirect_uri", "https://evil.example/cb")],
        vec![("redirect_uri", "http://127.0.0.1:9/CB")],
        vec![("client_id", "nobody")],
        vec![("client_id", "")],
    ] {
        let page = browser
            .get(&authorize_url(&app, "rp", &challenge, &extra))
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{extra:?}");
        assert!(
            page.headers.get("location").is_none(),
            "{extra:?} redirected"
        );
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }
}

#[tokio::test]
async fn a_public_native_client_may_vary_only_the_loopback_port() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    add_code_client(
        &app,
        ClientSpec {
            id: "cli",
            public: true,
            first_party: true,
            refresh: false,
        },
    )
    .await;
    let browser = Browser::new(&app);
    let (_, challenge) = pkce();
    let other_port = browser
        .get(&authorize_url(
            &app,
            "cli",
            &challenge,
            &[("redirect_uri", "http://127.0.0.1:53111/cb")],
        ))
        .await;
    assert_eq!(other_port.status, StatusCode::SEE_OTHER);
    assert!(other_port.location().starts_with("/login"));
    let other_path = browser
        .get(&authorize_url(
            &app,
            "cli",
            &challenge,
            &[("redirect_uri", "http://127.0.0.1:53111/evil")],
        ))
        .await;
    assert_eq!(other_path.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn errors_after_the_redirect_is_trusted_go_back_with_state_and_iss() {
    let (app, browser, challenge) = setup().await;
    for (extra, error) in [
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (vec![("response_type", "")], "invalid_request"),
        (vec![("code_challenge", "")], "invalid_request"),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("code_challenge_method", "")], "invalid_request"),
        (vec![("code_challenge", "too-short")], "invalid_request"),
        (vec![("scope", "openid admin")], "invalid_scope"),
        (vec![("prompt", "none login")], "invalid_request"),
        (vec![("max_age", "soon")], "invalid_request"),
        (
            vec![("request", "eyJhbGciOiJub25lIn0.e30.")],
            "request_not_supported",
        ),
    ] {
        let page = browser
            .get(&authorize_url(&app, "rp", &challenge, &extra))
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{extra:?}");
        let location = page.location();
        assert!(location.starts_with(CALLBACK), "{extra:?}: {location}");
        let params = query_of(&location);
        assert_eq!(params["error"], error, "{extra:?}");
        assert_eq!(params["state"], "st-123");
        assert_eq!(params["iss"], app.issuer());
    }
}

#[tokio::test]
async fn prompt_none_answers_login_required_or_consent_required_without_a_page() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    add_code_client(
        &app,
        ClientSpec {
            id: "rp",
            public: false,
            first_party: false,
            refresh: false,
        },
    )
    .await;
    let browser = Browser::new(&app);
    let (_, challenge) = pkce();
    let page = browser
        .get(&authorize_url(
            &app,
            "rp",
            &challenge,
            &[("prompt", "none")],
        ))
        .await;
    assert_eq!(query_of(&page.location())["error"], "login_required");
    // Signed in, but no consent yet.
    let signed_in = browser.sign_in("/login", "alice", PASSWORD).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let page = browser
        .get(&authorize_url(
            &app,
            "rp",
            &challenge,
            &[("prompt", "none")],
        ))
        .await;
    assert_eq!(query_of(&page.location())["error"], "consent_required");
}

#[tokio::test]
async fn the_consent_form_posts_answer_303_and_deny_returns_access_denied() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    add_code_client(
        &app,
        ClientSpec {
            id: "rp",
            public: false,
            first_party: false,
            refresh: false,
        },
    )
    .await;
    let browser = Browser::new(&app);
    let (_, challenge) = pkce();
    let location = browser
        .authorize(&authorize_url(&app, "rp", &challenge, &[]), "alice", "deny")
        .await;
    let params = query_of(&location);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "st-123");
    assert_eq!(params["iss"], app.issuer());
    assert!(!params.contains_key("code"));
}

#[tokio::test]
async fn only_agents_get_the_agent_scope() {
    let app = World::new().user("alice").agent("bob").build().await.app;
    add_code_client(
        &app,
        ClientSpec {
            id: "console",
            public: false,
            first_party: true,
            refresh: false,
        },
    )
    .await;
    let (_, challenge) = pkce();
    let url = authorize_url(&app, "console", &challenge, &[("scope", "openid agent")]);
    let alice = Browser::new(&app).authorize(&url, "alice", "approve").await;
    assert_eq!(query_of(&alice)["error"], "invalid_scope");
    let bob = Browser::new(&app).authorize(&url, "bob", "approve").await;
    assert!(query_of(&bob).contains_key("code"));
}
