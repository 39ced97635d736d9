//! Removing a client (`behalf client remove`, docs/contract.md "Command line"):
//! refused while a grant through it is active; otherwise, in one transaction, its
//! recorded access tokens are revoked and its consents, codes, refresh tokens,
//! access requests, ended grants, CIBA requests and the client row are
//! deleted, and a program agent's agent account with it. The audit trail
//! keeps every event about them.

use super::schema::{
    access_requests, app_consents, authorization_codes, ciba_requests, clients, grants,
    issued_tokens, refresh_tokens, users,
};
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

#[derive(Debug, PartialEq, Eq)]
pub enum ClientRemoval {
    Removed,
    NoSuchClient,
    /// Nothing was changed: this many grants through the client are still active.
    GrantsActive(i64),
}

/// Call inside a transaction.
pub fn remove_client(
    conn: &mut AnyConnection,
    client_id: &str,
    now: i64,
) -> Result<ClientRemoval, StoreError> {
    let program_agent: Option<bool> = clients::table
        .find(client_id)
        .select(clients::program_agent)
        .get_result(conn)
        .optional()?;
    let Some(program_agent) = program_agent else {
        return Ok(ClientRemoval::NoSuchClient);
    };
    let active: i64 = grants::table
        .filter(grants::client_id.eq(client_id))
        .filter(grants::revoked_at.is_null())
        .filter(grants::expires_at.gt(now))
        .count()
        .get_result(conn)?;
    if active > 0 {
        return Ok(ClientRemoval::GrantsActive(active));
    }
    diesel::update(
        issued_tokens::table
            .filter(issued_tokens::client_id.eq(client_id))
            .filter(issued_tokens::revoked_at.is_null()),
    )
    .set(issued_tokens::revoked_at.eq(now))
    .execute(conn)?;
    diesel::delete(app_consents::table.filter(app_consents::client_id.eq(client_id)))
        .execute(conn)?;
    diesel::delete(authorization_codes::table.filter(authorization_codes::client_id.eq(client_id)))
        .execute(conn)?;
    diesel::delete(refresh_tokens::table.filter(refresh_tokens::client_id.eq(client_id)))
        .execute(conn)?;
    diesel::delete(access_requests::table.filter(access_requests::client_id.eq(client_id)))
        .execute(conn)?;
    diesel::delete(grants::table.filter(grants::client_id.eq(client_id))).execute(conn)?;
    diesel::delete(ciba_requests::table.filter(ciba_requests::client_id.eq(client_id)))
        .execute(conn)?;
    if program_agent {
        // Its agent account: no grant or request names it any more.
        diesel::delete(users::table.filter(users::sub.eq(client_id))).execute(conn)?;
    }
    diesel::delete(clients::table.filter(clients::client_id.eq(client_id))).execute(conn)?;
    Ok(ClientRemoval::Removed)
}
