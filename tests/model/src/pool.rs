//! The fixed pool of certificates the operations pick from, so that an operation is a
//! few small numbers and sequences explore orders of operations rather than certificate
//! bytes.

use std::sync::OnceLock;

use jitr_core::Certificate;
use jitr_testkit::{self as kit, ca_params, cn, leaf_params, Eku, Key, Ymd, NOT_AFTER, NOT_BEFORE};

use crate::CODE;

/// A CA of the pool, with its verification certificate (`CN` = [`CODE`]).
pub struct PoolCa {
    /// The CA certificate.
    pub cert: Certificate,
    /// Its PEM.
    pub pem: String,
    /// The verification certificate's PEM.
    pub verification_pem: String,
    /// The verification certificate.
    pub verification: Certificate,
}

/// A device certificate of the pool.
pub struct PoolDevice {
    /// The certificate.
    pub cert: Certificate,
    /// Its PEM.
    pub pem: String,
    /// Index of the issuing CA in [`Pool::cas`] (the CA a client sends after the leaf).
    pub ca: usize,
    /// Its extended key usage is serverAuth only.
    pub server_auth_only: bool,
}

/// The certificates operations use.
///
/// CAs: 0 and 3 have the same subject as RFC 5280 §7.1 compares names, encoded
/// differently ("Model CA A", "model  CA a"), and other keys (so 3's devices name an
/// issuer that matches 0: a bad signature when only 0 is registered); 2 expires 2026-07-01; 4 is never
/// registered ([`REGISTRABLE_CAS`]).
///
/// Devices: 0, 1 of CA 0; 2 of CA 1; 3 of CA 2; 4 of CA 3; 5 of CA 0 expiring
/// 2026-06-15; 6 of CA 0, serverAuth only; 7 of CA 4; 8 of CA 0, not valid before
/// 2026-09-01; 9 of CA 0 without an extended key usage.
pub struct Pool {
    /// The CAs.
    pub cas: Vec<PoolCa>,
    /// The devices.
    pub devices: Vec<PoolDevice>,
}

/// The CAs that operations may register: all but the last of the pool.
pub const REGISTRABLE_CAS: usize = 4;

/// The pool, made once per process (random Ed25519 keys: fast to make).
pub fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| build_pool().expect("the pool of certificates is generated"))
}

fn build_pool() -> Result<Pool, kit::Error> {
    let mut cas = Vec::new();
    let mut issuers = Vec::new();
    for (name, until) in [
        ("Model CA A", NOT_AFTER),
        ("Model CA B", NOT_AFTER),
        ("Model CA C (short-lived)", (2026, 7, 1)),
        ("model  CA a", NOT_AFTER),
        ("Model CA unregistered", NOT_AFTER),
    ] {
        let ca = kit::Ca::root(
            ca_params(cn(name), None, (NOT_BEFORE, until)),
            Key::random_ed25519()?,
        )?;
        let v = leaf_params(cn(CODE), None, (NOT_BEFORE, NOT_AFTER), Eku::Absent);
        let verification = ca.issue(&v, &Key::random_ed25519()?)?;
        cas.push(PoolCa {
            cert: Certificate::from_der(&ca.cert.der)?,
            pem: ca.cert.pem.clone(),
            verification: Certificate::from_der(&verification.der)?,
            verification_pem: verification.pem,
        });
        issuers.push(ca);
    }
    // (issuing CA, notBefore, notAfter, extended key usage)
    let specs: [(usize, Ymd, Ymd, Eku); 10] = [
        (0, NOT_BEFORE, NOT_AFTER, Eku::ClientAuth),
        (0, NOT_BEFORE, NOT_AFTER, Eku::ClientAuth),
        (1, NOT_BEFORE, NOT_AFTER, Eku::ClientAuth),
        (2, NOT_BEFORE, NOT_AFTER, Eku::ClientAuth),
        (3, NOT_BEFORE, NOT_AFTER, Eku::ClientAuth),
        (0, NOT_BEFORE, (2026, 6, 15), Eku::ClientAuth),
        (0, NOT_BEFORE, NOT_AFTER, Eku::ServerAuth),
        (4, NOT_BEFORE, NOT_AFTER, Eku::ClientAuth),
        (0, (2026, 9, 1), NOT_AFTER, Eku::ClientAuth),
        (0, NOT_BEFORE, NOT_AFTER, Eku::Absent),
    ];
    let mut devices = Vec::new();
    for (i, (ca, from, until, eku)) in specs.into_iter().enumerate() {
        let p = leaf_params(cn(&format!("model device {i}")), None, (from, until), eku);
        let cert = issuers[ca].issue(&p, &Key::random_ed25519()?)?;
        devices.push(PoolDevice {
            cert: Certificate::from_der(&cert.der)?,
            pem: cert.pem,
            ca,
            server_auth_only: eku == Eku::ServerAuth,
        });
    }
    Ok(Pool { cas, devices })
}
