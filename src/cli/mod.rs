//! The command line (docs/contract.md "Command line"): `serve`, `migrate`, `user`,
//! `client` and `keys`. Every command reads the same settings and migrates the
//! database itself; output meant for scripts goes to stdout, logs to stderr.

mod audit;
mod client;
mod demo;
mod keys;
mod serve;
mod user;

use crate::config::{LogFormat, Overrides, Settings};
use crate::store::Database;
use clap::{Parser, Subcommand};
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
    /// TOML settings file.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// `sqlite://path` or `postgres://...` (BEHALF_DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Address to listen on (BEHALF_LISTEN).
    #[arg(long, global = true, value_name = "ADDR")]
    listen: Option<String>,
    /// Issuer URL (BEHALF_ISSUER).
    #[arg(long, global = true, value_name = "URL")]
    issuer: Option<String>,
    /// Log format (BEHALF_LOG_FORMAT).
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Seed demo accounts and clients and print a walkthrough.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let overrides = Overrides {
        database_url: cli.database_url,
        listen: cli.listen,
        issuer: cli.issuer,
        log_format: cli.log_format,
    };
    let settings = match Settings::load(cli.config.as_deref(), &overrides) {
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
            Command::Serve { demo } => serve::run(settings, demo).await,
            Command::Migrate => connect(&settings)
                .await
                .map(|_| println!("database is up to date")),
            Command::User(command) => user::run(&settings, command).await,
            Command::Client(command) => client::run(&settings, command).await,
            Command::Keys(command) => keys::run(&settings, command).await,
            Command::Audit(command) => audit::run(&settings, command).await,
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

fn now() -> i64 {
    crate::clock::Clock::now(&crate::clock::SystemClock)
}
