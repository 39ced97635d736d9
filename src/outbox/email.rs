//! An event told in a mail (docs/contract.md "Email"). Not built yet: every
//! attempt fails.

use crate::app::App;
use crate::store::events::EventRow;
use crate::store::outbox::OutboxRow;

pub async fn send(_app: &App, _row: &OutboxRow, _event: &EventRow) -> Result<(), String> {
    Err("mail is not built yet".into())
}
