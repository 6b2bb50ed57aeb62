//! What the SQL store needs of a database connection, and the values it binds and reads.

use std::time::Duration;

use crate::error::Error;

/// A bound parameter or a column value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    pub(crate) fn int(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(t),
            _ => None,
        }
    }

    pub(crate) fn blob(&self) -> Option<&[u8]> {
        match self {
            Self::Blob(b) => Some(b),
            _ => None,
        }
    }
}

/// Which SQL the schema is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Sqlite,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Postgres,
}

impl Dialect {
    pub(crate) fn blob(self) -> &'static str {
        match self {
            Self::Sqlite => "BLOB",
            Self::Postgres => "BYTEA",
        }
    }
}

/// One database connection. SQL uses `$1`, `$2`, … placeholders.
pub(crate) trait Conn: Send {
    /// Runs a statement; returns the rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error>;
    /// Runs a query; returns every row.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, Error>;
    /// Runs a query and hands each row to `f` as it arrives (for loading millions).
    fn for_each(
        &mut self,
        sql: &str,
        params: &[Value],
        f: &mut dyn FnMut(&[Value]) -> Result<(), Error>,
    ) -> Result<(), Error>;
    /// Starts a write transaction that holds the store's single writer lock (SQLite:
    /// `BEGIN IMMEDIATE`; PostgreSQL: `BEGIN` and the feed head row `FOR UPDATE`).
    fn begin_write(&mut self) -> Result<(), Error>;
    /// Starts a read transaction that sees one snapshot.
    fn begin_snapshot(&mut self) -> Result<(), Error>;
    /// Starts the schema transaction (serialized between processes).
    fn begin_migration(&mut self) -> Result<(), Error>;
    fn commit(&mut self) -> Result<(), Error>;
    fn rollback(&mut self) -> Result<(), Error>;
    /// Announces a commit up to `seq` to followers (PostgreSQL: NOTIFY, delivered at
    /// commit; SQLite: nothing, followers poll).
    fn notify(&mut self, seq: i64) -> Result<(), Error>;
    /// Waits up to `timeout` for an announcement (or, without announcements, a poll
    /// interval).
    fn wait_for_notify(&mut self, timeout: Duration) -> Result<(), Error>;
    /// Reconnects if the connection was lost.
    fn ensure_connected(&mut self) -> Result<(), Error>;
}
