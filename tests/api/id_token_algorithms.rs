//! A client's ID-token algorithm (OIDC Dynamic Client Registration 1.0 §2
//! `id_token_signed_response_alg`; docs/contract.md "Tokens and claims"): a
//! client registered ES256 gets ES256 ID tokens whose `kid` is an ES256 key of
//! the JWKS, at the code's redemption and at every refresh; any other client
//! RS256 as before; both keep signing and verifying across `keys rotate`
//! (RFC 8725 §3.1: one key, one algorithm); a database of an earlier version
//! gets its ES256 ID-token key at the first start.

use crate::fixtures::{Browser, CALLBACK, add_user, authorize_url, pkce, query_of, redeem};
use crate::helpers::TestApp;
use base64::Engine;
use behalf::oauth::registration::{self, NewClient};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use reqwest::StatusCode;
use serde_json::Value;

/// A first-party code-flow client with refresh, registered with `alg` (none: the default).
async fn add_client(app: &TestApp, id: &str, alg: Option<&str>) -> String {
    let (row, secret) = registration::register(
        NewClient {
            client_id: id.into(),
            first_party: true,
            redirect_uris: vec![CALLBACK.into()],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            scopes: vec!["openid".into(), "profile".into()],
            id_token_signed_response_alg: alg.map(String::from),
            ..NewClient::default()
        },
        0,
    )
    .unwrap();
    app.state.db.run(move |c| row.insert(c)).await.unwrap();
    secret.unwrap().expose().clone()
}

/// alice signs in to client `id` and the code is redeemed: its token response.
async fn sign_in(app: &TestApp, id: &str, secret: &str) -> Value {
    let (verifier, challenge) = pkce();
    let location = Browser::new(app)
        .authorize(&authorize_url(app, id, &challenge, &[]), "alice", "approve")
        .await;
    let (status, tokens) = redeem(
        app,
        (id, Some(secret)),
        &query_of(&location)["code"],
        &verifier,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}

/// Verifies the ID token of `tokens` as a relying party that registered `alg`
/// does: the header's `alg` is the registered one, its `kid` names a key of
/// the JWKS published for that algorithm, the signature, `iss`, `aud`, and
/// `at_hash` over the access token beside it. Returns the `kid`.
async fn verify_id_token(app: &TestApp, tokens: &Value, client: &str, alg: Algorithm) -> String {
    let token = tokens["id_token"].as_str().expect("an ID token");
    let header = decode_header(token).unwrap();
    assert_eq!(header.alg, alg, "the registered algorithm");
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let kid = header.kid.expect("a kid");
    let jwks: JwkSet = serde_json::from_value(app.get_json("/jwks.json").await).unwrap();
    let jwk = jwks.find(&kid).expect("the kid is in the JWKS");
    let published: Value = serde_json::to_value(jwk).unwrap();
    assert_eq!(published["alg"], format!("{alg:?}"), "{published}");
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[app.issuer()]);
    validation.set_audience(&[client]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    // Judged against the test's clock by the callers that need it.
    validation.validate_exp = false;
    let claims = decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .expect("the ID token verifies with its JWKS key")
        .claims;
    assert_eq!(claims["azp"], client);
    // OIDC Core §3.1.3.6: the left half of the access token's SHA-256, whichever algorithm.
    let access = tokens["access_token"].as_str().unwrap();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access.as_bytes());
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16]);
    assert_eq!(claims["at_hash"], expected);
    kid
}

#[tokio::test]
async fn an_es256_client_gets_es256_id_tokens_and_any_other_client_rs256() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    let fast = add_client(&app, "fast", Some("ES256")).await;
    let plain = add_client(&app, "plain", None).await;
    let explicit = add_client(&app, "explicit", Some("RS256")).await;

    let es = sign_in(&app, "fast", &fast).await;
    let es_kid = verify_id_token(&app, &es, "fast", Algorithm::ES256).await;
    let rs_kid = verify_id_token(
        &app,
        &sign_in(&app, "plain", &plain).await,
        "plain",
        Algorithm::RS256,
    )
    .await;
    let explicit_kid = verify_id_token(
        &app,
        &sign_in(&app, "explicit", &explicit).await,
        "explicit",
        Algorithm::RS256,
    )
    .await;
    assert_eq!(rs_kid, explicit_kid, "one RS256 ID-token key");
    assert_ne!(es_kid, rs_kid);

    // The access token beside it is the same kind whatever the ID token's algorithm.
    let access =
        crate::helpers::verify_with_jwks(&app, es["access_token"].as_str().unwrap(), app.issuer())
            .await
            .unwrap();
    assert_eq!(access["client_id"], "fast");
    assert_ne!(
        decode_header(es["access_token"].as_str().unwrap())
            .unwrap()
            .kid
            .unwrap(),
        es_kid
    );

    // A refresh signs its ID token with the client's algorithm too.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", es["refresh_token"].as_str().unwrap()),
    ];
    let (status, _, refreshed) = app.post_token(Some(("fast", &fast)), &form).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert_eq!(
        verify_id_token(&app, &refreshed, "fast", Algorithm::ES256).await,
        es_kid
    );
}

#[tokio::test]
async fn discovery_lists_both_id_token_algorithms_and_the_jwks_a_key_for_each() {
    let app = TestApp::spawn().await;
    let metadata = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(
        metadata["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256", "ES256"])
    );
    // Access tokens, ID tokens (RS256 and ES256) and security events: one key each.
    let jwks = app.get_json("/jwks.json").await;
    let mut algs: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    algs.sort_unstable();
    assert_eq!(algs, ["ES256", "ES256", "ES256", "RS256"]);
}

#[tokio::test]
async fn after_keys_rotate_both_algorithms_sign_with_their_new_keys_and_earlier_tokens_verify() {
    let app = TestApp::spawn_own_keys().await;
    add_user(&app, "alice", false).await;
    let clients = [
        (
            "fast",
            add_client(&app, "fast", Some("ES256")).await,
            Algorithm::ES256,
        ),
        (
            "plain",
            add_client(&app, "plain", None).await,
            Algorithm::RS256,
        ),
    ];
    let mut before = Vec::new();
    for (id, secret, alg) in &clients {
        let tokens = sign_in(&app, id, secret).await;
        let kid = verify_id_token(&app, &tokens, id, *alg).await;
        before.push((tokens, kid));
    }

    let lead = 600;
    let new_kids = app
        .state
        .keys
        .rotate(&app.state.db, app.clock_now(), lead)
        .await
        .unwrap();
    assert_eq!(
        new_kids.len(),
        4,
        "a new key for each purpose: {new_kids:?}"
    );
    for ((id, secret, alg), (_, old_kid)) in clients.iter().zip(&before) {
        let during = sign_in(&app, id, secret).await;
        assert_eq!(
            &verify_id_token(&app, &during, id, *alg).await,
            old_kid,
            "{id}: the new key does not sign before its time"
        );
    }

    app.clock.advance(lead);
    for ((id, secret, alg), (earlier, old_kid)) in clients.iter().zip(&before) {
        let after = sign_in(&app, id, secret).await;
        let new_kid = verify_id_token(&app, &after, id, *alg).await;
        assert_ne!(&new_kid, old_kid, "{id}");
        assert!(
            new_kids.contains(&new_kid),
            "{id}: signed by its rotated-in key"
        );
        assert!(
            crate::helpers::jwt_claims(after["id_token"].as_str().unwrap())["exp"]
                .as_i64()
                .unwrap()
                > app.clock_now()
        );
        // The earlier ID token still verifies: its key stays published.
        assert_eq!(
            &verify_id_token(&app, earlier, id, *alg).await,
            old_kid,
            "{id}"
        );
    }
}

#[tokio::test]
async fn a_database_of_an_earlier_version_gets_its_es256_id_token_key_at_start() {
    use behalf::store::schema::signing_keys;
    use diesel::prelude::*;
    let app = TestApp::spawn_own_keys().await;
    // An earlier version made three keys: no ES256 ID-token key.
    app.state
        .db
        .run(|c| {
            diesel::delete(
                signing_keys::table
                    .filter(signing_keys::purpose.eq("id_token"))
                    .filter(signing_keys::alg.eq("ES256")),
            )
            .execute(c)
            .map_err(behalf::store::StoreError::from)
        })
        .await
        .unwrap();
    let kids = |jwks: Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    app.state.keys.reload(&app.state.db).await.unwrap();
    let earlier = kids(app.get_json("/jwks.json").await);
    assert_eq!(earlier.len(), 3);
    let (settings, clock) = (app.db.settings(), app.clock.clone());
    let db = app.stop_and_wait().await;

    let app = TestApp::spawn_with(db, settings, clock).await;
    let now = kids(app.get_json("/jwks.json").await);
    assert_eq!(now.len(), 4, "{now:?}");
    assert!(
        earlier.iter().all(|kid| now.contains(kid)),
        "the earlier keys are kept"
    );
    add_user(&app, "alice", false).await;
    let secret = add_client(&app, "fast", Some("ES256")).await;
    let kid = verify_id_token(
        &app,
        &sign_in(&app, "fast", &secret).await,
        "fast",
        Algorithm::ES256,
    )
    .await;
    assert!(!earlier.contains(&kid), "signed by the key made at start");
}
