//! A CIBA ping (OpenID CIBA Core 1.0 §10.2): when the user answered a program
//! agent's backchannel request in ping mode, `POST` `{"auth_req_id": ...}` as
//! JSON to its notification endpoint, with its `client_notification_token`
//! as the bearer token; any 2xx is a delivery (§10.2 asks for 204). Both
//! values are kept sealed under the key-encryption key until now
//! (`store::ciba_requests`), and never logged.

use super::http::in_words;
use crate::app::App;
use crate::store::ciba_requests::CibaRequestRow;
use crate::store::outbox::OutboxRow;

pub async fn send(app: &App, client: &reqwest::Client, row: &OutboxRow) -> Result<(), String> {
    let payload: serde_json::Value =
        serde_json::from_str(&row.payload).map_err(|_| "its payload does not parse".to_string())?;
    let hash = payload["ciba"].as_str().unwrap_or_default().to_string();
    let lookup = hash.clone();
    let ciba = app
        .db
        .read(move |c| CibaRequestRow::find(c, &lookup))
        .await
        .map_err(|e| format!("could not read its request: {e}"))?
        .ok_or("its backchannel request is gone")?;
    let open = |sealed: Option<&Vec<u8>>| {
        let sealed = sealed.ok_or("nothing sealed to send")?;
        let plain = app
            .keys
            .kek()
            .open(sealed, &hash)
            .map_err(|_| "its sealed values do not open under this key")?;
        String::from_utf8(plain).map_err(|_| "its sealed values are not text")
    };
    let auth_req_id = open(ciba.sealed_auth_req_id.as_ref())?;
    let token = open(ciba.sealed_notification_token.as_ref())?;
    let answer = client
        .post(&row.destination)
        .bearer_auth(token)
        .json(&serde_json::json!({"auth_req_id": auth_req_id}))
        .send()
        .await
        .map_err(|e| in_words(&e))?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered HTTP {}", answer.status().as_u16()))
    }
}
