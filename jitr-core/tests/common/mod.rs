//! Certificates for tests: `jitr-testkit`'s, with the glue to jitr-core's types
//! (`CertificateDer`, `CertificateId`, registration).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::*;
use jitr_testkit::{self as kit, Key};
use rcgen::{CertificateParams, Issuer};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// 2026-06-01T00:00:00Z.
pub fn now() -> Timestamp {
    Timestamp::from_unix_secs(1_780_272_000)
}

/// Midnight UTC of a calendar date, as jitr reads certificate validity.
pub fn date((y, m, d): kit::Ymd) -> Timestamp {
    Timestamp::from_unix_secs(rcgen::date_time_ymd(y, m, d).unix_timestamp())
}

pub fn registry() -> Registry {
    Registry::new(Scope::new(ACCOUNT, REGION).unwrap())
}

/// Registers the CA certificate `pem` in `SNI_ONLY` mode (no proof of possession),
/// ACTIVE with auto-registration, at `at`.
pub fn register_sni_only_ca(reg: &Registry, pem: &str, at: Timestamp) -> CertificateId {
    let req = RegisterCaCertificateRequest {
        ca_certificate: pem.into(),
        certificate_mode: CertificateMode::SniOnly,
        set_as_active: true,
        allow_auto_registration: true,
        ..Default::default()
    };
    reg.register_ca_certificate(&req, at)
        .unwrap()
        .certificate_id
}

/// A registry holding two CA certificates with the subject `cn` and the same key (a CA
/// and its re-issue), both ACTIVE with auto-registration: the CA, the re-issue and its ID.
pub fn registry_with_twins(cn: &str) -> (Registry, Ca, Device, CertificateId) {
    let (reg, ca) = registry_with_ca(cn);
    let twin = ca.reissue();
    let twin_id = ca.register_twin(&reg, &twin);
    (reg, ca, twin, twin_id)
}

/// A registry holding one CA `cn`, registered ACTIVE with auto-registration.
pub fn registry_with_ca(cn: &str) -> (Registry, Ca) {
    let reg = registry();
    let ca = Ca::new(cn);
    ca.register(&reg);
    (reg, ca)
}

/// A CA with a fresh key, `CN=<cn>`, valid 2025–2035.
pub struct Ca(pub kit::Ca);

impl Ca {
    /// A P-256 CA.
    pub fn new(cn: &str) -> Self {
        Self::with_key(cn, Key::random_p256().unwrap())
    }

    pub fn ed25519(cn: &str) -> Self {
        Self::with_key(cn, Key::random_ed25519().unwrap())
    }

    pub fn with_key(cn: &str, key: Key) -> Self {
        Self(kit::Ca::root(kit::ca_params(kit::cn(cn), None, kit::VALIDITY), key).unwrap())
    }

    /// A second CA certificate with the same subject and key (a re-issue).
    pub fn reissue(&self) -> Device {
        let mut p = self.0.params.clone();
        p.serial_number = Some(rcgen::SerialNumber::from(vec![0x42, 0x42]));
        Device(kit::self_signed(&p, &self.0.key).unwrap())
    }

    /// An intermediate CA signed by this one.
    pub fn intermediate(&self, cn: &str) -> Ca {
        let params = kit::ca_params(kit::cn(cn), None, kit::VALIDITY);
        Ca(kit::Ca::signed_by(params, Key::random_p256().unwrap(), &self.0).unwrap())
    }

    pub fn issuer(&self) -> Issuer<'_, &Key> {
        self.0.issuer()
    }

    pub fn pem(&self) -> String {
        self.0.cert.pem.clone()
    }

    pub fn der(&self) -> CertificateDer<'static> {
        CertificateDer::from(self.0.cert.der.clone())
    }

    pub fn id(&self) -> CertificateId {
        CertificateId::of_der(&self.0.cert.der)
    }

    /// A verification certificate: `CN=<code>`, signed by this CA.
    pub fn verification(&self, code: &str) -> String {
        let p = kit::leaf_params(kit::cn(code), None, kit::VALIDITY, kit::Eku::Absent);
        self.0.issue(&p, &Key::random_p256().unwrap()).unwrap().pem
    }

    /// A device certificate (clientAuth) signed by this CA.
    pub fn device(&self, cn: &str) -> Device {
        self.device_with(cn, |_| {})
    }

    /// A device certificate, its parameters changed by `tweak` before signing.
    pub fn device_with(&self, cn: &str, tweak: impl FnOnce(&mut CertificateParams)) -> Device {
        let mut p = kit::leaf_params(kit::cn(cn), None, kit::VALIDITY, kit::Eku::ClientAuth);
        tweak(&mut p);
        Device(self.0.issue(&p, &Key::random_p256().unwrap()).unwrap())
    }

    /// Registers this CA, ACTIVE with auto-registration.
    pub fn register(&self, reg: &Registry) -> CertificateId {
        self.register_with(reg, true, true)
    }

    pub fn register_with(&self, reg: &Registry, active: bool, auto: bool) -> CertificateId {
        self.register_certificate(reg, self.pem(), active, auto)
    }

    /// Registers `twin`, another certificate of this CA's name and key (see
    /// [`Ca::reissue`]), ACTIVE with auto-registration.
    pub fn register_twin(&self, reg: &Registry, twin: &Device) -> CertificateId {
        self.register_certificate(reg, twin.pem(), true, true)
    }

    /// Registers `pem`, a CA certificate of this CA's key (the proof of possession is
    /// signed with it).
    fn register_certificate(
        &self,
        reg: &Registry,
        pem: String,
        active: bool,
        auto: bool,
    ) -> CertificateId {
        reg.register_ca_certificate(
            &RegisterCaCertificateRequest {
                ca_certificate: pem,
                verification_certificate: Some(self.verification(&reg.get_registration_code())),
                set_as_active: active,
                allow_auto_registration: auto,
                ..Default::default()
            },
            now(),
        )
        .unwrap()
        .certificate_id
    }
}

/// An issued certificate: a device's (or a re-issued CA's).
pub struct Device(pub kit::Cert);

impl Device {
    pub fn der(&self) -> CertificateDer<'static> {
        CertificateDer::from(self.0.der.clone())
    }

    pub fn pem(&self) -> String {
        self.0.pem.clone()
    }

    pub fn id(&self) -> CertificateId {
        CertificateId::of_der(&self.0.der)
    }

    /// Registers this certificate through RegisterCertificate (its CA must be registered).
    pub fn register(&self, reg: &Registry, status: Option<CertificateStatus>) -> CertificateId {
        let req = RegisterCertificateRequest {
            certificate_pem: self.pem(),
            status,
            ..Default::default()
        };
        reg.register_certificate(&req, now())
            .unwrap()
            .certificate_id
    }

    /// A RegisterCertificate request for this certificate alone (status default).
    pub fn request(&self) -> RegisterCertificateRequest {
        RegisterCertificateRequest {
            certificate_pem: self.pem(),
            ..Default::default()
        }
    }

    pub fn chain_with(&self, ca: &Ca) -> Vec<CertificateDer<'static>> {
        vec![self.der(), ca.der()]
    }
}
