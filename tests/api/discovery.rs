//! Discovery (OIDC Discovery §3, RFC 8414) and the JWKS (RFC 7517; docs/security.md H5, I3).

use crate::helpers::TestApp;
use std::collections::HashSet;

#[tokio::test]
async fn both_metadata_documents_describe_the_same_issuer_and_endpoints() {
    let app = TestApp::spawn().await;
    let oidc = app.get_json("/.well-known/openid-configuration").await;
    let oauth = app
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(oidc, oauth);
    assert_eq!(oidc["issuer"], app.issuer());
    assert_eq!(oidc["token_endpoint"], app.url("/token"));
    assert_eq!(oidc["jwks_uri"], app.url("/jwks.json"));
    assert_eq!(
        oidc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        oidc["grant_types_supported"],
        serde_json::json!([
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:token-exchange",
            "urn:openid:params:grant-type:ciba"
        ])
    );
    assert_eq!(
        oidc["backchannel_authentication_endpoint"],
        app.url("/bc-authorize")
    );
    assert_eq!(
        oidc["backchannel_token_delivery_modes_supported"],
        serde_json::json!(["poll", "ping"])
    );
    assert_eq!(oidc["backchannel_user_code_parameter_supported"], false);
    assert_eq!(oidc["introspection_endpoint"], app.url("/introspect"));
    assert_eq!(
        oidc["access_token_signing_alg_values_supported"],
        serde_json::json!(["ES256"])
    );
    assert_eq!(oidc["revocation_endpoint"], app.url("/revoke"));
    assert_eq!(
        oidc["introspection_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post"])
    );
    assert_eq!(oidc["authorization_endpoint"], app.url("/authorize"));
    assert_eq!(oidc["userinfo_endpoint"], app.url("/userinfo"));
    assert_eq!(
        oidc["response_types_supported"],
        serde_json::json!(["code"])
    );
    assert_eq!(oidc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        oidc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256", "ES256"])
    );
    let methods = oidc["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    assert!(methods.contains(&"client_secret_basic".into()));
    assert!(methods.contains(&"client_secret_post".into()));
    assert!(methods.contains(&"none".into()));
    assert!(methods.contains(&"none".into()));
}

#[tokio::test]
async fn discovery_issuer_equals_the_iss_of_issued_tokens() {
    let app = TestApp::spawn().await;
    let secret = app.add_client("svc", &["read"], &[]).await;
    let token = app.client_credentials_token("svc", &secret, "read").await;
    let claims = crate::helpers::verify_with_jwks(&app, &token, app.issuer())
        .await
        .unwrap();
    let oidc = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(claims["iss"], oidc["issuer"]);
}

#[tokio::test]
async fn jwks_publishes_only_public_keys_with_unique_kids() {
    let app = TestApp::spawn().await;
    let jwks = app.get_json("/jwks.json").await;
    let keys = jwks["keys"].as_array().unwrap();
    let kids: HashSet<&str> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids.len(), keys.len(), "kids are unique");
    for key in keys {
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(
                key.get(private).is_none(),
                "private member {private} published"
            );
        }
        assert_eq!(key["use"], "sig");
    }
    let algs: HashSet<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    assert_eq!(algs, HashSet::from(["ES256", "RS256"]));
    let ec = keys.iter().find(|k| k["kty"] == "EC").unwrap();
    assert_eq!(ec["crv"], "P-256");
}
