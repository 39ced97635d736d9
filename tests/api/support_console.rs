//! The support console (issue 11 item 3; docs/contract.md "Support console";
//! docs/security.md M5): signed-in agents ask for access by username or
//! email, wait, cancel, see what they may use with the time left and "Open
//! <app> as <user>" links, end it, and see what ended and who ended it; a
//! refused form comes back with status 400, the values kept and the message
//! beside its field; anyone else gets 403, no session the sign-in page; the
//! lists are also `GET /console/state`, JSON, never cached.

use crate::fixtures::{
    Browser, CALLBACK, PASSWORD, Page, Scene, World, approve_on_the_screen, authorize_url, csrf,
    end_on_the_screen, pkce, set_email, signed_in_to_account,
};
use crate::helpers::TestApp;
use behalf::oauth::registration::{self, NewClient};
use reqwest::StatusCode;
use serde_json::Value;

const SHOP_LOGIN: &str = "https://shop.example/login";
const REASON: &str = "Customer reported a billing bug";

/// alice (alice@example.com) and dave (dave@example.com), users; bob and
/// carol in the Support team, erin in Sales; the console; "Example Shop", an
/// app open to delegated sign-in with an `initiate_login_uri`; "Reports", a
/// client that may not exchange tokens.
async fn support_desk() -> Scene {
    support_desk_on(TestApp::spawn().await).await
}

/// As `support_desk`, on an app started with settings of the test's own.
async fn support_desk_on(app: TestApp) -> Scene {
    let scene = World::new()
        .user("alice")
        .user("dave")
        .agent_in("bob", "Support")
        .agent_in("carol", "Support")
        .agent_in("erin", "Sales")
        .console()
        .build_on(app)
        .await;
    set_email(&scene.app, "alice", "alice@example.com").await;
    set_email(&scene.app, "dave", "dave@example.com").await;
    let (row, _) = registration::register(
        NewClient {
            client_id: "shop".into(),
            redirect_uris: vec![CALLBACK.into()],
            grant_types: vec!["authorization_code".into()],
            scopes: vec!["openid".into(), "profile".into(), "read".into()],
            name: Some("Example Shop".into()),
            delegated_sign_in: true,
            initiate_login_uri: Some(SHOP_LOGIN.into()),
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
    scene.app.add_client("reports", &["read"], &[]).await;
    scene
}

/// `username` signed in, on the console.
async fn console_of(scene: &Scene, username: &str) -> (Browser, Page) {
    let browser = signed_in_to_account(&scene.app, username).await;
    let page = browser.get("/console").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    (browser, page)
}

fn field(name: &str, value: &str) -> (String, String) {
    (name.into(), value.into())
}

/// The form as filled in for alice, SUP-42, reading for an hour; `changes`
/// replace fields (an empty value leaves one out; `scope` and `app` may repeat).
fn asking(changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = [
        ("subject", "alice"),
        ("client_id", "console"),
        ("scope", "read"),
        ("duration", "3600"),
        ("reason", REASON),
        ("ticket", "SUP-42"),
    ]
    .iter()
    .map(|(n, v)| field(n, v))
    .collect();
    for (name, _) in changes {
        form.retain(|(n, _)| n != name);
    }
    form.extend(
        changes
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(n, v)| field(n, v)),
    );
    form
}

/// Sends "Ask for access" with the page's CSRF token.
async fn ask(browser: &Browser, form: Vec<(String, String)>) -> Page {
    let page = browser.get("/console").await;
    let mut fields = vec![csrf(&page)];
    fields.extend(form);
    browser.post("/console/requests", &fields).await
}

/// The id a 303 to `/console?done=...&<key>=ID` names.
fn done_id(answer: &Page, done: &str, key: &str) -> String {
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let location = answer.location();
    let prefix = format!("/console?done={done}&{key}=");
    location
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{location} is not {prefix}ID"))
        .to_string()
}

/// The HTML of one list (`waiting`, `access`, `ended`) of the console.
fn list<'a>(page: &'a Page, name: &str) -> &'a str {
    let marker = format!("<div data-list=\"{name}\">");
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("no list {name} in {}", page.body));
    let end = page.body[start..].find("\n</div>").unwrap() + start;
    &page.body[start..end]
}

/// The card carrying `marker` (`data-request-id="ID"`) inside `html`, if any.
fn card<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    let start = html.find(marker)?;
    let end = html[start..].find("</section>").unwrap() + start;
    Some(&html[start..end])
}

fn request_marker(id: &str) -> String {
    format!("data-request-id=\"{id}\"")
}

fn grant_marker(id: &str) -> String {
    format!("data-grant-id=\"{id}\"")
}

/// The notice after an action.
fn notice(page: &Page) -> &str {
    let marker = "data-notice autofocus>";
    let start = page
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("no notice in {}", page.body))
        + marker.len();
    let end = page.body[start..].find("</p>").unwrap() + start;
    &page.body[start..end]
}

/// The one field message of a refused form: its field and words.
fn field_error(page: &Page) -> (String, String) {
    let errors: Vec<&str> = page
        .body
        .split("class=\"error field-error\" id=\"")
        .skip(1)
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "one message beside one field: {}",
        page.body
    );
    let (id, rest) = errors[0].split_once('"').unwrap();
    let text = rest
        .split_once('>')
        .unwrap()
        .1
        .split("</p>")
        .next()
        .unwrap();
    (id.to_string(), text.to_string())
}

/// Text as the templates escape it (`&`, quotes).
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('\'', "&#39;")
}

#[tokio::test]
async fn the_console_is_for_signed_in_agents_and_anyone_else_is_turned_away() {
    let scene = support_desk().await;
    let nobody = Browser::new(&scene.app);
    let page = nobody.get("/console").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/login?return_to=/console");
    let state = nobody.get("/console/state").await;
    assert_eq!(state.status, StatusCode::UNAUTHORIZED, "{}", state.body);
    assert_eq!(state.headers["cache-control"], "no-store");

    // Signing in from there lands on the console.
    let bob = Browser::new(&scene.app);
    let signed_in = bob
        .sign_in("/login?return_to=/console", "bob", PASSWORD)
        .await;
    assert_eq!(signed_in.location(), "/console");
    let page = bob.get("/console").await;
    assert_eq!(page.status, StatusCode::OK);
    let h = &page.headers;
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("connect-src 'self'")
    );
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-store");
    assert!(
        page.body
            .contains("Signed in as <strong>bob</strong> (Support team)")
    );
    assert!(
        page.body.contains("data-console-state=\"/console/state\""),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>"), "no inline script");

    let alice = signed_in_to_account(&scene.app, "alice").await;
    let refused = alice.get("/console").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("The support console is for support agents.")
    );
    let state = alice.get("/console/state").await;
    assert_eq!(state.status, StatusCode::FORBIDDEN, "{}", state.body);
    // Her own, valid CSRF token does not make her an agent.
    let account = alice.get("/account").await;
    let mut form = vec![csrf(&account)];
    form.extend(asking(&[("subject", "dave")]));
    let posted = alice.post("/console/requests", &form).await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN, "{}", posted.body);
    assert!(
        !account.body.contains("href=\"/console\""),
        "no console link for a user"
    );
    let bobs_account = bob.get("/account").await;
    assert!(
        bobs_account
            .body
            .contains("<a href=\"/console\">Support console</a>")
    );
}

#[tokio::test]
async fn an_agent_asks_by_username_and_by_email_and_the_request_waits_on_both_pages() {
    let scene = support_desk().await;
    let (bob, _) = console_of(&scene, "bob").await;
    let answer = ask(&bob, asking(&[])).await;
    let to_alice = done_id(&answer, "asked", "request");
    let page = bob.get(&answer.location()).await;
    assert_eq!(
        notice(&page),
        "You asked alice for access (SUP-42). Their answer will show on this page."
    );
    let waiting = card(list(&page, "waiting"), &request_marker(&to_alice)).expect("waiting");
    assert!(waiting.contains("data-status=\"pending\""), "{waiting}");
    assert!(
        waiting.contains("Your request to alice (SUP-42)"),
        "{waiting}"
    );
    assert!(waiting.contains(REASON));
    assert!(
        waiting.contains(
            "Cancel<span class=\"visually-hidden\"> your request to alice (SUP-42)</span>"
        )
    );

    let by_email = ask(
        &bob,
        asking(&[("subject", "dave@example.com"), ("ticket", "SUP-43")]),
    )
    .await;
    let to_dave = done_id(&by_email, "asked", "request");
    let page = bob.get("/console").await;
    let waiting = list(&page, "waiting");
    assert!(card(waiting, &request_marker(&to_alice)).is_some());
    let dave_card = card(waiting, &request_marker(&to_dave)).expect("dave's");
    assert!(
        dave_card.contains("<dt>Account</dt><dd>dave</dd>"),
        "{dave_card}"
    );

    let alice = signed_in_to_account(&scene.app, "alice").await;
    let account = alice.get("/account").await;
    let hers = card(&account.body, &request_marker(&to_alice)).expect("on alice's /account");
    assert!(
        hers.contains("bob asks to act in your account (SUP-42)"),
        "{hers}"
    );
    assert!(
        card(&account.body, &request_marker(&to_dave)).is_none(),
        "dave's is not hers"
    );
}

/// A refused form: what is wrong, the fields changed, the message's id and its words.
type Refused<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a str);

#[tokio::test]
async fn each_refused_form_comes_back_400_with_its_values_and_the_message_beside_its_field() {
    let scene = support_desk().await;
    let (bob, _) = console_of(&scene, "bob").await;
    let cases: &[Refused] = &[
        (
            "an unknown user",
            &[("subject", "mallory")],
            "ask-subject-error",
            "No one has the username or email “mallory”: check it with the person.",
        ),
        (
            "no scope ticked",
            &[("scope", "")],
            "ask-scope-error",
            "Tick at least one thing you need to do.",
        ),
        (
            "no reason",
            &[("reason", "")],
            "ask-reason-error",
            "Say why you need access: the person reads it before answering.",
        ),
        (
            "a duration not offered",
            &[("duration", "forever")],
            "ask-duration-error",
            "Choose for how long from the list.",
        ),
        (
            "a duration beyond the policy",
            &[("duration", "99999999")],
            "ask-duration-error",
            "Choose for how long from the list.",
        ),
        (
            "a client that may not exchange tokens",
            &[("client_id", "reports")],
            "ask-client-error",
            "reports cannot act in accounts: choose another support tool.",
        ),
        (
            "an app not open to delegated sign-in",
            &[("app", "console")],
            "ask-app-error",
            "Choose apps from the list only.",
        ),
        (
            "their own account",
            &[("subject", "bob")],
            "ask-subject-error",
            "That is your own account: you need no access to it.",
        ),
    ];
    for (what, changes, error_id, message) in cases {
        let page = ask(&bob, asking(changes)).await;
        assert_eq!(
            page.status,
            StatusCode::BAD_REQUEST,
            "{what}: {}",
            page.body
        );
        assert_eq!(
            field_error(&page),
            (error_id.to_string(), message.to_string()),
            "{what}"
        );
        // The message sits beside its field, which is marked invalid and described by it.
        let described = format!("aria-describedby=\"{error_id}\"");
        assert!(page.body.contains(&described), "{what}: {}", page.body);
        assert!(
            page.body
                .contains("<title>Check the form · Support console · behalf</title>")
        );
        // What was sent is kept.
        let subject = changes
            .iter()
            .find(|(n, _)| *n == "subject")
            .map_or("alice", |(_, v)| v);
        assert_eq!(page.input("subject").as_deref(), Some(subject), "{what}");
        assert_eq!(page.input("ticket").as_deref(), Some("SUP-42"), "{what}");
        if !changes.iter().any(|(n, _)| *n == "reason") {
            assert!(
                page.body.contains(&format!(">{REASON}</textarea>")),
                "{what}"
            );
        }
        let read_ticked = page.body.contains("value=\"read\" checked");
        assert_eq!(
            read_ticked,
            !changes.contains(&("scope", "")),
            "{what}: read ticked"
        );
        assert!(
            list(&page, "waiting").contains("None of your requests is waiting"),
            "{what}: nothing filed"
        );
    }

    // The 409 case of the API: a second request to alice while one waits.
    let first = ask(&bob, asking(&[])).await;
    let waiting = done_id(&first, "asked", "request");
    let second = ask(&bob, asking(&[("ticket", "SUP-99")])).await;
    assert_eq!(second.status, StatusCode::BAD_REQUEST, "{}", second.body);
    assert_eq!(
        field_error(&second),
        (
            "ask-subject-error".to_string(),
            "You already asked alice, and that request is waiting for an answer: cancel it under “Waiting for an answer” to ask again.".to_string()
        )
    );
    assert_eq!(second.input("ticket").as_deref(), Some("SUP-99"));
    let listed = list(&second, "waiting");
    assert_eq!(listed.matches("data-request-id=").count(), 1, "{listed}");
    assert!(card(listed, &request_marker(&waiting)).is_some());

    // A forged CSRF token: 403, nothing filed, a way back to the console.
    let mut forged = vec![field("csrf_token", "forged")];
    forged.extend(asking(&[("subject", "dave")]));
    let refused = bob.post("/console/requests", &forged).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("nothing was changed. Go back to the support console to try again.")
    );
    assert!(refused.body.contains("Back to the support console</a>"));
    let page = bob.get("/console").await;
    assert_eq!(
        list(&page, "waiting").matches("data-request-id=").count(),
        1
    );
}

#[tokio::test]
async fn cancel_moves_the_request_to_ended_on_both_pages() {
    let scene = support_desk().await;
    let (bob, _) = console_of(&scene, "bob").await;
    let id = done_id(&ask(&bob, asking(&[])).await, "asked", "request");
    let page = bob.get("/console").await;
    let mut form = vec![csrf(&page)];
    let cancelled = bob
        .post(&format!("/console/requests/{id}/cancel"), &form)
        .await;
    assert_eq!(done_id(&cancelled, "cancelled", "request"), id);
    let page = bob.get(&cancelled.location()).await;
    assert_eq!(
        notice(&page),
        "You cancelled your request to alice (SUP-42)."
    );
    assert!(card(list(&page, "waiting"), &request_marker(&id)).is_none());
    let ended = card(list(&page, "ended"), &request_marker(&id)).expect("ended");
    assert!(ended.contains("data-status=\"cancelled\""), "{ended}");
    assert!(
        ended.contains("Your request to alice (SUP-42): Cancelled by you"),
        "{ended}"
    );
    assert!(
        !ended.contains("<button"),
        "nothing to press on an ended request"
    );

    // Again: it has already ended (409), and another agent's is not found (404).
    let again = bob
        .post(&format!("/console/requests/{id}/cancel"), &form)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(
        again
            .body
            .contains("That request is no longer waiting for an answer: it is cancelled.")
    );
    let (carol, carols) = console_of(&scene, "carol").await;
    form = vec![csrf(&carols)];
    let other = carol
        .post(&format!("/console/requests/{id}/cancel"), &form)
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.body);

    let alice = signed_in_to_account(&scene.app, "alice").await;
    let account = alice.get("/account").await;
    assert!(
        account
            .body
            .contains("bob&#39;s request (SUP-42): Cancelled by bob"),
        "{}",
        account.body
    );
}

#[tokio::test]
async fn once_approved_your_access_shows_the_time_left_and_opens_the_app_as_the_user_until_ended() {
    let scene = support_desk().await;
    let (bob, _) = console_of(&scene, "bob").await;
    let id = done_id(
        &ask(&bob, asking(&[("app", "shop")])).await,
        "asked",
        "request",
    );
    approve_on_the_screen(&scene.app, "alice", &id).await;
    let page = bob.get("/console").await;
    assert!(list(&page, "waiting").contains("None of your requests is waiting"));
    let access = list(&page, "access");
    assert_eq!(access.matches("data-grant-id=").count(), 1, "{access}");
    let grant_id = access
        .split("data-grant-id=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let grant = card(access, &grant_marker(&grant_id)).unwrap();
    assert!(grant.contains("data-status=\"active\""), "{grant}");
    assert!(
        grant.contains("You can act in alice&#39;s account (SUP-42)"),
        "{grant}"
    );
    assert!(grant.contains("1 hour left</strong>"), "{grant}");
    assert!(
        grant.contains("<dt>Sign in as them to</dt><dd>Example Shop</dd>"),
        "{grant}"
    );
    let issuer = form_urlencoded::byte_serialize(scene.app.issuer().as_bytes()).collect::<String>();
    let href = format!("{SHOP_LOGIN}?iss={issuer}&login_hint=alice");
    assert!(
        issuer.contains("%3A%2F%2F"),
        "the issuer is URL-encoded: {issuer}"
    );
    let link = format!(
        "<a href=\"{}\">Open Example Shop as alice</a>",
        escaped(&href)
    );
    assert!(grant.contains(&link), "{link} in {grant}");
    assert!(grant.contains(
        "End access<span class=\"visually-hidden\"> to alice&#39;s account (SUP-42)</span>"
    ));

    let ended = bob
        .post(&format!("/console/grants/{grant_id}/end"), &[csrf(&page)])
        .await;
    assert_eq!(done_id(&ended, "ended", "grant"), grant_id);
    let page = bob.get(&ended.location()).await;
    assert_eq!(
        notice(&page),
        "You ended the access to alice&#39;s account (SUP-42)."
    );
    assert!(list(&page, "access").contains("You cannot act in anyone&#39;s account right now."));
    let gone = card(list(&page, "ended"), &grant_marker(&grant_id)).expect("ended");
    assert!(gone.contains("data-status=\"revoked\""), "{gone}");
    assert!(
        gone.contains("Access to alice&#39;s account (SUP-42): Ended by you"),
        "{gone}"
    );
    assert!(gone.contains("<dt>Ended</dt><dd><time datetime="), "{gone}");
    assert!(
        !gone.contains("Open Example Shop"),
        "no way in under an ended grant"
    );
    assert!(gone.contains("<dt>What it allowed</dt>"), "{gone}");

    let alice = signed_in_to_account(&scene.app, "alice").await;
    let account = alice.get("/account").await;
    assert!(
        account.body.contains("Ended by the agent (bob)"),
        "{}",
        account.body
    );
}

#[tokio::test]
async fn the_state_is_the_lists_as_json_never_cached() {
    let scene = support_desk().await;
    let (bob, _) = console_of(&scene, "bob").await;
    let waiting_id = done_id(&ask(&bob, asking(&[])).await, "asked", "request");
    let to_dave = ask(&bob, asking(&[("subject", "dave"), ("app", "shop")])).await;
    let approved_id = done_id(&to_dave, "asked", "request");
    approve_on_the_screen(&scene.app, "dave", &approved_id).await;

    let answer = bob.get("/console/state").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.headers["cache-control"], "no-store");
    assert!(
        answer.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let state: Value = serde_json::from_str(&answer.body).unwrap();
    let waiting = state["waiting"]["cards"].as_array().unwrap();
    assert_eq!(waiting.len(), 1, "{state}");
    assert_eq!(waiting[0]["kind"], "request");
    assert_eq!(waiting[0]["id"], waiting_id.as_str());
    assert_eq!(waiting[0]["status"], "pending");
    assert_eq!(waiting[0]["user"], "alice");
    assert_eq!(
        waiting[0]["action"]["path"],
        format!("/console/requests/{waiting_id}/cancel")
    );
    assert_eq!(
        waiting[0]["action"]["hidden"],
        " your request to alice (SUP-42)"
    );
    let access = state["access"]["cards"].as_array().unwrap();
    assert_eq!(access.len(), 1, "{state}");
    assert_eq!(access[0]["kind"], "grant");
    assert_eq!(access[0]["status"], "active");
    assert_eq!(access[0]["user"], "dave");
    assert_eq!(access[0]["left"]["text"], "1 hour left");
    let issuer = form_urlencoded::byte_serialize(scene.app.issuer().as_bytes()).collect::<String>();
    assert_eq!(
        access[0]["links"],
        serde_json::json!([{"href": format!("{SHOP_LOGIN}?iss={issuer}&login_hint=dave"), "text": "Open Example Shop as dave"}])
    );
    assert_eq!(state["ended"]["cards"], serde_json::json!([]));
    assert_eq!(state["ended"]["empty"], "Nothing has ended yet.");
    assert_eq!(state["waiting"]["more"], Value::Null);

    // The page shows the same cards.
    let page = bob.get("/console").await;
    for (name, cards) in [("waiting", waiting), ("access", access)] {
        for c in cards {
            let marker = format!(
                "data-{}-id=\"{}\" data-status=\"{}\"",
                c["kind"].as_str().unwrap(),
                c["id"].as_str().unwrap(),
                c["status"].as_str().unwrap()
            );
            assert!(list(&page, name).contains(&marker), "{marker} in {name}");
        }
    }
    // Nobody else's lists: carol (of bob's team) sees none of bob's named access.
    let (carol, _) = console_of(&scene, "carol").await;
    let hers: Value = serde_json::from_str(&carol.get("/console/state").await.body).unwrap();
    assert_eq!(hers["waiting"]["cards"], serde_json::json!([]));
    assert_eq!(hers["access"]["cards"], serde_json::json!([]));
}

#[tokio::test]
async fn a_team_grant_shows_in_the_console_of_every_agent_of_the_team_and_says_who_ended_it() {
    let scene = support_desk().await;
    let alice = signed_in_to_account(&scene.app, "alice").await;
    let account = alice.get("/account").await;
    let mut form = vec![csrf(&account)];
    form.extend(
        [
            ("team", "Support"),
            ("client_id", "console"),
            ("scope", "read"),
            ("app", "shop"),
            ("duration", "3600"),
        ]
        .iter()
        .map(|(n, v)| field(n, v)),
    );
    let given = alice.post("/account/grants", &form).await;
    assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.body);
    let grant_id = given.location().split("grant=").nth(1).unwrap().to_string();

    for agent in ["bob", "carol"] {
        let (_, page) = console_of(&scene, agent).await;
        let grant = card(list(&page, "access"), &grant_marker(&grant_id))
            .unwrap_or_else(|| panic!("{agent}: {}", page.body));
        assert!(
            grant.contains("The Support team can act in alice&#39;s account"),
            "{grant}"
        );
        assert!(
            grant.contains("<dt>Given to</dt><dd>The Support team</dd>"),
            "{grant}"
        );
        assert!(grant.contains("Open Example Shop as alice</a>"), "{grant}");
    }
    let (_, erins) = console_of(&scene, "erin").await;
    assert!(
        !erins.body.contains(&grant_marker(&grant_id)),
        "erin is in Sales"
    );

    // carol ends it from her console; bob's says she did.
    let (carol, page) = console_of(&scene, "carol").await;
    let ended = carol
        .post(&format!("/console/grants/{grant_id}/end"), &[csrf(&page)])
        .await;
    assert_eq!(done_id(&ended, "ended", "grant"), grant_id);
    let (_, bobs) = console_of(&scene, "bob").await;
    let gone = card(list(&bobs, "ended"), &grant_marker(&grant_id)).expect("ended for bob");
    assert!(
        gone.contains("Access to alice&#39;s account: Ended by carol"),
        "{gone}"
    );
    let (_, carols) = console_of(&scene, "carol").await;
    let hers = card(list(&carols, "ended"), &grant_marker(&grant_id)).unwrap();
    assert!(hers.contains("Ended by you"), "{hers}");

    // One alice ends herself reads so.
    let again = alice
        .post("/account/grants", &{
            let page = alice.get("/account").await;
            let mut form = vec![csrf(&page)];
            form.extend(
                [
                    ("team", "Support"),
                    ("client_id", "console"),
                    ("scope", "read"),
                    ("duration", "900"),
                ]
                .iter()
                .map(|(n, v)| field(n, v)),
            );
            form
        })
        .await;
    let second = again.location().split("grant=").nth(1).unwrap().to_string();
    assert_eq!(
        end_on_the_screen(&scene.app, "alice", &second).await,
        StatusCode::SEE_OTHER
    );
    let (_, bobs) = console_of(&scene, "bob").await;
    let by_alice = card(list(&bobs, "ended"), &grant_marker(&second)).unwrap();
    assert!(by_alice.contains(": Ended by alice"), "{by_alice}");
}

/// docs/security.md M5: behalf's own pages never run as the user. bob acts
/// as alice in Example Shop under her grant; his session at behalf is still
/// his own: /account and /console are bob's, none of alice's; alice's
/// session is never the console's.
#[tokio::test]
async fn the_console_and_the_account_belong_to_whoever_signed_in_even_while_acting_as_a_user() {
    let scene = support_desk().await;
    let alice = signed_in_to_account(&scene.app, "alice").await;
    let account = alice.get("/account").await;
    let mut form = vec![csrf(&account)];
    form.extend(
        [
            ("agent", "bob"),
            ("client_id", "console"),
            ("scope", "read"),
            ("app", "shop"),
            ("duration", "3600"),
            ("reason", "Order 1234 will not ship"),
        ]
        .iter()
        .map(|(n, v)| field(n, v)),
    );
    let given = alice.post("/account/grants", &form).await;
    let grant_id = given.location().split("grant=").nth(1).unwrap().to_string();

    // bob follows the shop's sign-in as alice and acts.
    let bob = Browser::new(&scene.app);
    let (_, challenge) = pkce();
    let url = authorize_url(
        &scene.app,
        "shop",
        &challenge,
        &[("login_hint", "alice"), ("scope", "openid profile read")],
    );
    let login = bob.get(&url).await;
    let signed_in = bob.sign_in(&login.location(), "bob", PASSWORD).await;
    let offer = bob.get(&signed_in.location()).await;
    assert!(
        offer.body.contains("Act as alice in Example Shop?"),
        "{}",
        offer.body
    );
    let start = offer.body.find(&grant_marker(&grant_id)).unwrap();
    let end = start + offer.body[start..].find("</form>").unwrap();
    let mut act = Page {
        status: offer.status,
        headers: offer.headers.clone(),
        body: offer.body[start..end].to_string(),
    }
    .hidden_inputs();
    act.push(field("decision", "act"));
    let code = bob.post("/authorize/act", &act).await;
    assert_eq!(code.status, StatusCode::SEE_OTHER, "{}", code.body);
    assert!(code.location().starts_with(CALLBACK), "{}", code.location());

    let his_account = bob.get("/account").await;
    assert_eq!(his_account.status, StatusCode::OK);
    assert!(
        his_account
            .body
            .contains("Signed in as <strong>bob</strong>"),
        "{}",
        his_account.body
    );
    assert!(
        !his_account
            .body
            .contains("Signed in as <strong>alice</strong>")
    );
    assert!(
        !his_account.body.contains(&grant_marker(&grant_id)),
        "alice's grant is not on bob's /account"
    );
    let his_console = bob.get("/console").await;
    assert_eq!(his_console.status, StatusCode::OK);
    assert!(
        his_console
            .body
            .contains("Signed in as <strong>bob</strong>")
    );
    assert!(
        card(list(&his_console, "access"), &grant_marker(&grant_id)).is_some(),
        "his to use"
    );
    // What bob may do at /account is his own: alice's grant cannot be ended there as hers.
    let revoke = bob
        .post(
            &format!("/account/grants/{grant_id}/revoke"),
            &[csrf(&his_account)],
        )
        .await;
    assert_eq!(revoke.status, StatusCode::NOT_FOUND, "{}", revoke.body);

    assert_eq!(alice.get("/console").await.status, StatusCode::FORBIDDEN);
    let hers = alice.get("/account").await;
    assert!(hers.body.contains("Signed in as <strong>alice</strong>"));
    assert!(hers.body.contains(&grant_marker(&grant_id)));
}

/// docs/security.md L5: each list shows at most 50, newest first, with a link
/// to the next page; "Ended" merges requests and grants without repeats.
#[tokio::test]
async fn each_list_holds_at_most_fifty_a_page_and_links_to_the_rest() {
    use behalf::delegation::console::lists::PAGE;
    use behalf::store::access_requests::{AccessRequestRow, RequestState};
    use behalf::store::grants::GrantRow;
    let scene = support_desk().await;
    let (bob, alice, now) = (
        scene.subs["bob"].clone(),
        scene.subs["alice"].clone(),
        scene.app.clock_now(),
    );
    let (waiting, cancelled, revoked) = (PAGE + 2, PAGE + 3, 2_usize);
    scene
        .app
        .state
        .db
        .run(move |c| {
            let request = |id: String, status: RequestState, created_at: i64| AccessRequestRow {
                id,
                agent_sub: bob.clone(),
                subject_sub: alice.clone(),
                client_id: "console".into(),
                scopes: "read".into(),
                duration: 600,
                reason: "seeded".into(),
                ticket: String::new(),
                status: status.as_str().into(),
                created_at,
                expires_at: now + 3600,
                decided_at: Some(created_at),
                grant_id: None,
                apps: String::new(),
            };
            for i in 0..waiting as i64 {
                request(format!("w{i:03}"), RequestState::Pending, now - i).insert(c)?;
            }
            // Ended: cancelled requests at even seconds back, revoked grants between them.
            for i in 0..cancelled as i64 {
                request(format!("c{i:03}"), RequestState::Cancelled, now - 2 * i).insert(c)?;
            }
            for i in 0..revoked as i64 {
                GrantRow {
                    id: format!("g{i:03}"),
                    subject_sub: alice.clone(),
                    agent_sub: Some(bob.clone()),
                    client_id: "console".into(),
                    scopes: "read".into(),
                    audiences: "api".into(),
                    reason: "seeded".into(),
                    ticket: String::new(),
                    request_id: None,
                    created_at: now - 2 * i - 1,
                    expires_at: now + 3600,
                    revoked_at: Some(now),
                    revoked_by: Some("user".into()),
                    team: None,
                    apps: String::new(),
                    first_used_at: None,
                }
                .insert(c)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let (bob, first) = console_of(&scene, "bob").await;
    let shown = |html: &str| -> Vec<String> {
        html.split("<section class=\"card")
            .skip(1)
            .map(|card| {
                let at = card.find("-id=\"").unwrap() + 5;
                card[at..].split('"').next().unwrap().to_string()
            })
            .collect()
    };
    assert_eq!(shown(list(&first, "waiting")).len(), PAGE);
    assert!(list(&first, "waiting").contains(">More waiting requests</a>"));
    let ended = shown(list(&first, "ended"));
    assert_eq!(ended.len(), PAGE);
    // Newest first across both kinds: c000, g000, c001, g001, c002, ...
    assert_eq!(ended[..5], ["c000", "g000", "c001", "g001", "c002"]);
    let more = list(&first, "ended")
        .split("href=\"")
        .find(|part| part.starts_with("/console?ended="))
        .expect("a link to older ended ones")
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let older = bob.get(&more).await;
    assert_eq!(older.status, StatusCode::OK);
    let rest = shown(list(&older, "ended"));
    assert_eq!(rest.len(), cancelled + revoked - PAGE, "{rest:?}");
    assert!(
        rest.iter().all(|id| !ended.contains(id)),
        "no repeats: {rest:?}"
    );
    assert!(list(&older, "ended").contains("<a href=\"/console\">Back to the newest</a>"));
    assert!(!list(&older, "ended").contains("rel=\"next\""));
    // The other lists stay on their first page; the state follows the same cursor.
    assert_eq!(shown(list(&older, "waiting")).len(), PAGE);
    assert!(older.body.contains(&format!(
        "data-console-state=\"/console/state?{}\"",
        &more["/console?".len()..]
    )));
    let state: Value = serde_json::from_str(
        &bob.get(&more.replace("/console?", "/console/state?"))
            .await
            .body,
    )
    .unwrap();
    let ids: Vec<&str> = state["ended"]["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, rest);
    // A cursor the console did not give is the first page.
    let forged = bob.get("/console?ended=bm90LWEtY3Vyc29y").await;
    assert_eq!(shown(list(&forged, "ended")), ended);
}

#[tokio::test]
async fn what_an_agent_typed_is_shown_escaped_and_the_state_carries_it_as_text() {
    let scene = support_desk().await;
    let (bob, _) = console_of(&scene, "bob").await;
    let hostile = "<img src=x onerror=alert(1)> & \"quotes\"";
    let asked = ask(
        &bob,
        asking(&[("reason", hostile), ("ticket", "<b>T-1</b>")]),
    )
    .await;
    done_id(&asked, "asked", "request");
    let page = bob.get(&asked.location()).await;
    assert!(!page.body.contains("<img src=x"), "{}", page.body);
    assert!(!page.body.contains("<b>T-1</b>"));
    assert!(
        page.body
            .contains("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;")
    );
    assert!(
        page.body
            .contains("Your request to alice (&lt;b&gt;T-1&lt;/b&gt;)")
    );
    // A refused form keeps it, escaped, too.
    let refused = ask(&bob, asking(&[("reason", hostile), ("scope", "")])).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused
            .body
            .contains("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;</textarea>")
    );
    let state: Value = serde_json::from_str(&bob.get("/console/state").await.body).unwrap();
    let why = &state["waiting"]["cards"][0]["facts"][1];
    assert_eq!(why["term"], "Why");
    assert_eq!(why["text"], hostile, "the script draws it with textContent");
}

#[tokio::test]
async fn at_the_cap_on_pending_requests_the_form_comes_back_429_with_the_message_above_it() {
    let app = TestApp::spawn_configured(|s| s.policy.max_pending_requests_per_agent = 1).await;
    let scene = support_desk_on(app).await;
    let (bob, _) = console_of(&scene, "bob").await;
    done_id(&ask(&bob, asking(&[])).await, "asked", "request");
    let refused = ask(&bob, asking(&[("subject", "dave"), ("ticket", "SUP-43")])).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    assert_eq!(
        field_error(&refused),
        (
            "ask-form-error".to_string(),
            "Too many of your requests are waiting for an answer. Cancel one you no longer need, or ask again in 1 day.".to_string()
        )
    );
    assert_eq!(refused.input("subject").as_deref(), Some("dave"));
    assert_eq!(refused.input("ticket").as_deref(), Some("SUP-43"));
    assert_eq!(
        list(&refused, "waiting")
            .matches("data-request-id=")
            .count(),
        1
    );
}
