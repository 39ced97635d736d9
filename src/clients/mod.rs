//! Registered clients as the protocol code sees them (RFC 6749 §2), the grant
//! types they may be allowed (`grant_type`), and a short-lived in-memory cache so that the token path does not read the database for the
//! client on every request. Misses always go to the database, so a client added
//! by `behalf client add` works at once on every instance.

pub mod grant_type;

pub use grant_type::GrantType;

use crate::store::clients::ClientRow;
use crate::store::split_list;
use crate::store::{Database, StoreError};
use crate::tokens::id_token;
use crate::tokens::signing_key::Algorithm;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

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
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub audiences: Vec<String>,
    /// May appear in grants' `apps` (DESIGN.md "Delegated sign-in into any OIDC app").
    pub delegated_sign_in: bool,
    pub initiate_login_uri: Option<String>,
    pub backchannel_logout_uri: Option<String>,
    /// An agent that is a program (DESIGN.md "Agents that are programs").
    pub program_agent: bool,
    /// How its CIBA requests are answered: `None` unless it has the CIBA grant.
    pub ciba_mode: Option<CibaMode>,
    pub ciba_notification_endpoint: Option<String>,
    /// What its ID tokens and logout tokens are signed with (OIDC Dynamic
    /// Client Registration 1.0 §2 `id_token_signed_response_alg`).
    pub id_token_alg: Algorithm,
}

/// CIBA Core §5: how the client learns the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CibaMode {
    /// It polls the token endpoint.
    Poll,
    /// It is told at its notification endpoint, then asks the token endpoint.
    Ping,
}

impl CibaMode {
    pub const ALL: [CibaMode; 2] = [Self::Poll, Self::Ping];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Poll => "poll",
            Self::Ping => "ping",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == value)
    }
}

impl From<ClientRow> for Client {
    fn from(row: ClientRow) -> Self {
        Self {
            redirect_uris: split_list(&row.redirect_uris),
            grant_types: split_list(&row.grant_types)
                .iter()
                .filter_map(|g| GrantType::parse(g))
                .collect(),
            scopes: split_list(&row.scopes),
            audiences: split_list(&row.audiences),
            client_id: row.client_id,
            secret_hash: row.secret_hash,
            is_public: row.is_public,
            first_party: row.first_party,
            name: row.name,
            delegated_sign_in: row.delegated_sign_in,
            initiate_login_uri: row.initiate_login_uri,
            backchannel_logout_uri: row.backchannel_logout_uri,
            program_agent: row.program_agent,
            ciba_mode: row.ciba_mode.as_deref().and_then(CibaMode::parse),
            ciba_notification_endpoint: row.ciba_notification_endpoint,
            // Registration accepts only `id_token::ALGORITHMS`; the column's default is RS256.
            id_token_alg: id_token::algorithm(&row.id_token_signed_response_alg)
                .unwrap_or(id_token::ALGORITHMS[0]),
        }
    }
}

impl Client {
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// A confidential client allowed token exchange: the only kind a grant can be bound to.
    pub fn can_exchange(&self) -> bool {
        self.allows_grant(GrantType::TokenExchange) && !self.is_public
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
