//! What a gateway keeps in `--dir`: a lock file, the server's TLS identity, the fleet CA
//! it made (if it made one) and, by default, the SQLite store.
//!
//! An existing directory is reused and nothing in it is ever overwritten: every file is
//! written once, to a temporary name with mode 0600 for keys, then renamed. A second
//! instance on the same directory stops at the lock (`gateway.lock`, an advisory lock
//! the kernel drops when the process dies, even on `kill -9`) before it reads or writes
//! anything else.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jitr_core::tooling::{self, CertificateOptions, GeneratedCertificate};
use jitr_core::{
    AutoRegistrationStatus, CertificateId, RegisterCaCertificateRequest, Registry, Timestamp,
    UpdateCaCertificateRequest,
};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use crate::Error;

/// The host names the server certificate is valid for (and the SNI that names the
/// account).
pub(crate) const HOST: &str = "iot.jitr.localhost";

/// Holds the directory's lock while the gateway runs.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
    pub(crate) dir: PathBuf,
}

/// Takes the directory's lock, creating the directory if needed. Fails, having written
/// nothing, when another process holds it.
pub(crate) fn lock(dir: &Path) -> Result<DirLock, Error> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the directory {}: {e}", dir.display()))?;
    let path = dir.join("gateway.lock");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    // fs4's flock (std's `File::try_lock` is newer than the workspace's Rust version).
    match fs4::FileExt::try_lock(&file) {
        Ok(()) => {}
        Err(fs4::TryLockError::WouldBlock) => {
            return Err(format!(
                "another gateway is running on {} (it holds {}); refusing to start",
                dir.display(),
                path.display()
            )
            .into())
        }
        Err(fs4::TryLockError::Error(e)) => {
            return Err(format!("cannot lock {}: {e}", path.display()).into())
        }
    }
    // The lock file says who holds it, for a person who looks.
    let _ = file.set_len(0);
    let _ = (&file).write_all(format!("{}\n", std::process::id()).as_bytes());
    Ok(DirLock {
        _file: file,
        dir: dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()),
    })
}

/// Writes a new file: to a temporary name (mode `mode`), synced, then renamed. Never
/// replaces an existing file.
pub(crate) fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), Error> {
    if path.exists() {
        return Err(format!("{} exists; refusing to overwrite it", path.display()).into());
    }
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    f.write_all(contents)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent() {
        if let Ok(d) = File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Reads a file the gateway wrote before, or `None` when it is not there.
fn read_opt(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display()).into()),
    }
}

/// The server's TLS identity: `server-ca.pem` (what clients trust), `server.pem` and
/// `server.key`, made on first start.
pub(crate) struct ServerIdentity {
    pub(crate) key: Arc<CertifiedKey>,
}

pub(crate) fn server_identity(dir: &Path) -> Result<ServerIdentity, Error> {
    let ca_path = dir.join("server-ca.pem");
    let cert_path = dir.join("server.pem");
    let key_path = dir.join("server.key");
    let (cert_pem, key_pem) = match (read_opt(&cert_path)?, read_opt(&key_path)?) {
        (Some(c), Some(k)) => (c, k),
        (None, None) => {
            let (ca_pem, ca_key_pem, cert_pem, key_pem) = make_server_pki()?;
            // The keys first: a crash leaves keys without certificates, which the next
            // start reports instead of silently replacing.
            write_new(&dir.join("server-ca.key"), ca_key_pem.as_bytes(), 0o600)?;
            write_new(&key_path, key_pem.as_bytes(), 0o600)?;
            write_new(&ca_path, ca_pem.as_bytes(), 0o644)?;
            write_new(&cert_path, cert_pem.as_bytes(), 0o644)?;
            (cert_pem, key_pem)
        }
        _ => {
            return Err(format!(
                "{} holds only one of server.pem and server.key; move the directory aside or restore the other",
                dir.display()
            )
            .into())
        }
    };
    let chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", cert_path.display()))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| format!("{}: {e}", key_path.display()))?;
    let provider = rustls::crypto::ring::default_provider();
    let key = CertifiedKey::from_der(chain, key, &provider)
        .map_err(|e| format!("{} and {}: {e}", cert_path.display(), key_path.display()))?;
    Ok(ServerIdentity { key: Arc::new(key) })
}

/// A server CA and a server certificate for [`HOST`], `localhost` and the loopback
/// addresses: (CA PEM, CA key PEM, certificate PEM, key PEM).
fn make_server_pki() -> Result<(String, String, String, String), Error> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(vec![])?;
    ca.distinguished_name
        .push(DnType::CommonName, "jitr gateway server CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let now = time::OffsetDateTime::now_utc();
    ca.not_before = now - time::Duration::days(1);
    ca.not_after = now + time::Duration::days(3650);
    let ca_cert = ca.self_signed(&ca_key)?;
    let key = KeyPair::generate()?;
    let mut p = CertificateParams::new(vec![HOST.into(), "localhost".into()])?;
    p.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse()?));
    p.subject_alt_names.push(SanType::IpAddress("::1".parse()?));
    p.distinguished_name.push(DnType::CommonName, HOST);
    p.not_before = now - time::Duration::days(1);
    p.not_after = now + time::Duration::days(825);
    let cert = p.signed_by(&key, &Issuer::new(ca, &ca_key))?;
    Ok((
        ca_cert.pem(),
        ca_key.serialize_pem(),
        cert.pem(),
        key.serialize_pem(),
    ))
}

/// The fleet CA a gateway makes when its account has no CA at all: `fleet-ca.pem` and
/// `fleet-ca.key` (0600), registered `ACTIVE` with auto-registration `ENABLE`. A
/// directory that has them already (a restart, or a crash between writing and
/// registering) registers the same CA if the store does not have it yet.
pub(crate) fn fleet_ca(dir: &Path, registry: &Registry) -> Result<Option<CertificateId>, Error> {
    let cert_path = dir.join("fleet-ca.pem");
    let key_path = dir.join("fleet-ca.key");
    let ca = match (read_opt(&cert_path)?, read_opt(&key_path)?) {
        (Some(c), Some(k)) => GeneratedCertificate::from_pem(&c, &k)
            .map_err(|e| format!("{}: {}", cert_path.display(), e.message()))?,
        (None, None) if registry.ca_certificate_count() == 0 => {
            let ca = tooling::generate_ca(
                "jitr gateway fleet CA",
                &CertificateOptions::new_ca(Timestamp::now()),
                None,
            )?;
            write_new(&key_path, ca.private_key_pem().as_bytes(), 0o600)?;
            write_new(&cert_path, ca.certificate_pem().as_bytes(), 0o644)?;
            ca
        }
        (None, None) => return Ok(None),
        _ => {
            return Err(format!(
                "{} holds only one of fleet-ca.pem and fleet-ca.key",
                dir.display()
            )
            .into())
        }
    };
    let id = CertificateId::of_der(ca.certificate().der());
    let now = Timestamp::now();
    match registry.describe_ca_certificate(&id) {
        Ok(_) => return Ok(Some(id)),
        Err(e) if e.code() == "ResourceNotFoundException" => {}
        Err(e) => return Err(e.into()),
    }
    let proof = tooling::generate_verification_certificate(
        &ca,
        &registry.get_registration_code()?,
        &CertificateOptions::new(now),
    )?;
    registry.register_ca_certificate(
        &RegisterCaCertificateRequest {
            ca_certificate: ca.certificate_pem(),
            verification_certificate: Some(proof.certificate_pem()),
            set_as_active: true,
            allow_auto_registration: true,
            ..Default::default()
        },
        now,
    )?;
    let mut enable = UpdateCaCertificateRequest::new(id);
    enable.new_auto_registration_status = Some(AutoRegistrationStatus::Enable);
    registry.update_ca_certificate(&enable, now)?;
    Ok(Some(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_second_lock_on_a_directory_is_refused_and_keys_are_private() {
        let dir = crate::testutil::temp_dir("state");
        let first = lock(&dir).unwrap();
        let err = lock(&dir).unwrap_err().to_string();
        assert!(err.contains("another gateway"), "{err}");
        let id = server_identity(&dir).unwrap();
        let again = server_identity(&dir).unwrap();
        // Reused, not regenerated.
        assert_eq!(id.key.cert, again.key.cert);
        for key in ["server.key", "server-ca.key"] {
            let mode = std::fs::metadata(dir.join(key))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{key}");
        }
        assert!(write_new(&dir.join("server.pem"), b"x", 0o644).is_err());
        drop(first);
        assert!(lock(&dir).is_ok());
    }
}
