//! The SQL of `behalf grow` that differs between SQLite and PostgreSQL: a
//! series of integers `i` to insert from, random ids as long as real ones,
//! the durability relaxed for a bulk load, and the database's size.

use crate::config::Settings;
use diesel::QueryableByName;
use diesel::sql_types::BigInt;

/// The SQL that differs between the backends: a series of integers `i`, and
/// random ids as long as real ones.
#[derive(Clone, Copy)]
pub(super) enum Sql {
    Sqlite,
    Postgres,
}

impl Sql {
    pub(super) fn for_database(settings: &Settings) -> Result<Self, String> {
        Ok(match settings.backend()? {
            crate::store::Backend::Sqlite(_) => Self::Sqlite,
            crate::store::Backend::Postgres(_) => Self::Postgres,
        })
    }

    /// `INSERT INTO table (columns) SELECT exprs` over `i` in `from..=to`, filtered by `filter`.
    pub(super) fn insert(
        self,
        table: &str,
        columns: &str,
        exprs: &str,
        filter: &str,
        from: u64,
        to: u64,
    ) -> String {
        let filter = if filter.is_empty() {
            String::new()
        } else {
            format!(" WHERE {filter}")
        };
        match self {
            Self::Sqlite => format!(
                "INSERT INTO {table} ({columns}) WITH RECURSIVE s(i) AS \
                 (SELECT {from} UNION ALL SELECT i + 1 FROM s WHERE i < {to}) \
                 SELECT {exprs} FROM s{filter}"
            ),
            Self::Postgres => format!(
                "INSERT INTO {table} ({columns}) SELECT {exprs} \
                 FROM generate_series({from}::bigint, {to}::bigint) AS s(i){filter}"
            ),
        }
    }

    /// A random id of 22 characters (as long as `random::identifier`).
    pub(super) fn id(self) -> &'static str {
        match self {
            Self::Sqlite => "lower(hex(randomblob(11)))",
            Self::Postgres => "substr(md5(random()::text), 1, 22)",
        }
    }

    /// A random SHA-256 in hex (as stored for opaque tokens and sessions).
    pub(super) fn hash(self) -> &'static str {
        match self {
            Self::Sqlite => "lower(hex(randomblob(32)))",
            Self::Postgres => "md5(random()::text) || md5(random()::text)",
        }
    }

    /// Settings for the bulk load, on the connection that runs it.
    pub(super) fn relaxed(self) -> &'static str {
        match self {
            Self::Sqlite => "PRAGMA synchronous = OFF; PRAGMA cache_size = -1000000;",
            Self::Postgres => "SET synchronous_commit = off;",
        }
    }

    pub(super) fn size_query(self) -> &'static str {
        match self {
            Self::Sqlite => {
                "SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()"
            }
            Self::Postgres => "SELECT pg_database_size(current_database()) AS n",
        }
    }
}

#[derive(QueryableByName)]
pub(super) struct Number {
    #[diesel(sql_type = BigInt)]
    pub(super) n: i64,
}
