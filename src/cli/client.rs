//! `behalf client add ID ...`: registers a client and prints
//! `{"client_id": ..., "client_secret": ..., "id_token_signed_response_alg": ...}`
//! (the secret is shown only here; the algorithm is OIDC Dynamic Client
//! Registration 1.0 §2 client metadata, `--id-token-alg`).
//! `client list` (JSON lines), `client show ID` (one JSON object, never the
//! secret's hash) and `client remove ID` (refused while a grant through it is
//! active: `store::client_removal`).

use super::user::unique_violation;
use super::{connect, now, read_stdin_secret};
use crate::config::Settings;
use crate::oauth::registration::{self, NewClient};
use crate::secret::Secret;
use crate::store::client_removal::{ClientRemoval, remove_client};
use crate::store::clients::ClientRow;
use clap::{Args, Subcommand};
use diesel::Connection;
use serde_json::{Value, json};

// Parsed once per run: the size of the `Add` variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a client.
    Add(ClientAdd),
    /// List clients: one JSON object per line.
    List,
    /// Show one client as a JSON object.
    Show { client_id: String },
    /// Remove a client, its consents, codes, refresh tokens, requests and ended
    /// grants; its recorded access tokens are revoked. Refused while a grant
    /// through it is active.
    Remove { client_id: String },
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
    /// An app agents may sign in to as a user who allowed it (DESIGN.md "Delegated sign-in").
    #[arg(long)]
    delegated_sign_in: bool,
    /// Where to start a sign-in at the app (OIDC Core §4, third-party-initiated login).
    #[arg(long, value_name = "URI", requires = "delegated_sign_in")]
    initiate_login_uri: Option<String>,
    /// Where logout tokens go when a delegated session ends (OIDC Back-Channel Logout 1.0).
    #[arg(long, value_name = "URI", requires = "delegated_sign_in")]
    backchannel_logout_uri: Option<String>,
    /// An agent that is a program: it asks users with CIBA (`--grant-type
    /// urn:openid:params:grant-type:ciba`) and acts in its own name; an agent
    /// account named by the client id is made with it.
    #[arg(long)]
    program_agent: bool,
    /// How it learns the user's answer: `poll` (the default) or `ping` (CIBA Core §5).
    #[arg(long, value_name = "MODE", requires = "program_agent")]
    ciba_mode: Option<String>,
    /// Where a ping goes (CIBA Core §10.2); with `--ciba-mode ping`.
    #[arg(long, value_name = "URI", requires = "program_agent")]
    ciba_notification_endpoint: Option<String>,
    /// What its ID tokens (and logout tokens) are signed with: `RS256` (the
    /// default) or `ES256`, many times faster to sign, so code redemptions
    /// are cheaper (OIDC Dynamic Client Registration 1.0 §2
    /// `id_token_signed_response_alg`).
    #[arg(long, value_name = "ALG")]
    id_token_alg: Option<String>,
}

pub async fn run(settings: &Settings, command: ClientCommand) -> Result<(), String> {
    match command {
        ClientCommand::Add(args) => add(settings, args).await,
        ClientCommand::List => {
            let db = connect(settings).await?;
            for client in db.run(ClientRow::all).await.map_err(|e| e.to_string())? {
                println!("{}", described(&client));
            }
            Ok(())
        }
        ClientCommand::Show { client_id } => {
            let db = connect(settings).await?;
            let lookup = client_id.clone();
            let client = db
                .run(move |c| ClientRow::find(c, &lookup))
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no client {client_id}"))?;
            println!("{}", described(&client));
            Ok(())
        }
        ClientCommand::Remove { client_id } => {
            let db = connect(settings).await?;
            let lookup = client_id.clone();
            let now = now();
            let removal = db
                .run(move |c| c.transaction(|c| remove_client(c, &lookup, now)))
                .await
                .map_err(|e| e.to_string())?;
            match removal {
                ClientRemoval::Removed => {
                    eprintln!("client {client_id} is removed");
                    Ok(())
                }
                ClientRemoval::NoSuchClient => Err(format!("no client {client_id}")),
                ClientRemoval::GrantsActive(n) => Err(format!(
                    "client {client_id} has {n} active grant(s); they must end (at expiry, \
                     or by the user or the agent) before the client is removed"
                )),
            }
        }
    }
}

/// A client as `client list` and `client show` print it.
fn described(client: &ClientRow) -> Value {
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    json!({
        "client_id": client.client_id,
        "name": client.name,
        "public": client.is_public,
        "first_party": client.first_party,
        "redirect_uris": words(&client.redirect_uris),
        "grant_types": words(&client.grant_types),
        "scopes": words(&client.scopes),
        "audiences": words(&client.audiences),
        "delegated_sign_in": client.delegated_sign_in,
        "initiate_login_uri": client.initiate_login_uri,
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "program_agent": client.program_agent,
        "ciba_mode": client.ciba_mode,
        "ciba_notification_endpoint": client.ciba_notification_endpoint,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "created_at": crate::clock::rfc3339(client.created_at),
    })
}

async fn add(settings: &Settings, args: ClientAdd) -> Result<(), String> {
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
            delegated_sign_in: args.delegated_sign_in,
            initiate_login_uri: args.initiate_login_uri,
            backchannel_logout_uri: args.backchannel_logout_uri,
            program_agent: args.program_agent,
            ciba_mode: args.ciba_mode,
            ciba_notification_endpoint: args.ciba_notification_endpoint,
            id_token_signed_response_alg: args.id_token_alg,
        },
        now(),
    )?;
    let id_token_alg = row.id_token_signed_response_alg.clone();
    let db = connect(settings).await?;
    let agent = row
        .program_agent
        .then(|| registration::program_agent_account(&row, now()));
    db.run(move |c| {
        c.transaction(|c| {
            row.insert(c)?;
            agent.iter().try_for_each(|agent| agent.insert(c))
        })
    })
    .await
    .map_err(|e| {
        unique_violation(
            e,
            &format!(
                "client {id} already exists, or (for a program agent) a user named {id}",
                id = args.client_id
            ),
        )
    })?;
    println!(
        "{}",
        json!({
            "client_id": args.client_id,
            "client_secret": secret.as_ref().map(|s| s.expose()),
            "id_token_signed_response_alg": id_token_alg,
        })
    );
    Ok(())
}
