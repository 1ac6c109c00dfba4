//! Which database a URL names: `sqlite:///absolute/path`, `sqlite://relative/path`, or
//! `postgres://user:password@host:port/db?…` (also `postgresql://`, as libpq writes it).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::StoreError;

/// A parsed database URL. `Display` never shows a password.
#[derive(Clone)]
pub enum DbUrl {
    /// A SQLite file (created on [`crate::Store::open`]).
    Sqlite(PathBuf),
    /// A PostgreSQL server.
    #[cfg(feature = "postgres")]
    Postgres(Box<tokio_postgres::Config>),
}

impl FromStr for DbUrl {
    type Err = StoreError;

    fn from_str(url: &str) -> Result<Self, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::EmptySqlitePath);
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return postgres(url);
        }
        let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
        Err(StoreError::UnknownScheme { url: scheme.chars().take(32).collect() })
    }
}

#[cfg(feature = "postgres")]
fn postgres(url: &str) -> Result<DbUrl, StoreError> {
    let config = tokio_postgres::Config::from_str(url).map_err(|e| StoreError::InvalidPostgresUrl(std::sync::Arc::new(e)))?;
    Ok(DbUrl::Postgres(Box::new(config)))
}

#[cfg(not(feature = "postgres"))]
fn postgres(_url: &str) -> Result<DbUrl, StoreError> {
    Err(StoreError::PostgresNotBuilt)
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            #[cfg(feature = "postgres")]
            Self::Postgres(config) => {
                f.write_str("postgres://")?;
                if let Some(user) = config.get_user() {
                    write!(f, "{user}@")?;
                }
                for (i, host) in config.get_hosts().iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    match host {
                        tokio_postgres::config::Host::Tcp(name) => f.write_str(name)?,
                        tokio_postgres::config::Host::Unix(path) => write!(f, "{}", path.display())?,
                    }
                    if let Some(port) = config.get_ports().get(i) {
                        write!(f, ":{port}")?;
                    }
                }
                write!(f, "/{}", config.get_dbname().unwrap_or_default())
            }
        }
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        let abs: DbUrl = "sqlite:///var/lib/causeway/cdr.db".parse().expect("absolute");
        assert!(matches!(&abs, DbUrl::Sqlite(p) if p == std::path::Path::new("/var/lib/causeway/cdr.db")));
        let rel: DbUrl = "sqlite://cdr.db".parse().expect("relative");
        assert!(matches!(&rel, DbUrl::Sqlite(p) if p == std::path::Path::new("cdr.db")));
        assert_eq!(abs.to_string(), "sqlite:///var/lib/causeway/cdr.db");
    }

    #[test]
    fn refused_urls() {
        assert!(matches!("sqlite://".parse::<DbUrl>(), Err(StoreError::EmptySqlitePath)));
        match "mysql://root:secret@db/x".parse::<DbUrl>() {
            Err(StoreError::UnknownScheme { url }) => assert_eq!(url, "mysql"),
            other => panic!("expected UnknownScheme, got {other:?}"),
        }
        assert!(matches!("/var/lib/cdr.db".parse::<DbUrl>(), Err(StoreError::UnknownScheme { .. })));
    }

    #[cfg(not(feature = "postgres"))]
    #[test]
    fn postgres_needs_the_feature() {
        assert!(matches!("postgres://cdr@127.0.0.1/causeway".parse::<DbUrl>(), Err(StoreError::PostgresNotBuilt)));
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres_display_hides_the_password() {
        let url: DbUrl = "postgres://cdr:s3cret@127.0.0.1:5433/causeway".parse().expect("postgres URL");
        let shown = url.to_string();
        assert_eq!(shown, "postgres://cdr@127.0.0.1:5433/causeway");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(matches!("postgresql://h/db?sslmode=bogus".parse::<DbUrl>(), Err(StoreError::InvalidPostgresUrl(_))));
    }
}
