//! The gateway tests.
