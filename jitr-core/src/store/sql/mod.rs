//! The SQL backends: one implementation of [`Backend`] over a small connection trait,
//! with a SQLite dialect (rusqlite, SQLite bundled) and a PostgreSQL dialect (the
//! `postgres` client). The SQL is the same but for types and placeholders.
//!
//! Writers are serialized: SQLite takes its write lock at `BEGIN IMMEDIATE`; PostgreSQL
//! locks the feed's head row (`SELECT … FOR UPDATE`) as the first statement of every
//! write transaction. So the feed's sequence numbers are the commit order, every read a
//! write transaction makes sees every earlier commit, and the checks the registry makes
//! in the transaction hold across processes. The unique keys (a certificate's ID per
//! account, a `DEFAULT` CA per partition and region) and the compare-and-set on
//! `customer_version` in every update are checked by the database too.

mod conn;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::sync::Mutex;
use std::time::Duration;

use conn::{Conn, Dialect, Value};

use super::resources::{self, Kind, LinkEnd, NamePage};
#[cfg(feature = "bench-internals")]
use super::BenchRows;
use super::{
    corrupt, Backend, CaRow, CertRow, CertSummaryRow, Change, Committed, HotRow, Import, Loader,
    PageQuery, Reader, WriteFn,
};
use crate::error::Error;
use crate::id::CertificateId;
use crate::registry::TransferData;
use crate::scope::Scope;
use crate::status::{CertificateMode, CertificateStatus};
use crate::time::{Timestamp, Validity};

/// The schema version this code writes. A database at a higher version is refused.
pub(crate) const SCHEMA_VERSION: i64 = 2;

/// How many changes the feed keeps; a node further behind reloads.
const FEED_KEEP: i64 = 100_000;

/// The SQL store.
pub(crate) struct SqlStore {
    /// The connection for writes and reads.
    main: Mutex<Box<dyn Conn>>,
    /// The connection the follower waits on (PostgreSQL: LISTEN; SQLite: polls).
    watch: Mutex<Box<dyn Conn>>,
    dialect: Dialect,
}

impl SqlStore {
    #[cfg(feature = "sqlite")]
    pub(crate) fn open_sqlite(
        path: &std::path::Path,
        busy: Option<Duration>,
    ) -> Result<Self, Error> {
        let main = sqlite::SqliteConn::open(path, busy)?;
        let mut store = Self {
            main: Mutex::new(Box::new(main)),
            watch: Mutex::new(Box::new(sqlite::SqliteConn::open(path, busy)?)),
            dialect: Dialect::Sqlite,
        };
        store.migrate()?;
        Ok(store)
    }

    #[cfg(feature = "postgres")]
    pub(crate) fn open_postgres(url: &str) -> Result<Self, Error> {
        let main = postgres::PgConn::connect(url)?;
        let mut watch = postgres::PgConn::connect(url)?;
        watch.listen()?;
        let mut store = Self {
            main: Mutex::new(Box::new(main)),
            watch: Mutex::new(Box::new(watch)),
            dialect: Dialect::Postgres,
        };
        store.migrate()?;
        Ok(store)
    }

    fn main(&self) -> std::sync::MutexGuard<'_, Box<dyn Conn>> {
        crate::registry::lock(&self.main)
    }

    /// Creates the schema, or migrates it, in one transaction; refuses a database whose
    /// schema is newer than this code.
    fn migrate(&mut self) -> Result<(), Error> {
        self.migrate_to(SCHEMA_VERSION)
    }

    /// Migrates the schema up to `target` (the tests stop at older versions).
    fn migrate_to(&mut self, target: i64) -> Result<(), Error> {
        let dialect = self.dialect;
        let conn = self
            .main
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        conn.begin_migration()?;
        let result = (|| {
            conn.execute(
                "CREATE TABLE IF NOT EXISTS jitr_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                &[],
            )?;
            let rows = conn.query(
                "SELECT value FROM jitr_meta WHERE key = 'schema_version'",
                &[],
            )?;
            let current = match rows.first().and_then(|r| r.first()) {
                None => 0,
                Some(v) => v
                    .text()
                    .and_then(|t| t.parse::<i64>().ok())
                    .ok_or_else(|| corrupt("schema_version is not a number"))?,
            };
            if current > SCHEMA_VERSION {
                return Err(Error::InvalidRequest(format!(
                    "the store's schema is version {current}, newer than this jitr (version {SCHEMA_VERSION}): upgrade jitr"
                )));
            }
            for (version, statements) in migrations(dialect) {
                if version <= current || version > target {
                    continue;
                }
                for sql in statements {
                    conn.execute(&sql, &[])?;
                }
            }
            if current < target {
                conn.execute("DELETE FROM jitr_meta WHERE key = 'schema_version'", &[])?;
                conn.execute(
                    "INSERT INTO jitr_meta (key, value) VALUES ('schema_version', $1)",
                    &[Value::Text(target.to_string())],
                )?;
            }
            Ok(())
        })();
        finish(&mut **conn, result)
    }
}

/// The schema, version by version. Each step runs once, in order, in the transaction
/// that records the new version.
fn migrations(d: Dialect) -> Vec<(i64, Vec<String>)> {
    let blob = d.blob();
    let int = "BIGINT";
    vec![(
        1,
        vec![
            format!("CREATE TABLE feed_head (id {int} PRIMARY KEY, seq {int} NOT NULL, pruned {int} NOT NULL)"),
            "INSERT INTO feed_head (id, seq, pruned) VALUES (1, 0, 0)".into(),
            format!("CREATE TABLE changes (seq {int} PRIMARY KEY, scope TEXT NOT NULL, body TEXT NOT NULL)"),
            "CREATE TABLE accounts (scope TEXT PRIMARY KEY, registration_code TEXT)".into(),
            format!(
                "CREATE TABLE ca_certificates (scope TEXT NOT NULL, id {blob} NOT NULL, subject {blob} NOT NULL, \
                 creation_ms {int} NOT NULL, body TEXT NOT NULL, PRIMARY KEY (scope, id))"
            ),
            "CREATE INDEX ca_by_creation ON ca_certificates (scope, creation_ms, id)".into(),
            "CREATE INDEX ca_by_subject ON ca_certificates (scope, subject)".into(),
            format!(
                "CREATE TABLE default_ca_claims (partition TEXT NOT NULL, region TEXT NOT NULL, id {blob} NOT NULL, \
                 account TEXT NOT NULL, PRIMARY KEY (partition, region, id))"
            ),
            format!(
                "CREATE TABLE certificates (scope TEXT NOT NULL, id {blob} NOT NULL, der {blob} NOT NULL, \
                 ca_id {blob}, status TEXT NOT NULL, mode TEXT NOT NULL, not_before_ms {int} NOT NULL, \
                 not_after_ms {int} NOT NULL, creation_ms {int} NOT NULL, last_modified_ms {int} NOT NULL, \
                 customer_version {int} NOT NULL, generation_id TEXT NOT NULL, extra TEXT, \
                 PRIMARY KEY (scope, id))"
            ),
            "CREATE INDEX cert_by_creation ON certificates (scope, creation_ms, id)".into(),
            "CREATE INDEX cert_by_ca ON certificates (scope, ca_id, creation_ms, id)".into(),
            "CREATE TABLE policies (scope TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (scope, name))".into(),
            "CREATE TABLE attachments (scope TEXT NOT NULL, policy_name TEXT NOT NULL, target TEXT NOT NULL, \
             PRIMARY KEY (scope, policy_name, target))"
                .into(),
            "CREATE INDEX attachments_by_target ON attachments (scope, target, policy_name)".into(),
        ],
    ), (
        // Version 2: every resource other than certificates in one table, every relation
        // in another (policies and their attachments move there), so new kinds of
        // resources (things, thing types, templates, tags) need no new tables.
        2,
        vec![
            "CREATE TABLE resources (scope TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, \
             body TEXT NOT NULL, PRIMARY KEY (scope, kind, name))"
                .into(),
            "CREATE TABLE links (scope TEXT NOT NULL, kind TEXT NOT NULL, src TEXT NOT NULL, \
             dst TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (scope, kind, src, dst))"
                .into(),
            "CREATE INDEX links_by_dst ON links (scope, kind, dst, src)".into(),
            "INSERT INTO resources (scope, kind, name, body) SELECT scope, 'policy', name, body FROM policies".into(),
            "INSERT INTO links (scope, kind, src, dst, value) SELECT scope, 'policy-target', policy_name, target, '' FROM attachments".into(),
            "DROP TABLE attachments".into(),
            "DROP TABLE policies".into(),
        ],
    )]
}

/// Commits on success, rolls back on error (keeping the first error).
fn finish<T>(conn: &mut dyn Conn, result: Result<T, Error>) -> Result<T, Error> {
    match result {
        Ok(v) => {
            conn.commit()?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.rollback();
            Err(e)
        }
    }
}

fn scope_key(scope: &Scope) -> Value {
    Value::Text(format!(
        "{}/{}/{}",
        scope.partition(),
        scope.region(),
        scope.account()
    ))
}

/// A string as an SQL literal (single quotes doubled: standard SQL, and PostgreSQL's
/// default `standard_conforming_strings`), for a statement that takes no parameters.
fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn id_value(id: &CertificateId) -> Value {
    Value::Blob(id.as_bytes().to_vec())
}

fn id_of(v: &Value) -> Result<CertificateId, Error> {
    let b = v.blob().ok_or_else(|| corrupt("an ID is not bytes"))?;
    let a: [u8; 32] = b.try_into().map_err(|_| corrupt("an ID is not 32 bytes"))?;
    Ok(CertificateId::from_bytes(a))
}

fn json<T: serde::Serialize>(v: &T) -> Result<Value, Error> {
    serde_json::to_string(v)
        .map(Value::Text)
        .map_err(|e| corrupt(format!("cannot encode a row: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, Error> {
    let t = v
        .text()
        .ok_or_else(|| corrupt("a JSON column is not text"))?;
    serde_json::from_str(t).map_err(|e| corrupt(format!("a JSON column: {e}")))
}

fn int(v: &Value) -> Result<i64, Error> {
    v.int()
        .ok_or_else(|| corrupt("an integer column is not an integer"))
}

fn text(v: &Value) -> Result<&str, Error> {
    v.text().ok_or_else(|| corrupt("a text column is not text"))
}

fn parse<T: core::str::FromStr>(v: &Value) -> Result<T, Error> {
    text(v)?
        .parse()
        .map_err(|_| corrupt("a column holds a value jitr does not know"))
}

/// The certificate columns, in this order.
const CERT_COLUMNS: &str =
    "id, der, ca_id, status, mode, not_before_ms, not_after_ms, creation_ms, \
     last_modified_ms, customer_version, generation_id, extra";

#[serde_with::skip_serializing_none]
#[derive(serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Extra {
    previous_owned_by: Option<String>,
    transfer_data: Option<TransferData>,
}

fn cert_row(r: &[Value]) -> Result<CertRow, Error> {
    let [id, der, ca, status, mode, nb, na, created, modified, version, generation, extra] = r
    else {
        return Err(corrupt("a certificate row has the wrong columns"));
    };
    let der = der.blob().ok_or_else(|| corrupt("der is not bytes"))?;
    let extra: Extra = match extra {
        Value::Null => Extra::default(),
        v => from_json(v)?,
    };
    Ok(CertRow {
        certificate_id: id_of(id)?,
        certificate_pem: crate::cert::der_to_pem(der),
        ca_certificate_id: match ca {
            Value::Null => None,
            v => Some(id_of(v)?),
        },
        status: parse(status)?,
        certificate_mode: parse(mode)?,
        validity: Validity {
            not_before: Timestamp::from_unix_millis(int(nb)?),
            not_after: Timestamp::from_unix_millis(int(na)?),
        },
        previous_owned_by: extra.previous_owned_by,
        transfer_data: extra.transfer_data,
        meta: crate::store::Meta {
            creation_date: Timestamp::from_unix_millis(int(created)?),
            last_modified_date: Timestamp::from_unix_millis(int(modified)?),
            customer_version: u64::try_from(int(version)?)
                .map_err(|_| corrupt("a negative customer_version"))?,
            generation_id: text(generation)?.to_string(),
        },
    })
}

/// Reads through one connection (inside a write transaction or not).
struct SqlReader<'a>(&'a mut dyn Conn);

impl SqlReader<'_> {
    /// `WHERE`/`ORDER BY` for a page: (creation, id) after the marker, in the asked
    /// direction; `$n` numbering starts at `first`.
    fn page_clause(page: &PageQuery, first: usize, params: &mut Vec<Value>) -> String {
        let (cmp, order) = if page.ascending {
            (">", "ASC")
        } else {
            ("<", "DESC")
        };
        let mut sql = String::new();
        if let Some((t, id)) = page.after {
            // A row-value comparison: both databases seek the (…, creation, id) index to
            // the marker with it. The equivalent `creation > a OR (creation = a AND id >
            // b)` makes PostgreSQL read the index from the start of the account up to
            // the marker (half a second at a million certificates).
            sql.push_str(&format!(
                " AND (creation_ms, id) {cmp} (${a}, ${b})",
                a = first,
                b = first + 1
            ));
            params.push(Value::Int(t.unix_millis()));
            params.push(id_value(&id));
        }
        sql.push_str(&format!(
            " ORDER BY creation_ms {order}, id {order} LIMIT {}",
            page.limit
        ));
        sql
    }

    /// `columns` of a page of the account's device certificates (of one CA, if `ca`).
    fn certificates_page(
        &mut self,
        columns: &str,
        scope: &Scope,
        ca: Option<&CertificateId>,
        page: &PageQuery,
    ) -> Result<Vec<Vec<Value>>, Error> {
        let mut params = vec![scope_key(scope)];
        let mut sql = format!("SELECT {columns} FROM certificates WHERE scope = $1");
        if let Some(ca) = ca {
            sql.push_str(" AND ca_id = $2");
            params.push(id_value(ca));
        }
        let first = params.len() + 1;
        sql.push_str(&Self::page_clause(page, first, &mut params));
        self.0.query(&sql, &params)
    }
}

impl Reader for SqlReader<'_> {
    fn registration_code(&mut self, scope: &Scope) -> Result<Option<String>, Error> {
        let rows = self.0.query(
            "SELECT registration_code FROM accounts WHERE scope = $1",
            &[scope_key(scope)],
        )?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .and_then(Value::text)
            .map(str::to_string))
    }

    fn ca(&mut self, scope: &Scope, id: &CertificateId) -> Result<Option<CaRow>, Error> {
        let rows = self.0.query(
            "SELECT body FROM ca_certificates WHERE scope = $1 AND id = $2",
            &[scope_key(scope), id_value(id)],
        )?;
        rows.first().map(|r| from_json(&r[0])).transpose()
    }

    fn cas_with_subject(&mut self, scope: &Scope, subject: &[u8]) -> Result<usize, Error> {
        let rows = self.0.query(
            "SELECT COUNT(*) FROM ca_certificates WHERE scope = $1 AND subject = $2",
            &[scope_key(scope), Value::Blob(subject.to_vec())],
        )?;
        let n = rows.first().and_then(|r| r.first()).map_or(Ok(0), int)?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    fn default_ca_owner(
        &mut self,
        scope: &Scope,
        id: &CertificateId,
    ) -> Result<Option<String>, Error> {
        let rows = self.0.query(
            "SELECT account FROM default_ca_claims WHERE partition = $1 AND region = $2 AND id = $3",
            &[
                Value::Text(scope.partition().into()),
                Value::Text(scope.region().into()),
                id_value(id),
            ],
        )?;
        rows.first()
            .map(|r| text(&r[0]).map(str::to_string))
            .transpose()
    }

    fn certificate(&mut self, scope: &Scope, id: &CertificateId) -> Result<Option<CertRow>, Error> {
        let rows = self.0.query(
            &format!("SELECT {CERT_COLUMNS} FROM certificates WHERE scope = $1 AND id = $2"),
            &[scope_key(scope), id_value(id)],
        )?;
        rows.first().map(|r| cert_row(r)).transpose()
    }

    fn resource(&mut self, scope: &Scope, kind: Kind, name: &str) -> Result<Option<String>, Error> {
        let rows = self.0.query(
            "SELECT body FROM resources WHERE scope = $1 AND kind = $2 AND name = $3",
            &[
                scope_key(scope),
                Value::Text(kind.as_str().into()),
                Value::Text(name.into()),
            ],
        )?;
        rows.first()
            .map(|r| text(&r[0]).map(str::to_string))
            .transpose()
    }

    fn resources(
        &mut self,
        scope: &Scope,
        kind: Kind,
        page: &NamePage,
    ) -> Result<Vec<(String, String)>, Error> {
        let mut params = vec![scope_key(scope), Value::Text(kind.as_str().into())];
        let sql = format!(
            "SELECT name, body FROM resources WHERE scope = $1 AND kind = $2{}",
            name_clause("name", page, &mut params)
        );
        pairs(self.0.query(&sql, &params)?)
    }

    fn links(
        &mut self,
        scope: &Scope,
        end: LinkEnd<'_>,
        page: &NamePage,
    ) -> Result<Vec<(String, String)>, Error> {
        // This end's column and the other's.
        let (kind, name, this, other) = match end {
            LinkEnd::From(kind, from) => (kind, from, "src", "dst"),
            LinkEnd::To(kind, to) => (kind, to, "dst", "src"),
        };
        let mut params = vec![
            scope_key(scope),
            Value::Text(kind.as_str().into()),
            Value::Text(name.into()),
        ];
        let sql = format!(
            "SELECT {other}, value FROM links WHERE scope = $1 AND kind = $2 AND {this} = $3{}",
            name_clause(other, page, &mut params)
        );
        pairs(self.0.query(&sql, &params)?)
    }

    fn list_certificates(
        &mut self,
        scope: &Scope,
        ca: Option<&CertificateId>,
        page: &PageQuery,
    ) -> Result<Vec<CertRow>, Error> {
        let rows = self.certificates_page(CERT_COLUMNS, scope, ca, page)?;
        rows.iter().map(|r| cert_row(r)).collect()
    }

    fn list_certificate_summaries(
        &mut self,
        scope: &Scope,
        ca: Option<&CertificateId>,
        page: &PageQuery,
    ) -> Result<Vec<CertSummaryRow>, Error> {
        let rows = self.certificates_page("id, status, mode, creation_ms", scope, ca, page)?;
        rows.iter()
            .map(|r| {
                let [id, status, mode, created] = &r[..] else {
                    return Err(corrupt("a certificate summary has the wrong columns"));
                };
                Ok(CertSummaryRow {
                    certificate_id: id_of(id)?,
                    status: parse(status)?,
                    certificate_mode: parse(mode)?,
                    creation_date: Timestamp::from_unix_millis(int(created)?),
                })
            })
            .collect()
    }

    fn list_cas(&mut self, scope: &Scope, page: &PageQuery) -> Result<Vec<CaRow>, Error> {
        let mut params = vec![scope_key(scope)];
        let mut sql = "SELECT body FROM ca_certificates WHERE scope = $1".to_string();
        sql.push_str(&Self::page_clause(page, 2, &mut params));
        let rows = self.0.query(&sql, &params)?;
        rows.iter().map(|r| from_json(&r[0])).collect()
    }
}

/// `AND col > $n ORDER BY col LIMIT n` for a page of names.
fn name_clause(col: &str, page: &NamePage, params: &mut Vec<Value>) -> String {
    let (cmp, order) = if page.ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    let mut sql = String::new();
    if let Some(after) = &page.after {
        params.push(Value::Text(after.clone()));
        sql.push_str(&format!(" AND {col} {cmp} ${}", params.len()));
    }
    sql.push_str(&format!(" ORDER BY {col} {order}"));
    if page.limit != usize::MAX {
        sql.push_str(&format!(" LIMIT {}", page.limit));
    }
    sql
}

fn pairs(rows: Vec<Vec<Value>>) -> Result<Vec<(String, String)>, Error> {
    rows.iter()
        .map(|r| Ok((text(&r[0])?.to_string(), text(&r[1])?.to_string())))
        .collect()
}

/// Writes a resource change's rows ([`resources::ops`]).
fn apply_op(conn: &mut dyn Conn, s: &Value, op: resources::Op) -> Result<(), Error> {
    use resources::Op;
    match op {
        Op::Put { kind, name, body } => {
            let k = Value::Text(kind.as_str().into());
            conn.execute(
                "DELETE FROM resources WHERE scope = $1 AND kind = $2 AND name = $3",
                &[s.clone(), k.clone(), Value::Text(name.clone())],
            )?;
            conn.execute(
                "INSERT INTO resources (scope, kind, name, body) VALUES ($1, $2, $3, $4)",
                &[s.clone(), k, Value::Text(name), Value::Text(body)],
            )?;
        }
        Op::Delete { kind, name } => {
            conn.execute(
                "DELETE FROM resources WHERE scope = $1 AND kind = $2 AND name = $3",
                &[
                    s.clone(),
                    Value::Text(kind.as_str().into()),
                    Value::Text(name),
                ],
            )?;
        }
        Op::Link {
            kind,
            from,
            to,
            value,
        } => {
            let k = Value::Text(kind.as_str().into());
            conn.execute(
                "DELETE FROM links WHERE scope = $1 AND kind = $2 AND src = $3 AND dst = $4",
                &[
                    s.clone(),
                    k.clone(),
                    Value::Text(from.clone()),
                    Value::Text(to.clone()),
                ],
            )?;
            conn.execute(
                "INSERT INTO links (scope, kind, src, dst, value) VALUES ($1, $2, $3, $4, $5)",
                &[
                    s.clone(),
                    k,
                    Value::Text(from),
                    Value::Text(to),
                    Value::Text(value),
                ],
            )?;
        }
        Op::Unlink { kind, from, to } => {
            conn.execute(
                "DELETE FROM links WHERE scope = $1 AND kind = $2 AND src = $3 AND dst = $4",
                &[
                    s.clone(),
                    Value::Text(kind.as_str().into()),
                    Value::Text(from),
                    Value::Text(to),
                ],
            )?;
        }
    }
    Ok(())
}

/// Writes one change's rows. Updates compare-and-set on the version they replace.
fn apply(conn: &mut dyn Conn, scope: &Scope, change: &Change) -> Result<(), Error> {
    let s = scope_key(scope);
    let conflict = |what: &str| {
        Error::VersionConflict(format!(
            "{what} changed while this change was being made; read it again"
        ))
    };
    match change {
        Change::RegistrationCodeSet { code } => {
            conn.execute(
                "DELETE FROM accounts WHERE scope = $1",
                std::slice::from_ref(&s),
            )?;
            conn.execute(
                "INSERT INTO accounts (scope, registration_code) VALUES ($1, $2)",
                &[s, Value::Text(code.clone())],
            )?;
        }
        Change::RegistrationCodeDeleted => {
            conn.execute("DELETE FROM accounts WHERE scope = $1", &[s])?;
        }
        Change::CaCertificateRegistered(row) => {
            let cert = row.certificate()?;
            conn.execute(
                "INSERT INTO ca_certificates (scope, id, subject, creation_ms, body) VALUES ($1, $2, $3, $4, $5)",
                &[
                    s,
                    id_value(&row.certificate_id),
                    Value::Blob(cert.subject().der().to_vec()),
                    Value::Int(row.meta.creation_date.unix_millis()),
                    json(row)?,
                ],
            )?;
            if row.certificate_mode == CertificateMode::Default {
                let inserted = conn.execute(
                    "INSERT INTO default_ca_claims (partition, region, id, account) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (partition, region, id) DO NOTHING",
                    &[
                        Value::Text(scope.partition().into()),
                        Value::Text(scope.region().into()),
                        id_value(&row.certificate_id),
                        Value::Text(scope.account().into()),
                    ],
                )?;
                let _ = inserted; // an existing claim of this account stays as it is
            }
        }
        Change::CaCertificateUpdated {
            certificate_id,
            meta,
            ..
        } => {
            let rows = conn.query(
                "SELECT body FROM ca_certificates WHERE scope = $1 AND id = $2",
                &[s.clone(), id_value(certificate_id)],
            )?;
            let mut row: CaRow = rows
                .first()
                .map(|r| from_json(&r[0]))
                .transpose()?
                .ok_or_else(|| conflict("the CA certificate"))?;
            if row.meta.customer_version + 1 != meta.customer_version {
                return Err(conflict("the CA certificate"));
            }
            row.apply_update(change);
            conn.execute(
                "UPDATE ca_certificates SET body = $3 WHERE scope = $1 AND id = $2",
                &[s, id_value(certificate_id), json(&row)?],
            )?;
        }
        Change::CaCertificateDeleted { certificate_id } => {
            conn.execute(
                "DELETE FROM ca_certificates WHERE scope = $1 AND id = $2",
                &[s, id_value(certificate_id)],
            )?;
            conn.execute(
                "DELETE FROM default_ca_claims WHERE partition = $1 AND region = $2 AND id = $3 AND account = $4",
                &[
                    Value::Text(scope.partition().into()),
                    Value::Text(scope.region().into()),
                    id_value(certificate_id),
                    Value::Text(scope.account().into()),
                ],
            )?;
        }
        Change::CertificateRegistered(row) => insert_certificate(conn, scope, row)?,
        Change::CertificateStatusChanged {
            certificate_id,
            status,
            meta,
            ..
        } => {
            let n = conn.execute(
                "UPDATE certificates SET status = $3, last_modified_ms = $4, customer_version = $5, \
                 generation_id = $6 WHERE scope = $1 AND id = $2 AND customer_version = $7",
                &[
                    s,
                    id_value(certificate_id),
                    Value::Text(status.as_str().into()),
                    Value::Int(meta.last_modified_date.unix_millis()),
                    Value::Int(version(meta.customer_version)?),
                    Value::Text(meta.generation_id.clone()),
                    Value::Int(version(meta.customer_version)? - 1),
                ],
            )?;
            if n != 1 {
                return Err(conflict("the certificate"));
            }
        }
        Change::CertificateDeleted { certificate_id } => {
            conn.execute(
                "DELETE FROM certificates WHERE scope = $1 AND id = $2",
                &[s, id_value(certificate_id)],
            )?;
        }
        other => {
            for op in resources::ops(other) {
                apply_op(conn, &s, op)?;
            }
        }
    }
    Ok(())
}

fn version(v: u64) -> Result<i64, Error> {
    i64::try_from(v).map_err(|_| Error::InvalidRequest("customerVersion is too large".into()))
}

fn insert_certificate(conn: &mut dyn Conn, scope: &Scope, row: &CertRow) -> Result<(), Error> {
    let der = crate::cert::pem_blocks_der(&row.certificate_pem)?
        .into_iter()
        .next()
        .ok_or_else(|| corrupt("a certificate row without a certificate"))?;
    let extra = Extra {
        previous_owned_by: row.previous_owned_by.clone(),
        transfer_data: row.transfer_data.clone(),
    };
    let extra = if extra.previous_owned_by.is_none() && extra.transfer_data.is_none() {
        Value::Null
    } else {
        json(&extra)?
    };
    conn.execute(
        &format!(
            "INSERT INTO certificates (scope, {CERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ),
        &[
            scope_key(scope),
            id_value(&row.certificate_id),
            Value::Blob(der),
            row.ca_certificate_id
                .as_ref()
                .map_or(Value::Null, id_value),
            Value::Text(row.status.as_str().into()),
            Value::Text(row.certificate_mode.as_str().into()),
            Value::Int(row.validity.not_before.unix_millis()),
            Value::Int(row.validity.not_after.unix_millis()),
            Value::Int(row.meta.creation_date.unix_millis()),
            Value::Int(row.meta.last_modified_date.unix_millis()),
            Value::Int(version(row.meta.customer_version)?),
            Value::Text(row.meta.generation_id.clone()),
            extra,
        ],
    )?;
    Ok(())
}

/// Appends changes to the feed after the head (locked by `begin_write`).
fn append(
    conn: &mut dyn Conn,
    scope: &Scope,
    changes: Vec<Change>,
) -> Result<Vec<Committed>, Error> {
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let rows = conn.query("SELECT seq FROM feed_head WHERE id = 1", &[])?;
    let head = rows
        .first()
        .and_then(|r| r.first())
        .map_or(Err(corrupt("the feed has no head")), int)?;
    let mut seq = head;
    let mut out = Vec::with_capacity(changes.len());
    for change in changes {
        seq += 1;
        let c = Committed {
            seq: u64::try_from(seq).map_err(|_| corrupt("a negative feed sequence"))?,
            scope: scope.clone(),
            change,
        };
        conn.execute(
            "INSERT INTO changes (seq, scope, body) VALUES ($1, $2, $3)",
            &[Value::Int(seq), scope_key(scope), json(&c.change)?],
        )?;
        out.push(c);
    }
    conn.execute(
        "UPDATE feed_head SET seq = $1 WHERE id = 1",
        &[Value::Int(seq)],
    )?;
    // Prune now and then: a node further behind than FEED_KEEP reloads.
    if seq / 1000 != head / 1000 && seq > FEED_KEEP {
        let keep_after = seq - FEED_KEEP;
        conn.execute(
            "DELETE FROM changes WHERE seq <= $1",
            &[Value::Int(keep_after)],
        )?;
        conn.execute(
            "UPDATE feed_head SET pruned = $1 WHERE id = 1",
            &[Value::Int(keep_after)],
        )?;
    }
    conn.notify(seq)?;
    Ok(out)
}

impl Backend for SqlStore {
    fn write(&self, scope: &Scope, f: &mut WriteFn<'_>) -> Result<Vec<Committed>, Error> {
        let mut conn = self.main();
        conn.begin_write()?;
        let result = (|| {
            let changes = f(&mut SqlReader(&mut **conn))?;
            for change in &changes {
                apply(&mut **conn, scope, change)?;
            }
            append(&mut **conn, scope, changes)
        })();
        finish(&mut **conn, result)
    }

    fn read(&self, f: &mut dyn FnMut(&mut dyn Reader) -> Result<(), Error>) -> Result<(), Error> {
        let mut conn = self.main();
        conn.ensure_connected()?;
        f(&mut SqlReader(&mut **conn))
    }

    fn changes_since(&self, seq: u64, limit: usize) -> Result<Option<Vec<Committed>>, Error> {
        let mut conn = self.main();
        conn.ensure_connected()?;
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let head = conn.query("SELECT pruned FROM feed_head WHERE id = 1", &[])?;
        let pruned = head
            .first()
            .and_then(|r| r.first())
            .map_or(Err(corrupt("the feed has no head")), int)?;
        if seq < pruned {
            return Ok(None);
        }
        let rows = conn.query(
            &format!(
                "SELECT seq, scope, body FROM changes WHERE seq > $1 ORDER BY seq LIMIT {limit}"
            ),
            &[Value::Int(seq)],
        )?;
        rows.iter()
            .map(|r| {
                let scope = text(&r[1])?;
                let mut parts = scope.splitn(3, '/');
                let (Some(p), Some(region), Some(account)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(corrupt("a change's scope is malformed"));
                };
                Ok(Committed {
                    seq: u64::try_from(int(&r[0])?).map_err(|_| corrupt("a negative seq"))?,
                    scope: Scope::with_partition(p, account, region)?,
                    change: from_json(&r[2])?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()
            .map(Some)
    }

    fn load(&self, scope: &Scope, loader: &mut dyn Loader) -> Result<u64, Error> {
        let mut conn = self.main();
        conn.begin_snapshot()?;
        let result = (|| {
            let head = conn.query("SELECT seq FROM feed_head WHERE id = 1", &[])?;
            let seq = head
                .first()
                .and_then(|r| r.first())
                .map_or(Err(corrupt("the feed has no head")), int)?;
            for r in conn.query(
                "SELECT body FROM ca_certificates WHERE scope = $1",
                &[scope_key(scope)],
            )? {
                loader.ca(from_json(&r[0])?);
            }
            let key = scope_key(scope);
            let key = key.text().unwrap_or_default();
            // SQLite: when this account is the only one in the store (the first and the
            // last scope of an index agree), reading the table straight through is twice
            // as fast as following the scope index to every row. PostgreSQL's planner
            // makes that choice itself.
            let mut table = "certificates";
            if self.dialect == Dialect::Sqlite {
                let bound = |conn: &mut Box<dyn Conn>, f: &str| -> Result<bool, Error> {
                    let rows = conn.query(&format!("SELECT {f}(scope) FROM certificates"), &[])?;
                    Ok(rows.first().and_then(|r| r.first()).and_then(Value::text) == Some(key))
                };
                if bound(&mut conn, "MIN")? && bound(&mut conn, "MAX")? {
                    table = "certificates NOT INDEXED";
                }
            }
            use conn::{Cell, Col};
            let id_of = |c: &Cell<'_>| -> Result<CertificateId, Error> {
                match c {
                    Cell::Bytes(b) => <[u8; 32]>::try_from(*b)
                        .map(CertificateId::from_bytes)
                        .map_err(|_| corrupt("an ID is not 32 bytes")),
                    _ => Err(corrupt("an ID is not bytes")),
                }
            };
            let int = |c: &Cell<'_>| match c {
                Cell::Int(i) => Ok(*i),
                _ => Err(corrupt("an integer column is not an integer")),
            };
            conn.stream(
                &format!(
                    "SELECT id, ca_id, status, not_before_ms, not_after_ms, creation_ms FROM {table} WHERE scope = {}",
                    sql_literal(key)
                ),
                &[Col::Bytes, Col::Bytes, Col::Bytes, Col::Int, Col::Int, Col::Int],
                &mut |r| {
                    let [id, ca, status, nb, na, created] = r else {
                        return Err(corrupt("a hot row has the wrong columns"));
                    };
                    let status = match status {
                        Cell::Bytes(b) => core::str::from_utf8(b)
                            .ok()
                            .and_then(|t| t.parse::<CertificateStatus>().ok()),
                        _ => None,
                    }
                    .ok_or_else(|| corrupt("a column holds a value jitr does not know"))?;
                    loader.certificate(HotRow {
                        id: id_of(id)?,
                        ca_id: match ca {
                            Cell::Null => None,
                            c => Some(id_of(c)?),
                        },
                        status,
                        validity: Validity {
                            not_before: Timestamp::from_unix_millis(int(nb)?),
                            not_after: Timestamp::from_unix_millis(int(na)?),
                        },
                        creation_date: Timestamp::from_unix_millis(int(created)?),
                    });
                    Ok(())
                },
            )?;
            u64::try_from(seq).map_err(|_| corrupt("a negative feed sequence"))
        })();
        finish(&mut **conn, result)
    }

    fn wait(&self, timeout: Duration) -> Result<u64, Error> {
        let mut watch = crate::registry::lock(&self.watch);
        watch.wait_for_notify(timeout)?;
        let rows = watch.query("SELECT seq FROM feed_head WHERE id = 1", &[])?;
        let head = rows
            .first()
            .and_then(|r| r.first())
            .map_or(Err(corrupt("the feed has no head")), int)?;
        u64::try_from(head).map_err(|_| corrupt("a negative feed sequence"))
    }

    fn is_shared(&self) -> bool {
        true
    }

    fn import(&self, scope: &Scope, import: &Import) -> Result<(), Error> {
        let mut conn = self.main();
        conn.begin_write()?;
        let result = (|| {
            let conn: &mut dyn Conn = &mut **conn;
            for change in import.changes() {
                apply(conn, scope, &change)?;
            }
            append(conn, scope, vec![Change::AccountImported]).map(|_| ())
        })();
        finish(&mut **conn, result)
    }

    #[cfg(feature = "bench-internals")]
    fn bench_insert(&self, scope: &Scope, rows: BenchRows<'_>) -> Result<u64, Error> {
        let BenchRows { rows, der } = rows;
        const BATCH: usize = 250_000;
        let columns: Vec<&str> = std::iter::once("scope")
            .chain(CERT_COLUMNS.split(',').map(str::trim))
            .collect();
        let s = scope_key(scope);
        let mut conn = self.main();
        let mut rows = rows.peekable();
        let mut total = 0;
        while rows.peek().is_some() {
            conn.begin_write()?;
            let mut values = rows.by_ref().take(BATCH).map(|r| {
                let created = Value::Int(r.creation_date.unix_millis());
                vec![
                    s.clone(),
                    id_value(&r.id),
                    Value::Blob(der.to_vec()),
                    r.ca_id.as_ref().map_or(Value::Null, id_value),
                    Value::Text(r.status.as_str().into()),
                    Value::Text(CertificateMode::Default.as_str().into()),
                    Value::Int(r.validity.not_before.unix_millis()),
                    Value::Int(r.validity.not_after.unix_millis()),
                    created.clone(),
                    created,
                    Value::Int(1),
                    Value::Text(super::BENCH_GENERATION_ID.into()),
                    Value::Null,
                ]
            });
            let result = conn.bulk_insert(conn::BulkRows {
                table: "certificates",
                columns: &columns,
                rows: &mut values,
            });
            total += finish(&mut **conn, result)?;
        }
        if self.dialect == Dialect::Postgres {
            // What autovacuum would do after a load this size: statistics for the planner.
            conn.ensure_connected()?;
            conn.execute("ANALYZE certificates", &[])?;
        }
        Ok(total)
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;
    use crate::store::ResourceReads;

    /// A version 1 database (policies and attachments in their own tables) migrates to
    /// the current schema with its rows readable, once, in one transaction.
    #[test]
    fn a_version_1_store_migrates_to_the_current_schema() {
        let dir = std::env::temp_dir().join(format!("jitr-migrate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("v1.db");
        let _ = std::fs::remove_file(&path);
        let scope = Scope::new("123456789012", "us-east-1").unwrap();
        {
            let mut store = SqlStore {
                main: Mutex::new(Box::new(sqlite::SqliteConn::open(&path, None).unwrap())),
                watch: Mutex::new(Box::new(sqlite::SqliteConn::open(&path, None).unwrap())),
                dialect: Dialect::Sqlite,
            };
            store.migrate_to(1).unwrap();
            let conn = store.main.get_mut().unwrap();
            let body = r#"{"policyName":"P","policyDocument":"{\"Statement\":[]}","meta":{"creationDate":1,"lastModifiedDate":1,"customerVersion":1,"generationId":"00000000-0000-4000-8000-000000000000"}}"#;
            conn.execute(
                "INSERT INTO policies (scope, name, body) VALUES ($1, 'P', $2)",
                &[scope_key(&scope), Value::Text(body.into())],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO attachments (scope, policy_name, target) VALUES ($1, 'P', 'arn:x')",
                &[scope_key(&scope)],
            )
            .unwrap();
        }
        let store = SqlStore::open_sqlite(&path, None).unwrap();
        let mut policy = None;
        let mut attached = Vec::new();
        store
            .read(&mut |r| {
                policy = r.policy(&scope, "P")?;
                attached = r.attached_to(&scope, "arn:x")?;
                Ok(())
            })
            .unwrap();
        let policy = policy.expect("the policy moved to the resources table");
        assert_eq!(policy.policy_document, r#"{"Statement":[]}"#);
        assert_eq!(policy.default_version_id, 1);
        assert_eq!(policy.all_versions().len(), 1);
        assert_eq!(attached, ["P"]);
        let mut conn = sqlite::SqliteConn::open(&path, None).unwrap();
        let v = conn
            .query(
                "SELECT value FROM jitr_meta WHERE key = 'schema_version'",
                &[],
            )
            .unwrap();
        assert_eq!(v[0][0], Value::Text(SCHEMA_VERSION.to_string()));
        assert!(
            conn.query("SELECT 1 FROM policies", &[]).is_err(),
            "the old table is gone"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
