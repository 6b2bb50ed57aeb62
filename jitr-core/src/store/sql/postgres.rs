//! PostgreSQL through the `postgres` client (synchronous; plain TCP or a Unix socket, no
//! TLS: run it on loopback or a private network). Every write transaction starts by
//! locking the feed's head row; commits are announced with `NOTIFY jitr_changes`, which
//! PostgreSQL delivers at commit, and followers `LISTEN`. A lost connection is
//! re-established at the next transaction (and `LISTEN` issued again); the follower then
//! catches up by sequence number, so no change is missed.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::str::FromStr;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::{Client, NoTls, Statement};

#[cfg(feature = "bench-internals")]
use super::conn::BulkRows;
use super::conn::{Cell, Col, Conn, RowFn, Value, MAX_STREAM_COLS};
use crate::error::Error;

/// A key for `pg_advisory_xact_lock` that serializes schema migrations.
const MIGRATION_LOCK: i64 = 0x6a69_7472; // "jitr"

pub(crate) struct PgConn {
    config: postgres::Config,
    client: Option<Client>,
    listening: bool,
    /// What the URL names, without its password, for messages.
    shown: String,
    /// Statements prepared on this connection, by their SQL: a statement is parsed and
    /// planned by the server once, not at every call (which costs a round trip each).
    statements: HashMap<String, Statement>,
}

/// The most prepared statements kept per connection (the SQL is a bounded set of
/// shapes; past this the cache starts again).
const STATEMENT_CACHE: usize = 512;

impl PgConn {
    pub(crate) fn connect(url: &str) -> Result<Self, Error> {
        let config = postgres::Config::from_str(url)
            .map_err(|e| Error::InvalidRequest(format!("the PostgreSQL URL is malformed: {e}")))?;
        let shown = format!(
            "{}@{}/{}",
            config.get_user().unwrap_or("?"),
            config
                .get_hosts()
                .first()
                .map(|h| match h {
                    postgres::config::Host::Tcp(h) => h.clone(),
                    #[cfg(unix)]
                    postgres::config::Host::Unix(p) => p.display().to_string(),
                })
                .unwrap_or_default(),
            config.get_dbname().unwrap_or("?")
        );
        let mut conn = Self {
            config,
            client: None,
            listening: false,
            shown,
            statements: HashMap::new(),
        };
        conn.reconnect()?;
        Ok(conn)
    }

    /// Subscribes this connection to `jitr_changes` (now and after every reconnect).
    pub(crate) fn listen(&mut self) -> Result<(), Error> {
        self.listening = true;
        self.client()?
            .batch_execute("LISTEN jitr_changes")
            .map_err(|e| pg_error(&e))
    }

    fn reconnect(&mut self) -> Result<(), Error> {
        self.client = None;
        self.statements.clear();
        let mut config = self.config.clone();
        config.connect_timeout(Duration::from_secs(5));
        let mut client = config.connect(NoTls).map_err(|e| {
            crate::store::unavailable(format!("cannot connect to PostgreSQL {}: {e}", self.shown))
        })?;
        if self.listening {
            client
                .batch_execute("LISTEN jitr_changes")
                .map_err(|e| pg_error(&e))?;
        }
        self.client = Some(client);
        Ok(())
    }

    fn client(&mut self) -> Result<&mut Client, Error> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.reconnect()?;
        }
        self.client
            .as_mut()
            .ok_or_else(|| crate::store::unavailable("no PostgreSQL connection"))
    }

    /// The client of a transaction in progress: never reconnects (a lost connection
    /// loses the transaction, which is then an error).
    fn in_tx(&mut self) -> Result<&mut Client, Error> {
        match self.client.as_mut() {
            Some(c) if !c.is_closed() => Ok(c),
            _ => Err(crate::store::unavailable(
                "the PostgreSQL connection was lost",
            )),
        }
    }

    /// `sql` prepared on this connection (cached).
    fn prepared(&mut self, sql: &str) -> Result<Statement, Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.in_tx()?.prepare(sql).map_err(|e| pg_error(&e))?;
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    fn begin(&mut self, sql: &str) -> Result<(), Error> {
        let r = self.client()?.batch_execute(sql);
        r.map_err(|e| pg_error(&e))
    }
}

fn pg_error(e: &postgres::Error) -> Error {
    match e.as_db_error() {
        Some(db) => crate::store::corrupt(format!(
            "PostgreSQL: {} ({})",
            db.message(),
            db.code().code()
        )),
        None => crate::store::unavailable(format!("PostgreSQL: {e}")),
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => i.to_sql(ty, out),
            Value::Text(t) => t.to_sql(ty, out),
            Value::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

fn row_values(row: &postgres::Row) -> Result<Vec<Value>, Error> {
    let get = |i: usize| -> Result<Value, postgres::Error> {
        let ty = row.columns()[i].type_();
        Ok(if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?
                .map_or(Value::Null, Value::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?
                .map_or(Value::Null, |v| Value::Int(v.into()))
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)?
                .map_or(Value::Null, Value::Blob)
        } else {
            row.try_get::<_, Option<String>>(i)?
                .map_or(Value::Null, Value::Text)
        })
    };
    (0..row.len())
        .map(|i| get(i).map_err(|e| pg_error(&e)))
        .collect()
}

fn copy_error(e: std::io::Error) -> Error {
    match e
        .get_ref()
        .and_then(|e| e.downcast_ref::<postgres::Error>())
    {
        Some(pg) => pg_error(pg),
        None => crate::store::unavailable(format!("PostgreSQL COPY: {e}")),
    }
}

/// The signature that starts PostgreSQL's binary `COPY` format.
const COPY_SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// Reads PostgreSQL's binary `COPY` format (a header, then per row a field count and
/// each field as a length and its bytes, then -1) and hands each row to `f`.
fn read_binary_copy(
    r: &mut impl std::io::Read,
    cols: &[Col],
    f: &mut RowFn<'_>,
) -> Result<(), Error> {
    let bad = |what: &str| crate::store::corrupt(format!("PostgreSQL COPY: {what}"));
    let mut header = [0u8; 19];
    r.read_exact(&mut header).map_err(copy_error)?;
    if &header[..11] != COPY_SIGNATURE {
        return Err(bad("not the binary format"));
    }
    let extension = u32::from_be_bytes([header[15], header[16], header[17], header[18]]);
    std::io::copy(
        &mut std::io::Read::take(&mut *r, u64::from(extension)),
        &mut std::io::sink(),
    )
    .map_err(copy_error)?;
    let mut buf: Vec<u8> = Vec::with_capacity(256);
    let mut spans: Vec<Option<(usize, usize)>> = Vec::with_capacity(cols.len());
    if cols.len() > MAX_STREAM_COLS {
        return Err(bad("too many columns"));
    }
    loop {
        let mut n = [0u8; 2];
        r.read_exact(&mut n).map_err(copy_error)?;
        let n = i16::from_be_bytes(n);
        if n == -1 {
            return Ok(());
        }
        if usize::try_from(n).ok() != Some(cols.len()) {
            return Err(bad("a row has the wrong number of fields"));
        }
        buf.clear();
        spans.clear();
        for _ in cols {
            let mut len = [0u8; 4];
            r.read_exact(&mut len).map_err(copy_error)?;
            let len = i32::from_be_bytes(len);
            if len < 0 {
                spans.push(None);
                continue;
            }
            let start = buf.len();
            buf.resize(start + len as usize, 0);
            r.read_exact(&mut buf[start..]).map_err(copy_error)?;
            spans.push(Some((start, len as usize)));
        }
        let mut cells = [Cell::Null; MAX_STREAM_COLS];
        for ((cell, col), span) in cells.iter_mut().zip(cols).zip(&spans) {
            *cell = match (col, span) {
                (_, None) => Cell::Null,
                (Col::Int, Some((at, 8))) => {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&buf[*at..at + 8]);
                    Cell::Int(i64::from_be_bytes(b))
                }
                (Col::Int, Some(_)) => return Err(bad("an integer field is not 8 bytes")),
                (Col::Bytes, Some((at, len))) => Cell::Bytes(&buf[*at..at + len]),
            };
        }
        f(&cells[..cols.len()])?;
    }
}

impl Conn for PgConn {
    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, Error> {
        let statement = self.prepared(sql)?;
        let p = params(values);
        self.in_tx()?
            .execute(&statement, &p)
            .map_err(|e| pg_error(&e))
    }

    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Vec<Value>>, Error> {
        let statement = self.prepared(sql)?;
        let p = params(values);
        let rows = self
            .in_tx()?
            .query(&statement, &p)
            .map_err(|e| pg_error(&e))?;
        rows.iter().map(row_values).collect()
    }

    fn stream(&mut self, select: &str, cols: &[Col], f: &mut RowFn<'_>) -> Result<(), Error> {
        let copy = format!("COPY ({select}) TO STDOUT (FORMAT binary)");
        let mut reader = self
            .in_tx()?
            .copy_out(copy.as_str())
            .map_err(|e| pg_error(&e))?;
        read_binary_copy(&mut reader, cols, f)?;
        // The trailer is read; drain the stream so the connection is ready again.
        std::io::copy(&mut reader, &mut std::io::sink()).map_err(copy_error)?;
        Ok(())
    }

    fn begin_write(&mut self) -> Result<(), Error> {
        self.begin("BEGIN")?;
        // The single-writer lock, taken first: the feed's order is the commit order.
        self.in_tx()?
            .execute("SELECT seq FROM feed_head WHERE id = 1 FOR UPDATE", &[])
            .map(|_| ())
            .map_err(|e| pg_error(&e))
    }

    fn begin_snapshot(&mut self) -> Result<(), Error> {
        self.begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    }

    fn begin_migration(&mut self) -> Result<(), Error> {
        self.begin("BEGIN")?;
        self.in_tx()?
            .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map(|_| ())
            .map_err(|e| pg_error(&e))
    }

    fn commit(&mut self) -> Result<(), Error> {
        self.in_tx()?
            .batch_execute("COMMIT")
            .map_err(|e| pg_error(&e))
    }

    fn rollback(&mut self) -> Result<(), Error> {
        self.in_tx()?
            .batch_execute("ROLLBACK")
            .map_err(|e| pg_error(&e))
    }

    fn notify(&mut self, seq: i64) -> Result<(), Error> {
        self.in_tx()?
            .execute("SELECT pg_notify('jitr_changes', $1)", &[&seq.to_string()])
            .map(|_| ())
            .map_err(|e| pg_error(&e))
    }

    fn wait_for_notify(&mut self, timeout: Duration) -> Result<(), Error> {
        let client = self.client()?;
        let mut notifications = client.notifications();
        let first = notifications
            .timeout_iter(timeout)
            .next()
            .map_err(|e| pg_error(&e))?;
        if first.is_some() {
            // Drain what else already arrived: one catch-up reads them all.
            let mut pending = notifications.iter();
            while pending.next().map_err(|e| pg_error(&e))?.is_some() {}
        }
        Ok(())
    }

    fn ensure_connected(&mut self) -> Result<(), Error> {
        self.client().map(|_| ())
    }

    #[cfg(feature = "bench-internals")]
    fn bulk_insert(&mut self, rows: BulkRows<'_>) -> Result<u64, Error> {
        use std::io::Write;
        let sql = format!("COPY {} FROM STDIN", rows.target());
        let mut writer = self
            .in_tx()?
            .copy_in(sql.as_str())
            .map_err(|e| pg_error(&e))?;
        let io = |e: std::io::Error| crate::store::unavailable(format!("PostgreSQL COPY: {e}"));
        let mut line = String::new();
        let mut n = 0u64;
        for row in rows.rows {
            line.clear();
            for (i, v) in row.iter().enumerate() {
                if i > 0 {
                    line.push('\t');
                }
                copy_text(&mut line, v);
            }
            line.push('\n');
            writer.write_all(line.as_bytes()).map_err(io)?;
            n += 1;
        }
        writer.finish().map_err(|e| pg_error(&e))?;
        Ok(n)
    }
}

/// A value in `COPY`'s text format: `\N` for NULL, bytea as `\\x` and hex, text with
/// backslash, tab and newlines escaped.
#[cfg(feature = "bench-internals")]
fn copy_text(out: &mut String, v: &Value) {
    use std::fmt::Write;
    match v {
        Value::Null => out.push_str("\\N"),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Blob(b) => {
            out.push_str("\\\\x");
            out.push_str(&hex::encode(b));
        }
        Value::Text(t) => {
            for c in t.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}
