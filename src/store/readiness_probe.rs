//! The write `/readyz` makes (docs/security.md L10): the one row of
//! `readiness_probe` rewritten with the time of the check. A committed change,
//! so that a database that still answers reads but cannot write (read-only,
//! a full disk, a write lock held elsewhere) fails it.

use super::{AnyConnection, StoreError};
use diesel::RunQueryDsl;

pub fn rewrite(c: &mut AnyConnection, now: i64) -> Result<(), StoreError> {
    let changed = diesel::sql_query(format!(
        "UPDATE readiness_probe SET checked_at = {now} WHERE id = 1"
    ))
    .execute(c)?;
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::Unavailable(
            "the readiness_probe row is missing".into(),
        ))
    }
}
