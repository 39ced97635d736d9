//! The verifier that checks every JWT presented to behalf (later: actor tokens,
//! bearer tokens, introspection). docs/security.md H1, H2, H3, H4, K6: forged and
//! malformed tokens are refused.

use crate::helpers::TestApp;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use behalf::tokens::jws;
use behalf::tokens::signing_key::{Algorithm, Purpose};
use behalf::tokens::verifier::{VerifyError, verify_access_token};
use serde_json::{Value, json};

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

fn claims(app: &TestApp) -> Value {
    let now = app.clock_now();
    json!({
        "iss": app.issuer(), "sub": "svc", "aud": app.issuer(), "client_id": "svc",
        "scope": "read", "iat": now, "exp": now + 300, "jti": "j1"
    })
}

fn verify(
    app: &TestApp,
    token: &str,
) -> Result<behalf::tokens::access_token::AccessTokenClaims, VerifyError> {
    verify_access_token(
        &app.state.keys.snapshot(),
        app.issuer(),
        token,
        app.clock_now(),
    )
}

fn access_key_kid(app: &TestApp) -> String {
    app.state
        .keys
        .snapshot()
        .signing(Purpose::AccessToken, app.clock_now())
        .unwrap()
        .kid
        .clone()
}

/// Signs `claims` with the real access-token key, `typ` as given.
fn signed(app: &TestApp, typ: &str, claims: &Value) -> String {
    let keys = app.state.keys.snapshot();
    let key = keys.signing(Purpose::AccessToken, app.clock_now()).unwrap();
    jws::sign(key, typ, claims)
}

#[tokio::test]
async fn a_token_signed_by_us_verifies() {
    let app = TestApp::spawn().await;
    let secret = app.add_client("svc", &["read"], &[]).await;
    let token = app.client_credentials_token("svc", &secret, "read").await;
    let claims = verify(&app, &token).unwrap();
    assert_eq!(claims.sub, "svc");
    assert_eq!(
        verify(&app, &signed(&app, "at+jwt", &claims_json(&app)))
            .unwrap()
            .jti,
        "j1"
    );
}

fn claims_json(app: &TestApp) -> Value {
    claims(app)
}

#[tokio::test]
async fn alg_none_is_refused() {
    let app = TestApp::spawn().await;
    let header = json!({"alg": "none", "typ": "at+jwt", "kid": access_key_kid(&app)});
    let token = format!("{}.{}.", b64(&header), b64(&claims(&app)));
    assert_eq!(verify(&app, &token).unwrap_err(), VerifyError::Malformed);
    let token = format!("{}.{}.c2ln", b64(&header), b64(&claims(&app)));
    assert!(verify(&app, &token).is_err());
}

#[tokio::test]
async fn hs256_keyed_with_the_public_key_is_refused() {
    let app = TestApp::spawn().await;
    let jwks = app.get_json("/jwks.json").await;
    let kid = access_key_kid(&app);
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap()
        .clone();
    // The classic confusion: the attacker HMACs with public material the server holds.
    for public_material in [jwk.to_string().into_bytes(), {
        let mut point = vec![4u8];
        point.extend(URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap());
        point.extend(URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap());
        point
    }] {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.typ = Some("at+jwt".into());
        header.kid = Some(kid.clone());
        let token = jsonwebtoken::encode(
            &header,
            &claims(&app),
            &jsonwebtoken::EncodingKey::from_secret(&public_material),
        )
        .unwrap();
        assert_eq!(
            verify(&app, &token).unwrap_err(),
            VerifyError::WrongAlgorithm
        );
    }
}

#[tokio::test]
async fn an_unknown_or_missing_kid_is_refused_and_embedded_keys_are_ignored() {
    let app = TestApp::spawn().await;
    // A token signed by a key the attacker made, pointing at it through `jwk` / `jku`.
    let attacker = jsonwebtoken::EncodingKey::from_ec_der(
        aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .unwrap()
        .as_ref(),
    );
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.typ = Some("at+jwt".into());
    header.kid = Some("attacker-key".into());
    header.jku = Some("https://evil.example/jwks.json".into());
    let token = jsonwebtoken::encode(&header, &claims(&app), &attacker).unwrap();
    assert_eq!(verify(&app, &token).unwrap_err(), VerifyError::UnknownKey);

    header.kid = None;
    let token = jsonwebtoken::encode(&header, &claims(&app), &attacker).unwrap();
    assert_eq!(verify(&app, &token).unwrap_err(), VerifyError::UnknownKey);

    // Our kid, but the attacker's signature.
    header.kid = Some(access_key_kid(&app));
    let token = jsonwebtoken::encode(&header, &claims(&app), &attacker).unwrap();
    assert_eq!(verify(&app, &token).unwrap_err(), VerifyError::BadSignature);
}

#[tokio::test]
async fn an_alg_other_than_the_keys_own_is_refused() {
    let app = TestApp::spawn().await;
    let good = signed(&app, "at+jwt", &claims(&app));
    let (_, rest) = good.split_once('.').unwrap();
    let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": access_key_kid(&app)});
    let token = format!("{}.{rest}", b64(&header));
    assert_eq!(
        verify(&app, &token).unwrap_err(),
        VerifyError::WrongAlgorithm
    );
}

#[tokio::test]
async fn a_token_without_typ_at_jwt_or_signed_by_the_id_token_key_is_refused() {
    let app = TestApp::spawn().await;
    assert_eq!(
        verify(&app, &signed(&app, "JWT", &claims(&app))).unwrap_err(),
        VerifyError::WrongType
    );
    let keys = app.state.keys.snapshot();
    // The ES256 ID-token key has the access-token key's algorithm: its purpose refuses it.
    for alg in [Algorithm::RS256, Algorithm::ES256] {
        let id_key = keys
            .signing(Purpose::IdToken(alg), app.clock_now())
            .unwrap();
        assert_eq!(id_key.alg, alg);
        let token = jws::sign(id_key, "at+jwt", &claims(&app));
        assert_eq!(
            verify(&app, &token).unwrap_err(),
            VerifyError::UnknownKey,
            "{alg:?}"
        );
    }
}

#[tokio::test]
async fn time_claims_of_the_wrong_json_type_are_refused_not_skipped() {
    let app = TestApp::spawn().await;
    let now = app.clock_now();
    for (name, value) in [
        ("exp", json!((now + 300).to_string())),
        ("exp", json!(null)),
        ("exp", json!(true)),
        ("nbf", json!(now.to_string())),
        ("nbf", json!(null)),
        ("iat", json!("yesterday")),
    ] {
        let mut body = claims(&app);
        body[name] = value.clone();
        let token = signed(&app, "at+jwt", &body);
        assert_eq!(
            verify(&app, &token).unwrap_err(),
            VerifyError::Malformed,
            "{name}={value}"
        );
    }
    let mut body = claims(&app);
    body.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        verify(&app, &signed(&app, "at+jwt", &body)).unwrap_err(),
        VerifyError::Malformed
    );
}

#[tokio::test]
async fn expiry_and_not_before_are_exact_to_the_second_on_the_injected_clock() {
    let app = TestApp::spawn().await;
    let now = app.clock_now();
    let mut body = claims(&app);
    body["exp"] = json!(now + 10);
    body["nbf"] = json!(now + 5);
    let token = signed(&app, "at+jwt", &body);
    assert_eq!(verify(&app, &token).unwrap_err(), VerifyError::NotYetValid);
    app.clock.advance(5);
    assert!(verify(&app, &token).is_ok());
    app.clock.advance(4);
    assert!(verify(&app, &token).is_ok(), "one second before exp");
    app.clock.advance(1);
    assert_eq!(verify(&app, &token).unwrap_err(), VerifyError::Expired);
}

#[tokio::test]
async fn a_foreign_issuer_a_tampered_payload_or_garbage_is_refused() {
    let app = TestApp::spawn().await;
    let mut body = claims(&app);
    body["iss"] = json!("https://evil.example");
    assert_eq!(
        verify(&app, &signed(&app, "at+jwt", &body)).unwrap_err(),
        VerifyError::WrongIssuer
    );

    let good = signed(&app, "at+jwt", &claims(&app));
    let parts: Vec<&str> = good.split('.').collect();
    let mut wider = claims(&app);
    wider["scope"] = json!("read admin");
    let tampered = format!("{}.{}.{}", parts[0], b64(&wider), parts[2]);
    assert_eq!(
        verify(&app, &tampered).unwrap_err(),
        VerifyError::BadSignature
    );

    let truncated = &good[..good.len() - 10];
    assert!(verify(&app, truncated).is_err());
    for garbage in ["", "a.b", "a.b.c", "....", &"x".repeat(20_000)] {
        assert_eq!(
            verify(&app, garbage).unwrap_err(),
            VerifyError::Malformed,
            "{garbage:.20}"
        );
    }
}

#[tokio::test]
async fn the_verification_cache_still_judges_time_and_retired_keys() {
    let app = TestApp::spawn().await;
    let token = signed(&app, "at+jwt", &claims(&app));
    assert!(
        app.state.verify_access_token(&token).is_ok(),
        "verified, and now cached"
    );
    assert!(app.state.verify_access_token(&token).is_ok(), "a cache hit");
    let mut tampered = token.clone();
    tampered.pop();
    assert!(
        app.state.verify_access_token(&tampered).is_err(),
        "another string is verified afresh"
    );
    // A newer key takes over; once the old one is retired, its tokens fail even from the cache.
    app.clock.advance(1);
    app.state
        .keys
        .rotate(&app.state.db, app.clock_now(), 0)
        .await
        .unwrap();
    assert!(app.state.verify_access_token(&token).is_ok());
    app.clock.advance(299);
    assert_eq!(
        app.state.verify_access_token(&token).unwrap_err(),
        VerifyError::Expired
    );
    app.clock
        .advance(app.state.settings.access_token_ttl_seconds + 60);
    assert_eq!(
        app.state.verify_access_token(&token).unwrap_err(),
        VerifyError::UnknownKey
    );
}
