//! Verification of JWT access tokens presented to behalf (actor tokens, bearer
//! tokens, introspection). RFC 8725 throughout: the algorithm is the key's own,
//! never the header's choice; `none`, HMAC and unknown `kid`s are refused; `jku`,
//! `x5u` and embedded `jwk` headers are ignored; `typ` must be `at+jwt`
//! (RFC 9068 §4); time claims must be numbers.

use super::access_token::{ACCESS_TOKEN_TYP, AccessTokenClaims};
use super::keyring::KeySet;
use super::signing_key::Purpose;
use jsonwebtoken::{Validation, decode, decode_header};

/// Longer than any token we issue; bigger inputs are refused before parsing.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// Not a JWT we can parse, too long, or with a wrongly typed claim.
    Malformed,
    /// No `kid`, an unknown or retired `kid`, or a key not meant for access tokens.
    UnknownKey,
    /// Header `alg` other than the key's own.
    WrongAlgorithm,
    /// Header `typ` other than `at+jwt`.
    WrongType,
    BadSignature,
    WrongIssuer,
    Expired,
    NotYetValid,
}

/// Checks `token` against our published keys and `issuer` at `now`.
pub fn verify_access_token(
    keys: &KeySet,
    issuer: &str,
    token: &str,
    now: i64,
) -> Result<AccessTokenClaims, VerifyError> {
    if token.len() > MAX_TOKEN_LEN || token.split('.').count() != 3 {
        return Err(VerifyError::Malformed);
    }
    // An `alg` outside jsonwebtoken's list (e.g. `none`) fails to parse here.
    let header = decode_header(token).map_err(|_| VerifyError::Malformed)?;
    let kid = header.kid.as_deref().ok_or(VerifyError::UnknownKey)?;
    let key = keys
        .verification_key(kid, now)
        .filter(|k| k.purpose == Purpose::AccessToken)
        .ok_or(VerifyError::UnknownKey)?;
    if header.alg != key.alg.to_jsonwebtoken() {
        return Err(VerifyError::WrongAlgorithm);
    }
    let typ_ok = header.typ.as_deref().is_some_and(|t| {
        t.eq_ignore_ascii_case(ACCESS_TOKEN_TYP) || t.eq_ignore_ascii_case("application/at+jwt")
    });
    if !typ_ok {
        return Err(VerifyError::WrongType);
    }
    let mut validation = Validation::new(key.alg.to_jsonwebtoken());
    // Time and audience are checked below against the injected clock; the claim
    // types are enforced by deserializing into `AccessTokenClaims`.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = decode::<AccessTokenClaims>(token, &key.decoding_key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => VerifyError::BadSignature,
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => VerifyError::WrongAlgorithm,
            _ => VerifyError::Malformed,
        })?
        .claims;
    if claims.iss != issuer {
        return Err(VerifyError::WrongIssuer);
    }
    check_time(&claims, now)?;
    Ok(claims)
}

/// `exp` and `nbf` at `now`. Our own tokens: no leeway (docs/security.md K6 keeps
/// leeway for incoming assertions).
pub fn check_time(claims: &AccessTokenClaims, now: i64) -> Result<(), VerifyError> {
    if now >= claims.exp {
        return Err(VerifyError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| now < nbf) {
        return Err(VerifyError::NotYetValid);
    }
    Ok(())
}
