//! The consent screen (`/account`): approve as asked or narrowed, deny, end
//! access; expiry on the injected clock; the agent ending a grant; isolation
//! between accounts (docs/security.md J1, J2, J6, E15).

use crate::fixtures::{
    Browser, Desk, PASSWORD, api, approve_on_the_screen, csrf, desk, file_request,
    signed_in_to_account,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn alice(d: &Desk) -> Browser {
    signed_in_to_account(&d.app, "alice").await
}

async fn read_request(d: &Desk, id: &str) -> serde_json::Value {
    read_request_as(d, &d.bob, id).await
}

async fn read_request_as(d: &Desk, token: &str, id: &str) -> serde_json::Value {
    crate::fixtures::read_request_as(&d.app, token, id).await
}

/// A fresh agent token for bob (after the clock moved past the old one's expiry).
async fn bob_again(d: &Desk) -> String {
    crate::fixtures::console_token(&d.app, &d.secret, "bob", "openid agent").await
}

#[tokio::test]
async fn alice_approves_a_request_as_asked_and_bob_reads_back_the_grant() {
    let d = desk().await;
    let id = file_request(&d, "read write", 7200).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let browser = alice(&d).await;
    let page = browser.get("/account").await;
    assert!(page.body.contains(&format!("data-request-id=\"{id}\"")));
    assert!(page.body.contains("bob asks to act in your account"));
    assert!(page.body.contains("SUP-42") && page.body.contains("2 hours"));
    let approved = browser
        .post(&format!("/account/requests/{id}/approve"), &[csrf(&page)])
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER);
    assert_eq!(
        approved.location(),
        format!("/account?done=approved&request={id}")
    );

    let request = read_request(&d, &id).await;
    assert_eq!(request["status"], "approved");
    assert_eq!(request["scope"], "read write");
    assert_eq!(request["duration"], 7200);
    assert_eq!(request["grant_status"], "active");
    let grant_id = request["grant_id"].as_str().unwrap();
    let after = browser.get("/account").await;
    assert!(after.body.contains(&format!(
        "data-grant-id=\"{grant_id}\" data-grant-status=\"active\""
    )));
    assert!(after.body.contains("2 hours left"));
    assert!(
        !after.body.contains(&format!("data-request-id=\"{id}\"")),
        "no longer pending"
    );
}

#[tokio::test]
async fn alice_approves_narrowed_shorter_and_with_fewer_scopes() {
    let d = desk().await;
    let id = file_request(&d, "read write", 7200).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let browser = alice(&d).await;
    let page = browser.get("/account").await;
    let form = [
        csrf(&page),
        ("narrow".into(), "1".into()),
        ("scope".into(), "read".into()),
        ("duration".into(), "3600".into()),
    ];
    assert_eq!(
        browser
            .post(&format!("/account/requests/{id}/approve"), &form)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let request = read_request(&d, &id).await;
    assert_eq!(request["scope"], "read");
    assert_eq!(request["duration"], 3600);
    let granted_for = chrono_free_seconds(&request["grant_expires_at"]) - d.app.clock_now();
    assert_eq!(granted_for, 3600);
}

/// Seconds since the epoch of an RFC 3339 UTC string (as the API writes them).
fn chrono_free_seconds(value: &serde_json::Value) -> i64 {
    let s = value.as_str().unwrap();
    let (date, time) = s.trim_end_matches('Z').split_once('T').unwrap();
    let d: Vec<i64> = date.split('-').map(|p| p.parse().unwrap()).collect();
    let t: Vec<i64> = time.split(':').map(|p| p.parse().unwrap()).collect();
    let (y, m) = if d[1] <= 2 {
        (d[0] - 1, d[1] + 9)
    } else {
        (d[0], d[1] - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d[2] - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400 + t[0] * 3600 + t[1] * 60 + t[2]
}

#[tokio::test]
async fn approving_longer_or_wider_than_asked_or_with_nothing_ticked_is_refused() {
    let d = desk().await;
    let id = file_request(&d, "read", 3600).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let browser = alice(&d).await;
    let page = browser.get("/account").await;
    for extra in [
        vec![("duration".to_string(), "7200".to_string())],
        vec![("scope".into(), "write".into())],
        vec![("narrow".into(), "1".into())],
        vec![("duration".into(), "30".into())],
    ] {
        let mut form = vec![csrf(&page)];
        form.extend(extra.clone());
        let answer = browser
            .post(&format!("/account/requests/{id}/approve"), &form)
            .await;
        assert!(
            answer.status.is_client_error(),
            "{extra:?}: {}",
            answer.status
        );
    }
    assert_eq!(read_request(&d, &id).await["status"], "pending");
}

#[tokio::test]
async fn alice_denies_and_bob_sees_denied() {
    let d = desk().await;
    let id = file_request(&d, "read", 3600).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let browser = alice(&d).await;
    let page = browser.get("/account").await;
    assert_eq!(
        browser
            .post(&format!("/account/requests/{id}/deny"), &[csrf(&page)])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let request = read_request(&d, &id).await;
    assert_eq!(request["status"], "denied");
    assert_eq!(request["grant_id"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_pending_request_expires_unanswered_and_a_grant_at_its_end() {
    let d = desk().await;
    let answered = file_request(&d, "read", 3600).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let browser = alice(&d).await;
    let page = browser.get("/account").await;
    browser
        .post(
            &format!("/account/requests/{answered}/approve"),
            &[csrf(&page)],
        )
        .await;
    // One pending request per agent and user (L5): the next once that one is answered.
    let unanswered = file_request(&d, "read", 3600).await["id"]
        .as_str()
        .unwrap()
        .to_string();

    d.app.clock.advance(3600);
    let bob = bob_again(&d).await;
    assert_eq!(
        read_request_as(&d, &bob, &answered).await["grant_status"],
        "expired",
        "exactly at expires_at"
    );
    d.app
        .clock
        .advance(d.app.state.settings.policy.request_ttl_seconds);
    let bob = bob_again(&d).await;
    assert_eq!(
        read_request_as(&d, &bob, &unanswered).await["status"],
        "expired"
    );
    let browser = alice(&d).await;
    let page = browser.get("/account").await;
    assert!(
        !page
            .body
            .contains(&format!("data-request-id=\"{unanswered}\""))
    );
    assert!(page.body.contains("data-grant-status=\"expired\"") && page.body.contains("Expired"));
    let late = browser
        .post(
            &format!("/account/requests/{unanswered}/approve"),
            &[csrf(&page)],
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
}

/// bob asks for `read` for an hour and alice approves it on the consent
/// screen: the desk, alice's browser, the request id and the grant id.
async fn approved_on_the_screen() -> (Desk, Browser, String, String) {
    let d = desk().await;
    let id = file_request(&d, "read", 3600).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let browser = approve_on_the_screen(&d.app, "alice", &id).await;
    let grant_id = read_request(&d, &id).await["grant_id"]
        .as_str()
        .unwrap()
        .to_string();
    (d, browser, id, grant_id)
}

#[tokio::test]
async fn alice_ends_access_and_bob_sees_it_ended() {
    let (d, browser, id, grant_id) = approved_on_the_screen().await;
    let page = browser.get("/account").await;
    assert!(page.body.contains("End access now"));
    let ended = browser
        .post(
            &format!("/account/grants/{grant_id}/revoke"),
            &[csrf(&page)],
        )
        .await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert_eq!(read_request(&d, &id).await["grant_status"], "revoked");
    let page = browser.get("/account").await;
    assert!(page.body.contains(&format!(
        "data-grant-id=\"{grant_id}\" data-grant-status=\"revoked\""
    )));
    assert!(page.body.contains("Ended by you"));
    assert!(
        page.body.contains("You ended the access"),
        "the activity shows it"
    );
}

#[tokio::test]
async fn bob_ends_a_grant_early_and_alice_sees_who_ended_it() {
    let (d, browser, _, grant_id) = approved_on_the_screen().await;
    let (status, _, grant) = api(
        &d.app,
        Method::DELETE,
        &format!("/api/grants/{grant_id}"),
        Some(&d.bob),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(grant["status"], "revoked");
    assert_eq!(grant["revoked_by"], "agent");
    let (status, _, _) = api(
        &d.app,
        Method::DELETE,
        &format!("/api/grants/{grant_id}"),
        Some(&d.bob),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        browser
            .get("/account")
            .await
            .body
            .contains("Ended by the agent")
    );
}

#[tokio::test]
async fn another_user_can_neither_see_nor_answer_alices_request() {
    let d = desk().await;
    crate::fixtures::add_user(&d.app, "mallory", false).await;
    let id = file_request(&d, "read", 3600).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mallory = Browser::new(&d.app);
    mallory.sign_in("/login", "mallory", PASSWORD).await;
    let page = mallory.get("/account").await;
    assert!(!page.body.contains(&id));
    for action in ["approve", "deny"] {
        let answer = mallory
            .post(&format!("/account/requests/{id}/{action}"), &[csrf(&page)])
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{action}");
    }
    assert_eq!(read_request(&d, &id).await["status"], "pending");
    // Nor end alice's grants.
    let browser = alice(&d).await;
    let alice_page = browser.get("/account").await;
    browser
        .post(
            &format!("/account/requests/{id}/approve"),
            &[csrf(&alice_page)],
        )
        .await;
    let grant_id = read_request(&d, &id).await["grant_id"]
        .as_str()
        .unwrap()
        .to_string();
    let answer = mallory
        .post(
            &format!("/account/grants/{grant_id}/revoke"),
            &[csrf(&page)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(read_request(&d, &id).await["grant_status"], "active");
}

#[tokio::test]
async fn forms_without_the_csrf_token_change_nothing() {
    let d = desk().await;
    let id = file_request(&d, "read", 3600).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let browser = alice(&d).await;
    let answer = browser
        .post(&format!("/account/requests/{id}/approve"), &[])
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = browser
        .post(
            &format!("/account/requests/{id}/approve"),
            &[("csrf_token".into(), "forged".into())],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(read_request(&d, &id).await["status"], "pending");
}

#[tokio::test]
async fn reasons_and_tickets_are_shown_escaped() {
    let d = desk().await;
    let mut body = crate::fixtures::ask("read", 3600);
    body["reason"] = json!("<script>alert(1)</script> & \"quotes\"");
    body["ticket"] = json!("<img src=x onerror=alert(2)>");
    let (status, _, _) = api(
        &d.app,
        Method::POST,
        "/api/access-requests",
        Some(&d.bob),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let page = alice(&d).await.get("/account").await;
    assert!(!page.body.contains("<script>alert(1)"));
    assert!(!page.body.contains("<img src=x"));
    assert!(
        page.body
            .contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
            || page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn alice_gives_access_on_her_own_initiative_but_never_a_non_delegable_scope() {
    let d = desk().await;
    let browser = alice(&d).await;
    let page = browser.get("/account").await;
    assert!(
        page.body
            .contains("<option value=\"console\" selected>Support console</option>")
    );
    let form = |scope: &str| {
        vec![
            csrf(&page),
            ("agent".into(), "bob".into()),
            ("scope".into(), scope.into()),
            ("duration".into(), "3600".into()),
            ("client_id".into(), "console".into()),
        ]
    };
    let created = browser
        .http
        .post(d.app.url("/account/grants"))
        .header("accept", "application/json")
        .form(&form("read"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let grant: serde_json::Value = created.json().await.unwrap();
    assert_eq!(grant["status"], "active");
    assert_eq!(grant["scope"], "read");
    assert!(browser.get("/account").await.body.contains(&format!(
        "data-grant-id=\"{}\"",
        grant["id"].as_str().unwrap()
    )));

    for scope in ["agent", "read agent"] {
        let refused = browser.post("/account/grants", &form(scope)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{scope}");
    }
    let to_a_non_agent = vec![
        csrf(&page),
        ("agent".into(), "alice".into()),
        ("scope".into(), "read".into()),
        ("duration".into(), "3600".into()),
        ("client_id".into(), "console".into()),
    ];
    assert_eq!(
        browser
            .post("/account/grants", &to_a_non_agent)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn the_consent_screen_uses_the_operators_words_for_scopes() {
    let db = std::sync::Arc::new(crate::helpers::TestDb::new());
    let mut settings = db.settings();
    settings
        .policy
        .scope_descriptions
        .insert("read".into(), "See your orders & invoices".into());
    let app = crate::helpers::TestApp::spawn_with(
        db,
        settings,
        behalf::clock::ManualClock::starting_now(),
    )
    .await;
    let world = crate::fixtures::World::new()
        .user("alice")
        .agent("bob")
        .console()
        .build_on(app)
        .await;
    let (app, bob) = (&world.app, world.agent_token("bob").await);
    let (status, _, _) = api(
        app,
        Method::POST,
        "/api/access-requests",
        Some(&bob),
        Some(crate::fixtures::ask("read write", 3600)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let browser = Browser::new(app);
    browser.sign_in("/login", "alice", PASSWORD).await;
    let page = browser.get("/account").await;
    assert!(
        page.body.contains("See your orders &amp; invoices"),
        "the configured words, escaped"
    );
    assert!(
        page.body.contains("Change your account&#39;s information"),
        "the default for the rest"
    );
}
