//! The command line (docs/contract.md "Command line"): `serve`, `migrate`, `user`,
//! `client`, `keys`, `audit`, `webhook`, `receiver`, `events` and `sweep` (and the
//! benchmarks' hidden `grow`). Every command reads the same settings
//! and migrates the database itself; the database flags are on every command,
//! `--listen`, `--issuer` and `--log-format` on `serve` alone. Output meant for scripts goes to stdout,
//! logs to stderr.

mod audit;
mod client;
mod demo;
mod events;
mod grow;
mod keys;
mod receiver;
mod serve;
mod sweep;
mod timestamp;
mod user;
mod webhook;

use crate::config::{LogFormat, Overrides, Settings};
use crate::store::Database;
use clap::{Args, Parser, Subcommand};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "behalf",
    version,
    about = "OAuth 2.0 / OpenID Connect server for consent-based delegated access"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The flags of every command that opens the database.
#[derive(Args, Default)]
struct DatabaseArgs {
    /// TOML settings file (BEHALF_CONFIG).
    #[arg(long, global = true, value_name = "FILE", env = "BEHALF_CONFIG")]
    config: Option<PathBuf>,
    /// `sqlite://path` or `postgres://...` (BEHALF_DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
}

/// The flags only `serve` reads.
#[derive(Args, Default)]
struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080 or localhost:8080 (BEHALF_LISTEN).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Issuer URL (BEHALF_ISSUER).
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// Log format (BEHALF_LOG_FORMAT).
    #[arg(long, value_enum)]
    log_format: Option<LogFormat>,
    /// Seed demo accounts and clients and print a walkthrough.
    #[arg(long)]
    demo: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Apply pending database migrations.
    Migrate {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Manage user accounts.
    User {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        command: user::UserCommand,
    },
    /// Manage OAuth clients.
    Client {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        command: client::ClientCommand,
    },
    /// Manage signing keys.
    Keys {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Read, export and check the audit trail.
    Audit {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Manage webhooks (Standard Webhooks destinations of events).
    Webhook {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        command: webhook::WebhookCommand,
    },
    /// Manage receivers of Security Event Tokens (RFC 8417, pushed per RFC 8935).
    Receiver {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        command: receiver::ReceiverCommand,
    },
    /// See what the outbox has yet to deliver (back-channel logouts).
    Events {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        command: events::EventsCommand,
    },
    /// Delete expired rows now (what `serve` does every ten minutes).
    Sweep {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Benchmarks only: fill a demo database to a production-like size (bench/README.md).
    #[command(hide = true)]
    Grow {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        args: grow::GrowArgs,
    },
}

impl Command {
    /// The settings file and the flags that override settings.
    fn overrides(&self) -> (Option<PathBuf>, Overrides) {
        let (database, serve) = match self {
            Command::Serve { database, serve } => (database, Some(serve)),
            Command::Migrate { database }
            | Command::User { database, .. }
            | Command::Client { database, .. }
            | Command::Keys { database, .. }
            | Command::Audit { database, .. }
            | Command::Webhook { database, .. }
            | Command::Receiver { database, .. }
            | Command::Events { database, .. }
            | Command::Sweep { database }
            | Command::Grow { database, .. } => (database, None),
        };
        let overrides = Overrides {
            database_url: database.database_url.clone(),
            listen: serve.and_then(|s| s.listen.clone()),
            issuer: serve.and_then(|s| s.issuer.clone()),
            log_format: serve.and_then(|s| s.log_format),
        };
        (database.config.clone(), overrides)
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let (config, overrides) = cli.command.overrides();
    let settings = match Settings::load(config.as_deref(), &overrides) {
        Ok(settings) => settings,
        Err(e) => return fail(&e),
    };
    let is_serve = matches!(cli.command, Command::Serve { .. });
    // Admin commands keep stderr quiet unless something is wrong.
    let filter = if is_serve {
        settings.log.as_str()
    } else {
        "warn"
    };
    crate::telemetry::init(filter, settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            Command::Serve { serve, .. } => serve::run(settings, serve.demo).await,
            Command::Migrate { .. } => connect(&settings)
                .await
                .map(|_| println!("database is up to date")),
            Command::User { command, .. } => user::run(&settings, command).await,
            Command::Client { command, .. } => client::run(&settings, command).await,
            Command::Keys { command, .. } => keys::run(&settings, command).await,
            Command::Audit { command, .. } => audit::run(&settings, command).await,
            Command::Webhook { command, .. } => webhook::run(&settings, command).await,
            Command::Receiver { command, .. } => receiver::run(&settings, command).await,
            Command::Events { command, .. } => events::run(&settings, command).await,
            Command::Sweep { .. } => sweep::run(&settings).await,
            Command::Grow { args, .. } => grow::run(&settings, args).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("behalf: {message}");
    ExitCode::FAILURE
}

/// Opens and migrates the configured database, its audit chain keyed
/// (`startup::open_database`).
async fn connect(settings: &Settings) -> Result<Database, String> {
    crate::startup::open_database(settings, now())
        .await
        .map(|(db, _)| db)
}

/// Reads a secret from stdin, stripping one trailing newline (and a CR before it).
fn read_stdin_secret() -> Result<String, String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    if input.ends_with('\n') {
        input.pop();
        if input.ends_with('\r') {
            input.pop();
        }
    }
    if input.is_empty() {
        return Err("stdin was empty".into());
    }
    Ok(input)
}

/// Who the audit trail says acted for a command run by an operator.
const OPERATOR: &str = "operator";

fn now() -> i64 {
    crate::clock::Clock::now(&crate::clock::SystemClock)
}
