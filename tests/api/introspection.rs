//! RFC 7662 introspection (docs/security.md F1–F4) and RFC 7009 revocation (G1–G5),
//! and how far a revocation reaches (E13; docs/contract.md "Revocation and its reach").

use crate::fixtures::{Granted, api, console_token, granted};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn an_unauthenticated_or_public_caller_gets_401() {
    let g = granted("read", 3600).await;
    let token = g.delegated_token().await;
    let anonymous =
        g.d.app
            .http
            .post(g.d.app.url("/introspect"))
            .form(&[("token", token.as_str())])
            .send()
            .await
            .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    crate::fixtures::add_code_client(
        &g.d.app,
        crate::fixtures::ClientSpec {
            id: "spa",
            public: true,
            first_party: true,
            refresh: false,
        },
    )
    .await;
    let public =
        g.d.app
            .http
            .post(g.d.app.url("/introspect"))
            .form(&[("token", token.as_str()), ("client_id", "spa")])
            .send()
            .await
            .unwrap();
    assert_eq!(public.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_active_delegated_token_shows_act_grant_and_the_rest() {
    let g = granted("read write", 3600).await;
    let token = g.delegated_token().await;
    let answer = g.introspect(&token).await;
    let bob_sub = crate::helpers::verify_with_jwks(&g.d.app, &g.d.bob, g.d.app.issuer())
        .await
        .unwrap()["sub"]
        .clone();
    assert_eq!(answer["active"], true);
    assert_eq!(answer["sub"], g.d.alice_sub);
    assert_eq!(answer["username"], "alice");
    assert_eq!(answer["act"], json!({"sub": bob_sub}));
    assert_eq!(answer["grant_id"], g.grant_id);
    assert_eq!(answer["client_id"], "console");
    assert_eq!(answer["scope"], "read write");
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["iss"], g.d.app.issuer());
    assert!(answer["exp"].is_i64() && answer["iat"].is_i64() && answer["jti"].is_string());
    assert_eq!(answer["aud"], g.d.app.issuer());
    // Two more checks of the same token, at once.
    g.introspect(&token).await;
    g.introspect(&token).await;
    // Checks are recorded by the deferred audit queue, not before the answer;
    // repeats by one client within a minute are one line (L9). Flush it once.
    let counted = |events: &[behalf::store::audit_events::AuditEventRow]| -> u64 {
        events
            .iter()
            .filter(|e| e.action == "token.introspected" && e.actor == "rs")
            .map(|e| {
                serde_json::from_str::<serde_json::Value>(&e.detail).unwrap()["count"]
                    .as_u64()
                    .unwrap_or(1)
            })
            .sum()
    };
    g.d.app.state.deferred_audit.flush(&g.d.app.state.db).await;
    let grant_id = g.grant_id.clone();
    let events =
        g.d.app
            .state
            .db
            .run(move |c| behalf::store::audit_events::for_subject(c, &grant_id))
            .await
            .unwrap();
    let total = counted(&events);
    assert_eq!(total, 1, "three checks in one minute are one line");
    assert_eq!(
        behalf::audit::verify(&g.d.app.state.db).await.unwrap(),
        behalf::audit::ChainReport::Intact {
            events: g.audit_events_count().await
        }
    );
}

#[tokio::test]
async fn other_kinds_of_tokens_introspect_too() {
    let g = granted("read", 3600).await;
    let bob = g.introspect(&g.d.bob).await;
    assert_eq!(bob["active"], true);
    assert_eq!(bob["username"], "bob");
    assert!(bob.get("act").is_none());
    let cc_secret = g.d.app.add_client("svc", &["read"], &[]).await;
    let cc =
        g.d.app
            .client_credentials_token("svc", &cc_secret, "read")
            .await;
    let answer = g.introspect(&cc).await;
    assert_eq!(
        (answer["active"].clone(), answer["sub"].clone()),
        (json!(true), json!("svc"))
    );
}

#[tokio::test]
async fn anything_not_active_is_exactly_active_false() {
    let g = granted("read", 3600).await;
    let token = g.delegated_token().await;
    let mut tampered = token.clone();
    tampered.pop();
    for junk in [
        "",
        "x",
        "a.b.c",
        &tampered,
        &token[..token.len() / 2],
        &"z".repeat(20_000),
    ] {
        if junk.is_empty() {
            continue;
        }
        assert_eq!(
            g.introspect(junk).await,
            json!({"active": false}),
            "{junk:.30}"
        );
    }
    g.d.app.clock.advance(300);
    assert_eq!(
        g.introspect(&token).await,
        json!({"active": false}),
        "expired at exp exactly"
    );
}

#[tokio::test]
async fn ending_the_grant_deactivates_every_token_under_it_at_the_next_check() {
    let g = granted("read", 3600).await;
    let tokens = [g.delegated_token().await, g.delegated_token().await];
    for t in &tokens {
        assert!(g.is_active(t).await);
    }
    let (status, _, _) = api(
        &g.d.app,
        Method::DELETE,
        &format!("/api/grants/{}", g.grant_id),
        Some(&g.d.bob),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for t in &tokens {
        assert_eq!(g.introspect(t).await, json!({"active": false}));
    }
    // The bearer check of resource servers that ask the server: UserInfo agrees.
}

#[tokio::test]
async fn revocation_needs_client_authentication_and_ignores_other_clients_tokens() {
    let g = granted("read", 3600).await;
    let token = g.delegated_token().await;
    let anonymous =
        g.d.app
            .http
            .post(g.d.app.url("/revoke"))
            .form(&[("token", token.as_str())])
            .send()
            .await
            .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // The resource server is not the token's client: 200, and nothing happens.
    assert_eq!(
        g.revoke(("rs", &g.rs_secret), &token, None).await,
        StatusCode::OK
    );
    assert!(
        g.is_active(&token).await,
        "another client's revocation is refused silently"
    );
    assert_eq!(
        g.revoke(("console", &g.d.secret), &token, Some("refresh_token"))
            .await,
        StatusCode::OK
    );
    assert_eq!(
        g.introspect(&token).await,
        json!({"active": false}),
        "a wrong hint still revokes"
    );
    assert_eq!(
        g.revoke(("console", &g.d.secret), "never-issued", None)
            .await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn revoking_the_agents_token_ends_the_delegated_tokens_minted_with_it() {
    let g = granted("read", 3600).await;
    let delegated = g.delegated_token().await;
    assert_eq!(
        g.revoke(("console", &g.d.secret), &g.d.bob, Some("access_token"))
            .await,
        StatusCode::OK
    );
    assert_eq!(g.introspect(&g.d.bob).await, json!({"active": false}));
    assert_eq!(g.introspect(&delegated).await, json!({"active": false}));
    // The grant itself stands: a fresh agent token may exchange again.
    let bob = console_token(&g.d.app, &g.d.secret, "bob", "openid agent").await;
    assert_eq!(g.exchange(&[("actor_token", &bob)]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn disabling_the_agent_ends_the_delegated_tokens() {
    let g = granted("read", 3600).await;
    let delegated = g.delegated_token().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_behalf"))
        .args(["user", "disable", "bob"])
        .env("BEHALF_DATABASE_URL", &g.d.app.db.url)
        .env("BEHALF_KEY_ENCRYPTION_KEY", crate::helpers::TEST_KEK)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(g.introspect(&delegated).await, json!({"active": false}));
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_its_family_and_derived_delegated_tokens() {
    let g = granted("read", 3600).await;
    // The console gets refresh tokens for bob in this test.
    use diesel::prelude::*;
    g.d.app
        .state
        .db
        .run(|c| {
            diesel::update(behalf::store::schema::clients::table.find("console"))
                .set(behalf::store::schema::clients::grant_types.eq("authorization_code refresh_token urn:ietf:params:oauth:grant-type:token-exchange"))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let reopened = reopen(&g).await;
    let tokens =
        crate::fixtures::console_tokens(&reopened.d.app, &reopened.d.secret, "bob", "openid agent")
            .await;
    let (bob, refresh) = (
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    );
    let delegated = reopened.exchange(&[("actor_token", bob)]).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        reopened.introspect(refresh).await["token_type"],
        "refresh_token"
    );
    assert_eq!(
        reopened
            .revoke(
                ("console", &reopened.d.secret),
                refresh,
                Some("refresh_token")
            )
            .await,
        StatusCode::OK
    );
    assert_eq!(reopened.introspect(refresh).await, json!({"active": false}));
    assert_eq!(reopened.introspect(bob).await, json!({"active": false}));
    assert_eq!(
        reopened.introspect(&delegated).await,
        json!({"active": false})
    );
}

/// The same server again, so that the client registry does not serve a cached client.
async fn reopen(g: &Granted) -> Granted {
    let mut settings = g.d.app.db.settings();
    settings.issuer = Some(g.d.app.issuer().to_string());
    let app =
        crate::helpers::TestApp::spawn_with(g.d.app.db.clone(), settings, g.d.app.clock.clone())
            .await;
    Granted {
        d: crate::fixtures::Desk {
            app,
            secret: g.d.secret.clone(),
            bob: g.d.bob.clone(),
            alice_sub: g.d.alice_sub.clone(),
        },
        grant_id: g.grant_id.clone(),
        rs_secret: g.rs_secret.clone(),
    }
}

#[tokio::test]
async fn a_storage_error_during_revocation_is_503_never_200() {
    let g = granted("read", 3600).await;
    let token = g.delegated_token().await;
    // Break the table revocation writes to: the server must not claim success.
    g.d.app
        .state
        .db
        .run(|c| {
            use diesel::RunQueryDsl;
            diesel::sql_query("ALTER TABLE issued_tokens RENAME TO issued_tokens_gone")
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(
        g.revoke(("console", &g.d.secret), &token, None).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn after_a_200_every_instance_sees_the_token_inactive_at_once() {
    let g = granted("read", 3600).await;
    let token = g.delegated_token().await;
    let second = reopen(&g).await;
    assert!(second.is_active(&token).await);
    assert_eq!(
        g.revoke(("console", &g.d.secret), &token, None).await,
        StatusCode::OK
    );
    assert_eq!(
        second.introspect(&token).await,
        json!({"active": false}),
        "the other instance agrees at once"
    );
}
