//! The `[[upstream]]` tables (company IdPs people sign in through: behalf as
//! an OpenID Connect relying party) and the `[[trusted_issuer]]` tables (IdPs
//! whose JWT access tokens an agent may present), docs/contract.md "Beside an
//! existing identity provider". An upstream's secret may come from
//! `BEHALF_UPSTREAM_<ID>_CLIENT_SECRET` instead of the file.

use super::validate::validate_issuer;
use crate::secret::Secret;
use serde::Deserialize;

/// Which claim gives the agent role, and the values that do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentClaim {
    pub claim: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSettings {
    /// In paths (`/login/upstream/{id}`): lower-case letters, digits, '-'.
    pub id: String,
    /// The button's label: "Sign in with <name>".
    pub name: String,
    /// The IdP's issuer; discovery at `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<Secret<String>>,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub agent_claim: Option<String>,
    #[serde(default)]
    pub agent_values: Vec<String>,
    /// A string claim naming the agent's team.
    #[serde(default)]
    pub team_claim: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuerSettings {
    pub issuer: String,
    /// Where its keys are; from discovery when absent.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// A value the token's `aud` must contain.
    pub audience: String,
    /// behalf clients that may present its tokens.
    pub clients: Vec<String>,
    #[serde(default)]
    pub agent_claim: Option<String>,
    #[serde(default)]
    pub agent_values: Vec<String>,
}

fn default_scopes() -> Vec<String> {
    ["openid", "profile", "email"].map(String::from).to_vec()
}

fn agent_claim(claim: &Option<String>, values: &[String]) -> Option<AgentClaim> {
    claim.as_ref().map(|claim| AgentClaim {
        claim: claim.clone(),
        values: values.to_vec(),
    })
}

impl UpstreamSettings {
    pub fn agent_claim(&self) -> Option<AgentClaim> {
        agent_claim(&self.agent_claim, &self.agent_values)
    }

    /// The environment variable that may carry this upstream's secret.
    pub fn secret_variable(&self) -> String {
        format!(
            "BEHALF_UPSTREAM_{}_CLIENT_SECRET",
            self.id.to_ascii_uppercase().replace('-', "_")
        )
    }

    /// The secret from the environment wins over the file's.
    pub(super) fn read_secret_from_env(&mut self) {
        if let Ok(secret) = std::env::var(self.secret_variable())
            && !secret.is_empty()
        {
            self.client_secret = Some(Secret::new(secret));
        }
    }
}

impl TrustedIssuerSettings {
    pub fn agent_claim(&self) -> Option<AgentClaim> {
        agent_claim(&self.agent_claim, &self.agent_values)
    }
}

/// An IdP's URL: https, or http on loopback (as behalf's own issuer). A
/// trailing slash is kept: some IdPs (Auth0) put one in their `iss`.
fn validate_url(url: &str) -> Result<(), String> {
    validate_issuer(url.strip_suffix('/').unwrap_or(url))
}

fn validate_agent_claim(
    claim: &Option<String>,
    values: &[String],
    table: &str,
) -> Result<(), String> {
    match (claim, values.is_empty()) {
        (Some(c), _) if c.is_empty() => Err(format!("{table}.agent_claim: must not be empty")),
        (Some(_), true) => Err(format!(
            "{table}.agent_values: name the claim values that give the agent role"
        )),
        (None, false) => Err(format!(
            "{table}.agent_values: set agent_claim, the claim they are values of"
        )),
        _ => Ok(()),
    }
}

pub(super) fn validate(
    upstreams: &[UpstreamSettings],
    trusted: &[TrustedIssuerSettings],
) -> Result<(), String> {
    for (i, upstream) in upstreams.iter().enumerate() {
        let table = format!("upstream[{i}]");
        let id = &upstream.id;
        let id_ok = (1..=32).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(format!(
                "{table}.id: use 1 to 32 lower-case letters, digits or '-' (it is part of a path)"
            ));
        }
        if upstreams[..i].iter().any(|u| &u.id == id) {
            return Err(format!("{table}.id: \"{id}\" is used by another upstream"));
        }
        let table = format!("upstream \"{id}\"");
        if upstream.name.trim().is_empty() {
            return Err(format!("{table}.name: the button's label is required"));
        }
        validate_url(&upstream.issuer).map_err(|e| format!("{table}.issuer: {e}"))?;
        if upstream.client_id.is_empty() {
            return Err(format!("{table}.client_id: required"));
        }
        if upstream
            .client_secret
            .as_ref()
            .is_none_or(|s| s.expose().is_empty())
        {
            return Err(format!(
                "{table}.client_secret ({}): required",
                upstream.secret_variable()
            ));
        }
        if !upstream.scopes.iter().any(|s| s == "openid") {
            return Err(format!("{table}.scopes: must include openid"));
        }
        validate_agent_claim(&upstream.agent_claim, &upstream.agent_values, &table)?;
    }
    for (i, issuer) in trusted.iter().enumerate() {
        let table = format!("trusted_issuer[{i}]");
        validate_url(&issuer.issuer).map_err(|e| format!("{table}.issuer: {e}"))?;
        if trusted[..i].iter().any(|t| t.issuer == issuer.issuer) {
            return Err(format!("{table}.issuer: listed twice"));
        }
        if let Some(uri) = &issuer.jwks_uri {
            validate_url(uri).map_err(|e| format!("{table}.jwks_uri: {e}"))?;
        }
        if issuer.audience.is_empty() {
            return Err(format!("{table}.audience: required"));
        }
        if issuer.clients.is_empty() {
            return Err(format!(
                "{table}.clients: name the behalf clients that may present its tokens"
            ));
        }
        validate_agent_claim(&issuer.agent_claim, &issuer.agent_values, &table)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::{Overrides, Settings};

    fn load(toml: &str) -> Result<Settings, String> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("behalf.toml");
        std::fs::write(&file, toml).unwrap();
        Settings::load(Some(&file), &Overrides::default())
    }

    const ACME: &str = "[[upstream]]\nid = \"acme\"\nname = \"Acme\"\nissuer = \"https://idp.example.com\"\nclient_id = \"behalf\"\n";

    #[test]
    fn an_upstream_needs_a_secret_and_names_the_variable_that_may_carry_it() {
        let refused = load(ACME).unwrap_err();
        assert!(
            refused.contains(
                "upstream \"acme\".client_secret (BEHALF_UPSTREAM_ACME_CLIENT_SECRET): required"
            ),
            "{refused}"
        );
        let settings = load(&format!("{ACME}client_secret = \"s3cret-s3cret\"\n")).unwrap();
        let upstream = &settings.upstream[0];
        assert_eq!(upstream.scopes, ["openid", "profile", "email"]);
        assert!(
            !format!("{settings:?}").contains("s3cret-s3cret"),
            "the secret prints redacted"
        );
    }

    #[test]
    fn bad_upstream_and_trusted_issuer_tables_are_refused_naming_the_field() {
        let secret = "client_secret = \"x\"\n";
        let cases = [
            (ACME.replace("acme", "Acme Corp") + secret, "upstream[0].id"),
            (ACME.replace("https://idp", "http://idp") + secret, "upstream \"acme\".issuer"),
            (format!("{ACME}{secret}agent_values = [\"support\"]\n"), "agent_values"),
            (format!("{ACME}{secret}scopes = [\"email\"]\n"), "must include openid"),
            (format!("{ACME}{secret}{ACME}{secret}"), "used by another upstream"),
            (
                "[[trusted_issuer]]\nissuer = \"https://idp.example.com\"\naudience = \"behalf\"\nclients = []\n".into(),
                "trusted_issuer[0].clients",
            ),
        ];
        for (toml, expected) in cases {
            let refused = load(&toml).unwrap_err();
            assert!(refused.contains(expected), "{expected}: {refused}");
        }
    }

    #[test]
    fn password_login_and_an_auth0_issuer_with_its_trailing_slash_load() {
        let settings = load(&format!(
            "password_login = false\n{}client_secret = \"x\"\n",
            ACME.replace("https://idp.example.com", "https://tenant.auth0.com/")
        ))
        .unwrap();
        assert!(!settings.password_login);
        assert_eq!(settings.upstream[0].issuer, "https://tenant.auth0.com/");
    }
}
