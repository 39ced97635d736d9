//! The consent screen as a person meets it (issue 12 items 1, 2, 3, 7): the
//! cards say who asks, with which tool, for which apps, when and until when,
//! in plain words; durations are offered exactly; unanswered requests stay in
//! the history; times are `<time>` elements in UTC words for the same-origin
//! script to localise; every action ends on a notice; every button names what
//! it acts on; `/`, unknown paths and error pages lead somewhere.

use crate::fixtures::{
    Browser, Desk, Page, api, csrf, desk, file_request, file_request_as, signed_in_to_account,
};
use reqwest::{Method, StatusCode};

async fn alice(d: &Desk) -> Browser {
    signed_in_to_account(&d.app, "alice").await
}

async fn filed(d: &Desk, scope: &str, duration: i64) -> String {
    file_request(d, scope, duration).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The part of the page inside the element that carries `marker` (up to `</section>`).
fn card<'a>(page: &'a Page, marker: &str) -> &'a str {
    let start = page
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {}", page.body));
    let end = page.body[start..].find("</section>").unwrap() + start;
    &page.body[start..end]
}

/// `<time datetime="RFC 3339" data-local>D Month YYYY, HH:MM UTC</time>` for Unix seconds.
fn time_element(unix: i64) -> String {
    let iso = behalf::clock::rfc3339(unix);
    let months = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let month = months[iso[5..7].parse::<usize>().unwrap() - 1];
    let day: u32 = iso[8..10].parse().unwrap();
    format!(
        "<time datetime=\"{iso}\" data-local>{day} {month} {}, {} UTC</time>",
        &iso[..4],
        &iso[11..16]
    )
}

#[tokio::test]
async fn a_request_card_says_who_asks_with_which_tool_for_which_apps_and_until_when() {
    let d = desk().await;
    let filed_at = d.app.clock_now();
    let id = filed(&d, "read write", 7200).await;
    let page = alice(&d).await.get("/account").await;
    let card = card(&page, &format!("data-request-id=\"{id}\""));
    assert!(
        card.contains("bob asks to act in your account (SUP-42)"),
        "{card}"
    );
    assert!(
        card.contains("<dt>Support tool</dt><dd>Support console</dd>"),
        "{card}"
    );
    assert!(card.contains("<dt>Apps</dt><dd>"), "{card}");
    assert!(
        card.contains(&format!("<dt>Asked</dt><dd>{}", time_element(filed_at))),
        "{card}"
    );
    let answer_by = filed_at + d.app.state.settings.policy.request_ttl_seconds;
    assert!(
        card.contains(&format!(
            "<dt>Answer by</dt><dd>{}",
            time_element(answer_by)
        )),
        "{card}"
    );
    // What each scope means, in words, even where the operator gave none.
    assert!(
        card.contains("See your account&#39;s information"),
        "{card}"
    );
    assert!(
        card.contains("Change your account&#39;s information"),
        "{card}"
    );
    assert!(!card.contains("permission"), "{card}");
    // The asked duration once, in the select's label: no "For:" line besides.
    assert!(!card.contains("For:"), "{card}");
    assert!(
        card.contains("For how long (bob asked for 2 hours)"),
        "{card}"
    );
    assert!(
        card.contains("<option value=\"7200\" selected>2 hours (as asked)</option>"),
        "{card}"
    );
}

#[tokio::test]
async fn a_ninety_second_request_is_offered_as_exactly_ninety_seconds() {
    let d = desk().await;
    let id = filed(&d, "read", 90).await;
    let page = alice(&d).await.get("/account").await;
    let card = card(&page, &format!("data-request-id=\"{id}\""));
    assert!(card.contains("bob asked for 1 minute 30 seconds"), "{card}");
    assert!(
        card.contains("<option value=\"90\" selected>1 minute 30 seconds (as asked)</option>"),
        "{card}"
    );
    assert!(!card.contains(">1 minute<"), "{card}");
}

#[tokio::test]
async fn denied_cancelled_expired_and_agent_ended_access_stay_in_the_history() {
    let d = desk().await;
    let browser = alice(&d).await;
    // Denied by alice.
    let denied = filed(&d, "read", 3600).await;
    let page = browser.get("/account").await;
    browser
        .post(&format!("/account/requests/{denied}/deny"), &[csrf(&page)])
        .await;
    // Cancelled by bob.
    let cancelled = filed(&d, "read", 3600).await;
    let path = format!("/api/access-requests/{cancelled}");
    let (status, _, _) = api(&d.app, Method::DELETE, &path, Some(&d.bob), None).await;
    assert!(status.is_success(), "{status}");
    // Approved, then ended by bob.
    let approved = filed(&d, "read", 3600).await;
    let page = browser.get("/account").await;
    browser
        .post(
            &format!("/account/requests/{approved}/approve"),
            &[csrf(&page)],
        )
        .await;
    let grant_id = crate::fixtures::read_request_as(&d.app, &d.bob, &approved).await["grant_id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/grants/{grant_id}");
    let (status, _, _) = api(&d.app, Method::DELETE, &path, Some(&d.bob), None).await;
    assert_eq!(status, StatusCode::OK);
    // Left unanswered until it expired (carol, so that bob's limit does not matter).
    let carol = crate::fixtures::console_token(&d.app, &d.secret, "carol", "openid agent").await;
    let expired = file_request_as(&d.app, &carol, "write", 3600).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    d.app
        .clock
        .advance(d.app.state.settings.policy.request_ttl_seconds);

    let page = alice(&d).await.get("/account").await;
    let marker = |id: &str| format!("data-ended-request-id=\"{id}\"");
    // Two of bob's requests carry one ticket: one of the two labels is numbered "(2)".
    let denied_card = card(&page, &marker(&denied));
    assert!(
        denied_card.contains("bob&#39;s request (SUP-42)")
            && denied_card.contains(": Denied by you"),
        "{}",
        page.body
    );
    assert!(card(&page, &marker(&cancelled)).contains("Cancelled by bob"));
    assert!(
        card(&page, &marker(&expired))
            .contains("carol&#39;s request (SUP-42): Expired without an answer")
    );
    assert!(
        card(&page, &format!("data-grant-id=\"{grant_id}\"")).contains("Ended by the agent (bob)")
    );
    assert!(
        !page
            .body
            .contains(&format!("data-request-id=\"{expired}\"")),
        "no longer offered for an answer"
    );
}

#[tokio::test]
async fn times_are_time_elements_in_utc_words_and_the_only_script_is_same_origin() {
    let d = desk().await;
    let id = filed(&d, "read", 7200).await;
    let browser = alice(&d).await;
    let page = browser.get("/account").await;
    browser
        .post(&format!("/account/requests/{id}/approve"), &[csrf(&page)])
        .await;
    let page = browser.get("/account").await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(page.body.matches("<script").count(), 1);
    assert!(
        page.body
            .contains("<script src=\"/static/behalf.js\" defer></script>")
    );
    // No raw ISO time is shown as text: only in attributes.
    let expires = d.app.clock_now() + 7200;
    let text_only: String = page
        .body
        .split('<')
        .filter_map(|chunk| chunk.split_once('>').map(|(_, text)| text))
        .collect();
    assert!(
        !text_only.contains(&behalf::clock::rfc3339(expires)),
        "{text_only}"
    );
    assert!(page.body.contains(&time_element(expires)), "{}", page.body);
    assert!(page.body.contains(&format!(
        "<strong data-countdown-to=\"{}\">2 hours left</strong>",
        behalf::clock::rfc3339(expires)
    )));

    let script = d
        .app
        .http
        .get(d.app.url("/static/behalf.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let source = script.text().await.unwrap();
    assert!(source.contains("data-countdown-to") && source.contains("time[data-local]"));
}

/// The notice `location` leads to, as the page shows it.
async fn notice_after(browser: &Browser, answer: &Page) -> String {
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let page = browser.get(&answer.location()).await;
    let start = page
        .body
        .find("<p class=\"notice\" role=\"status\" tabindex=\"-1\" data-notice autofocus>")
        .unwrap_or_else(|| panic!("no notice at {}: {}", answer.location(), page.body));
    let text = &page.body[start..];
    let text = &text[text.find('>').unwrap() + 1..text.find("</p>").unwrap()];
    text.replace("&#39;", "'")
}

#[tokio::test]
async fn approve_deny_end_and_give_each_end_on_a_notice_saying_what_happened() {
    let d = desk().await;
    let browser = alice(&d).await;
    let id = filed(&d, "read", 7200).await;
    let page = browser.get("/account").await;
    let approve = [csrf(&page), ("duration".into(), "3600".into())];
    let answer = browser
        .post(&format!("/account/requests/{id}/approve"), &approve)
        .await;
    assert_eq!(
        answer.location(),
        format!("/account?done=approved&request={id}")
    );
    assert_eq!(
        notice_after(&browser, &answer).await,
        "You approved bob's request (SUP-42). bob can act in your account for 1 hour."
    );

    let grant_id = crate::fixtures::read_request_as(&d.app, &d.bob, &id).await["grant_id"]
        .as_str()
        .unwrap()
        .to_string();
    let answer = browser
        .post(
            &format!("/account/grants/{grant_id}/revoke"),
            &[csrf(&page)],
        )
        .await;
    assert_eq!(
        answer.location(),
        format!("/account?done=ended&grant={grant_id}")
    );
    assert_eq!(
        notice_after(&browser, &answer).await,
        "You ended bob's access (SUP-42). bob can no longer act in your account."
    );

    let id = filed(&d, "read", 7200).await;
    let answer = browser
        .post(&format!("/account/requests/{id}/deny"), &[csrf(&page)])
        .await;
    assert_eq!(
        notice_after(&browser, &answer).await,
        "You denied bob's request (SUP-42). bob cannot act in your account."
    );

    let give = [
        csrf(&page),
        ("agent".into(), "bob".into()),
        ("client_id".into(), "console".into()),
        ("scope".into(), "read".into()),
        ("duration".into(), "3600".into()),
    ];
    let answer = browser.post("/account/grants", &give).await;
    assert!(answer.location().starts_with("/account?done=given&grant="));
    assert_eq!(
        notice_after(&browser, &answer).await,
        "You gave bob access to your account for 1 hour."
    );
}

#[tokio::test]
async fn a_notice_is_built_from_known_outcomes_and_never_echoes_the_address() {
    let d = desk().await;
    let browser = alice(&d).await;
    let page = browser.get("/account?done=%3Cb%3Ehacked&request=x").await;
    assert!(
        !page.body.contains("role=\"status\""),
        "unknown outcome: no notice"
    );
    assert!(!page.body.contains("hacked"));
    // Another user's request, or none: the plain outcome, nothing of the id.
    crate::fixtures::add_user(&d.app, "mallory", false).await;
    let id = filed(&d, "read", 3600).await;
    let mallory = signed_in_to_account(&d.app, "mallory").await;
    let page = mallory
        .get(&format!("/account?done=approved&request={id}"))
        .await;
    assert!(
        page.body.contains("You approved the request."),
        "{}",
        page.body
    );
    assert!(!page.body.contains(&id) && !page.body.contains("SUP-42"));
    let page = mallory
        .get("/account?done=ended&grant=%22onmouseover")
        .await;
    assert!(page.body.contains("You ended the access."));
    assert!(!page.body.contains("onmouseover"));
}

#[tokio::test]
async fn each_button_names_the_request_or_access_it_acts_on() {
    let d = desk().await;
    let approved = filed(&d, "read", 3600).await;
    let browser = alice(&d).await;
    let page = browser.get("/account").await;
    browser
        .post(
            &format!("/account/requests/{approved}/approve"),
            &[csrf(&page)],
        )
        .await;
    filed(&d, "read", 3600).await;
    let page = browser.get("/account").await;
    let hidden = |text: &str| format!("<span class=\"visually-hidden\"> {text}</span>");
    for button in [
        format!("Approve{}", hidden("bob&#39;s request (SUP-42)")),
        format!("Deny{}", hidden("bob&#39;s request (SUP-42)")),
        format!("End access now{}", hidden("for bob&#39;s access (SUP-42)")),
    ] {
        assert_eq!(
            page.body.matches(&button).count(),
            1,
            "{button}: {}",
            page.body
        );
    }
}

#[tokio::test]
async fn signing_out_lands_on_the_sign_in_page_saying_so() {
    let d = desk().await;
    let browser = alice(&d).await;
    let page = browser.get("/account").await;
    let out = browser.post("/logout", &[csrf(&page)]).await;
    assert_eq!(out.location(), "/login?signed_out=1");
    let login = browser.get(&out.location()).await;
    assert!(login.body.contains("role=\"status\""), "{}", login.body);
    assert!(login.body.contains("You are signed out."));
    assert!(
        !browser
            .get("/login")
            .await
            .body
            .contains("You are signed out.")
    );
}

#[tokio::test]
async fn the_root_sends_a_browser_to_its_account_or_to_sign_in() {
    let d = desk().await;
    assert_eq!(Browser::new(&d.app).get("/").await.location(), "/login");
    assert_eq!(alice(&d).await.get("/").await.location(), "/account");
}

#[tokio::test]
async fn an_unknown_path_is_a_page_with_a_way_back_for_browsers_and_json_for_others() {
    let d = desk().await;
    let page = d
        .app
        .http
        .get(d.app.url("/no/such/page"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.headers().contains_key("content-security-policy"));
    let body = page.text().await.unwrap();
    assert!(
        body.contains("Page not found") && body.contains("<a href=\"/account\">"),
        "{body}"
    );

    let other = d
        .app
        .http
        .get(d.app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let json: serde_json::Value = other.json().await.unwrap();
    assert_eq!(json, serde_json::json!({"error": "not_found"}));
}

#[tokio::test]
async fn error_pages_link_back_and_an_expired_form_never_says_reload() {
    let d = desk().await;
    let id = filed(&d, "read", 3600).await;
    let browser = alice(&d).await;
    let refused = browser
        .post(&format!("/account/requests/{id}/approve"), &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused
            .body
            .contains("<a href=\"/account\">Back to your account</a>")
    );
    assert!(
        !refused.body.to_lowercase().contains("reload"),
        "{}",
        refused.body
    );
    let not_yours = browser
        .post(
            "/account/requests/nope/deny",
            &[csrf(&browser.get("/account").await)],
        )
        .await;
    assert_eq!(not_yours.status, StatusCode::NOT_FOUND);
    assert!(not_yours.body.contains("<a href=\"/account\">"));
}

/// DESIGN "People, agents and teams": the cards name the agent's team
/// (`behalf user add bob --agent --team Support`).
#[tokio::test]
async fn the_cards_name_the_agents_team() {
    use diesel::prelude::*;
    let d = desk().await;
    d.app
        .state
        .db
        .run(|c| {
            use behalf::store::schema::users;
            diesel::update(users::table.filter(users::username.eq("bob")))
                .set(users::team.eq("Billing support"))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let id = filed(&d, "read", 3600).await;
    let page = alice(&d).await.get("/account").await;
    let card = card(&page, &format!("data-request-id=\"{id}\""));
    assert!(
        card.contains("<dt>Agent</dt><dd>bob, Billing support</dd>"),
        "{card}"
    );
}
