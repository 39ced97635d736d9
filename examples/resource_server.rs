//! An example resource server: what an app team writes to accept behalf's
//! delegated tokens. It validates tokens locally from the JWKS (RFC 9068 §4:
//! `typ` at+jwt, ES256, `iss`, `aud`, `exp`) and shows who is really acting
//! (`act`, RFC 8693 §4.1). With client credentials it also asks introspection
//! (RFC 7662), which sees a grant ended a moment ago and names the user.
//!
//! It also receives behalf's Security Event Tokens (RFC 8417) pushed to
//! `POST /security-events` (RFC 8935): it verifies each (ES256 with the JWKS
//! key of its `kid`, `typ` secevent+jwt, `iss`, `aud` its own audience),
//! answers 202, and from then on refuses every delegated token of the grant
//! it names (CAEP session revoked, `sub_id` the grant), without asking
//! introspection. Register it with
//! `behalf receiver add http://127.0.0.1:3001/security-events --audience AUD`.
//!
//!     cargo run --release -- serve --demo       # in one shell
//!     BEHALF_RS_CLIENT=demo-api BEHALF_RS_SECRET=demo-api-secret-for-local-trials-only \
//!       cargo run --example resource_server     # in another; listens on 127.0.0.1:3001
//!     curl -H "Authorization: Bearer $DELEGATED" http://127.0.0.1:3001/account

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, RwLock};

/// The CAEP event a SET carries when a grant ends.
const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";

struct Config {
    issuer: String,
    audience: String,
    introspection: Option<(String, String)>,
    http: reqwest::Client,
    jwks: RwLock<JwkSet>,
    /// Grants a SET said ended: their delegated tokens are refused. In memory
    /// here; a real server keeps them as long as a token of the grant may live
    /// (the delegated-token lifetime), on every instance.
    ended_grants: RwLock<HashSet<String>>,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    scope: Option<String>,
    act: Option<Value>,
    grant_id: Option<String>,
}

async fn fetch_jwks(config: &Config) -> Result<(), reqwest::Error> {
    let jwks: JwkSet = config
        .http
        .get(format!("{}/jwks.json", config.issuer))
        .send()
        .await?
        .json()
        .await?;
    *config.jwks.write().unwrap() = jwks;
    Ok(())
}

fn reject(why: &str) -> (StatusCode, Json<Value>) {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "invalid_token", "error_description": why})),
    )
}

/// Local validation: the key by `kid` from the JWKS, fetched again once for an unknown `kid`.
async fn validate(config: &Config, token: &str) -> Result<Claims, String> {
    verify(config, token, "at+jwt", true).await
}

/// A JWT of `typ` signed by behalf for this server; `exp` checked when `expires`.
async fn verify<C: serde::de::DeserializeOwned>(
    config: &Config,
    token: &str,
    typ: &str,
    expires: bool,
) -> Result<C, String> {
    let header = decode_header(token).map_err(|e| e.to_string())?;
    if header.typ.as_deref() != Some(typ) {
        return Err(format!("not a {typ}"));
    }
    let kid = header.kid.ok_or("no kid")?;
    if config.jwks.read().unwrap().find(&kid).is_none() {
        fetch_jwks(config).await.map_err(|e| e.to_string())?;
    }
    let key = {
        let jwks = config.jwks.read().unwrap();
        let jwk = jwks.find(&kid).ok_or("unknown key")?;
        DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?
    };
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[&config.issuer]);
    validation.set_audience(&[&config.audience]);
    if !expires {
        // A SET has no `exp` (RFC 8417 §2.2): it says something happened.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["iss", "aud", "iat", "jti"]);
    }
    decode::<C>(token, &key, &validation)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())
}

async fn account(
    State(config): State<Arc<Config>>,
    headers: HeaderMap,
) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| reject("no bearer token"))?;
    let claims = validate(&config, token).await.map_err(|e| reject(&e))?;
    if let Some(grant) = &claims.grant_id
        && config.ended_grants.read().unwrap().contains(grant)
    {
        return Err(reject(&format!("grant {grant} has ended")));
    }
    let mut who = claims.sub.clone();
    if let Some((client, secret)) = &config.introspection {
        let answer: Value = config
            .http
            .post(format!("{}/introspect", config.issuer))
            .basic_auth(client, Some(secret))
            .form(&[("token", token)])
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|_| reject("introspection failed"))?
            .json()
            .await
            .map_err(|_| reject("introspection failed"))?;
        if answer["active"] != true {
            return Err(reject(
                "the token is no longer active (the grant may have ended)",
            ));
        }
        who = answer["username"]
            .as_str()
            .unwrap_or(&claims.sub)
            .to_string();
    }
    let message = match (&claims.act, &claims.grant_id) {
        (Some(act), Some(grant)) => format!(
            "{who}'s account, accessed by {} under grant {grant}, until {}",
            act["sub"].as_str().unwrap_or("?"),
            behalf::clock::rfc3339(claims.exp)
        ),
        _ => format!("{who}'s account"),
    };
    Ok(Json(json!({
        "message": message,
        "subject": claims.sub,
        "actor": claims.act,
        "grant_id": claims.grant_id,
        "scope": claims.scope,
        "expires_at": claims.exp,
    })))
}

#[derive(Deserialize)]
struct SecurityEvent {
    sub_id: Value,
    events: serde_json::Map<String, Value>,
}

/// `POST /security-events` (RFC 8935 §2): a SET verified, then 202; a grant
/// it says ended is remembered. A SET that does not verify is a 400 with
/// `invalid_request` or `invalid_key` (RFC 8935 §2.3, §2.4).
async fn security_event(
    State(config): State<Arc<Config>>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, Json<Value>) {
    let refuse = |err: &str, why: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"err": err, "description": why})),
        )
    };
    let media = headers.get("content-type").and_then(|v| v.to_str().ok());
    if media != Some("application/secevent+jwt") {
        return refuse("invalid_request", "not application/secevent+jwt");
    }
    let set: SecurityEvent = match verify(&config, body.trim(), "secevent+jwt", false).await {
        Ok(set) => set,
        Err(why) => return refuse("invalid_key", &why),
    };
    if set.events.contains_key(SESSION_REVOKED)
        && set.sub_id["format"] == "opaque"
        && let Some(grant) = set.sub_id["id"].as_str()
    {
        config
            .ended_grants
            .write()
            .unwrap()
            .insert(grant.to_string());
        println!("grant {grant} ended: its delegated tokens are refused from now on");
    }
    (StatusCode::ACCEPTED, Json(json!({})))
}

#[tokio::main]
async fn main() {
    let issuer = std::env::var("BEHALF_ISSUER").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let config = Arc::new(Config {
        audience: std::env::var("BEHALF_AUDIENCE").unwrap_or_else(|_| issuer.clone()),
        introspection: std::env::var("BEHALF_RS_CLIENT")
            .ok()
            .zip(std::env::var("BEHALF_RS_SECRET").ok()),
        issuer,
        http: reqwest::Client::new(),
        jwks: RwLock::new(JwkSet { keys: Vec::new() }),
        ended_grants: RwLock::default(),
    });
    if let Err(e) = fetch_jwks(&config).await {
        eprintln!("cannot fetch the JWKS from {}: {e}", config.issuer);
        std::process::exit(1);
    }
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:3001".into());
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .expect("can listen");
    println!(
        "example resource server on http://{listen}/account, trusting {}",
        config.issuer
    );
    let app = Router::new()
        .route("/account", get(account))
        .route("/security-events", post(security_event))
        .with_state(config);
    axum::serve(listener, app).await.expect("serves");
}
