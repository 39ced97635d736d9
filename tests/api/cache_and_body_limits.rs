//! Where a token or an agent's request can appear, no response is cached:
//! every `/api` answer, success or refusal, and whatever answers the token
//! endpoints (RFC 6749 §5.1), `405` included, carries `Cache-Control:
//! no-store`. A body over the limit gets a JSON `413` in the shape of RFC 6749
//! §5.2, not plain text.

use crate::fixtures::{api, ask, granted};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn assert_no_store(what: &str, status: StatusCode, headers: &HeaderMap) {
    let cache = headers
        .get(CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        cache.contains("no-store"),
        "{what}: {status} without Cache-Control: no-store ({headers:?})"
    );
}

#[tokio::test]
async fn every_agent_api_answer_success_or_refusal_is_no_store() {
    let g = granted("read", 3600).await;
    let app = &g.d.app;
    let bob = Some(g.d.bob.as_str());
    let mut seen = Vec::new();
    let mut call = async |what: &str, method: Method, path: &str, token, body| {
        let (status, headers, answer): (StatusCode, HeaderMap, Value) =
            api(app, method, path, token, body).await;
        assert_no_store(what, status, &headers);
        seen.push((what.to_string(), status));
        answer
    };
    let grant = format!("/api/grants/{}", g.grant_id);
    call("end a grant", Method::DELETE, &grant, bob, None).await;
    call("end it again", Method::DELETE, &grant, bob, None).await;
    let created = call(
        "file a request",
        Method::POST,
        "/api/access-requests",
        bob,
        Some(ask("read", 3600)),
    )
    .await;
    let request = format!("/api/access-requests/{}", created["id"].as_str().unwrap());
    call("read it", Method::GET, &request, bob, None).await;
    call("cancel it", Method::DELETE, &request, bob, None).await;
    call("cancel it again", Method::DELETE, &request, bob, None).await;
    call(
        "no token",
        Method::POST,
        "/api/access-requests",
        None,
        Some(ask("read", 60)),
    )
    .await;
    call(
        "a bad token",
        Method::GET,
        &request,
        Some("not-a-token"),
        None,
    )
    .await;
    call(
        "a bad body",
        Method::POST,
        "/api/access-requests",
        bob,
        Some(json!({"subject": 7})),
    )
    .await;
    call(
        "an unknown request",
        Method::GET,
        "/api/access-requests/nope",
        bob,
        None,
    )
    .await;
    call(
        "an unknown grant",
        Method::DELETE,
        "/api/grants/nope",
        bob,
        None,
    )
    .await;
    call("a method not served", Method::PUT, &request, bob, None).await;
    call("another one", Method::PUT, "/api/grants/nope", bob, None).await;
    call(
        "list requests",
        Method::GET,
        "/api/access-requests",
        bob,
        None,
    )
    .await;
    call("list grants", Method::GET, "/api/grants", bob, None).await;
    call("read a grant", Method::GET, &grant, bob, None).await;
    call("read no grant", Method::GET, "/api/grants/nope", bob, None).await;
    call("a bad limit", Method::GET, "/api/grants?limit=0", bob, None).await;
    call("a list unasked", Method::GET, "/api/grants", None, None).await;
    let statuses: Vec<u16> = seen.iter().map(|(_, s)| s.as_u16()).collect();
    assert_eq!(
        statuses,
        [
            200, 409, 201, 200, 200, 409, 401, 401, 400, 404, 404, 405, 405, 200, 200, 200, 404,
            400, 401
        ],
        "{seen:?}"
    );
    for (path, method) in [
        ("/token", Method::GET),
        ("/introspect", Method::GET),
        ("/revoke", Method::PUT),
    ] {
        let answer = app
            .http
            .request(method, app.url(path))
            .send()
            .await
            .unwrap();
        assert_no_store(path, answer.status(), answer.headers());
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_json_413_at_every_oauth_and_api_endpoint() {
    let g = granted("read", 3600).await;
    let app = &g.d.app;
    let big = "a".repeat(70 * 1024);
    for path in ["/token", "/introspect", "/revoke", "/api/access-requests"] {
        let answer = app
            .http
            .post(app.url(path))
            .bearer_auth(&g.d.bob)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!("token={big}"))
            .send()
            .await
            .unwrap();
        let (status, headers) = (answer.status(), answer.headers().clone());
        let text = answer.text().await.unwrap();
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {text}");
        assert!(
            headers[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{path}: {headers:?} {text}"
        );
        let body: Value = serde_json::from_str(&text).expect("a JSON body");
        assert_eq!(body["error"], "invalid_request", "{path}: {text}");
        assert!(body["error_description"].is_string(), "{path}: {text}");
        assert_no_store(path, status, &headers);
    }
}
