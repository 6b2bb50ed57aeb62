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

/// What [`Conn::stream`] hands each row to: the row's cells, borrowed.
pub(crate) type RowFn<'a> = dyn FnMut(&[Cell<'_>]) -> Result<(), Error> + 'a;

/// A column value borrowed from the row being streamed ([`Conn::stream`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cell<'a> {
    Null,
    Int(i64),
    /// Text (UTF-8) or bytes.
    Bytes(&'a [u8]),
}

/// The most columns [`Conn::stream`] hands over in one row.
pub(crate) const MAX_STREAM_COLS: usize = 8;

/// The type of a streamed column: what [`Conn::stream`] decodes it as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Col {
    /// `BIGINT`.
    Int,
    /// `TEXT`, `BLOB` or `BYTEA`.
    Bytes,
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
    /// Runs `select` (no parameters; at most [`MAX_STREAM_COLS`] columns of the types
    /// `cols` names) and hands each row to `f` as it arrives, its values borrowed: how a
    /// node loads millions of rows without an allocation per row (PostgreSQL:
    /// `COPY (select) TO STDOUT` in binary).
    fn stream(&mut self, select: &str, cols: &[Col], f: &mut RowFn<'_>) -> Result<(), Error>;
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
    /// Benchmarks only: inserts many rows into `table` inside the transaction in
    /// progress (SQLite: one prepared statement; PostgreSQL: `COPY … FROM STDIN`).
    #[cfg(feature = "bench-internals")]
    fn bulk_insert(&mut self, rows: BulkRows<'_>) -> Result<u64, Error>;
}

/// Benchmarks only: rows for [`Conn::bulk_insert`], all of one table.
#[cfg(feature = "bench-internals")]
pub(crate) struct BulkRows<'a> {
    /// The table.
    pub(crate) table: &'a str,
    /// The columns each row gives values of, in order.
    pub(crate) columns: &'a [&'a str],
    /// The rows.
    pub(crate) rows: &'a mut dyn Iterator<Item = Vec<Value>>,
}

#[cfg(feature = "bench-internals")]
impl BulkRows<'_> {
    /// `table (column, ...)`: what `INSERT INTO` and `COPY` name.
    pub(crate) fn target(&self) -> String {
        format!("{} ({})", self.table, self.columns.join(", "))
    }
}
