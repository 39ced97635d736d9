//! Registered clients as the protocol code sees them, and a short-lived
//! in-memory cache so that the token path does not read the database for the
//! client on every request. Misses always go to the database, so a client added
//! by `behalf client add` works at once on every instance.

use crate::store::clients::ClientRow;
use crate::store::{Database, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
pub const GRANT_REFRESH_TOKEN: &str = "refresh_token";
pub const GRANT_CLIENT_CREDENTIALS: &str = "client_credentials";
pub const GRANT_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// How long a client read from the database is trusted without reading it again.
const CACHE_TTL: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct Client {
    pub client_id: String,
    pub secret_hash: Option<Vec<u8>>,
    pub is_public: bool,
    pub first_party: bool,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub audiences: Vec<String>,
}

fn split(list: &str) -> Vec<String> {
    list.split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl From<ClientRow> for Client {
    fn from(row: ClientRow) -> Self {
        Self {
            redirect_uris: split(&row.redirect_uris),
            grant_types: split(&row.grant_types),
            scopes: split(&row.scopes),
            audiences: split(&row.audiences),
            client_id: row.client_id,
            secret_hash: row.secret_hash,
            is_public: row.is_public,
            first_party: row.first_party,
            name: row.name,
        }
    }
}

impl Client {
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }
}

pub struct ClientRegistry {
    db: Database,
    cache: RwLock<HashMap<String, (Arc<Client>, Instant)>>,
}

impl ClientRegistry {
    pub fn new(db: Database) -> Self {
        Self {
            db,
            cache: RwLock::new(HashMap::new()),
        }
    }

    pub async fn find(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        if let Some((client, read_at)) = self.cache.read().expect("cache lock").get(client_id)
            && read_at.elapsed() < CACHE_TTL
        {
            return Ok(Some(client.clone()));
        }
        let id = client_id.to_string();
        let Some(row) = self.db.run(move |c| ClientRow::find(c, &id)).await? else {
            return Ok(None);
        };
        let client = Arc::new(Client::from(row));
        self.cache
            .write()
            .expect("cache lock")
            .insert(client_id.to_string(), (client.clone(), Instant::now()));
        Ok(Some(client))
    }
}
