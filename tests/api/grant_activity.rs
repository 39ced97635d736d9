//! A grant's activity as alice reads it (issue 12 item 6; DESIGN "The consent
//! screen as a product"): each line names the app by its registered name and
//! the agent by username, in plain words; a card on `/account` shows the
//! newest 50 lines and links to `/account/grants/{id}/activity`, which shows
//! 50 a page, newest first, only to the grant's own user. Events come from
//! the real API: token exchanges, introspections and a revocation. Runs on
//! SQLite, and on PostgreSQL when BEHALF_TEST_POSTGRES_URL is set.

use crate::fixtures::{
    Browser, Granted, PASSWORD, Page, add_user, granted, introspect_as, signed_in_to_account,
};
use behalf::oauth::registration::{self, NewClient};
use reqwest::StatusCode;

/// A resource server registered under a name of its own; its secret.
async fn add_app(g: &Granted, id: &str, name: &str) -> String {
    let (row, secret) = registration::register(
        NewClient {
            client_id: id.into(),
            name: Some(name.into()),
            ..NewClient::default()
        },
        g.d.app.clock_now(),
    )
    .unwrap();
    g.d.app.state.db.run(move |c| row.insert(c)).await.unwrap();
    secret.unwrap().expose().clone()
}

/// `app` (id, secret) checks `token` at `/introspect`; the check is written.
async fn check(g: &Granted, app: (&str, &str), token: &str) {
    let body = introspect_as(&g.d.app, app, token).await;
    assert_eq!(body["active"], true, "{body}");
    g.d.app.state.deferred_audit.flush(&g.d.app.state.db).await;
}

/// Each line of the page's activity lists as a person reads it: the text
/// without tags, entities decoded (the `<time>`'s words included).
fn lines(page: &Page) -> Vec<String> {
    let Some(start) = page.body.find("<ol class=\"activity\"") else {
        return Vec::new();
    };
    let end = page.body[start..].find("</ol>").unwrap() + start;
    page.body[start..end]
        .split("<li>")
        .skip(1)
        .map(|item| {
            let text: String = item
                .split('<')
                .filter_map(|chunk| chunk.split_once('>').map(|(_, text)| text))
                .collect();
            text.replace("&#39;", "'")
                .replace("&#x27;", "'")
                .replace("&amp;", "&")
                .trim()
                .to_string()
        })
        .collect()
}

/// The `datetime` of each line's `<time>`, in page order.
fn times(page: &Page) -> Vec<String> {
    let Some(start) = page.body.find("<ol class=\"activity\"") else {
        return Vec::new();
    };
    page.body[start..]
        .split("<li><time datetime=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect()
}

fn activity_path(g: &Granted) -> String {
    format!("/account/grants/{}/activity", g.grant_id)
}

/// alice's grant to bob with 59 lines: given, 55 exchanges, a minute later
/// checks by Example Shop and Billing desk, and the console revoking the
/// last token.
async fn busy_grant() -> Granted {
    let g = granted("read write", 3600).await;
    for _ in 0..54 {
        g.delegated_token().await;
    }
    g.d.app.clock.advance(60);
    let token = g.delegated_token().await; // the 55th exchange
    let shop = add_app(&g, "shop", "Example Shop").await;
    let billing = add_app(&g, "billing", "Billing desk").await;
    check(&g, ("shop", &shop), &token).await;
    check(&g, ("billing", &billing), &token).await;
    g.d.app.clock.advance(60);
    let console = ("console", g.d.secret.as_str());
    assert_eq!(g.revoke(console, &token, None).await, StatusCode::OK);
    g
}

#[tokio::test]
async fn the_lines_name_the_app_and_the_agent_in_plain_words() {
    let g = granted("read write", 3600).await;
    let token = g.delegated_token().await;
    let shop = add_app(&g, "shop", "Example Shop").await;
    let billing = add_app(&g, "billing", "Billing desk").await;
    check(&g, ("shop", &shop), &token).await;
    check(&g, ("billing", &billing), &token).await;
    let console = ("console", g.d.secret.as_str());
    assert_eq!(g.revoke(console, &token, None).await, StatusCode::OK);

    let page = signed_in_to_account(&g.d.app, "alice")
        .await
        .get("/account")
        .await;
    let read: Vec<String> = lines(&page)
        .into_iter()
        .map(|line| line.split(" UTC ").nth(1).unwrap().to_string())
        .collect();
    assert_eq!(
        read,
        [
            "Support console revoked bob's access token",
            "Billing desk checked bob's access token",
            "Example Shop checked bob's access token",
            "bob began acting in your account: See your account's information; \
             Change your account's information",
            "alice gave access",
        ],
        "{}",
        page.body
    );
    assert!(!page.body.contains("All activity under"), "{}", page.body);
}

#[tokio::test]
async fn the_card_shows_the_newest_fifty_and_the_activity_page_the_rest_newest_first() {
    let g = busy_grant().await;
    let alice = signed_in_to_account(&g.d.app, "alice").await;
    let account = alice.get("/account").await;
    let card = lines(&account);
    assert_eq!(card.len(), 50, "{}", account.body);
    assert!(card[0].ends_with("Support console revoked bob's access token"));
    let link = format!(
        "<a href=\"{}\">All activity under bob&#39;s access (SUP-42)</a>",
        activity_path(&g)
    );
    assert!(account.body.contains(&link), "{}", account.body);

    let first = alice.get(&activity_path(&g)).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(
        first
            .body
            .contains("<h1>All activity under bob&#39;s access (SUP-42)</h1>"),
        "{}",
        first.body
    );
    assert_eq!(lines(&first), card, "page 1 is the card's 50 lines");
    assert!(first.body.contains(&format!(
        "<a href=\"{}?page=2\" rel=\"next\">Older</a>",
        activity_path(&g)
    )));
    assert!(!first.body.contains("rel=\"prev\""));
    assert!(
        first
            .body
            .contains("<a href=\"/account\">Back to your account</a>")
    );
    assert!(
        first.body.contains(
            "<nav class=\"pager\" aria-label=\"Pages of activity under bob&#39;s access (SUP-42)\">"
        ),
        "{}",
        first.body
    );

    let second = alice.get(&format!("{}?page=2", activity_path(&g))).await;
    let rest = lines(&second);
    assert_eq!(rest.len(), 9, "{}", second.body);
    assert!(rest[8].ends_with("alice gave access"), "{rest:?}");
    assert!(second.body.contains(&format!(
        "<a href=\"{}?page=1\" rel=\"prev\">Newer</a>",
        activity_path(&g)
    )));
    assert!(!second.body.contains("rel=\"next\""));
    // Newest first across both pages: the times never go up.
    let all: Vec<String> = times(&first).into_iter().chain(times(&second)).collect();
    assert_eq!(all.len(), 59);
    assert!(all.windows(2).all(|w| w[0] >= w[1]), "{all:?}");
    assert!(all[0] > all[58], "the clock moved on between them");
}

#[tokio::test]
async fn a_page_past_the_end_shows_no_lines_but_a_way_back() {
    let g = granted("read", 3600).await;
    g.delegated_token().await;
    let alice = signed_in_to_account(&g.d.app, "alice").await;
    let page = alice.get(&format!("{}?page=9", activity_path(&g))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(lines(&page).is_empty(), "{}", page.body);
    assert!(page.body.contains("There is nothing more on this page"));
    assert!(page.body.contains(&format!(
        "<a href=\"{}\">Newest activity</a>",
        activity_path(&g)
    )));
    assert!(
        page.body
            .contains("<a href=\"/account\">Back to your account</a>")
    );
    // A page number that is not one is the first page.
    let odd = alice.get(&format!("{}?page=-3", activity_path(&g))).await;
    assert_eq!(lines(&odd).len(), 2, "{}", odd.body);
}

#[tokio::test]
async fn another_users_grant_or_an_unknown_one_is_the_not_found_page() {
    let g = granted("read", 3600).await;
    add_user(&g.d.app, "erin", false).await;
    let erin = signed_in_to_account(&g.d.app, "erin").await;
    for path in [activity_path(&g), "/account/grants/nope/activity".into()] {
        let page = erin.get(&path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.body.contains("<a href=\"/account\">"), "{}", page.body);
        assert!(!page.body.contains("activity"), "{}", page.body);
    }
}

#[tokio::test]
async fn without_a_session_the_page_sends_to_sign_in_and_back() {
    let g = granted("read", 3600).await;
    let browser = Browser::new(&g.d.app);
    let path = format!("{}?page=2", activity_path(&g));
    let answer = browser.get(&path).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let location = answer.location();
    let expected = form_urlencoded::Serializer::new(String::new())
        .append_pair("return_to", &path)
        .finish();
    assert_eq!(location, format!("/login?{expected}"));
    let signed_in = browser.sign_in(&location, "alice", PASSWORD).await;
    assert_eq!(signed_in.location(), path);
}
