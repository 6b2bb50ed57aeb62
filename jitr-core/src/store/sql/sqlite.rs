//! SQLite through rusqlite (SQLite bundled): one file, WAL, `synchronous=FULL`, so a
//! commit is on disk when the call returns and a killed process loses nothing it was
//! told was committed. Several processes share the file; writers wait for each other
//! (`busy_timeout`), readers never block.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};

#[cfg(feature = "bench-internals")]
use super::conn::BulkRows;
use super::conn::{Cell, Col, Conn, RowFn, Value, MAX_STREAM_COLS};
use crate::error::Error;

/// How long a writer waits for another process's write transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a follower looks for other processes' commits.
const POLL: Duration = Duration::from_millis(20);

pub(crate) struct SqliteConn {
    conn: Connection,
    path: String,
}

impl SqliteConn {
    pub(crate) fn open(path: &Path, busy: Option<Duration>) -> Result<Self, Error> {
        let shown = path.display().to_string();
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| open_error(&shown, &e))?;
        conn.busy_timeout(busy.unwrap_or(BUSY_TIMEOUT))
            .map_err(|e| open_error(&shown, &e))?;
        // Reading the journal mode is the first real read of the file: a file that is
        // not a SQLite database is refused here, before anything is written.
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| open_error(&shown, &e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::InvalidRequest(format!(
                "the SQLite database {shown} cannot use write-ahead logging (journal mode {mode})"
            )));
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;")
            .map_err(|e| open_error(&shown, &e))?;
        Ok(Self { conn, path: shown })
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        use rusqlite::ErrorCode as C;
        match e.sqlite_error_code() {
            Some(
                C::DatabaseBusy
                | C::DatabaseLocked
                | C::CannotOpen
                | C::DiskFull
                | C::SystemIoFailure,
            ) => crate::store::unavailable(format!("SQLite {}: {e}", self.path)),
            Some(C::NotADatabase | C::DatabaseCorrupt) => {
                crate::store::corrupt(format!("the SQLite database {} is damaged: {e}", self.path))
            }
            _ => crate::store::corrupt(format!("SQLite {}: {e}", self.path)),
        }
    }
}

fn open_error(path: &str, e: &rusqlite::Error) -> Error {
    use rusqlite::ErrorCode as C;
    match e.sqlite_error_code() {
        Some(C::NotADatabase | C::DatabaseCorrupt) => {
            Error::InvalidRequest(format!("{path} is not a usable SQLite database: {e}"))
        }
        _ => crate::store::unavailable(format!("cannot open the SQLite database {path}: {e}")),
    }
}

/// `$1` placeholders as SQLite's `?1`.
fn sql_of(sql: &str) -> String {
    sql.replace('$', "?")
}

struct Param<'a>(&'a Value);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

fn params(values: &[Value]) -> Vec<Param<'_>> {
    values.iter().map(Param).collect()
}

fn row_values(row: &rusqlite::Row<'_>, n: usize) -> rusqlite::Result<Vec<Value>> {
    (0..n)
        .map(|i| {
            Ok(match row.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::Int(i),
                ValueRef::Real(f) => Value::Int(f as i64),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            })
        })
        .collect()
}

impl Conn for SqliteConn {
    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(&sql_of(sql))
            .map_err(|e| self.err(e))?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params(values)))
            .map_err(|e| self.err(e))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Vec<Value>>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(&sql_of(sql))
            .map_err(|e| self.err(e))?;
        let n = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params(values)))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        loop {
            match rows.next() {
                Ok(Some(row)) => out.push(row_values(row, n).map_err(|e| self.err(e))?),
                Ok(None) => return Ok(out),
                Err(e) => return Err(self.err(e)),
            }
        }
    }

    fn stream(&mut self, select: &str, cols: &[Col], f: &mut RowFn<'_>) -> Result<(), Error> {
        let mut stmt = self.conn.prepare(select).map_err(|e| self.err(e))?;
        if stmt.column_count() != cols.len() {
            return Err(crate::store::corrupt(
                "a streamed query has the wrong columns",
            ));
        }
        if cols.len() > MAX_STREAM_COLS {
            return Err(crate::store::corrupt(
                "a streamed query has too many columns",
            ));
        }
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        loop {
            let row = match rows.next() {
                Ok(Some(row)) => row,
                Ok(None) => return Ok(()),
                Err(e) => return Err(self.err(e)),
            };
            let mut cells = [Cell::Null; MAX_STREAM_COLS];
            for (i, cell) in cells.iter_mut().enumerate().take(cols.len()) {
                *cell = match row.get_ref(i).map_err(|e| self.err(e))? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(i) => Cell::Int(i),
                    ValueRef::Real(f) => Cell::Int(f as i64),
                    ValueRef::Text(b) | ValueRef::Blob(b) => Cell::Bytes(b),
                };
            }
            f(&cells[..cols.len()])?;
        }
    }

    fn begin_write(&mut self) -> Result<(), Error> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))
    }

    fn begin_snapshot(&mut self) -> Result<(), Error> {
        // A deferred transaction reads one WAL snapshot from its first read on.
        self.conn
            .execute_batch("BEGIN DEFERRED")
            .map_err(|e| self.err(e))
    }

    fn begin_migration(&mut self) -> Result<(), Error> {
        self.begin_write()
    }

    fn commit(&mut self) -> Result<(), Error> {
        self.conn.execute_batch("COMMIT").map_err(|e| self.err(e))
    }

    fn rollback(&mut self) -> Result<(), Error> {
        self.conn.execute_batch("ROLLBACK").map_err(|e| self.err(e))
    }

    fn notify(&mut self, _seq: i64) -> Result<(), Error> {
        Ok(())
    }

    fn wait_for_notify(&mut self, timeout: Duration) -> Result<(), Error> {
        std::thread::sleep(POLL.min(timeout));
        Ok(())
    }

    fn ensure_connected(&mut self) -> Result<(), Error> {
        Ok(())
    }

    #[cfg(feature = "bench-internals")]
    fn bulk_insert(&mut self, rows: BulkRows<'_>) -> Result<u64, Error> {
        let placeholders: Vec<String> = (1..=rows.columns.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO {} VALUES ({})",
            rows.target(),
            placeholders.join(", ")
        );
        // A large page cache while loading: the random-ID primary key touches pages all
        // over the index. Back to SQLite's default afterwards.
        self.conn
            .execute_batch("PRAGMA cache_size=-262144")
            .map_err(|e| self.err(e))?;
        let result = (|| {
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let mut n = 0u64;
            for row in rows.rows {
                stmt.execute(rusqlite::params_from_iter(params(&row)))?;
                n += 1;
            }
            Ok(n)
        })();
        let reset = self.conn.execute_batch("PRAGMA cache_size=-2000");
        let n = result.map_err(|e| self.err(e))?;
        reset.map_err(|e| self.err(e))?;
        Ok(n)
    }
}
