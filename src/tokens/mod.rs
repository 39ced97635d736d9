//! Tokens: signing keys and their encryption at rest, the key ring that decides
//! which key signs and which are published (RFC 7517), JWS signing, RFC 9068
//! access tokens, and the verifier for every JWT the server accepts.

pub mod access_token;
pub mod checkpoint;
pub mod id_token;
pub mod jws;
pub mod kek;
pub mod keyring;
pub mod server_mac;
pub mod signing_key;
pub mod verified_cache;
pub mod verifier;
