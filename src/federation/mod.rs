//! The identity providers behalf works beside (docs/contract.md "Beside an
//! existing identity provider"; docs/security.md O1–O4): `upstream`, behalf
//! as an OpenID Connect relying party of each `[[upstream]]` IdP; `trusted`,
//! the JWT access tokens of each `[[trusted_issuer]]`; `identity`, what their
//! claims say; `link`, the local user an IdP's account is; `refetched`, their
//! documents kept and fetched again at most once a minute; `fetch`, the one
//! HTTP client, 4.5 s a call.

pub mod fetch;
pub mod identity;
pub mod link;
pub mod refetched;
pub mod trusted;
pub mod upstream;

use crate::config::Settings;
use trusted::TrustedIssuer;
use upstream::Upstream;

pub struct Federation {
    pub upstreams: Vec<Upstream>,
    pub trusted: Vec<TrustedIssuer>,
    /// The client every call to an IdP goes through.
    pub http: reqwest::Client,
}

impl Federation {
    /// From the settings; `behalf_issuer` makes the redirect URIs.
    pub fn new(settings: &Settings, behalf_issuer: &str) -> Result<Self, String> {
        let upstreams = settings
            .upstream
            .iter()
            .map(|u| Upstream::new(u.clone(), behalf_issuer))
            .collect::<Result<_, _>>()?;
        let trusted = settings
            .trusted_issuer
            .iter()
            .cloned()
            .map(TrustedIssuer::new)
            .collect();
        Ok(Self {
            upstreams,
            trusted,
            http: fetch::client(),
        })
    }

    pub fn upstream(&self, id: &str) -> Option<&Upstream> {
        self.upstreams.iter().find(|u| u.settings.id == id)
    }

    /// The trusted issuer whose `issuer` is exactly `iss`.
    pub fn trusted_issuer(&self, iss: &str) -> Option<&TrustedIssuer> {
        self.trusted.iter().find(|t| t.settings.issuer == iss)
    }
}
