//! An event to a webhook, per the Standard Webhooks specification
//! (docs/contract.md "Webhooks"). Not built yet: every attempt fails.

use crate::app::App;
use crate::store::events::EventRow;
use crate::store::outbox::OutboxRow;

pub async fn send(
    _app: &App,
    _client: &reqwest::Client,
    _row: &OutboxRow,
    _event: &EventRow,
) -> Result<(), String> {
    Err("webhook delivery is not built yet".into())
}
