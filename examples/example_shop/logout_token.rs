//! Logout tokens (OIDC Back-Channel Logout 1.0 §2.4), verified as §2.6 says:
//! the signature against behalf's JWKS with the key's own algorithm, `typ`
//! `logout+jwt`, `iss`, `aud` (the shop), `exp`, `iat` recent, the
//! back-channel-logout member in `events`, `sid` or `sub`, no `nonce`, and a
//! `jti`. The same token again is a retry (behalf retries with the same `jti`
//! until it hears 200, §2.8): ending an ended session again is harmless, so it
//! is answered as the first time, never refused (the optional replay check of
//! §2.6 step 9 would make a lost 200 retry forever).

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// A logout token issued longer ago than this is not accepted.
const MAX_AGE_SECONDS: i64 = 300;
/// Clock difference allowed with behalf.
const LEEWAY_SECONDS: i64 = 60;
/// An unknown `kid` fetches the JWKS again at most this often: behalf
/// publishes a key long before it signs with it, and a stranger posting made-up
/// `kid`s cannot make the shop hammer behalf.
const REFETCH_EVERY: Duration = Duration::from_secs(60);

/// Whom to sign out.
#[derive(Debug)]
pub struct Logout {
    pub sub: Option<String>,
    pub sid: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    iat: i64,
    jti: Option<String>,
    sub: Option<String>,
    sid: Option<String>,
    events: Option<Map<String, Value>>,
    nonce: Option<Value>,
}

pub struct LogoutTokens {
    issuer: String,
    client_id: String,
    jwks_uri: String,
    jwks: RwLock<JwkSet>,
    fetched_at: Mutex<Option<Instant>>,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl LogoutTokens {
    pub fn new(issuer: &str, client_id: &str, jwks_uri: String) -> Self {
        Self {
            issuer: issuer.into(),
            client_id: client_id.into(),
            jwks_uri,
            jwks: RwLock::new(JwkSet { keys: Vec::new() }),
            fetched_at: Mutex::new(None),
        }
    }

    pub async fn verify(&self, http: &reqwest::Client, token: &str) -> Result<Logout, String> {
        let header = decode_header(token).map_err(|e| format!("not a JWT: {e}"))?;
        // Explicit typing (§2.4): no other JWT of behalf's, an ID token say, passes for one.
        let typ = header
            .typ
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if typ != "logout+jwt" && typ != "application/logout+jwt" {
            return Err(format!("typ is {typ:?}, not logout+jwt"));
        }
        let kid = header.kid.ok_or("no kid")?;
        let key = self.key(http, &kid, header.alg).await?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.client_id]);
        validation.set_required_spec_claims(&["iss", "aud", "iat", "exp"]);
        validation.leeway = LEEWAY_SECONDS as u64;
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|e| format!("does not verify: {e}"))?
            .claims;
        let now = now();
        if claims.iat < now - MAX_AGE_SECONDS || claims.iat > now + LEEWAY_SECONDS {
            return Err("iat is not recent".into());
        }
        let events = claims.events.as_ref().and_then(|e| e.get(EVENT));
        if !events.is_some_and(Value::is_object) {
            return Err(format!("events has no {EVENT} object"));
        }
        if claims.sid.is_none() && claims.sub.is_none() {
            return Err("neither sid nor sub".into());
        }
        if claims.nonce.is_some() {
            return Err("a nonce: this is no logout token".into());
        }
        claims.jti.ok_or("no jti")?;
        Ok(Logout {
            sub: claims.sub,
            sid: claims.sid,
        })
    }

    /// The key `kid` (the JWKS fetched again when it is unknown: behalf
    /// rotates keys), used only with its own algorithm, never one the token picks.
    async fn key(
        &self,
        http: &reqwest::Client,
        kid: &str,
        alg: Algorithm,
    ) -> Result<DecodingKey, String> {
        if self.jwks.read().unwrap().find(kid).is_none() && self.may_fetch() {
            let fetched: JwkSet = http
                .get(&self.jwks_uri)
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| format!("JWKS: {e}"))?
                .json()
                .await
                .map_err(|e| format!("JWKS: {e}"))?;
            *self.jwks.write().unwrap() = fetched;
        }
        let jwks = self.jwks.read().unwrap();
        let jwk = jwks.find(kid).ok_or_else(|| format!("no key {kid}"))?;
        let own = jwk
            .common
            .key_algorithm
            .and_then(|a| Algorithm::try_from(a).ok());
        if own != Some(alg) {
            return Err(format!("alg {alg:?} is not key {kid}'s"));
        }
        DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())
    }

    fn may_fetch(&self) -> bool {
        let mut fetched_at = self.fetched_at.lock().unwrap();
        if fetched_at.is_some_and(|at| at.elapsed() < REFETCH_EVERY) {
            return false;
        }
        *fetched_at = Some(Instant::now());
        true
    }
}

#[cfg(test)]
mod tests {
    //! Until behalf sends logout tokens, these hold the shop to §2.6 with a
    //! key of their own in place of behalf's JWKS.
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    const ISSUER: &str = "http://127.0.0.1:8080";

    struct Signer {
        key: EncodingKey,
        jwk: Value,
    }

    fn signer(kid: &str) -> Signer {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = pair.public_key().as_ref();
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        Signer {
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk: json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65]),
                "kid": kid, "alg": "ES256", "use": "sig"}),
        }
    }

    /// The shop's verifier, trusting `signer`'s key as behalf's (nothing is fetched).
    fn verifier(signer: &Signer) -> LogoutTokens {
        // A JWKS address nothing answers: an unknown `kid` fails to fetch.
        let tokens = LogoutTokens::new(ISSUER, "shop", "http://127.0.0.1:9/jwks.json".into());
        *tokens.jwks.write().unwrap() =
            serde_json::from_value(json!({"keys": [signer.jwk]})).unwrap();
        tokens
    }

    fn claims() -> Value {
        let now = now();
        json!({"iss": ISSUER, "aud": "shop", "iat": now, "exp": now + 120, "jti": "jti-1",
            "sub": "alice-sub", "sid": "sid-1", "events": {EVENT: {}}})
    }

    fn header(typ: Option<&str>) -> Header {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = typ.map(String::from);
        header.kid = Some("k1".into());
        header
    }

    fn sign(signer: &Signer, header: &Header, claims: &Value) -> String {
        encode(header, claims, &signer.key).unwrap()
    }

    async fn check(tokens: &LogoutTokens, token: &str) -> Result<Logout, String> {
        tokens.verify(&reqwest::Client::new(), token).await
    }

    #[tokio::test]
    async fn a_logout_token_as_the_spec_gives_it_names_the_session() {
        let key = signer("k1");
        let tokens = verifier(&key);
        let token = sign(&key, &header(Some("logout+jwt")), &claims());
        let logout = check(&tokens, &token).await.unwrap();
        assert_eq!(logout.sid.as_deref(), Some("sid-1"));
        assert_eq!(logout.sub.as_deref(), Some("alice-sub"));
        // The same token again is a retry: answered the same, never refused.
        assert_eq!(
            check(&tokens, &token).await.unwrap().sid.as_deref(),
            Some("sid-1")
        );
        // `sub` alone (every session of the user) will do, and the media type's long form.
        let mut only_sub = claims();
        only_sub["jti"] = json!("jti-2");
        only_sub.as_object_mut().unwrap().remove("sid");
        let token = sign(&key, &header(Some("application/logout+jwt")), &only_sub);
        assert!(check(&tokens, &token).await.unwrap().sid.is_none());
    }

    #[tokio::test]
    async fn each_check_of_section_2_6_refuses_a_token_that_fails_it() {
        let key = signer("k1");
        let now = now();
        let typed = Some("logout+jwt");
        // (typ, claims changed: set or, with None, removed, what the refusal names)
        let cases: Vec<(Option<&str>, Vec<(&str, Option<Value>)>, &str)> = vec![
            (Some("JWT"), vec![], "typ"),
            (None, vec![], "typ"),
            (
                typed,
                vec![("iss", Some(json!("https://evil.example")))],
                "InvalidIssuer",
            ),
            (typed, vec![("aud", Some(json!("crm")))], "InvalidAudience"),
            (typed, vec![("iat", Some(json!(now - 600)))], "iat"),
            (typed, vec![("iat", Some(json!(now + 600)))], "iat"),
            (
                typed,
                vec![("exp", Some(json!(now - 120)))],
                "ExpiredSignature",
            ),
            (typed, vec![("exp", None)], "exp"),
            (typed, vec![("events", None)], "events"),
            (
                typed,
                vec![("events", Some(json!({"urn:other": {}})))],
                "events",
            ),
            (
                typed,
                vec![("events", Some(json!({EVENT: true})))],
                "events",
            ),
            (
                typed,
                vec![("sid", None), ("sub", None)],
                "neither sid nor sub",
            ),
            (typed, vec![("nonce", Some(json!("n-1")))], "nonce"),
            (typed, vec![("jti", None)], "jti"),
        ];
        for (typ, changes, named) in cases {
            let mut claims = claims();
            for (name, value) in &changes {
                match value {
                    Some(value) => claims[*name] = value.clone(),
                    None => drop(claims.as_object_mut().unwrap().remove(*name)),
                }
            }
            let token = sign(&key, &header(typ), &claims);
            let refused = check(&verifier(&key), &token).await;
            let why = refused.expect_err(&format!("{typ:?} {changes:?}: accepted"));
            assert!(why.contains(named), "{typ:?} {changes:?}: {why}");
        }
        let tokens = verifier(&key);
        // Signed by another key under the trusted key's kid.
        let forged = sign(&signer("k1"), &header(typed), &claims());
        assert!(
            check(&tokens, &forged)
                .await
                .unwrap_err()
                .contains("verify")
        );
        // HMAC keyed with anything: not the key's algorithm.
        let mut hmac = Header::new(Algorithm::HS256);
        hmac.typ = Some("logout+jwt".into());
        hmac.kid = Some("k1".into());
        let token = encode(&hmac, &claims(), &EncodingKey::from_secret(b"public")).unwrap();
        assert!(check(&tokens, &token).await.unwrap_err().contains("alg"));
        // A kid not in the JWKS, which cannot be fetched again here.
        let stranger = signer("k2");
        let mut other_kid = header(typed);
        other_kid.kid = Some("k2".into());
        assert!(
            check(&tokens, &sign(&stranger, &other_kid, &claims()))
                .await
                .is_err()
        );
        assert!(check(&tokens, "not.a.jwt").await.is_err());
    }
}
