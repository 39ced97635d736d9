//! The `clients` table: registered OAuth clients (RFC 6749 §2).

use super::schema::clients;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clients)]
pub struct ClientRow {
    pub client_id: String,
    pub secret_hash: Option<Vec<u8>>,
    pub is_public: bool,
    pub first_party: bool,
    pub name: String,
    pub redirect_uris: String,
    pub grant_types: String,
    pub scopes: String,
    pub audiences: String,
    pub created_at: i64,
    /// May appear in a grant's `apps`: agents sign in to it as the user (DESIGN.md "Delegated sign-in").
    pub delegated_sign_in: bool,
    /// OIDC Core §4: where behalf sends an agent to start a sign-in at the app.
    pub initiate_login_uri: Option<String>,
    /// OIDC Back-Channel Logout 1.0 §2.2: where logout tokens go when a delegated session ends.
    pub backchannel_logout_uri: Option<String>,
    /// An agent that is a program: it asks users with CIBA and acts in its own name.
    pub program_agent: bool,
    /// CIBA Core §5: `poll` or `ping`.
    pub ciba_mode: Option<String>,
    /// CIBA Core §10.2: where a ping goes.
    pub ciba_notification_endpoint: Option<String>,
    /// OIDC Dynamic Client Registration 1.0 §2: `RS256` (the default) or `ES256`.
    pub id_token_signed_response_alg: String,
}

impl ClientRow {
    pub fn insert(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        diesel::insert_into(clients::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut AnyConnection, client_id: &str) -> Result<Option<Self>, StoreError> {
        Ok(clients::table
            .find(client_id)
            .select(Self::as_select())
            .get_result(conn)
            .optional()?)
    }

    /// The client ids among `ids` registered for delegated sign-in (one query).
    pub fn delegated_sign_in_among(
        conn: &mut AnyConnection,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        Ok(clients::table
            .filter(clients::client_id.eq_any(ids))
            .filter(clients::delegated_sign_in.eq(true))
            .select(clients::client_id)
            .load(conn)?)
    }

    pub fn all(conn: &mut AnyConnection) -> Result<Vec<Self>, StoreError> {
        Ok(clients::table
            .order(clients::client_id.asc())
            .select(Self::as_select())
            .load(conn)?)
    }
}
