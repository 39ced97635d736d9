//! The authorization code flow driven by a real relying party, the
//! `openidconnect` crate: discovery, code + PKCE through the sign-in and consent
//! pages, ID token validation (nonce, at_hash, auth_time), UserInfo, and refresh
//! with rotation (docs/security.md I1, I3, D1).

use crate::fixtures::{Browser, CALLBACK, ClientSpec, add_code_client, add_user, query_of};
use crate::helpers::{TestApp, verify_with_jwks};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

/// The relying party's HTTP client: reqwest without redirects.
async fn rp_http(
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, reqwest::Error> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let (parts, body) = request.into_parts();
    let response = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut builder = openidconnect::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = response.bytes().await?.to_vec();
    Ok(builder.body(body).expect("a valid response"))
}

#[tokio::test]
async fn a_relying_party_completes_code_pkce_id_token_userinfo_and_refresh() {
    let app = TestApp::spawn().await;
    let alice = add_user(&app, "alice", false).await;
    let secret = add_code_client(
        &app,
        ClientSpec {
            id: "rp",
            public: false,
            first_party: false,
            refresh: true,
        },
    )
    .await
    .unwrap();

    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(app.issuer().into()).unwrap(),
        &rp_http,
    )
    .await
    .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("rp".into()),
        Some(ClientSecret::new(secret)),
    )
    .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = Browser::new(&app);
    let callback = browser.authorize(url.as_str(), "alice", "approve").await;
    assert!(callback.starts_with(CALLBACK));
    let params = query_of(&callback);
    assert_eq!(params["state"], *state.secret());
    assert_eq!(params["iss"], app.issuer());

    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&rp_http)
        .await
        .expect("code redeemed");
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("the ID token verifies");
    assert_eq!(claims.subject().as_str(), alice);
    assert_eq!(claims.issuer().as_str(), app.issuer());
    assert!(claims.audiences().iter().any(|a| a.as_str() == "rp"));
    assert!(claims.auth_time().is_some());
    assert_eq!(claims.authorized_party().map(|p| p.as_str()), Some("rp"));
    let expected = claims.access_token_hash().expect("at_hash");
    let actual = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(&actual, expected);

    let access = verify_with_jwks(&app, tokens.access_token().secret(), app.issuer())
        .await
        .unwrap();
    assert_eq!(access["sub"], alice);
    assert_eq!(access["client_id"], "rp");
    assert_eq!(access["scope"], "openid profile");

    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&rp_http)
        .await
        .expect("userinfo");
    assert_eq!(info.subject().as_str(), alice);
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));

    let first_refresh = tokens.refresh_token().expect("a refresh token").clone();
    let refreshed = client
        .exchange_refresh_token(&first_refresh)
        .unwrap()
        .request_async(&rp_http)
        .await
        .expect("refresh");
    let second_refresh = refreshed.refresh_token().expect("rotated").clone();
    assert_ne!(second_refresh.secret(), first_refresh.secret());
    verify_with_jwks(&app, refreshed.access_token().secret(), app.issuer())
        .await
        .unwrap();

    // Replaying the first refresh token fails and ends the whole family.
    assert!(
        client
            .exchange_refresh_token(&first_refresh)
            .unwrap()
            .request_async(&rp_http)
            .await
            .is_err()
    );
    assert!(
        client
            .exchange_refresh_token(&second_refresh)
            .unwrap()
            .request_async(&rp_http)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn consent_is_remembered_and_first_party_apps_skip_it() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    add_code_client(
        &app,
        ClientSpec {
            id: "rp",
            public: false,
            first_party: false,
            refresh: false,
        },
    )
    .await;
    add_code_client(
        &app,
        ClientSpec {
            id: "console",
            public: false,
            first_party: true,
            refresh: false,
        },
    )
    .await;
    let browser = Browser::new(&app);
    let (_, challenge) = crate::fixtures::pkce();
    let first = browser
        .get(&crate::fixtures::authorize_url(&app, "rp", &challenge, &[]))
        .await;
    let signed_in = browser
        .sign_in(&first.location(), "alice", crate::fixtures::PASSWORD)
        .await;
    let consent = browser.get(&signed_in.location()).await;
    assert_eq!(consent.status, reqwest::StatusCode::OK);
    assert!(consent.body.contains("rp app"), "the page names the app");
    assert!(
        consent.body.contains("Confirm who you are"),
        "scopes in plain words"
    );
    assert!(consent.body.contains("name=\"decision\" value=\"approve\""));
    assert!(consent.body.contains("name=\"decision\" value=\"deny\""));
    let mut form = consent.hidden_inputs();
    form.push(("decision".into(), "approve".into()));
    let approved = browser.post("/authorize/consent", &form).await;
    assert_eq!(approved.status, reqwest::StatusCode::SEE_OTHER);
    assert!(query_of(&approved.location()).contains_key("code"));

    // The same request again: no page, straight to the code.
    let again = browser
        .get(&crate::fixtures::authorize_url(&app, "rp", &challenge, &[]))
        .await;
    assert_eq!(again.status, reqwest::StatusCode::SEE_OTHER);
    assert!(query_of(&again.location()).contains_key("code"));
    // prompt=consent asks again.
    let asked = browser
        .get(&crate::fixtures::authorize_url(
            &app,
            "rp",
            &challenge,
            &[("prompt", "consent")],
        ))
        .await;
    assert_eq!(asked.status, reqwest::StatusCode::OK);
    // A first-party app never asks.
    let first_party = browser
        .get(&crate::fixtures::authorize_url(
            &app,
            "console",
            &challenge,
            &[],
        ))
        .await;
    assert_eq!(first_party.status, reqwest::StatusCode::SEE_OTHER);
    assert!(query_of(&first_party.location()).contains_key("code"));
}
