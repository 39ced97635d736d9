//! behalf as a relying party of one `[[upstream]]` IdP (OpenID Connect Core
//! 1.0 §3.1, the authorization code flow, with `openidconnect`): the
//! authorization request (§3.1.2.1: `state`, `nonce`, PKCE S256 per RFC 7636,
//! `prompt=login` and `max_age` passed on), the code's redemption at the
//! IdP's token endpoint (`client_secret_basic`), and the ID token's
//! validation (§3.1.3.7: signature from the IdP's JWKS, `iss`, `aud`, `azp`,
//! `exp`, `nonce`; `auth_time` against `max_age`). The discovery document and
//! key set are fetched once and kept (`Refetched`); a token signed with a key
//! not held refetches them, at most once a minute (docs/security.md O1, O4).

use super::fetch::{self, Unreachable};
use super::identity::Identity;
use super::refetched::Refetched;
use crate::config::UpstreamSettings;
use openidconnect::core::{
    CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreIdTokenVerifier, CoreJsonWebKeySet,
    CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    SignatureVerificationError,
};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Clock skew allowed between behalf and the IdP for `auth_time`.
const LEEWAY_SECONDS: i64 = 60;

/// ID tokens are signed with one of these; never `none`, never with the client secret.
const ALGORITHMS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// What the IdP published: its metadata with its key set, and whether it
/// sends `iss` with each authorization response (RFC 9207 §3).
pub struct Provider {
    metadata: CoreProviderMetadata,
    pub sends_iss: bool,
}

/// The field `openidconnect`'s metadata type lacks.
#[derive(Deserialize)]
struct Rfc9207 {
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

/// Why a sign-in at the IdP did not give an identity.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// Not reached, or its answer was not an answer.
    Unreachable(String),
    /// The IdP refused (an OAuth error at its token endpoint): its own words.
    Refused(String),
    /// Its ID token did not verify: why, for the log.
    Untrusted(String),
}

/// What an authorization request carries that the callback must match.
pub struct Started<'a> {
    pub state: &'a str,
    pub nonce: &'a str,
    pub pkce_verifier: &'a str,
    pub prompt_login: bool,
    pub max_age: Option<i64>,
}

pub struct Upstream {
    pub settings: UpstreamSettings,
    redirect_uri: RedirectUrl,
    provider: Refetched<Provider>,
}

impl Upstream {
    /// `behalf_issuer` is behalf's own: the redirect URI is under it.
    pub fn new(settings: UpstreamSettings, behalf_issuer: &str) -> Result<Self, String> {
        let redirect = format!("{behalf_issuer}/login/upstream/{}/callback", settings.id);
        let redirect_uri = RedirectUrl::new(redirect)
            .map_err(|e| format!("upstream \"{}\": redirect URI: {e}", settings.id))?;
        Ok(Self {
            settings,
            redirect_uri,
            provider: Refetched::default(),
        })
    }

    pub fn redirect_uri(&self) -> &str {
        self.redirect_uri.as_str()
    }

    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    /// The discovery document and key set (fetched when not held, or when
    /// `wanting` and a minute has passed).
    pub async fn provider(
        &self,
        http: &reqwest::Client,
        wanting: bool,
    ) -> Result<Arc<Provider>, Unreachable> {
        self.provider
            .get(wanting, || discover(http, &self.settings.issuer))
            .await
    }

    fn client(
        &self,
        provider: &Provider,
    ) -> CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            provider.metadata.clone(),
            ClientId::new(self.settings.client_id.clone()),
            Some(self.secret()),
        )
        .set_redirect_uri(self.redirect_uri.clone())
    }

    fn secret(&self) -> ClientSecret {
        let secret = self
            .settings
            .client_secret
            .as_ref()
            .map(|s| s.expose().clone());
        ClientSecret::new(secret.unwrap_or_default())
    }

    /// The IdP's authorization request URL for a sign-in that started with `started`.
    pub async fn authorization_url(
        &self,
        http: &reqwest::Client,
        started: &Started<'_>,
    ) -> Result<String, Unreachable> {
        let provider = self.provider(http, false).await?;
        let client = self.client(&provider);
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            started.pkce_verifier.to_string(),
        ));
        let state = started.state.to_string();
        let nonce = started.nonce.to_string();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            .add_scopes(
                self.settings
                    .scopes
                    .iter()
                    .filter(|s| *s != "openid")
                    .map(|s| Scope::new(s.clone())),
            )
            .set_pkce_challenge(challenge);
        if started.prompt_login {
            request = request.add_prompt(CoreAuthPrompt::Login);
        }
        if let Some(max_age) = started.max_age {
            request = request.set_max_age(Duration::from_secs(max_age.max(0) as u64));
        }
        let (url, _, _) = request.url();
        Ok(url.to_string())
    }

    /// Redeems `code` and verifies the ID token it brings: the identity it names.
    pub async fn redeem(
        &self,
        http: &reqwest::Client,
        code: &str,
        started: &Started<'_>,
        now: i64,
    ) -> Result<Identity, Failure> {
        let provider = self
            .provider(http, false)
            .await
            .map_err(|e| Failure::Unreachable(e.0))?;
        let client = self.client(&provider);
        let send = |request| fetch::openid_http(http.clone(), request);
        let request = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|_| {
                Failure::Unreachable("its discovery document names no token endpoint".into())
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(started.pkce_verifier.to_string()));
        let tokens = request.request_async(&send).await.map_err(|e| match e {
            RequestTokenError::ServerResponse(refusal) => Failure::Refused(
                refusal
                    .error_description()
                    .cloned()
                    .unwrap_or_else(|| refusal.error().to_string()),
            ),
            RequestTokenError::Request(e) => Failure::Unreachable(fetch::in_words(&e)),
            RequestTokenError::Parse(e, _) => {
                Failure::Unreachable(format!("its token endpoint answered something else: {e}"))
            }
            RequestTokenError::Other(words) => Failure::Unreachable(words),
        })?;
        use openidconnect::TokenResponse;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| Failure::Untrusted("no ID token in the token response".into()))?;
        let nonce = Nonce::new(started.nonce.to_string());
        let verified = match id_token.claims(&self.verifier(&provider), &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // Signed with a key not held: the IdP may have rotated (O4).
                let refetched = self
                    .provider(http, true)
                    .await
                    .map_err(|e| Failure::Unreachable(e.0))?;
                id_token.claims(&self.verifier(&refetched), &nonce).cloned()
            }
            other => other.cloned(),
        }
        .map_err(|e| Failure::Untrusted(e.to_string()))?;
        if let Some(max_age) = started.max_age {
            let fresh = verified
                .auth_time()
                .is_some_and(|t| now - t.timestamp() <= max_age + LEEWAY_SECONDS);
            if !fresh {
                return Err(Failure::Untrusted(
                    "max_age was asked for and auth_time is missing or too old".into(),
                ));
            }
        }
        Ok(Identity {
            issuer: self.settings.issuer.clone(),
            subject: verified.subject().as_str().to_string(),
            claims: fetch::jwt_claims(&id_token.to_string()).unwrap_or_default(),
        })
    }

    fn verifier(&self, provider: &Provider) -> CoreIdTokenVerifier<'static> {
        CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(self.settings.client_id.clone()),
            self.secret(),
            provider.metadata.issuer().clone(),
            provider.metadata.jwks().clone(),
        )
        .set_allowed_algs(ALGORITHMS)
    }
}

/// `<issuer>/.well-known/openid-configuration` (OIDC Discovery §4), whose
/// `issuer` must be the configured one exactly (§4.3), then its key set.
async fn discover(http: &reqwest::Client, issuer: &str) -> Result<Provider, Unreachable> {
    let document: Value = fetch::get_json(
        http,
        &fetch::discovery_url(issuer),
        "its discovery document",
    )
    .await?;
    let sends_iss = serde_json::from_value::<Rfc9207>(document.clone())
        .map(|r| r.authorization_response_iss_parameter_supported)
        .unwrap_or(false);
    let metadata: CoreProviderMetadata = serde_json::from_value(document)
        .map_err(|e| Unreachable(format!("its discovery document: {e}")))?;
    if metadata.issuer().as_str() != issuer {
        return Err(Unreachable(format!(
            "its discovery document names the issuer {:?}, not the configured one",
            metadata.issuer().as_str()
        )));
    }
    let jwks: CoreJsonWebKeySet =
        fetch::get_json(http, metadata.jwks_uri().as_str(), "its key set").await?;
    Ok(Provider {
        metadata: metadata.set_jwks(jwks),
        sends_iss,
    })
}
