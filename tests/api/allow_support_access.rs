//! "Allow support access" (DESIGN "The consent screen as a product", "People,
//! agents and teams"): alice gives access to a team or a named agent from the
//! lists on /account; any enabled agent of the team may use a team grant, and
//! the delegated token names the agent who did; a refused form comes back with
//! status 400, the values kept and the message beside the field it is about.

use crate::fixtures::{
    ACCESS_TOKEN_TYPE, Browser, GRANT_ID_TYPE, Page, Scene, World, api, console_token, csrf,
    introspect_as, signed_in_to_account,
};
use crate::helpers::jwt_claims;
use behalf::oauth::registration::{self, NewClient};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// alice; bob and dave in the Support team, erin in Sales; the console; the
/// delegated-sign-in app "Example Shop".
async fn support_desk() -> Scene {
    let scene = World::new()
        .user("alice")
        .agent_in("bob", "Support")
        .agent_in("dave", "Support")
        .agent_in("erin", "Sales")
        .console()
        .build()
        .await;
    let (row, _) = registration::register(
        NewClient {
            client_id: "shop".into(),
            redirect_uris: vec![crate::fixtures::CALLBACK.into()],
            scopes: vec!["openid".into(), "profile".into()],
            name: Some("Example Shop".into()),
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
    scene
}

fn field(name: &str, value: &str) -> (String, String) {
    (name.into(), value.into())
}

/// The form as a browser sends it: the page's CSRF token and `fields`.
async fn allow(browser: &Browser, fields: &[(&str, &str)]) -> Page {
    let page = browser.get("/account").await;
    let mut form = vec![csrf(&page)];
    form.extend(fields.iter().map(|(n, v)| field(n, v)));
    browser.post("/account/grants", &form).await
}

/// The grant id a successful form's 303 names (`/account?done=given&grant=ID`).
fn given_grant(answer: &Page) -> String {
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let location = answer.location();
    location
        .split("grant=")
        .nth(1)
        .unwrap_or_else(|| panic!("no grant in {location}"))
        .to_string()
}

/// `agent` exchanges their agent token for a delegated token under `grant_id`.
async fn exchange_as(scene: &Scene, agent: &str, grant_id: &str) -> (StatusCode, Value) {
    let actor = console_token(&scene.app, scene.console_secret(), agent, "openid agent").await;
    let form = [
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("subject_token", grant_id),
        ("subject_token_type", GRANT_ID_TYPE),
        ("actor_token", actor.as_str()),
        ("actor_token_type", ACCESS_TOKEN_TYPE),
    ];
    let (status, _, body) = scene
        .app
        .post_token(Some(("console", scene.console_secret())), &form)
        .await;
    (status, body)
}

#[tokio::test]
async fn the_form_offers_teams_agents_tools_scopes_and_apps_in_words() {
    let scene = support_desk().await;
    let page = signed_in_to_account(&scene.app, "alice")
        .await
        .get("/account")
        .await;
    let body = &page.body;
    assert!(
        body.contains("<h2 id=\"allow\">Allow support access</h2>"),
        "{body}"
    );
    // With two teams none is chosen for her; teams and agents are named as people read them.
    assert!(
        body.contains("<option value=\"Sales\">The Sales team</option>"),
        "{body}"
    );
    assert!(body.contains("<option value=\"Support\">The Support team</option>"));
    assert!(body.contains("<option value=\"dave\">dave (Support)</option>"));
    assert!(body.contains("<option value=\"\" selected>Nobody by name (the team above)</option>"));
    assert!(
        !body.contains("<option value=\"alice\""),
        "alice is no agent"
    );
    // Scopes as checkboxes in plain words; never `agent` or `openid`.
    assert!(body.contains("name=\"scope\" value=\"read\""));
    assert!(!body.contains("name=\"scope\" value=\"agent\""));
    assert!(!body.contains("name=\"scope\" value=\"openid\""));
    assert!(body.contains("<label for=\"allow-app-shop\">Sign in to Example Shop as you</label>"));
    assert!(!body.contains("scopes, separated by spaces"));
}

#[tokio::test]
async fn a_team_grant_may_be_used_by_any_agent_of_the_team_and_names_who_acted() {
    let scene = support_desk().await;
    let browser = signed_in_to_account(&scene.app, "alice").await;
    let answer = allow(
        &browser,
        &[
            ("team", "Support"),
            ("agent", ""),
            ("client_id", "console"),
            ("scope", "read"),
            ("app", "shop"),
            ("duration", "3600"),
        ],
    )
    .await;
    let grant_id = given_grant(&answer);
    let page = browser.get(&answer.location()).await;
    assert!(
        page.body
            .contains("The Support team can act in your account"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<dt>May sign in as you to</dt><dd>Example Shop</dd>")
    );

    for agent in ["bob", "dave"] {
        let (status, body) = exchange_as(&scene, agent, &grant_id).await;
        assert_eq!(status, StatusCode::OK, "{agent}: {body}");
        let claims = jwt_claims(body["access_token"].as_str().unwrap());
        assert_eq!(claims["sub"], scene.subs["alice"].as_str());
        assert_eq!(claims["act"]["sub"], scene.subs[agent].as_str(), "{agent}");
        assert_eq!(claims["grant_id"], grant_id.as_str());
    }
    let (status, body) = exchange_as(&scene, "erin", &grant_id).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an agent of another team: {body}"
    );
    assert_eq!(body["error"], "invalid_request");
}

/// alice allows the Support team to read, through the console, for an hour: the grant's id.
async fn support_team_may_read(scene: &Scene) -> String {
    let browser = signed_in_to_account(&scene.app, "alice").await;
    let fields = [
        ("team", "Support"),
        ("client_id", "console"),
        ("scope", "read"),
        ("duration", "3600"),
    ];
    given_grant(&allow(&browser, &fields).await)
}

#[tokio::test]
async fn a_team_grant_is_ended_by_any_agent_of_the_team_and_its_tokens_with_it() {
    let scene = support_desk().await;
    let grant_id = support_team_may_read(&scene).await;
    let (_, body) = exchange_as(&scene, "bob", &grant_id).await;
    let token = body["access_token"].as_str().unwrap().to_string();
    let erin = console_token(&scene.app, scene.console_secret(), "erin", "openid agent").await;
    let path = format!("/api/grants/{grant_id}");
    let (status, _, _) = api(&scene.app, Method::DELETE, &path, Some(&erin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "erin is not of the team");
    let dave = console_token(&scene.app, scene.console_secret(), "dave", "openid agent").await;
    let (status, _, ended) = api(&scene.app, Method::DELETE, &path, Some(&dave), None).await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(ended["team"], "Support");
    assert_eq!(ended["agent"], Value::Null);
    let response = scene
        .app
        .http
        .get(scene.app.url("/userinfo"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, userinfo) = (response.status(), response.text().await.unwrap());
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "bob's token ended: {userinfo}"
    );
}

#[tokio::test]
async fn an_agent_who_leaves_the_team_can_no_longer_act_under_its_grant() {
    let scene = support_desk().await;
    let grant_id = support_team_may_read(&scene).await;
    let (_, body) = exchange_as(&scene, "dave", &grant_id).await;
    let token = body["access_token"].as_str().unwrap().to_string();
    let rs_secret = scene.app.add_client("rs", &[], &[]).await;
    let active = |token: String| {
        let (app, secret) = (&scene.app, rs_secret.clone());
        async move { introspect_as(app, ("rs", &secret), &token).await["active"] == true }
    };
    assert!(active(token.clone()).await);
    crate::fixtures::set_team(&scene.app, "dave", "Sales").await;
    assert!(!active(token).await, "dave left the Support team");
    let (status, _) = exchange_as(&scene, "dave", &grant_id).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The form's part of the page: from its heading to the end.
fn form_part(page: &Page) -> &str {
    let start = page.body.find("<h2 id=\"allow\">").expect("the form");
    &page.body[start..]
}

#[tokio::test]
async fn a_refused_form_keeps_its_values_and_says_what_is_wrong_beside_the_field() {
    let scene = support_desk().await;
    let browser = signed_in_to_account(&scene.app, "alice").await;

    // Nothing ticked: the message sits in the scopes' fieldset, the rest is kept.
    let refused = allow(
        &browser,
        &[
            ("team", "Sales"),
            ("client_id", "console"),
            ("app", "shop"),
            ("duration", "900"),
            ("reason", "My export fails"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let form = form_part(&refused);
    let scopes = &form[form.find("<legend>What they may do</legend>").unwrap()..];
    let scopes = &scopes[..scopes.find("</fieldset>").unwrap()];
    assert!(
        scopes.contains(
            "id=\"allow-scope-error\" role=\"alert\">Tick at least one thing they may do.</p>"
        ),
        "{scopes}"
    );
    assert!(form.contains("<option value=\"Sales\" selected>The Sales team</option>"));
    assert!(
        form.contains("<option value=\"900\" selected>15 minutes</option>"),
        "{form}"
    );
    assert!(form.contains("value=\"My export fails\""));
    assert!(form.contains("value=\"shop\" checked"));
    assert!(
        !refused.body.contains("role=\"status\""),
        "no success notice"
    );

    // A team and an agent at once: said beside the choice of who.
    let both = allow(
        &browser,
        &[
            ("team", "Support"),
            ("agent", "erin"),
            ("client_id", "console"),
            ("scope", "read"),
            ("duration", "3600"),
        ],
    )
    .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    assert!(form_part(&both).contains(
        "id=\"allow-grantee-error\" role=\"alert\">Choose a team or one person, not both.</p>"
    ));
    assert!(form_part(&both).contains("value=\"read\" checked"));

    // A scope the tool cannot carry, in words, not scope names.
    let stray = allow(
        &browser,
        &[
            ("agent", "bob"),
            ("team", ""),
            ("client_id", "console"),
            ("scope", "read"),
            ("scope", "agent"),
            ("duration", "3600"),
        ],
    )
    .await;
    assert_eq!(stray.status, StatusCode::BAD_REQUEST);
    let form = form_part(&stray);
    assert!(form.contains("id=\"allow-scope-error\""), "{form}");
    assert!(form.contains("Support console cannot be used to"), "{form}");
    assert!(form.contains("<option value=\"bob\" selected>"));

    // A team nobody can use, an unknown tool, an app not open to delegated sign-in.
    for (fields, field) in [
        (
            vec![("team", "Nobody"), ("client_id", "console")],
            "grantee",
        ),
        (vec![("team", "Support"), ("client_id", "nope")], "client"),
        (
            vec![
                ("team", "Support"),
                ("client_id", "console"),
                ("app", "console"),
            ],
            "app",
        ),
    ] {
        let mut fields = fields;
        fields.extend([("scope", "read"), ("duration", "3600")]);
        let refused = allow(&browser, &fields).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{field}");
        assert!(
            form_part(&refused).contains(&format!("id=\"allow-{field}-error\" role=\"alert\">")),
            "{field}: {}",
            form_part(&refused)
        );
    }

    // Nothing was given by any of them.
    let page = browser.get("/account").await;
    assert!(
        page.body
            .contains("No one can act in your account right now.")
    );
}
