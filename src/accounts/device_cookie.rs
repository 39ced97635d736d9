//! Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies";
//! docs/security.md L2): after a successful sign-in the browser gets
//! `behalf_device`, naming the account and a random device id under the server
//! MAC. A later sign-in to that account from that browser is throttled on the
//! device alone (`throttle::CountedOn::Device`), so failures sent by anyone
//! else cannot lock the account's own browser out. One account per browser:
//! signing in to another replaces it.

use crate::random;
use crate::tokens::server_mac::ServerMac;
use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const COOKIE: &str = "behalf_device";
/// How long a browser stays known to the account without signing in again.
pub const LIFETIME_SECONDS: i64 = 180 * 24 * 3600;

/// A valid device cookie: the account it names (lower case) and the device id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub account: String,
    pub id: String,
}

fn signed_part(account: &str, id: &str) -> String {
    format!("behalf device v1|{account}|{id}")
}

/// A new device cookie value for `account`.
pub fn issue(mac: &ServerMac, account: &str) -> String {
    let account = account.to_lowercase();
    let id = random::token(16);
    let tag = mac.sign(&signed_part(&account, &id));
    format!("{}.{id}.{tag}", URL_SAFE_NO_PAD.encode(&account))
}

/// The device the request's cookie names, if its MAC holds.
pub fn read(mac: &ServerMac, headers: &HeaderMap) -> Option<Device> {
    let value = crate::web::cookies::value(headers, COOKIE)?;
    let mut parts = value.split('.');
    let (account, id, tag) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let account = String::from_utf8(URL_SAFE_NO_PAD.decode(account).ok()?).ok()?;
    mac.verify(&signed_part(&account, id), tag).then(|| Device {
        account,
        id: id.to_string(),
    })
}

impl Device {
    /// Whether this device signed in before to the account named `username`.
    pub fn knows(&self, username: &str) -> bool {
        self.account == username.to_lowercase()
    }
}

/// The `Set-Cookie` value; `secure` under an https issuer.
pub fn set_cookie(secure: bool, value: &str) -> HeaderValue {
    crate::web::cookies::set(COOKIE, value, "/login", Some(LIFETIME_SECONDS), secure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use axum::http::header;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{COOKIE}={value}")).unwrap(),
        );
        headers
    }

    #[test]
    fn a_device_cookie_names_its_account_whatever_the_case_of_the_name() {
        let mac = ServerMac::derive(&Secret::new([3u8; 32]));
        let device = read(&mac, &with_cookie(&issue(&mac, "Alice"))).unwrap();
        assert!(device.knows("alice") && device.knows("ALICE"));
        assert!(!device.knows("bob"));
    }

    #[test]
    fn a_device_cookie_with_another_name_or_another_servers_mac_is_not_a_device() {
        let mac = ServerMac::derive(&Secret::new([3u8; 32]));
        let value = issue(&mac, "alice");
        let (_, rest) = value.split_once('.').unwrap();
        let renamed = format!("{}.{rest}", URL_SAFE_NO_PAD.encode("bob"));
        assert_eq!(read(&mac, &with_cookie(&renamed)), None);
        let other = ServerMac::derive(&Secret::new([4u8; 32]));
        assert_eq!(read(&other, &with_cookie(&value)), None);
        assert_eq!(read(&mac, &with_cookie("garbage")), None);
    }
}
