//! Fixtures for token exchange, introspection and revocation tests: alice's
//! approved grant to bob through the console, and the calls a support console
//! and a resource server make.

use crate::access_requests::{Desk, desk, file_request};
use behalf::delegation::requests::{self, Answer};
use behalf::store::users::UserRow;
use reqwest::StatusCode;
use serde_json::Value;

pub const GRANT_ID_TYPE: &str = "urn:behalf:params:oauth:token-type:grant_id";
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

pub struct Granted {
    pub d: Desk,
    pub grant_id: String,
    /// A confidential resource-server client that may introspect.
    pub rs_secret: String,
}

/// alice approves bob's request for `scope`, `duration` as asked (through the domain API).
pub async fn granted(scope: &str, duration: i64) -> Granted {
    granted_at(desk().await, scope, duration).await
}

/// As `granted`, at a desk of the test's own.
pub async fn granted_at(d: Desk, scope: &str, duration: i64) -> Granted {
    let grant_id = approve(&d, scope, duration).await;
    let rs_secret = d.app.add_client("rs", &[], &[]).await;
    Granted {
        d,
        grant_id,
        rs_secret,
    }
}

pub async fn approve(d: &Desk, scope: &str, duration: i64) -> String {
    let id = file_request(d, scope, duration).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let alice = d
        .app
        .state
        .db
        .run(|c| UserRow::find_by_username(c, "alice"))
        .await
        .unwrap()
        .unwrap();
    let state = &d.app.state;
    requests::answer(
        &state.db,
        &state.settings.policy,
        &state.default_audience,
        state.now(),
        &alice.sub,
        &id,
        Answer::Approve {
            duration: None,
            scopes: None,
        },
    )
    .await
    .unwrap();
    let (_, _, request) = crate::access_requests::api(
        &d.app,
        reqwest::Method::GET,
        &format!("/api/access-requests/{id}"),
        Some(&d.bob),
        None,
    )
    .await;
    request["grant_id"].as_str().unwrap().to_string()
}

impl Granted {
    /// A token-exchange request by the console with bob's token; `extra` adds or
    /// replaces parameters (an empty value removes one).
    pub async fn exchange(&self, extra: &[(&str, &str)]) -> (StatusCode, Value) {
        self.exchange_as(Some(("console", &self.d.secret)), extra)
            .await
    }

    pub async fn exchange_as(
        &self,
        auth: Option<(&str, &str)>,
        extra: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut form: Vec<(&str, &str)> = vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token", &self.grant_id),
            ("subject_token_type", GRANT_ID_TYPE),
            ("actor_token", &self.d.bob),
            ("actor_token_type", ACCESS_TOKEN_TYPE),
        ];
        for (name, value) in extra {
            form.retain(|(n, _)| n != name);
            if !value.is_empty() {
                form.push((name, value));
            }
        }
        let (status, headers, body) = self.d.app.post_token(auth, &form).await;
        assert_eq!(headers["cache-control"], "no-store");
        (status, body)
    }

    pub async fn delegated_token(&self) -> String {
        let (status, body) = self.exchange(&[]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    pub async fn introspect(&self, token: &str) -> Value {
        let response = self
            .d
            .app
            .http
            .post(self.d.app.url("/introspect"))
            .basic_auth("rs", Some(&self.rs_secret))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["cache-control"], "no-store");
        response.json().await.unwrap()
    }

    pub async fn revoke(
        &self,
        client: (&str, &str),
        token: &str,
        hint: Option<&str>,
    ) -> StatusCode {
        let mut form = vec![("token", token)];
        if let Some(hint) = hint {
            form.push(("token_type_hint", hint));
        }
        self.d
            .app
            .http
            .post(self.d.app.url("/revoke"))
            .basic_auth(client.0, Some(client.1))
            .form(&form)
            .send()
            .await
            .unwrap()
            .status()
    }

    pub async fn is_active(&self, token: &str) -> bool {
        self.introspect(token).await["active"] == true
    }

    /// How many events the audit trail holds.
    pub async fn audit_events_count(&self) -> u64 {
        use diesel::prelude::*;
        self.d
            .app
            .state
            .db
            .run(|c| {
                Ok(behalf::store::schema::audit_events::table
                    .count()
                    .get_result::<i64>(c)? as u64)
            })
            .await
            .unwrap()
    }
}
