//! The agent API's lists (docs/contract.md "Access requests API", "Lists"):
//! `GET /api/access-requests` (the caller's own requests) and `GET
//! /api/grants` (the grants it may use, named or through its team), newest
//! first a page at a time with a cursor, filtered by status as it stands when
//! read; `GET /api/grants/{id}` and the grant object; `apps` on a request.
//! Every answer, refusals too, is `no-store`.

use crate::fixtures::{
    CALLBACK, Scene, World, api, approve_on_the_screen, ask, csrf, file_request_as,
    signed_in_to_account,
};
use crate::helpers::TestApp;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use behalf::oauth::registration::{self, NewClient};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A GET of the agent API as the agent holding `token`; every answer is `no-store`.
async fn get(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    let (status, headers, body) = api(app, Method::GET, path, Some(token), None).await;
    assert_eq!(headers["cache-control"], "no-store", "{path}: {body}");
    (status, body)
}

/// Every page of the list at `path` (which has a query already), following
/// `next` until it is null: the pages' items, page by page.
async fn every_page(app: &TestApp, token: &str, path: &str) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let url = match &next {
            Some(cursor) => format!("{path}&after={cursor}"),
            None => path.to_string(),
        };
        let (status, body) = get(app, token, &url).await;
        assert_eq!(status, StatusCode::OK, "{url}: {body}");
        pages.push(body["items"].as_array().unwrap().clone());
        match &body["next"] {
            Value::Null => return pages,
            cursor => next = Some(cursor.as_str().unwrap().to_string()),
        }
        assert!(pages.len() < 20, "the cursor never ran out");
    }
}

/// The ids of one page of the list at `path`.
async fn listed(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    let (status, body) = get(app, token, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    ids(body["items"].as_array().unwrap())
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

/// The agent holding `token` asks `user` for `read` for an hour; the request's id.
async fn ask_user(app: &TestApp, token: &str, user: &str, apps: Option<Value>) -> String {
    let mut body = ask("read", 3600);
    body["subject"] = json!(user);
    if let Some(apps) = apps {
        body["apps"] = apps;
    }
    let (status, headers, created) = api(
        app,
        Method::POST,
        "/api/access-requests",
        Some(token),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(headers["cache-control"], "no-store");
    created["id"].as_str().unwrap().to_string()
}

/// Registers `id` as an app, for delegated sign-in or not.
async fn add_app(app: &TestApp, id: &str, delegated_sign_in: bool) {
    let (row, _) = registration::register(
        NewClient {
            client_id: id.into(),
            redirect_uris: vec![CALLBACK.into()],
            scopes: vec!["openid".into()],
            name: Some(format!("App {id}")),
            delegated_sign_in,
            ..NewClient::default()
        },
        0,
    )
    .unwrap();
    app.state.db.run(move |c| row.insert(c)).await.unwrap();
}

/// `user` denies request `id` on the account page.
async fn deny_on_the_screen(app: &TestApp, user: &str, id: &str) {
    let browser = signed_in_to_account(app, user).await;
    let page = browser.get("/account").await;
    let denied = browser
        .post(&format!("/account/requests/{id}/deny"), &[csrf(&page)])
        .await;
    assert_eq!(denied.status, StatusCode::SEE_OTHER, "{}", denied.body);
}

/// The grant behind approved request `id`, as the agent reads the request.
async fn grant_of(app: &TestApp, token: &str, id: &str) -> String {
    let (_, request) = get(app, token, &format!("/api/access-requests/{id}")).await;
    request["grant_id"].as_str().unwrap().to_string()
}

/// alice gives the Support team `read` for an hour with "Allow support access"; the grant's id.
async fn give_to_support(scene: &Scene) -> String {
    let browser = signed_in_to_account(&scene.app, "alice").await;
    let page = browser.get("/account").await;
    let mut form = vec![csrf(&page)];
    for (name, value) in [
        ("team", "Support"),
        ("agent", ""),
        ("client_id", "console"),
        ("scope", "read"),
        ("duration", "3600"),
    ] {
        form.push((name.into(), value.into()));
    }
    let given = browser.post("/account/grants", &form).await;
    assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.body);
    let location = given.location();
    location.split("grant=").nth(1).unwrap().to_string()
}

#[tokio::test]
async fn requests_come_newest_first_over_three_pages_without_repeats_or_gaps() {
    let users: Vec<String> = (0..7).map(|i| format!("user{i}")).collect();
    let world = users
        .iter()
        .fold(World::new().agent("bob").console(), |w, u| w.user(u));
    let scene = world.build().await;
    let (app, bob) = (&scene.app, scene.agent_token("bob").await);
    let mut filed = Vec::new();
    for (i, user) in users.iter().enumerate() {
        // Pairs share a second: within one, the larger id comes first.
        if i % 2 == 0 {
            app.clock.advance(1);
        }
        let id = ask_user(app, &bob, user, None).await;
        filed.push((app.clock_now(), id));
    }
    filed.sort_by(|a, b| b.cmp(a));
    let newest_first: Vec<String> = filed.into_iter().map(|(_, id)| id).collect();

    let pages = every_page(app, &bob, "/api/access-requests?limit=3").await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![3, 3, 1]);
    assert_eq!(ids(&pages.concat()), newest_first);
    let (_, all) = get(app, &bob, "/api/access-requests").await;
    assert_eq!(ids(all["items"].as_array().unwrap()), newest_first);
    assert_eq!(all["next"], Value::Null);
    // A limit that ends exactly at the last one leaves no next page.
    let pages = every_page(app, &bob, "/api/access-requests?limit=7").await;
    assert_eq!(pages.len(), 1);
}

#[tokio::test]
async fn each_request_status_filters_as_it_reads_now_so_expiry_moves_requests_from_pending() {
    let scene = World::new()
        .agent("bob")
        .console()
        .user("old")
        .user("waiting")
        .user("yes")
        .user("no")
        .user("withdrawn")
        .build()
        .await;
    let app = &scene.app;
    let ttl = behalf::config::Policy::default().request_ttl_seconds;
    let old = ask_user(app, &scene.agent_token("bob").await, "old", None).await;
    app.clock.advance(ttl);
    let bob = scene.agent_token("bob").await;
    let waiting = ask_user(app, &bob, "waiting", None).await;
    let yes = ask_user(app, &bob, "yes", None).await;
    approve_on_the_screen(app, "yes", &yes).await;
    let no = ask_user(app, &bob, "no", None).await;
    deny_on_the_screen(app, "no", &no).await;
    let withdrawn = ask_user(app, &bob, "withdrawn", None).await;
    let path = format!("/api/access-requests/{withdrawn}");
    let (status, _, _) = api(app, Method::DELETE, &path, Some(&bob), None).await;
    assert_eq!(status, StatusCode::OK);

    let of = |status: &str| format!("/api/access-requests?status={status}");
    assert_eq!(listed(app, &bob, &of("pending")).await, [waiting.as_str()]);
    assert_eq!(listed(app, &bob, &of("approved")).await, [yes.as_str()]);
    assert_eq!(listed(app, &bob, &of("denied")).await, [no.as_str()]);
    assert_eq!(
        listed(app, &bob, &of("cancelled")).await,
        [withdrawn.as_str()]
    );
    assert_eq!(listed(app, &bob, &of("expired")).await, [old.as_str()]);
    let (_, all) = get(app, &bob, "/api/access-requests").await;
    let statuses: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 5, "{all}");
    assert!(statuses.iter().filter(|s| **s == "expired").count() == 1);

    // Nothing is written when a request runs out of time: the next read says so.
    app.clock.advance(ttl);
    let bob = scene.agent_token("bob").await;
    assert!(listed(app, &bob, &of("pending")).await.is_empty());
    assert_eq!(listed(app, &bob, &of("expired")).await, [waiting, old]);
    assert_eq!(listed(app, &bob, &of("approved")).await, [yes]);
}

#[tokio::test]
async fn another_agent_lists_none_of_bobs_requests_or_grants_and_gets_404_for_them() {
    let scene = World::new()
        .user("alice")
        .agent("bob")
        .agent("carol")
        .console()
        .build()
        .await;
    let app = &scene.app;
    let (bob, carol) = (
        scene.agent_token("bob").await,
        scene.agent_token("carol").await,
    );
    let id = file_request_as(app, &bob, "read", 3600).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    approve_on_the_screen(app, "alice", &id).await;
    let grant = grant_of(app, &bob, &id).await;
    assert_eq!(listed(app, &bob, "/api/grants").await, [grant.as_str()]);
    assert_eq!(
        listed(app, &bob, "/api/access-requests").await,
        [id.as_str()]
    );

    assert!(listed(app, &carol, "/api/access-requests").await.is_empty());
    assert!(listed(app, &carol, "/api/grants").await.is_empty());
    assert!(
        listed(app, &carol, "/api/grants?status=active")
            .await
            .is_empty()
    );
    for path in [format!("/api/grants/{grant}"), "/api/grants/nope".into()] {
        let (status, body) = get(app, &carol, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["error"], "not_found");
    }
    let (status, body) = get(app, &bob, &format!("/api/grants/{grant}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], grant.as_str());
}

#[tokio::test]
async fn a_team_grant_is_listed_for_every_support_agent_and_not_for_sales() {
    let scene = World::new()
        .user("alice")
        .agent_in("bob", "Support")
        .agent_in("dave", "Support")
        .agent_in("erin", "Sales")
        .console()
        .build()
        .await;
    let app = &scene.app;
    let grant = give_to_support(&scene).await;
    for agent in ["bob", "dave"] {
        let token = scene.agent_token(agent).await;
        assert_eq!(listed(app, &token, "/api/grants").await, [grant.as_str()]);
        let active = listed(app, &token, "/api/grants?status=active").await;
        assert_eq!(active, [grant.as_str()], "{agent}");
        let (status, body) = get(app, &token, &format!("/api/grants/{grant}")).await;
        assert_eq!(status, StatusCode::OK, "{agent}: {body}");
        assert_eq!(body["team"], "Support");
        assert_eq!(
            (&body["agent"], &body["agent_username"]),
            (&Value::Null, &Value::Null)
        );
    }
    let erin = scene.agent_token("erin").await;
    assert!(listed(app, &erin, "/api/grants").await.is_empty());
    let (status, _) = get(app, &erin, &format!("/api/grants/{grant}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_grant_object_has_every_field_and_says_how_and_when_it_ended() {
    let scene = World::new()
        .user("alice")
        .agent("bob")
        .console()
        .build()
        .await;
    let app = &scene.app;
    add_app(app, "shop", true).await;
    let bob = scene.agent_token("bob").await;
    let ended_early = ask_user(app, &bob, "alice", Some(json!(["shop"]))).await;
    approve_on_the_screen(app, "alice", &ended_early).await;
    let ended_early = grant_of(app, &bob, &ended_early).await;

    let (_, grant) = get(app, &bob, &format!("/api/grants/{ended_early}")).await;
    let fields: Vec<&str> = grant
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for field in [
        "id",
        "subject",
        "subject_username",
        "agent",
        "agent_username",
        "team",
        "client_id",
        "scope",
        "apps",
        "audiences",
        "reason",
        "ticket",
        "created_at",
        "expires_at",
        "status",
        "ended_at",
        "ended_by",
        "audience",
        "request_id",
        "revoked_at",
        "revoked_by",
    ] {
        assert!(fields.contains(&field), "{field} missing from {grant}");
    }
    assert_eq!(grant["subject"], scene.subs["alice"].as_str());
    assert_eq!(grant["subject_username"], "alice");
    assert_eq!(grant["agent"], scene.subs["bob"].as_str());
    assert_eq!(grant["agent_username"], "bob");
    assert_eq!(grant["team"], Value::Null);
    assert_eq!(grant["client_id"], "console");
    assert_eq!(grant["scope"], "read");
    assert_eq!(grant["apps"], json!(["shop"]));
    assert_eq!(grant["audiences"], grant["audience"]);
    assert_eq!(grant["audiences"].as_array().unwrap().len(), 1);
    assert_eq!(grant["reason"], "Customer reported a billing bug");
    assert_eq!(grant["ticket"], "SUP-42");
    assert_eq!(grant["status"], "active");
    assert_eq!(
        (&grant["ended_at"], &grant["ended_by"]),
        (&Value::Null, &Value::Null)
    );
    assert!(grant["expires_at"].as_str().unwrap().ends_with('Z'));

    // One ended by the agent, one left to expire.
    app.clock.advance(1);
    let runs_out = ask_user(app, &bob, "alice", None).await;
    approve_on_the_screen(app, "alice", &runs_out).await;
    let runs_out = grant_of(app, &bob, &runs_out).await;
    let path = format!("/api/grants/{ended_early}");
    let (status, _, ended) = api(app, Method::DELETE, &path, Some(&bob), None).await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(
        (&ended["status"], &ended["ended_by"]),
        (&json!("revoked"), &json!("agent"))
    );
    assert_eq!(ended["ended_at"], ended["revoked_at"]);
    assert_eq!(ended["agent_username"], "bob");
    let (_, read) = get(app, &bob, &path).await;
    assert_eq!(read, ended);
    assert_eq!(
        listed(app, &bob, "/api/grants?status=active").await,
        [runs_out.as_str()]
    );
    assert_eq!(
        listed(app, &bob, "/api/grants?status=ended").await,
        [ended_early.as_str()]
    );

    app.clock.advance(3600);
    let bob = scene.agent_token("bob").await;
    let (_, expired) = get(app, &bob, &format!("/api/grants/{runs_out}")).await;
    assert_eq!(
        (&expired["status"], &expired["ended_by"]),
        (&json!("expired"), &json!("expiry"))
    );
    assert_eq!(expired["ended_at"], expired["expires_at"]);
    assert_eq!(expired["revoked_at"], Value::Null);
    assert!(
        listed(app, &bob, "/api/grants?status=active")
            .await
            .is_empty()
    );
    let ended = listed(app, &bob, "/api/grants?status=ended").await;
    assert_eq!(ended, [runs_out.clone(), ended_early.clone()]);
    assert_eq!(
        listed(app, &bob, "/api/grants").await,
        [runs_out, ended_early]
    );
}

#[tokio::test]
async fn apps_on_a_request_round_trip_and_apps_not_open_to_delegated_sign_in_are_refused() {
    let scene = World::new()
        .user("alice")
        .user("carol")
        .agent("bob")
        .console()
        .build()
        .await;
    let app = &scene.app;
    add_app(app, "shop", true).await;
    add_app(app, "mail", true).await;
    add_app(app, "plain", false).await;
    let bob = scene.agent_token("bob").await;
    let id = ask_user(app, &bob, "alice", Some(json!(["shop", "mail"]))).await;
    let (_, read) = get(app, &bob, &format!("/api/access-requests/{id}")).await;
    assert_eq!(read["apps"], json!(["shop", "mail"]));
    let (_, list) = get(app, &bob, "/api/access-requests").await;
    assert_eq!(list["items"][0]["apps"], json!(["shop", "mail"]));

    let many: Vec<String> = (0..21).map(|i| format!("app{i}")).collect();
    for (apps, says) in [
        (
            json!(["shop", "plain"]),
            "plain is not an app agents can sign in to",
        ),
        (
            json!(["nowhere"]),
            "nowhere is not an app agents can sign in to",
        ),
        (
            json!(["console"]),
            "console is not an app agents can sign in to",
        ),
        (json!(many), "at most 20 apps"),
        (json!("shop"), "not the expected JSON"),
    ] {
        let mut body = ask("read", 3600);
        body["subject"] = json!("carol");
        body["apps"] = apps.clone();
        let (status, headers, refused) = api(
            app,
            Method::POST,
            "/api/access-requests",
            Some(&bob),
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{apps}: {refused}");
        assert_eq!(refused["error"], "invalid_request");
        let description = refused["error_description"].as_str().unwrap();
        assert!(description.contains(says), "{apps}: {description}");
        assert_eq!(headers["cache-control"], "no-store");
    }
    // None of them was filed; without apps, the list is empty.
    assert_eq!(listed(app, &bob, "/api/access-requests").await, [id]);
    let carol = ask_user(app, &bob, "carol", None).await;
    let (_, read) = get(app, &bob, &format!("/api/access-requests/{carol}")).await;
    assert_eq!(read["apps"], json!([]));
}

#[tokio::test]
async fn a_bad_limit_cursor_or_status_is_400_invalid_request_on_both_lists() {
    let scene = World::new()
        .user("alice")
        .agent("bob")
        .console()
        .build()
        .await;
    let (app, bob) = (&scene.app, scene.agent_token("bob").await);
    let forged = URL_SAFE_NO_PAD.encode("yesterday:r1");
    for list in ["/api/access-requests", "/api/grants"] {
        for query in [
            "limit=0".to_string(),
            "limit=101".into(),
            "limit=ten".into(),
            "limit=".into(),
            "limit=5&limit=6".into(),
            "after=not%20a%20cursor".into(),
            format!("after={forged}"),
            "status=everything".into(),
        ] {
            let (status, body) = get(app, &bob, &format!("{list}?{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{list}?{query}: {body}");
            assert_eq!(body["error"], "invalid_request", "{list}?{query}");
        }
        let (status, body) = get(app, &bob, &format!("{list}?limit=100")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, json!({"items": [], "next": null}));
    }
    // Each list has its own statuses.
    let (status, _) = get(app, &bob, "/api/grants?status=pending").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get(app, &bob, "/api/access-requests?status=active").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_lists_and_a_grant_answer_no_store_to_strangers_too() {
    let scene = World::new()
        .user("alice")
        .agent("bob")
        .console()
        .build()
        .await;
    let app = &scene.app;
    let alice =
        crate::fixtures::console_token(app, scene.console_secret(), "alice", "openid").await;
    for path in ["/api/access-requests", "/api/grants", "/api/grants/nope"] {
        let (status, headers, _) = api(app, Method::GET, path, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        let (status, body) = get(app, &alice, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
    }
}
