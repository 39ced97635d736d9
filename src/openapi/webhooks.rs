//! The document's `webhooks` (OpenAPI 3.1 §4.8.1): one per event type, each
//! the `POST` a webhook receives (Standard Webhooks; docs/contract.md
//! "Webhooks"): the headers `webhook-id`, `webhook-timestamp`,
//! `webhook-signature` and the body `{"type", "timestamp", "data"}`, whose
//! `data` is the API's own schema (an access request, a grant, a checkpoint).
//! utoipa has no annotation for webhooks, so the path items are written here
//! and point at the envelopes' schemas, which are derived from the types.

use crate::delegation::grants::GrantView;
use crate::delegation::requests::RequestView;
use crate::store::events::EventType;
use serde_json::{Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::path::Paths;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// The event types whose name starts with `prefix`, as a string enum.
fn types_starting(prefix: &str) -> RefOr<Schema> {
    let names = EventType::ALL
        .iter()
        .map(|t| t.as_str())
        .filter(|name| name.starts_with(prefix));
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
        .into()
}

/// `access_request.*` (a schema only).
pub struct AccessRequestEventType;

impl utoipa::PartialSchema for AccessRequestEventType {
    fn schema() -> RefOr<Schema> {
        types_starting("access_request.")
    }
}

impl utoipa::ToSchema for AccessRequestEventType {}

/// `grant.*` (a schema only).
pub struct GrantEventType;

impl utoipa::PartialSchema for GrantEventType {
    fn schema() -> RefOr<Schema> {
        types_starting("grant.")
    }
}

impl utoipa::ToSchema for GrantEventType {}

/// `audit.*` (a schema only).
pub struct AuditEventType;

impl utoipa::PartialSchema for AuditEventType {
    fn schema() -> RefOr<Schema> {
        types_starting("audit.")
    }
}

impl utoipa::ToSchema for AuditEventType {}

/// What happened to an access request, as a webhook receives it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AccessRequestEvent {
    #[schema(value_type = AccessRequestEventType)]
    r#type: String,
    /// When it happened (RFC 3339).
    #[schema(format = DateTime)]
    timestamp: String,
    /// The request as `GET /api/access-requests/{id}` shows it then.
    data: RequestView,
}

/// What happened to a grant, as a webhook receives it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct GrantEvent {
    #[schema(value_type = GrantEventType)]
    r#type: String,
    /// When it happened (RFC 3339): for `grant.ended` by expiry, the expiry.
    #[schema(format = DateTime)]
    timestamp: String,
    /// The grant as `GET /api/grants/{id}` shows it then.
    data: GrantView,
}

/// A signed audit checkpoint, as a webhook receives it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AuditCheckpointEvent {
    #[schema(value_type = AuditEventType)]
    r#type: String,
    #[schema(format = DateTime)]
    timestamp: String,
    data: AuditCheckpointData,
}

/// An audit checkpoint: the JWS and what it signs.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AuditCheckpointData {
    /// A JWS (`typ: audit-checkpoint+jwt`) verifiable against `/jwks.json`.
    checkpoint: String,
    /// The sequence number of the newest audit event it covers.
    seq: i64,
    /// The chain's hash at `seq`, base64url.
    head: String,
}

/// The envelope schema of events of `kind`.
fn envelope(kind: EventType) -> &'static str {
    let name = kind.as_str();
    if name.starts_with("access_request.") {
        "AccessRequestEvent"
    } else if name.starts_with("grant.") {
        "GrantEvent"
    } else {
        "AuditCheckpointEvent"
    }
}

fn header(name: &str, description: &str) -> Value {
    json!({
        "name": name,
        "in": "header",
        "required": true,
        "description": description,
        "schema": {"type": "string"},
    })
}

/// One webhook per event type.
pub fn paths() -> Paths {
    let mut items = serde_json::Map::new();
    for kind in EventType::ALL {
        let name = kind.as_str();
        let operation = json!({
            "tags": ["webhooks"],
            "summary": format!("{name}: what a webhook that hears it receives"),
            "operationId": format!("webhook_{}", name.replace('.', "_")),
            "parameters": [
                header("webhook-id", "The event's id (`evt_...`), the same on every attempt: drop a repeat"),
                header("webhook-timestamp", "When this attempt was made, Unix seconds: refuse one far from now"),
                header("webhook-signature", "`v1,` and the base64 of HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`, keyed by the secret's bytes (after `whsec_`, base64-decoded)"),
            ],
            "requestBody": {
                "required": true,
                "content": {"application/json": {"schema": {
                    "$ref": format!("#/components/schemas/{}", envelope(kind)),
                }}},
            },
            "responses": {
                "2XX": {"description": "Delivered"},
                "default": {"description": "Not delivered: retried after 1, 2, 4 ... seconds, at most an hour apart (also when there is no answer within 10 s)"},
            },
        });
        items.insert(name.to_string(), json!({"post": operation}));
    }
    serde_json::from_value(Value::Object(items)).expect("the webhooks are path items")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_type_has_its_webhook_and_its_envelope_lists_it() {
        let doc = serde_json::to_value(super::super::document("https://issuer.example")).unwrap();
        for kind in EventType::ALL {
            let hook = &doc["webhooks"][kind.as_str()]["post"];
            let schema = hook["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{}", kind.as_str()));
            let name = schema.trim_start_matches("#/components/schemas/");
            let envelope = &doc["components"]["schemas"][name];
            let type_ref = envelope["properties"]["type"]["$ref"].as_str().unwrap();
            let types = &doc["components"]["schemas"][type_ref.rsplit('/').next().unwrap()];
            assert!(
                types["enum"]
                    .as_array()
                    .unwrap()
                    .contains(&kind.as_str().into()),
                "{name}: {types}"
            );
            let required = envelope["required"].as_array().unwrap();
            for field in ["type", "timestamp", "data"] {
                assert!(required.contains(&field.into()), "{name} {field}");
            }
        }
    }
}
