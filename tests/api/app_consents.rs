//! "Apps you allowed" on the consent screen (issue 12 item 5): each remembered
//! app consent with what the app may do and since when, and "Withdraw", which
//! forgets the consent and ends the app's refresh and access tokens for the
//! user in one transaction, so that the app must ask again.

use crate::fixtures::{
    Browser, CALLBACK, add_user, authorize_url, csrf, introspect_as, pkce, query_of, redeem,
};
use crate::helpers::TestApp;
use behalf::oauth::registration::{self, NewClient};
use reqwest::StatusCode;
use serde_json::Value;

struct Shop {
    app: TestApp,
    secret: String,
    access: String,
    refresh: String,
    browser: Browser,
}

/// alice signs in to "Example Shop", a third-party code-flow app with refresh
/// tokens, allows it on the consent page and the shop redeems the code.
async fn alice_allows_the_shop() -> Shop {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    let (row, secret) = registration::register(
        NewClient {
            client_id: "shop".into(),
            redirect_uris: vec![CALLBACK.into()],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            scopes: vec!["openid".into(), "profile".into()],
            name: Some("Example Shop".into()),
            ..NewClient::default()
        },
        0,
    )
    .unwrap();
    app.state.db.run(move |c| row.insert(c)).await.unwrap();
    let secret = secret.unwrap().expose().clone();
    let (verifier, challenge) = pkce();
    let browser = Browser::new(&app);
    let location = browser
        .authorize(
            &authorize_url(&app, "shop", &challenge, &[]),
            "alice",
            "approve",
        )
        .await;
    let (status, tokens) = redeem(
        &app,
        ("shop", Some(&secret)),
        &query_of(&location)["code"],
        &verifier,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    Shop {
        access: tokens["access_token"].as_str().unwrap().into(),
        refresh: tokens["refresh_token"].as_str().unwrap().into(),
        app,
        secret,
        browser,
    }
}

async fn refresh(s: &Shop, token: &str) -> (StatusCode, Value) {
    let form = [("grant_type", "refresh_token"), ("refresh_token", token)];
    let (status, _, body) = s.app.post_token(Some(("shop", &s.secret)), &form).await;
    (status, body)
}

async fn introspect(s: &Shop, token: &str) -> Value {
    introspect_as(&s.app, ("shop", &s.secret), token).await
}

async fn consents(s: &Shop) -> i64 {
    s.app
        .state
        .db
        .run(|c| {
            use behalf::store::schema::app_consents;
            use diesel::prelude::*;
            Ok(app_consents::table.count().get_result::<i64>(c)?)
        })
        .await
        .unwrap()
}

/// The part of the page from the "Apps you allowed" heading to the next heading.
fn apps_section(body: &str) -> &str {
    let start = body.find("<h2>Apps you allowed</h2>").expect("the section");
    let end = body[start + 4..].find("<h2>").unwrap() + start + 4;
    &body[start..end]
}

#[tokio::test]
async fn withdrawing_an_app_ends_its_tokens_and_it_must_ask_again() {
    let s = alice_allows_the_shop().await;
    let page = s.browser.get("/account").await;
    assert_eq!(page.status, StatusCode::OK);
    let section = apps_section(&page.body);
    assert!(
        section.contains("<h3 id=\"app-shop\">Example Shop</h3>"),
        "{section}"
    );
    assert!(section.contains("What Example Shop may do:"), "{section}");
    assert!(section.contains("<time datetime=\""), "{section}");
    assert!(section.contains("data-local>"), "{section}");
    assert!(
        section.contains("action=\"/account/apps/shop/withdraw\""),
        "{section}"
    );
    assert!(
        section.contains("Withdraw<span class=\"visually-hidden\"> Example Shop's access</span>"),
        "{section}"
    );

    let done = s
        .browser
        .post("/account/apps/shop/withdraw", &[csrf(&page)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/account?done=withdrawn&app=shop");
    let after = s.browser.get(&done.location()).await;
    assert!(
        after
            .body
            .contains("You withdrew Example Shop&#39;s access. It must ask you again."),
        "{}",
        after.body
    );
    let section = apps_section(&after.body);
    assert!(!section.contains("app-shop"), "{section}");
    assert!(
        section.contains("You have not allowed any app to use your account."),
        "{section}"
    );
    assert_eq!(consents(&s).await, 0);

    let (status, body) = refresh(&s, &s.refresh).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert_eq!(
        introspect(&s, &s.access).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(
        introspect(&s, &s.refresh).await,
        serde_json::json!({"active": false})
    );

    // The next sign-in to the shop shows the consent page again.
    let (_, challenge) = pkce();
    let again = s
        .browser
        .get(&authorize_url(&s.app, "shop", &challenge, &[]))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert!(
        again.body.contains("action=\"/authorize/consent\""),
        "{}",
        again.body
    );
    assert!(again.body.contains("Example Shop"));

    // The trail says which app was withdrawn.
    let events: Vec<(String, String)> = s
        .app
        .state
        .db
        .run(|c| {
            use behalf::store::schema::audit_events;
            use diesel::prelude::*;
            Ok(audit_events::table
                .filter(audit_events::action.eq("app_consent.withdrawn"))
                .select((audit_events::actor, audit_events::detail))
                .load(c)?)
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].1.contains("\"client_id\":\"shop\""), "{events:?}");
}

#[tokio::test]
async fn without_the_csrf_token_nothing_is_withdrawn() {
    let s = alice_allows_the_shop().await;
    let refused = s.browser.post("/account/apps/shop/withdraw", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let wrong = [("csrf_token".to_string(), "not-the-token".to_string())];
    let refused = s.browser.post("/account/apps/shop/withdraw", &wrong).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(consents(&s).await, 1);
    assert_eq!(introspect(&s, &s.access).await["active"], true);
    let (status, body) = refresh(&s, &s.refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn an_app_never_allowed_changes_nothing_and_names_come_from_the_registry() {
    let s = alice_allows_the_shop().await;
    let page = s.browser.get("/account").await;
    for id in ["nosuch", "console"] {
        let done = s
            .browser
            .post(&format!("/account/apps/{id}/withdraw"), &[csrf(&page)])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(done.location(), format!("/account?done=withdrawn&app={id}"));
    }
    assert_eq!(consents(&s).await, 1);
    let (status, body) = refresh(&s, &s.refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Only the registry's name is shown; nothing of the query's text.
    let shown = s
        .browser
        .get("/account?done=withdrawn&app=%3Cb%3EEvil%3C%2Fb%3E")
        .await;
    assert!(
        shown.body.contains("You withdrew the app&#39;s access."),
        "{}",
        shown.body
    );
    assert!(!shown.body.contains("Evil"));
}
