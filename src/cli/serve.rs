//! `behalf serve [--demo]`: runs the server; `--demo` first seeds demo accounts
//! and a client, and prints what to try.

use super::now;
use crate::accounts;
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::oauth::clients::GRANT_CLIENT_CREDENTIALS;
use crate::oauth::registration::{self, NewClient};
use crate::secret::Secret;
use crate::startup::Application;
use crate::store::clients::ClientRow;
use crate::store::users::UserRow;
use crate::store::{Database, StoreError};
use std::sync::Arc;

/// Demo credentials: for a local trial only, printed on purpose.
const DEMO_CLIENT: &str = "demo-service";
const DEMO_SECRET: &str = "demo-service-secret-for-local-trials-only";

pub async fn run(settings: Settings, demo: bool) -> Result<(), String> {
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    let state = app.state();
    if demo {
        seed_demo(&state.db).await.map_err(|e| e.to_string())?;
    }
    tracing::info!(address = %app.address(), issuer = %state.issuer, "behalf is listening");
    if demo {
        print_walkthrough(&state.issuer);
    }
    app.run_until_stopped().await.map_err(|e| e.to_string())
}

async fn seed_demo(db: &Database) -> Result<(), StoreError> {
    let now = now();
    let (client, _) = registration::register(
        NewClient {
            client_id: DEMO_CLIENT.into(),
            secret: Some(Secret::new(DEMO_SECRET.into())),
            grant_types: vec![GRANT_CLIENT_CREDENTIALS.into()],
            scopes: vec!["read".into(), "write".into()],
            name: Some("Demo service".into()),
            ..NewClient::default()
        },
        now,
    )
    .expect("the demo client is valid");
    let users = [
        accounts::new_user("alice", Some("alice-demo-password"), false, now),
        accounts::new_user("bob", Some("bob-demo-password"), true, now),
    ]
    .map(|u| u.expect("the demo users are valid"));
    db.run(move |c| {
        if ClientRow::find(c, DEMO_CLIENT)?.is_none() {
            client.insert(c)?;
        }
        for user in users {
            if UserRow::find_by_username(c, &user.username)?.is_none() {
                user.insert(c)?;
            }
        }
        Ok(())
    })
    .await
}

fn print_walkthrough(issuer: &str) {
    println!(
        "\nbehalf demo at {issuer} (demo credentials: for a local trial only)\n\
         users: alice / alice-demo-password, bob (agent) / bob-demo-password\n\n\
         Get a client-credentials token:\n  \
         curl -s -u {DEMO_CLIENT}:{DEMO_SECRET} -d grant_type=client_credentials -d scope=read {issuer}/token\n\n\
         Discovery: {issuer}/.well-known/openid-configuration\nKeys:      {issuer}/jwks.json\n"
    );
}
