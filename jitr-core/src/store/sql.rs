//! SQL stores (SQLite, PostgreSQL): see the parent module.
