//! `GET /openapi.json` (docs/contract.md "OpenAPI document"): an OpenAPI 3.1
//! document of the JSON endpoints, generated from the types the handlers
//! serialize (`ToSchema`) and the handlers' `#[utoipa::path]` annotations.
//! Built once when the router is, with `info.version` the crate's version
//! and `servers` the issuer; it does not change while the process runs, so it
//! is cacheable and has an `ETag`.
//!
//! The webhook payloads are the document's `webhooks` (OpenAPI 3.1 §4.8.1),
//! one per event type (`webhooks`), set in `document` beside `servers`. The
//! support console's state endpoint, when documented, is one more handler in
//! `paths(...)`.

mod webhooks;

use crate::delegation::consent_screen::allow_support;
use crate::delegation::{api, api_lists};
use crate::digest;
use crate::oauth::{discovery, jwks, ssf_configuration, token_endpoint};
use crate::ops::health;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "behalf",
        description = "OAuth 2.0 / OpenID Connect authorization server for consent-based delegated access: the agent API, the account's JSON answers and the OAuth JSON endpoints. The prose contract is docs/contract.md.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        api::create_request,
        api_lists::list_requests,
        api::get_request,
        api::cancel_request,
        api_lists::list_grants,
        api_lists::get_grant,
        api::end_grant,
        allow_support::create,
        token_endpoint::token,
        discovery::openid_configuration,
        discovery::authorization_server,
        jwks::jwks,
        ssf_configuration::ssf_configuration,
        health::healthz,
        health::readyz,
        openapi_json,
    ),
    // Schemas that only parameters name (those of bodies come with their paths).
    components(schemas(
        api_lists::GrantFilterName,
        webhooks::AccessRequestEvent,
        webhooks::GrantEvent,
        webhooks::AuditCheckpointEvent,
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "agent", description = "The agent API: a support agent's access requests and the grants it may use (bearer token with scope `agent`)"),
        (name = "account", description = "The signed-in user's account (session cookie and CSRF token)"),
        (name = "oauth", description = "OAuth 2.0 / OpenID Connect"),
        (name = "ops", description = "Health and this document"),
        (name = "webhooks", description = "What a webhook receives (Standard Webhooks): one per event type"),
    )
)]
struct ApiDoc;

/// The security schemes the annotations name.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "agent_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token of this server with scope `agent`, of an agent's account, not itself delegated (RFC 6750)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::web::session::COOKIE,
                "The browser session of a signed-in user; forms also carry its `csrf_token`",
            ))),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "The client's id and secret (RFC 6749 §2.3.1); a public client sends only `client_id` in the form",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document for a server whose issuer is `issuer`.
pub fn document(issuer: &str) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc.servers = Some(vec![utoipa::openapi::Server::new(issuer)]);
    doc.webhooks = Some(webhooks::paths());
    doc
}

/// The document as served: its bytes and their `ETag`.
struct Served {
    body: String,
    etag: HeaderValue,
}

/// `GET /openapi.json`, the document made once for `issuer`.
pub fn route<S: Clone + Send + Sync + 'static>(issuer: &str) -> MethodRouter<S> {
    let body = document(issuer)
        .to_json()
        .expect("the OpenAPI document serializes");
    let etag = format!("\"{}\"", &digest::hash_hex(&body)[..32]);
    let etag = HeaderValue::from_str(&etag).expect("hex is a header value");
    get(openapi_json).with_state(Arc::new(Served { body, etag }))
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "ops",
    operation_id = "openapi",
    responses(
        (status = 200, description = "This OpenAPI 3.1 document (cacheable, with an `ETag`)", content_type = "application/json"),
        (status = 304, description = "The `If-None-Match` sent is this document's `ETag`"),
    )
)]
async fn openapi_json(State(served): State<Arc<Served>>, headers: HeaderMap) -> Response {
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|sent| sent.as_bytes() == served.etag.as_bytes());
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(served.body.clone()))
    };
    let headers = response.headers_mut();
    if !fresh {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    headers.insert(header::ETAG, served.etag.clone());
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn doc() -> Value {
        serde_json::to_value(document("https://issuer.example")).unwrap()
    }

    fn enum_of(doc: &Value, schema: &str) -> Vec<String> {
        let values = &doc["components"]["schemas"][schema]["enum"];
        let values = values.as_array().unwrap_or_else(|| panic!("{schema}"));
        values
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn the_document_is_openapi_3_1_with_the_crate_version_and_the_issuer() {
        let doc = doc();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(doc["servers"][0]["url"], "https://issuer.example");
    }

    #[test]
    fn the_status_schemas_list_exactly_the_values_the_code_sends() {
        use crate::clients::GrantType;
        use crate::delegation::grants::GrantStatus;
        use crate::delegation::requests::RequestStatus;
        use crate::store::grants::EndedBy;
        let doc = doc();
        let names = |values: &[&str]| values.iter().map(|v| v.to_string()).collect::<Vec<_>>();
        assert_eq!(
            enum_of(&doc, "RequestStatus"),
            names(&RequestStatus::ALL.map(RequestStatus::as_str))
        );
        assert_eq!(
            enum_of(&doc, "GrantStatus"),
            names(&GrantStatus::ALL.map(GrantStatus::as_str))
        );
        assert_eq!(
            enum_of(&doc, "GrantType"),
            names(&GrantType::ALL.map(GrantType::as_str))
        );
        let ended = enum_of(&doc, "EndedByName");
        for by in [EndedBy::User, EndedBy::Agent, EndedBy::UserDisabled] {
            assert!(ended.contains(&by.as_str().to_string()), "{by:?}");
            assert_eq!(EndedBy::parse(by.as_str()), Some(by));
        }
        assert_eq!(ended.len(), 4, "{ended:?}");
        for filter in enum_of(&doc, "GrantFilterName") {
            assert!(crate::delegation::grants::decide_filter(Some(&filter)).is_ok());
        }
    }

    #[test]
    fn a_request_names_at_most_as_many_apps_as_the_policy_allows() {
        let doc = doc();
        let apps = &doc["components"]["schemas"]["NewAccessRequest"]["properties"]["apps"];
        assert_eq!(
            apps["maxItems"],
            crate::delegation::policy::MAX_APPS as u64,
            "{apps}"
        );
    }
}
