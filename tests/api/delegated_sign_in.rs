//! Delegated sign-in into an OIDC app (DESIGN "Delegated sign-in into any OIDC
//! app"; docs/security.md M1, M2, M4): alice allows the Support team to sign in
//! to Example Shop as her; bob, signed in to behalf, is offered "Act as alice
//! in Example Shop?" at /authorize, and the code yields tokens for alice that
//! say bob acts; they end with the grant. Refused: an app the grant does not
//! list, an agent it is not for, an ended grant, `prompt=none`, a missing CSRF token.

use crate::fixtures::{
    Browser, CALLBACK, PASSWORD, Page, Scene, World, authorize_url, csrf, pkce, query_of, redeem,
    signed_in_to_account,
};
use crate::helpers::jwt_claims;
use behalf::oauth::registration::{self, NewClient};
use reqwest::StatusCode;
use serde_json::Value;

struct Shop {
    scene: Scene,
    secret: String,
    grant_id: String,
}

async fn register(scene: &Scene, id: &str, name: &str) -> String {
    let (row, secret) = registration::register(
        NewClient {
            client_id: id.into(),
            redirect_uris: vec![CALLBACK.into()],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            scopes: ["openid", "profile", "read", "write"]
                .map(String::from)
                .to_vec(),
            name: Some(name.into()),
            delegated_sign_in: true,
            ..NewClient::default()
        },
        0,
    )
    .unwrap();
    scene
        .app
        .state
        .db
        .run(move |c| row.insert(c))
        .await
        .unwrap();
    secret.unwrap().expose().clone()
}

/// alice; bob in Support; carol, an agent of no team; the console; Example
/// Shop and Example CRM (both delegated sign-in); alice's grant to Support
/// for `read`, listing only the shop, for an hour.
async fn shop() -> Shop {
    let scene = World::new()
        .user("alice")
        .agent_in("bob", "Support")
        .agent("carol")
        .console()
        .build()
        .await;
    let secret = register(&scene, "shop", "Example Shop").await;
    register(&scene, "crm", "Example CRM").await;
    let browser = signed_in_to_account(&scene.app, "alice").await;
    let page = browser.get("/account").await;
    let form: Vec<(String, String)> = [
        ("team", "Support"),
        ("client_id", "console"),
        ("scope", "read"),
        ("app", "shop"),
        ("duration", "3600"),
        ("reason", "Order 1234 will not ship"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .chain([csrf(&page)])
    .collect();
    let given = browser.post("/account/grants", &form).await;
    assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.body);
    let grant_id = given.location().split("grant=").nth(1).unwrap().to_string();
    Shop {
        scene,
        secret,
        grant_id,
    }
}

/// `agent` signs in to behalf and follows the app's authorization URL; the page it lands on.
async fn arrive(
    s: &Shop,
    agent: &str,
    client_id: &str,
    extra: &[(&str, &str)],
) -> (Browser, Page, String) {
    let (verifier, challenge) = pkce();
    let browser = Browser::new(&s.scene.app);
    let url = authorize_url(&s.scene.app, client_id, &challenge, extra);
    let login = browser.get(&url).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let signed_in = browser.sign_in(&login.location(), agent, PASSWORD).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    let page = browser.get(&signed_in.location()).await;
    (browser, page, verifier)
}

/// The form of one card on the act page (`data-grant-id`), or the "Continue as yourself" one.
fn form_of(page: &Page, marker: &str) -> Vec<(String, String)> {
    let start = page
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("{marker}: {}", page.body));
    let end = start + page.body[start..].find("</form>").unwrap();
    let part = Page {
        status: page.status,
        headers: page.headers.clone(),
        body: page.body[start..end].to_string(),
    };
    part.hidden_inputs()
}

/// bob acts as alice in the shop: the code's redirect.
async fn act(s: &Shop, browser: &Browser, page: &Page) -> Page {
    let mut form = form_of(page, &format!("data-grant-id=\"{}\"", s.grant_id));
    form.push(("decision".into(), "act".into()));
    browser.post("/authorize/act", &form).await
}

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
