//! Delegated sign-in into an OIDC app (DESIGN "Delegated sign-in into any OIDC
//! app"; docs/security.md M1, M2, M4): alice allows the Support team to sign in
//! to Example Shop as her; bob, signed in to behalf, is offered "Act as alice
//! in Example Shop?" at /authorize, and the code yields tokens for alice that
//! say bob acts; they end with the grant. Refused: an app the grant does not
//! list, an agent it is not for, an ended grant, `prompt=none`, a missing CSRF token.

use crate::fixtures::{
    Shop, act, arrive, authorize_url, csrf, form_of, pkce, query_of, redeem, shop,
    signed_in_to_account,
};
use crate::helpers::jwt_claims;
use reqwest::StatusCode;
use serde_json::Value;

async fn userinfo(s: &Shop, token: &str) -> (StatusCode, Value) {
    let response = s
        .scene
        .app
        .http
        .get(s.scene.app.url("/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

async fn refresh(s: &Shop, token: &str) -> (StatusCode, Value) {
    let form = [("grant_type", "refresh_token"), ("refresh_token", token)];
    let (status, _, body) = s
        .scene
        .app
        .post_token(Some(("shop", &s.secret)), &form)
        .await;
    (status, body)
}

#[tokio::test]
async fn an_agent_acts_as_the_user_in_the_app_and_every_token_says_so_until_the_grant_ends() {
    let s = shop().await;
    let (browser, page, verifier) = arrive(
        &s,
        "bob",
        "shop",
        &[
            ("login_hint", "alice"),
            ("scope", "openid profile read write"),
        ],
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Act as alice in Example Shop?"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Order 1234 will not ship"));
    assert!(
        !page.body.contains("action=\"/authorize/consent\""),
        "no app-consent page"
    );

    let redirect = act(&s, &browser, &page).await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER, "{}", redirect.body);
    let query = query_of(&redirect.location());
    assert_eq!(query["state"], "st-123");
    let (status, tokens) = redeem(
        &s.scene.app,
        ("shop", Some(&s.secret)),
        &query["code"],
        &verifier,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (alice, bob) = (&s.scene.subs["alice"], &s.scene.subs["bob"]);

    let access = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["sub"], alice.as_str());
    assert_eq!(access["act"]["sub"], bob.as_str());
    assert_eq!(access["grant_id"], s.grant_id.as_str());
    assert_eq!(access["client_id"], "shop");
    assert_eq!(
        access["scope"], "openid profile read",
        "write is not in the grant"
    );
    let id_token = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["sub"], alice.as_str());
    assert_eq!(id_token["aud"], "shop");
    assert_eq!(id_token["act"]["sub"], bob.as_str());
    assert_eq!(id_token["grant_id"], s.grant_id.as_str());
    assert_eq!(id_token["nonce"], "n-456");
    assert!(id_token["sid"].as_str().is_some_and(|sid| !sid.is_empty()));
    assert!(id_token["at_hash"].is_string() && id_token["auth_time"].is_i64());

    let token = tokens["access_token"].as_str().unwrap().to_string();
    let (status, info) = userinfo(&s, &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["sub"], alice.as_str());
    assert_eq!(info["act"]["sub"], bob.as_str());

    let (status, refreshed) = refresh(&s, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    let again = jwt_claims(refreshed["access_token"].as_str().unwrap());
    assert_eq!(again["act"]["sub"], bob.as_str());
    assert_eq!(again["grant_id"], s.grant_id.as_str());
    let next_refresh = refreshed["refresh_token"].as_str().unwrap().to_string();

    // alice's activity says what bob did.
    let alice_browser = signed_in_to_account(&s.scene.app, "alice").await;
    let account = alice_browser.get("/account").await;
    assert!(
        account
            .body
            .contains("bob signed in to Example Shop as you"),
        "{}",
        account.body
    );

    // She ends it: the session's tokens stop at the next check, refresh fails.
    let ended = alice_browser
        .post(
            &format!("/account/grants/{}/revoke", s.grant_id),
            &[csrf(&account)],
        )
        .await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert_eq!(userinfo(&s, &token).await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = refresh(&s, &next_refresh).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn no_token_or_refresh_outlives_the_grant() {
    let s = shop().await;
    let (browser, page, verifier) = arrive(&s, "bob", "shop", &[("login_hint", "alice")]).await;
    let query = query_of(&act(&s, &browser, &page).await.location());
    let (_, tokens) = redeem(
        &s.scene.app,
        ("shop", Some(&s.secret)),
        &query["code"],
        &verifier,
    )
    .await;
    let access = jwt_claims(tokens["access_token"].as_str().unwrap());
    let grant_ends = s.scene.app.clock_now() + 3600;
    assert!(access["exp"].as_i64().unwrap() <= grant_ends);
    s.scene.app.clock.advance(3600);
    let (status, body) = refresh(&s, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn without_a_hint_each_usable_grant_is_offered_beside_continuing_as_yourself() {
    let s = shop().await;
    let (browser, page, verifier) = arrive(&s, "bob", "shop", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(&format!("data-grant-id=\"{}\"", s.grant_id))
    );
    assert!(page.body.contains("Continue as yourself (bob)"));
    // Continuing as himself, bob meets the shop's own consent page for himself.
    let mut form = form_of(
        &page,
        "<form method=\"post\" action=\"/authorize/act\">\n  <input type=\"hidden\" name=\"csrf_token\"",
    );
    form.push(("decision".into(), "self".into()));
    let own = browser.post("/authorize/act", &form).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(
        own.body.contains("action=\"/authorize/consent\""),
        "{}",
        own.body
    );
    let _ = verifier;
}

#[tokio::test]
async fn an_app_the_grant_does_not_list_another_agent_an_ended_grant_and_prompt_none_start_nothing()
{
    let s = shop().await;
    // M1: the CRM is not in alice's grant: bob is not offered to act there, and a forged form fails.
    let (browser, crm, _) = arrive(&s, "bob", "crm", &[("login_hint", "alice")]).await;
    assert!(
        crm.body
            .contains("You have no access that lets you act as alice in Example CRM"),
        "{}",
        crm.body
    );
    let (_, shop_page, _) = arrive(&s, "bob", "shop", &[("login_hint", "alice")]).await;
    let mut forged = form_of(&shop_page, &format!("data-grant-id=\"{}\"", s.grant_id));
    for (name, value) in forged.iter_mut() {
        if name == "client_id" {
            *value = "crm".into();
        }
    }
    let csrf_of_crm = crm.input("csrf_token").unwrap();
    for (name, value) in forged.iter_mut() {
        if name == "csrf_token" {
            *value = csrf_of_crm.clone();
        }
    }
    forged.push(("decision".into(), "act".into()));
    assert_eq!(
        browser.post("/authorize/act", &forged).await.status,
        StatusCode::FORBIDDEN
    );

    // M1: carol is of no team: nothing to act with.
    let (_, carol, _) = arrive(&s, "carol", "shop", &[("login_hint", "alice")]).await;
    assert!(
        carol
            .body
            .contains("You have no access that lets you act as alice"),
        "{}",
        carol.body
    );
    assert!(!carol.body.contains("name=\"grant_id\""));

    // M4: without the CSRF token nothing starts.
    let (bob, page, _) = arrive(&s, "bob", "shop", &[("login_hint", "alice")]).await;
    let mut no_csrf = form_of(&page, &format!("data-grant-id=\"{}\"", s.grant_id));
    no_csrf.retain(|(n, _)| n != "csrf_token");
    no_csrf.push(("decision".into(), "act".into()));
    assert_eq!(
        bob.post("/authorize/act", &no_csrf).await.status,
        StatusCode::FORBIDDEN
    );

    // M4: prompt=none never starts a delegated session.
    let (verifier, challenge) = pkce();
    let silent = bob
        .get(&authorize_url(
            &s.scene.app,
            "shop",
            &challenge,
            &[("login_hint", "alice"), ("prompt", "none")],
        ))
        .await;
    assert_eq!(silent.status, StatusCode::SEE_OTHER);
    let query = query_of(&silent.location());
    assert_eq!(
        query.get("error").map(String::as_str),
        Some("consent_required"),
        "{query:?}"
    );
    let _ = verifier;

    // Ended: the act form and an unredeemed code both fail.
    let (bob2, page, verifier) = arrive(&s, "bob", "shop", &[("login_hint", "alice")]).await;
    let code_before_the_end = query_of(&act(&s, &bob2, &page).await.location())["code"].clone();
    let alice = signed_in_to_account(&s.scene.app, "alice").await;
    let account = alice.get("/account").await;
    alice
        .post(
            &format!("/account/grants/{}/revoke", s.grant_id),
            &[csrf(&account)],
        )
        .await;
    assert_eq!(act(&s, &bob2, &page).await.status, StatusCode::FORBIDDEN);
    let (status, body) = redeem(
        &s.scene.app,
        ("shop", Some(&s.secret)),
        &code_before_the_end,
        &verifier,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn behalfs_own_pages_belong_to_whoever_signed_in() {
    // M5: acting as alice in the shop never makes bob alice on /account.
    let s = shop().await;
    let (browser, page, _) = arrive(&s, "bob", "shop", &[("login_hint", "alice")]).await;
    act(&s, &browser, &page).await;
    let own = browser.get("/account").await;
    assert!(
        own.body.contains("Signed in as <strong>bob</strong>"),
        "{}",
        own.body
    );
}
