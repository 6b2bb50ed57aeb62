//! PostgreSQL through the `postgres` client (synchronous; plain TCP or a Unix socket, no
//! TLS: run it on loopback or a private network). Every write transaction starts by
//! locking the feed's head row; commits are announced with `NOTIFY jitr_changes`, which
//! PostgreSQL delivers at commit, and followers `LISTEN`. A lost connection is
//! re-established at the next transaction (and `LISTEN` issued again); the follower then
//! catches up by sequence number, so no change is missed.

use std::error::Error as StdError;
use std::str::FromStr;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::{Client, NoTls};

use super::conn::{Conn, Value};
use crate::error::Error;

/// A key for `pg_advisory_xact_lock` that serializes schema migrations.
const MIGRATION_LOCK: i64 = 0x6a69_7472; // "jitr"

pub(crate) struct PgConn {
    config: postgres::Config,
    client: Option<Client>,
    listening: bool,
    /// What the URL names, without its password, for messages.
    shown: String,
}

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

impl Conn for PgConn {
    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, Error> {
        let p = params(values);
        self.in_tx()?.execute(sql, &p).map_err(|e| pg_error(&e))
    }

    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Vec<Value>>, Error> {
        let p = params(values);
        let rows = self.in_tx()?.query(sql, &p).map_err(|e| pg_error(&e))?;
        rows.iter().map(row_values).collect()
    }

    fn for_each(
        &mut self,
        sql: &str,
        values: &[Value],
        f: &mut dyn FnMut(&[Value]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut rows = self
            .in_tx()?
            .query_raw(sql, values.iter())
            .map_err(|e| pg_error(&e))?;
        while let Some(row) = rows.next().map_err(|e| pg_error(&e))? {
            f(&row_values(&row)?)?;
        }
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
}
