//! `behalf client add ID ...`: registers a client and prints
//! `{"client_id": ..., "client_secret": ...}` (the secret is shown only here).

use super::user::unique_violation;
use super::{connect, now, read_stdin_secret};
use crate::config::Settings;
use crate::oauth::registration::{self, NewClient};
use crate::secret::Secret;
use clap::{Args, Subcommand};
use serde_json::json;

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a client.
    Add(ClientAdd),
}

#[derive(Args)]
pub struct ClientAdd {
    client_id: String,
    /// A public client (no secret; PKCE only).
    #[arg(long)]
    public: bool,
    /// A first-party app: users are not asked to consent to its scopes.
    #[arg(long)]
    first_party: bool,
    /// Read the client secret from stdin (at least 32 characters).
    #[arg(long, conflicts_with_all = ["generate_secret", "public"])]
    secret_stdin: bool,
    /// Generate a 256-bit secret (the default for confidential clients).
    #[arg(long, conflicts_with = "public")]
    generate_secret: bool,
    /// An allowed redirect URI (repeat for more).
    #[arg(long = "redirect-uri", value_name = "URI")]
    redirect_uris: Vec<String>,
    /// An allowed grant type (repeat for more).
    #[arg(long = "grant-type", value_name = "TYPE")]
    grant_types: Vec<String>,
    /// An allowed scope (repeat for more).
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// An audience (`resource`/`audience`) the client may ask for (repeat for more).
    #[arg(long = "audience", value_name = "URI")]
    audiences: Vec<String>,
    /// Name shown to users.
    #[arg(long)]
    name: Option<String>,
}

pub async fn run(settings: &Settings, command: ClientCommand) -> Result<(), String> {
    let ClientCommand::Add(args) = command;
    let secret = args
        .secret_stdin
        .then(read_stdin_secret)
        .transpose()?
        .map(Secret::new);
    let (row, secret) = registration::register(
        NewClient {
            client_id: args.client_id.clone(),
            is_public: args.public,
            first_party: args.first_party,
            secret,
            redirect_uris: args.redirect_uris,
            grant_types: args.grant_types,
            scopes: args.scopes,
            audiences: args.audiences,
            name: args.name,
        },
        now(),
    )?;
    let db = connect(settings).await?;
    db.run(move |c| row.insert(c))
        .await
        .map_err(|e| unique_violation(e, &format!("client {} already exists", args.client_id)))?;
    println!(
        "{}",
        json!({"client_id": args.client_id, "client_secret": secret.as_ref().map(|s| s.expose())})
    );
    Ok(())
}
