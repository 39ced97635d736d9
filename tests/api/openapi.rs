//! `GET /openapi.json` (docs/contract.md "OpenAPI document"): an OpenAPI 3.1
//! document of the JSON endpoints, served cacheable with an `ETag`. It names
//! every path and method of the agent API the router serves, and the real
//! answers of those endpoints (a created request, a 409, a grant, the list
//! pages, an ended grant, the account's JSON grant) hold to its schemas,
//! checked structurally here: required properties present, each value of the
//! JSON type its schema says, enums kept, `$ref`s followed. The document's
//! conformance to OpenAPI 3.1 is checked by an independent validator in
//! conformance/test/openapi.test.mjs.

use crate::fixtures::{
    Scene, World, api, approve_on_the_screen, ask, console_tokens, csrf, signed_in_to_account,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Every path and method of the agent API that `src/routes.rs` serves.
const AGENT_API: &[(&str, &str)] = &[
    ("/api/access-requests", "get"),
    ("/api/access-requests", "post"),
    ("/api/access-requests/{id}", "get"),
    ("/api/access-requests/{id}", "delete"),
    ("/api/grants", "get"),
    ("/api/grants/{id}", "get"),
    ("/api/grants/{id}", "delete"),
];

/// The other JSON endpoints the document covers.
const ALSO_COVERED: &[(&str, &str)] = &[
    ("/account/grants", "post"),
    ("/token", "post"),
    ("/.well-known/openid-configuration", "get"),
    ("/.well-known/oauth-authorization-server", "get"),
    ("/jwks.json", "get"),
    ("/healthz", "get"),
    ("/readyz", "get"),
    ("/openapi.json", "get"),
];

async fn scene() -> Scene {
    World::new()
        .user("alice")
        .agent_in("bob", "Support")
        .console()
        .build()
        .await
}

async fn fetch_document(scene: &Scene) -> Value {
    let response = scene
        .app
        .http
        .get(scene.app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

/// The JSON schema of the `status` answer of `method path`, as documented.
fn response_schema<'d>(doc: &'d Value, path: &str, method: &str, status: StatusCode) -> &'d Value {
    let operation = &doc["paths"][path][method];
    assert!(operation.is_object(), "{method} {path} is not documented");
    let response = &operation["responses"][status.as_str()];
    assert!(
        response.is_object(),
        "{method} {path} does not document {status}"
    );
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} {status} has no JSON schema"
    );
    schema
}

fn resolve<'d>(doc: &'d Value, schema: &'d Value) -> &'d Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("a reference outside the schemas: {reference}"));
            let found = &doc["components"]["schemas"][name];
            assert!(found.is_object(), "{reference} names no schema");
            resolve(doc, found)
        }
        None => schema,
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Why `value` does not hold to `schema` (the subset of JSON Schema that the
/// document uses), or `None`.
fn mismatch(doc: &Value, schema: &Value, value: &Value, at: &str) -> Option<String> {
    let schema = resolve(doc, schema);
    if let Some(choices) = schema["oneOf"].as_array() {
        let fitting = choices
            .iter()
            .filter(|s| mismatch(doc, s, value, at).is_none())
            .count();
        return (fitting != 1).then(|| format!("{at}: {value} fits {fitting} of oneOf"));
    }
    let allowed: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let actual = json_type(value);
    let fits = allowed.is_empty()
        || allowed.contains(&actual)
        || (actual == "integer" && allowed.contains(&"number"));
    if !fits {
        return Some(format!("{at}: {value} is {actual}, not {allowed:?}"));
    }
    if let Some(values) = schema["enum"].as_array()
        && !values.contains(value)
    {
        return Some(format!("{at}: {value} is not one of {values:?}"));
    }
    match value {
        Value::Object(object) => {
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                if !object.contains_key(name) {
                    return Some(format!("{at}: required {name} is missing"));
                }
            }
            let properties = schema["properties"].as_object();
            for (name, property) in properties.into_iter().flatten() {
                if let Some(v) = object.get(name)
                    && let Some(why) = mismatch(doc, property, v, &format!("{at}.{name}"))
                {
                    return Some(why);
                }
            }
            None
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| mismatch(doc, &schema["items"], item, &format!("{at}[{i}]"))),
        _ => None,
    }
}

/// `body`, answered with `status` by `method path`, holds to its documented schema.
fn holds(doc: &Value, path: &str, method: &str, status: StatusCode, body: &Value) {
    let schema = response_schema(doc, path, method, status);
    if let Some(why) = mismatch(doc, schema, body, "$") {
        panic!("{method} {path} {status}: {why}\n{body:#}");
    }
}

/// Every property `schema` declares appears in `body`: the document leaves out no field sent.
fn names_every_field(doc: &Value, schema_name: &str, body: &Value) {
    let schema = &doc["components"]["schemas"][schema_name];
    let declared: BTreeSet<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let sent: BTreeSet<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(declared, sent, "{schema_name} against {body}");
}

#[tokio::test]
async fn the_document_is_openapi_3_1_of_this_version_and_issuer_and_is_cacheable() {
    let scene = scene().await;
    let doc = fetch_document(&scene).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["servers"], json!([{"url": scene.app.issuer()}]));

    let first = scene
        .app
        .http
        .get(scene.app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    let cache = first.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cache.starts_with("public, max-age="), "{cache}");
    let etag = first.headers()["etag"].clone();
    let again = scene
        .app
        .http
        .get(scene.app.url("/openapi.json"))
        .header("if-none-match", etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"], etag);
}

#[tokio::test]
async fn every_path_and_method_of_the_agent_api_is_documented_with_its_security() {
    let scene = scene().await;
    let doc = fetch_document(&scene).await;
    let methods = ["get", "put", "post", "delete", "patch", "head", "options"];
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            methods
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| (path.clone(), m.to_string()))
        })
        .collect();
    let agent_api: BTreeSet<(String, String)> = documented
        .iter()
        .filter(|(path, _)| path.starts_with("/api/"))
        .cloned()
        .collect();
    let expected: BTreeSet<(String, String)> = AGENT_API
        .iter()
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
    assert_eq!(agent_api, expected);
    for (path, method) in ALSO_COVERED {
        assert!(
            documented.contains(&(path.to_string(), method.to_string())),
            "{method} {path}"
        );
    }
    let mut operation_ids = BTreeSet::new();
    for (path, method) in &documented {
        let operation = &doc["paths"][path][method];
        let id = operation["operationId"].as_str().unwrap();
        assert!(operation_ids.insert(id.to_string()), "{id} twice");
        if path.starts_with("/api/") {
            assert_eq!(
                operation["security"],
                json!([{"agent_token": []}]),
                "{path}"
            );
            for status in ["401", "403"] {
                assert!(
                    operation["responses"][status].is_object(),
                    "{method} {path} {status}"
                );
            }
        }
    }
    assert_eq!(
        doc["paths"]["/account/grants"]["post"]["security"],
        json!([{"session": []}])
    );
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["agent_token"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], "behalf_session");
}

#[tokio::test]
async fn the_agent_apis_real_answers_hold_to_the_documented_schemas() {
    let scene = scene().await;
    let app = &scene.app;
    let doc = fetch_document(&scene).await;
    let token = scene.agent_token("bob").await;
    let call = |method: Method, path: String, body: Option<Value>| {
        let token = token.clone();
        async move {
            let (status, _, body) = api(app, method, &path, Some(&token), body).await;
            (status, body)
        }
    };

    // A created request, and the 409 of a second one to the same user.
    let (status, created) = call(
        Method::POST,
        "/api/access-requests".into(),
        Some(ask("read", 3600)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    holds(&doc, "/api/access-requests", "post", status, &created);
    names_every_field(&doc, "AccessRequest", &created);
    let (status, conflict) = call(
        Method::POST,
        "/api/access-requests".into(),
        Some(ask("read", 3600)),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    holds(&doc, "/api/access-requests", "post", status, &conflict);
    assert_eq!(conflict["id"], created["id"]);
    let (status, refused) = call(
        Method::POST,
        "/api/access-requests".into(),
        Some(json!({"subject": "alice"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    holds(&doc, "/api/access-requests", "post", status, &refused);

    // Approved: the request with its grant, the grant, both lists.
    let id = created["id"].as_str().unwrap();
    approve_on_the_screen(app, "alice", id).await;
    let path = format!("/api/access-requests/{id}");
    let (status, approved) = call(Method::GET, path, None).await;
    assert_eq!(approved["status"], "approved");
    holds(&doc, "/api/access-requests/{id}", "get", status, &approved);
    let grant_id = approved["grant_id"].as_str().unwrap().to_string();

    let (status, grant) = call(Method::GET, format!("/api/grants/{grant_id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{grant}");
    holds(&doc, "/api/grants/{id}", "get", status, &grant);
    names_every_field(&doc, "Grant", &grant);

    let (status, requests) = call(Method::GET, "/api/access-requests?limit=1".into(), None).await;
    assert_eq!(status, StatusCode::OK, "{requests}");
    holds(&doc, "/api/access-requests", "get", status, &requests);
    assert_eq!(requests["items"].as_array().unwrap().len(), 1);
    let (status, grants) = call(Method::GET, "/api/grants".into(), None).await;
    assert_eq!(status, StatusCode::OK, "{grants}");
    holds(&doc, "/api/grants", "get", status, &grants);
    assert_eq!(grants["items"].as_array().unwrap().len(), 1);
    let (status, bad_page) = call(Method::GET, "/api/grants?limit=0".into(), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    holds(&doc, "/api/grants", "get", status, &bad_page);

    // Ended by the agent: `ended_at` and `ended_by` are no longer null.
    let (status, ended) = call(Method::DELETE, format!("/api/grants/{grant_id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(ended["ended_by"], "agent");
    holds(&doc, "/api/grants/{id}", "delete", status, &ended);
    let (status, twice) = call(Method::DELETE, format!("/api/grants/{grant_id}"), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{twice}");
    holds(&doc, "/api/grants/{id}", "delete", status, &twice);

    // A new request cancelled, one that is not there, and no token at all.
    let (_, again) = call(
        Method::POST,
        "/api/access-requests".into(),
        Some(ask("read", 3600)),
    )
    .await;
    let path = format!("/api/access-requests/{}", again["id"].as_str().unwrap());
    let (status, cancelled) = call(Method::DELETE, path, None).await;
    assert_eq!(cancelled["status"], "cancelled");
    holds(
        &doc,
        "/api/access-requests/{id}",
        "delete",
        status,
        &cancelled,
    );
    let (status, missing) = call(Method::GET, "/api/grants/nope".into(), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    holds(&doc, "/api/grants/{id}", "get", status, &missing);
    let (status, _, unauthenticated) = api(app, Method::GET, "/api/grants", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    holds(&doc, "/api/grants", "get", status, &unauthenticated);
}

#[tokio::test]
async fn the_accounts_json_grant_and_the_oauth_answers_hold_to_the_documented_schemas() {
    let scene = scene().await;
    let app = &scene.app;
    let doc = fetch_document(&scene).await;

    // The form's fields as the document names them are the ones the handler reads.
    let form_schema = &doc["components"]["schemas"]["AllowSupportForm"];
    let browser = signed_in_to_account(app, "alice").await;
    let page = browser.get("/account").await;
    let (csrf_name, csrf_value) = csrf(&page);
    let mut form = vec![];
    for name in form_schema["properties"].as_object().unwrap().keys() {
        let value = match name.as_str() {
            "csrf_token" => csrf_value.clone(),
            "team" => "Support".into(),
            "client_id" => "console".into(),
            "scope" => "read".into(),
            "duration" => "3600".into(),
            "reason" => "Looking at the export".into(),
            "agent" | "app" => continue,
            other => panic!("a form field this test does not know: {other}"),
        };
        form.push((name.clone(), value));
    }
    assert_eq!(csrf_name, "csrf_token");
    let created = browser
        .http
        .post(app.url("/account/grants"))
        .header("accept", "application/json")
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = created.status();
    let grant: Value = created.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{grant}");
    assert_eq!(grant["team"], "Support");
    holds(&doc, "/account/grants", "post", status, &grant);

    let refused = browser
        .http
        .post(app.url("/account/grants"))
        .header("accept", "application/json")
        .form(&[
            ("csrf_token", csrf_value.as_str()),
            ("team", "Support"),
            ("client_id", "console"),
            ("duration", "3600"),
        ])
        .send()
        .await
        .unwrap();
    let status = refused.status();
    let body: Value = refused.json().await.unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    holds(&doc, "/account/grants", "post", status, &body);

    // The token endpoint, its errors, discovery and the keys.
    let tokens = console_tokens(app, scene.console_secret(), "bob", "openid agent").await;
    holds(&doc, "/token", "post", StatusCode::OK, &tokens);
    let (status, _, error) = app.post_token(None, &[("grant_type", "password")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    holds(&doc, "/token", "post", status, &error);
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/jwks.json",
    ] {
        let body = app.get_json(path).await;
        holds(&doc, path, "get", StatusCode::OK, &body);
    }
    let metadata = app.get_json("/.well-known/openid-configuration").await;
    names_every_field(&doc, "ServerMetadata", &metadata);
}

#[tokio::test]
async fn the_structural_check_refuses_a_missing_field_a_wrong_type_and_a_stray_enum_value() {
    let scene = scene().await;
    let doc = fetch_document(&scene).await;
    let grant = json!({"$ref": "#/components/schemas/Grant"});
    let page = json!({"$ref": "#/components/schemas/Page_Grant"});
    let error = json!({"$ref": "#/components/schemas/Error"});
    assert!(mismatch(&doc, &error, &json!({"error": "x"}), "$").is_some());
    assert!(
        mismatch(
            &doc,
            &error,
            &json!({"error": 1, "error_description": "d"}),
            "$"
        )
        .is_some()
    );
    assert!(
        mismatch(
            &doc,
            &page,
            &json!({"items": [{"id": "g"}], "next": null}),
            "$"
        )
        .is_some()
    );
    assert!(mismatch(&doc, &page, &json!({"items": [], "next": null}), "$").is_none());
    assert!(mismatch(&doc, &page, &json!({"items": []}), "$").is_some());
    let status = &doc["components"]["schemas"]["Grant"]["properties"]["status"];
    assert!(mismatch(&doc, status, &json!("paused"), "$").is_some());
    assert!(mismatch(&doc, status, &json!("active"), "$").is_none());
    let ended_by = &doc["components"]["schemas"]["Grant"]["properties"]["ended_by"];
    assert!(mismatch(&doc, ended_by, &json!(null), "$").is_none());
    assert!(mismatch(&doc, ended_by, &json!("someone"), "$").is_some());
    assert!(mismatch(&doc, &grant, &json!([]), "$").is_some());
}
