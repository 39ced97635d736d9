//! `behalf user add NAME [--agent] [--password-stdin]`: prints the new `sub`.
//! `behalf user disable NAME` ends the user's sessions, tokens and every grant
//! they are the subject or the agent of (docs/security.md E16); `behalf user
//! enable NAME` lets them sign in again, and brings no ended grant back.

use super::{connect, now, read_stdin_secret};
use crate::accounts;
use crate::config::Settings;
use crate::delegation::grants;
use crate::store::StoreError;
use crate::store::issued_tokens::IssuedTokenRow;
use crate::store::refresh_tokens::RefreshTokenRow;
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use clap::Subcommand;
use diesel::Connection;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user; prints its `sub` alone on one line.
    Add {
        name: String,
        /// Give the user the agent role (may act for others under a grant).
        #[arg(long)]
        agent: bool,
        /// Read the password from stdin (one trailing newline is stripped).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user: no more sign-ins, sessions ended, refresh and access tokens
    /// revoked, every grant where they are the subject or the agent ended.
    Disable { name: String },
    /// Enable a disabled user again; grants ended by disabling stay ended.
    Enable { name: String },
}

pub async fn run(settings: &Settings, command: UserCommand) -> Result<(), String> {
    match command {
        UserCommand::Add {
            name,
            agent,
            password_stdin,
        } => {
            let password = password_stdin.then(read_stdin_secret).transpose()?;
            let user = accounts::new_user(&name, password.as_deref(), agent, now())?;
            let db = connect(settings).await?;
            let sub = user.sub.clone();
            db.run(move |c| user.insert(c))
                .await
                .map_err(|e| unique_violation(e, &format!("user {name} already exists")))?;
            println!("{sub}");
            Ok(())
        }
        UserCommand::Disable { name } => {
            let db = connect(settings).await?;
            let now = now();
            let lookup = name.clone();
            let found = db
                .run(move |c| {
                    c.transaction(|c| {
                        if !UserRow::disable(c, &lookup, now)? {
                            return Ok(false);
                        }
                        let user = UserRow::find_by_username(c, &lookup)?.expect("just updated");
                        SessionRow::delete_for_user(c, &user.sub)?;
                        RefreshTokenRow::revoke_user(c, &user.sub, now)?;
                        IssuedTokenRow::revoke_subject(c, &user.sub, now)?;
                        grants::end_all_of_disabled(c, &user.sub, now)?;
                        Ok(true)
                    })
                })
                .await
                .map_err(|e| e.to_string())?;
            if !found {
                return Err(format!("no user named {name}"));
            }
            eprintln!("user {name} is disabled");
            Ok(())
        }
        UserCommand::Enable { name } => {
            let db = connect(settings).await?;
            let lookup = name.clone();
            let found = db
                .run(move |c| UserRow::enable(c, &lookup))
                .await
                .map_err(|e| e.to_string())?;
            if !found {
                return Err(format!("no user named {name}"));
            }
            eprintln!("user {name} is enabled");
            Ok(())
        }
    }
}

/// A unique-key violation becomes `message`; any other error keeps its own text.
pub fn unique_violation(e: StoreError, message: &str) -> String {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        StoreError::Query(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            message.to_string()
        }
        other => other.to_string(),
    }
}
