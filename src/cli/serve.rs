//! `behalf serve [--demo]`: runs the server; `--demo` first seeds the demo
//! (see `demo`) and prints its walkthrough.

use super::demo;
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::startup::Application;
use std::sync::Arc;

pub async fn run(mut settings: Settings, demo: bool) -> Result<(), String> {
    if demo {
        demo::describe_scopes(&mut settings.policy.scope_descriptions);
    }
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    let state = app.state();
    let walkthrough = if demo {
        let bob_token = demo::seed(&state).await.map_err(|e| e.to_string())?;
        Some(demo::walkthrough(&state.issuer, &bob_token))
    } else {
        None
    };
    tracing::info!(address = %app.address(), issuer = %state.issuer, "behalf is listening");
    if let Some(text) = walkthrough {
        println!("{text}");
    }
    app.run_until_stopped().await.map_err(|e| e.to_string())
}
