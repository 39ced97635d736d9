//! The `ciba_requests` table: one per backchannel authentication request
//! (OpenID CIBA Core 1.0 §7), the access request it became and what the
//! client's token requests need: the interval it must keep between polls
//! (§7.3, grown at each `slow_down`, §11), when it last asked, and whether the
//! tokens were issued (once: a conditional update, so two polls at once get
//! one answer with tokens). `auth_req_id` is kept only as its SHA-256.

use super::schema::ciba_requests;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = ciba_requests)]
pub struct CibaRequestRow {
    pub auth_req_id_hash: String,
    pub request_id: String,
    pub client_id: String,
    pub poll_interval: i32,
    pub polled_at: Option<i64>,
    pub issued_at: Option<i64>,
    pub sealed_auth_req_id: Option<Vec<u8>>,
    pub sealed_notification_token: Option<Vec<u8>>,
    pub created_at: i64,
}

impl CibaRequestRow {
    pub fn insert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        diesel::insert_into(ciba_requests::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut AnyConnection, hash: &str) -> Result<Option<Self>, StoreError> {
        Ok(ciba_requests::table
            .find(hash)
            .select(Self::as_select())
            .get_result(conn)
            .optional()?)
    }

    /// The one made for access request `request_id`, if it came through CIBA.
    pub fn for_request(
        conn: &mut AnyConnection,
        request_id: &str,
    ) -> Result<Option<Self>, StoreError> {
        Ok(ciba_requests::table
            .filter(ciba_requests::request_id.eq(request_id))
            .select(Self::as_select())
            .load(conn)?
            .pop())
    }

    /// A token request at `now`, waiting `interval` from now on.
    pub fn polled(
        conn: &mut AnyConnection,
        hash: &str,
        interval: i32,
        now: i64,
    ) -> Result<(), StoreError> {
        diesel::update(ciba_requests::table.find(hash))
            .set((
                ciba_requests::polled_at.eq(now),
                ciba_requests::poll_interval.eq(interval),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Marks the tokens issued at `now`; `false` when they already were.
    pub fn issue(conn: &mut AnyConnection, hash: &str, now: i64) -> Result<bool, StoreError> {
        let updated = diesel::update(
            ciba_requests::table
                .find(hash)
                .filter(ciba_requests::issued_at.is_null()),
        )
        .set(ciba_requests::issued_at.eq(now))
        .execute(conn)?;
        Ok(updated == 1)
    }
}
