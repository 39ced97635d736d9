//! The `signing_keys` table: every signing key ever created, its private half
//! encrypted under the key-encryption key, and the times that decide when it is
//! published and when it signs.

use super::schema::signing_keys;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    pub kid: String,
    pub alg: String,
    pub purpose: String,
    pub encrypted_pkcs8: Vec<u8>,
    pub public_jwk: String,
    pub published_at: i64,
    pub signs_from: i64,
}

impl SigningKeyRow {
    pub fn insert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        diesel::insert_into(signing_keys::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }

    /// Every key, oldest first.
    pub fn all(conn: &mut AnyConnection) -> Result<Vec<Self>, StoreError> {
        Ok(signing_keys::table
            .order((signing_keys::signs_from.asc(), signing_keys::kid.asc()))
            .select(Self::as_select())
            .load(conn)?)
    }
}
