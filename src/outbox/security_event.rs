//! A Security Event Token (RFC 8417) pushed per RFC 8935 (docs/contract.md
//! "Security Event Tokens"). Not built yet: every attempt fails.

use crate::app::App;
use crate::store::events::EventRow;
use crate::store::outbox::OutboxRow;

pub async fn send(
    _app: &App,
    _client: &reqwest::Client,
    _row: &OutboxRow,
    _event: &EventRow,
) -> Result<(), String> {
    Err("security event tokens are not built yet".into())
}
