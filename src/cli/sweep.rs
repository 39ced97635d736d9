//! `behalf sweep`: deletes the expired rows now, as `serve` does every ten
//! minutes (`crate::sweep`: what goes and when), and prints how many went
//! from each table as one JSON object. For a cron job beside instances that
//! run long, and for the benchmarks' growth run (bench/README.md "Growth").

use super::{connect, now};
use crate::config::Settings;
use serde_json::json;
use std::time::Instant;

pub async fn run(settings: &Settings) -> Result<(), String> {
    let db = connect(settings).await?;
    let started = Instant::now();
    let swept = crate::sweep::sweep_database(&db, settings, now())
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        json!({
            "tokens": swept.tokens,
            "refresh_tokens": swept.refresh_tokens,
            "codes": swept.codes,
            "sessions": swept.sessions,
            "login_failures": swept.login_failures,
            "introspection_marks": swept.introspection_marks,
            "upstream_logins": swept.upstream_logins,
            "seconds": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        })
    );
    Ok(())
}
