//! `behalf user add NAME [--agent] [--email E] [--name N] [--team T]
//! (--password-stdin | --no-password)`: prints the new `sub`; without a password
//! choice it refuses (exit 2). `user list` (JSON lines), `user show NAME` (one
//! JSON object, with its linked IdP accounts), `user unlink NAME ISSUER` and
//! `user set-password NAME --password-stdin`.
//! `behalf user disable NAME` ends the user's sessions, tokens and every grant
//! they are the subject or the agent of (docs/security.md E16); `behalf user
//! enable NAME` lets them sign in again, and brings no ended grant back.

use super::{connect, now, read_stdin_secret};
use crate::accounts::{self, password, profile::Profile};
use crate::audit::{self, Action};
use crate::config::Settings;
use crate::delegation::grants;
use crate::store::StoreError;
use crate::store::issued_tokens::IssuedTokenRow;
use crate::store::refresh_tokens::RefreshTokenRow;
use crate::store::sessions::SessionRow;
use crate::store::user_identities::UserIdentityRow;
use crate::store::users::UserRow;
use clap::{Args, Subcommand};
use diesel::Connection;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user; prints its `sub` alone on one line.
    Add {
        #[arg(value_name = "NAME")]
        username: String,
        /// Give the user the agent role (may act for others under a grant).
        #[arg(long)]
        agent: bool,
        /// An email address.
        #[arg(long, value_name = "E")]
        email: Option<String>,
        /// The name shown to people, e.g. "Erin Example".
        #[arg(long, value_name = "N")]
        name: Option<String>,
        /// An agent's team, e.g. "Support" (needs --agent).
        #[arg(long, value_name = "T", requires = "agent")]
        team: Option<String>,
        #[command(flatten)]
        password: PasswordChoice,
    },
    /// List users: one JSON object per line.
    List,
    /// Show one user as a JSON object, with the IdP accounts linked to it (`identities`).
    Show { name: String },
    /// Remove the link between a user and their account at the IdP ISSUER: a
    /// later sign-in through it makes a new account.
    Unlink { name: String, issuer: String },
    /// Set a user's password, read from stdin.
    SetPassword {
        name: String,
        /// Read the password from stdin (one trailing newline is stripped).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Disable a user: no more sign-ins, sessions ended, refresh and access tokens
    /// revoked, every grant where they are the subject or the agent ended.
    Disable { name: String },
    /// Enable a disabled user again; grants ended by disabling stay ended.
    Enable { name: String },
}

/// Exactly one is required: a user added without either could never sign in
/// by mistake.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct PasswordChoice {
    /// Read the password from stdin (one trailing newline is stripped).
    #[arg(long)]
    password_stdin: bool,
    /// No password: the account signs in only through an upstream identity provider.
    #[arg(long)]
    no_password: bool,
}

pub async fn run(settings: &Settings, command: UserCommand) -> Result<(), String> {
    match command {
        UserCommand::Add {
            username: name,
            agent,
            email,
            name: display_name,
            team,
            password: choice,
        } => {
            let profile = Profile {
                email,
                name: display_name,
                team,
            };
            profile.validate()?;
            let password = choice.password_stdin.then(read_stdin_secret).transpose()?;
            let user = profile.apply(accounts::new_user(
                &name,
                password.as_deref(),
                agent,
                now(),
            )?);
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
        UserCommand::List => {
            let db = connect(settings).await?;
            let users = db.run(UserRow::all).await.map_err(|e| e.to_string())?;
            for user in &users {
                println!("{}", described(user));
            }
            Ok(())
        }
        UserCommand::Show { name } => {
            let user = find(settings, &name).await?;
            let db = connect(settings).await?;
            let sub = user.sub.clone();
            let identities = db
                .run(move |c| UserIdentityRow::of_user(c, &sub))
                .await
                .map_err(|e| e.to_string())?;
            let mut shown = described(&user);
            shown["identities"] = identities
                .iter()
                .map(|i| json!({"issuer": i.issuer, "subject": i.subject, "linked_at": i.linked_at, "last_used_at": i.last_used_at}))
                .collect();
            println!("{shown}");
            Ok(())
        }
        UserCommand::Unlink { name, issuer } => {
            let user = find(settings, &name).await?;
            let db = connect(settings).await?;
            let (sub, from, now) = (user.sub.clone(), issuer.clone(), now());
            let removed = db
                .write(move |c| {
                    let removed = UserIdentityRow::unlink(c, &sub, &from)?;
                    if removed {
                        audit::record(
                            c,
                            now,
                            "operator",
                            Action::IdentityUnlinked,
                            Some(&sub),
                            json!({"issuer": from}),
                        )?;
                    }
                    Ok(removed)
                })
                .await
                .map_err(|e| e.to_string())?;
            if !removed {
                return Err(format!("user {name} has no identity at {issuer}"));
            }
            eprintln!("user {name} is no longer linked to {issuer}");
            Ok(())
        }
        UserCommand::SetPassword { name, .. } => {
            let hash = password::hash(&read_stdin_secret()?)?;
            let db = connect(settings).await?;
            let lookup = name.clone();
            let found = db
                .run(move |c| UserRow::set_password_hash(c, &lookup, &hash))
                .await
                .map_err(|e| e.to_string())?;
            if !found {
                return Err(format!("no user named {name}"));
            }
            eprintln!("user {name} has a new password");
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

async fn find(settings: &Settings, name: &str) -> Result<UserRow, String> {
    let db = connect(settings).await?;
    let lookup = name.to_string();
    db.run(move |c| UserRow::find_by_username(c, &lookup))
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no user named {name}"))
}

/// A user as `user list` and `user show` print it; never the password hash.
fn described(user: &UserRow) -> Value {
    json!({
        "sub": user.sub,
        "username": user.username,
        "email": user.email,
        "name": user.display_name,
        "team": user.team,
        "agent": user.is_agent,
        "disabled": !user.is_active(),
    })
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
