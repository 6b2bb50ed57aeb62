//! Certificates for tests: `jitr-testkit`'s, with the glue to jitr-core's types
//! (`CertificateDer`, `CertificateId`, registration).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::*;
use jitr_testkit::{self as kit, Key};
use rcgen::{CertificateParams, Issuer, KeyUsagePurpose};

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

pub mod store;

/// The folder `sub` of the shared corpora (`JITR_CORPORA_DIR`, else `shared/corpora`
/// beside the workspace); None, having said that `what` is skipped, where the corpora
/// are not there.
pub fn corpus(sub: &str, what: &str) -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("JITR_CORPORA_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora")
        });
    if !dir.is_dir() {
        println!("SKIP {what}: corpus not found (set JITR_CORPORA_DIR)");
        return None;
    }
    Some(dir.join(sub))
}

/// The test account's scope.
pub fn scope() -> Scope {
    Scope::new(ACCOUNT, REGION).unwrap()
}

/// A registry of the test account, in the store `JITR_TEST_STORE` names.
pub fn registry() -> Registry {
    registry_in(scope(), RegistryConfig::default())
}

/// A registry of the test account with the default configuration, on the store at `url`
/// (which the test's other registries, its other "nodes", share).
pub fn open_node(url: &str) -> Registry {
    Registry::open(
        scope(),
        RegistryConfig::default(),
        &Store::open(url).unwrap(),
    )
    .unwrap()
}

/// Two nodes (registries) on one fresh store of `kind`: node A has minted the
/// registration code and registered the CA "Fleet CA", which it returns.
pub fn two_nodes(kind: &str) -> (Registry, Registry, Ca) {
    let url = store::fresh_store_url_of(kind);
    let a = open_node(&url);
    let b = open_node(&url);
    let ca = Ca::new("Fleet CA");
    a.get_registration_code().unwrap();
    ca.register(&a);
    (a, b, ca)
}

/// A registry of `scope` with `config`, in a fresh store of the kind `JITR_TEST_STORE`
/// names, with its registration code minted.
pub fn registry_in(scope: Scope, config: RegistryConfig) -> Registry {
    let reg = Registry::open(scope, config, &store::fresh_store()).unwrap();
    reg.get_registration_code().unwrap();
    reg
}

/// A RegisterCACertificate request for the CA certificate `pem` in `SNI_ONLY` mode (no
/// proof of possession), ACTIVE with auto-registration.
pub fn sni_only_request(pem: String) -> RegisterCaCertificateRequest {
    RegisterCaCertificateRequest {
        ca_certificate: pem,
        certificate_mode: CertificateMode::SniOnly,
        set_as_active: true,
        allow_auto_registration: true,
        ..Default::default()
    }
}

/// Registers the CA certificate `request` names, at `at`; the registration must succeed.
/// Its ID.
pub fn register_ca(
    reg: &Registry,
    request: &RegisterCaCertificateRequest,
    at: Timestamp,
) -> CertificateId {
    reg.register_ca_certificate(request, at)
        .unwrap()
        .certificate_id
}

/// Registers the CA certificate `pem` as [`sni_only_request`] asks, at `at`.
pub fn register_sni_only_ca(reg: &Registry, pem: &str, at: Timestamp) -> CertificateId {
    register_ca(reg, &sni_only_request(pem.into()), at)
}

/// A registry holding two CA certificates with the subject `cn` and the same key (a CA
/// and its re-issue), both ACTIVE with auto-registration: the CA, the re-issue and its ID.
pub fn registry_with_twins(cn: &str) -> (Registry, Ca, Device, CertificateId) {
    let (reg, ca) = registry_with_ca(cn);
    let twin = ca.reissue();
    let twin_id = ca.register_twin(&reg, &twin);
    (reg, ca, twin, twin_id)
}

/// A registry holding one CA `cn`, registered ACTIVE with auto-registration under its
/// ID, [`Ca::id`].
pub fn registry_with_ca(cn: &str) -> (Registry, Ca) {
    let reg = registry();
    let ca = Ca::new(cn);
    assert_eq!(ca.register(&reg), ca.id(), "a CA's ID is its certificate's");
    (reg, ca)
}

/// A CA with a fresh key, `CN=<cn>`, valid 2025–2035. Its `params`, `key` and `cert`
/// are the testkit CA's.
pub struct Ca(pub kit::Ca);

impl std::ops::Deref for Ca {
    type Target = kit::Ca;

    fn deref(&self) -> &kit::Ca {
        &self.0
    }
}

impl Ca {
    /// A P-256 CA.
    pub fn new(cn: &str) -> Self {
        Self::with_key(cn, Key::random_p256().unwrap())
    }

    pub fn ed25519(cn: &str) -> Self {
        Self::with_key(cn, Key::random_ed25519().unwrap())
    }

    pub fn with_key(cn: &str, key: impl Into<Key>) -> Self {
        let params = kit::ca_params(kit::cn(cn), None, kit::VALIDITY);
        Self(kit::Ca::root(params, key.into()).unwrap())
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

    /// The verification certificate for `reg`'s current registration code (the proof of
    /// possession of RegisterCACertificate's DEFAULT mode).
    pub fn proof_for(&self, reg: &Registry) -> Option<String> {
        Some(self.verification(&reg.get_registration_code().unwrap()))
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

    /// The RegisterCACertificate request for this CA, ACTIVE with auto-registration, with
    /// `verification` as its proof of possession (see [`Ca::proof_for`]).
    pub fn request(&self, verification: Option<String>) -> RegisterCaCertificateRequest {
        RegisterCaCertificateRequest {
            ca_certificate: self.pem(),
            verification_certificate: verification,
            set_as_active: true,
            allow_auto_registration: true,
            ..Default::default()
        }
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
        register_ca(
            reg,
            &RegisterCaCertificateRequest {
                ca_certificate: pem,
                set_as_active: active,
                allow_auto_registration: auto,
                ..self.request(self.proof_for(reg))
            },
            now(),
        )
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

    /// Registers this certificate through RegisterCertificateWithoutCA.
    pub fn register_without_ca(&self, reg: &Registry, status: Option<CertificateStatus>) {
        let req = RegisterCertificateRequest {
            certificate_pem: self.pem(),
            status,
            ..Default::default()
        };
        reg.register_certificate_without_ca(&req, now()).unwrap();
    }

    pub fn chain_with(&self, ca: &Ca) -> Vec<CertificateDer<'static>> {
        vec![self.der(), ca.der()]
    }
}

/// The ID of a chain's leaf.
pub fn leaf_id(chain: &[CertificateDer<'_>]) -> CertificateId {
    CertificateId::of_der(&chain[0])
}

/// A CA (self-signed, registrable) with these key usages; none means no extension.
pub fn ca_with_usages(cn: &str, usages: Vec<KeyUsagePurpose>) -> Ca {
    let mut params = kit::ca_params(kit::cn(cn), None, kit::VALIDITY);
    params.key_usages = usages;
    Ca(kit::Ca::root(params, Key::random_p256().unwrap()).unwrap())
}

/// `ca`'s name and key as a CRL signer, whatever its key usage says: rcgen refuses to
/// sign a CRL for an issuer whose key usage lacks cRLSign, and a misconfigured CA's CRL
/// is what some tests need.
pub fn signer_ignoring_key_usage(ca: &Ca) -> Issuer<'_, &Key> {
    let mut params = ca.params.clone();
    params.key_usages.clear();
    Issuer::new(params, &ca.key)
}

/// A CRL signed by `issuer` from `this` to `next` (year, month, day), listing
/// `revoked`, with an issuingDistributionPoint naming `point` if given.
pub fn signed_crl(
    issuer: &Issuer<'_, &Key>,
    revoked: &[&[u8]],
    this: (i32, u8, u8),
    next: (i32, u8, u8),
    idp: Option<rcgen::CrlIssuingDistributionPoint>,
) -> crl::Crl {
    let params = rcgen::CertificateRevocationListParams {
        this_update: rcgen::date_time_ymd(this.0, this.1, this.2),
        next_update: rcgen::date_time_ymd(next.0, next.1, next.2),
        crl_number: rcgen::SerialNumber::from(1u64),
        issuing_distribution_point: idp,
        revoked_certs: revoked
            .iter()
            .map(|s| rcgen::RevokedCertParams {
                serial_number: rcgen::SerialNumber::from(s.to_vec()),
                revocation_time: rcgen::date_time_ymd(2026, 1, 1),
                reason_code: None,
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    };
    crl::Crl::from_der(params.signed_by(issuer).unwrap().der()).unwrap()
}

/// An issuingDistributionPoint naming `uri`.
pub fn idp(
    uri: &str,
    scope: Option<rcgen::CrlScope>,
) -> Option<rcgen::CrlIssuingDistributionPoint> {
    Some(rcgen::CrlIssuingDistributionPoint {
        distribution_point: rcgen::CrlDistributionPoint {
            uris: vec![uri.into()],
        },
        scope,
    })
}

/// Sets a certificate's CRL distribution point to these URIs.
pub fn distribution_point(params: &mut CertificateParams, uris: &[&str]) {
    params.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
        uris: uris.iter().map(|u| u.to_string()).collect(),
    }];
}
