//! Certificates for tests, made with rcgen.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ED25519,
};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// 2026-06-01T00:00:00Z.
pub fn now() -> Timestamp {
    Timestamp::from_unix_secs(1_780_272_000)
}

pub mod store;

/// A registry of the test account, in the store `JITR_TEST_STORE` names.
pub fn registry() -> Registry {
    registry_in(
        Scope::new(ACCOUNT, REGION).unwrap(),
        RegistryConfig::default(),
    )
}

/// A registry of `scope` with `config`, in a fresh store of the kind `JITR_TEST_STORE`
/// names, with its registration code minted.
pub fn registry_in(scope: Scope, config: RegistryConfig) -> Registry {
    let reg = Registry::open(scope, config, &store::fresh_store()).unwrap();
    reg.get_registration_code().unwrap();
    reg
}

pub struct Ca {
    pub params: CertificateParams,
    pub key: KeyPair,
    pub cert: rcgen::Certificate,
}

impl Ca {
    pub fn new(cn: &str) -> Self {
        Self::with_key(cn, KeyPair::generate().unwrap())
    }

    pub fn ed25519(cn: &str) -> Self {
        Self::with_key(cn, KeyPair::generate_for(&PKCS_ED25519).unwrap())
    }

    pub fn with_key(cn: &str, key: KeyPair) -> Self {
        let mut params = CertificateParams::new(vec![]).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = rcgen::date_time_ymd(2025, 1, 1);
        params.not_after = rcgen::date_time_ymd(2035, 1, 1);
        let cert = params.self_signed(&key).unwrap();
        Self { params, key, cert }
    }

    /// A second CA certificate with the same subject and key (a re-issue).
    pub fn reissue(&self) -> rcgen::Certificate {
        let mut p = self.params.clone();
        p.serial_number = Some(rcgen::SerialNumber::from(vec![0x42, 0x42]));
        p.self_signed(&self.key).unwrap()
    }

    /// An intermediate CA signed by this one.
    pub fn intermediate(&self, cn: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![]).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.not_before = rcgen::date_time_ymd(2025, 1, 1);
        params.not_after = rcgen::date_time_ymd(2035, 1, 1);
        let cert = params.signed_by(&key, &self.issuer()).unwrap();
        Ca { params, key, cert }
    }

    pub fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::new(self.params.clone(), &self.key)
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    pub fn id(&self) -> CertificateId {
        CertificateId::of_der(self.cert.der())
    }

    pub fn verification(&self, code: &str) -> String {
        let mut p = CertificateParams::new(vec![]).unwrap();
        p.distinguished_name.push(DnType::CommonName, code);
        p.not_before = rcgen::date_time_ymd(2025, 1, 1);
        p.not_after = rcgen::date_time_ymd(2035, 1, 1);
        p.signed_by(&KeyPair::generate().unwrap(), &self.issuer())
            .unwrap()
            .pem()
    }

    pub fn device(&self, cn: &str) -> Device {
        self.device_with(cn, |_| {})
    }

    pub fn device_with(&self, cn: &str, tweak: impl FnOnce(&mut CertificateParams)) -> Device {
        let mut p = CertificateParams::new(vec![]).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.not_before = rcgen::date_time_ymd(2025, 1, 1);
        p.not_after = rcgen::date_time_ymd(2035, 1, 1);
        tweak(&mut p);
        let cert = p
            .signed_by(&KeyPair::generate().unwrap(), &self.issuer())
            .unwrap();
        Device { cert }
    }

    /// Registers this CA, ACTIVE with auto-registration.
    pub fn register(&self, reg: &Registry) -> CertificateId {
        self.register_with(reg, true, true)
    }

    pub fn register_with(&self, reg: &Registry, active: bool, auto: bool) -> CertificateId {
        reg.register_ca_certificate(
            &RegisterCaCertificateRequest {
                ca_certificate: self.pem(),
                verification_certificate: Some(
                    self.verification(&reg.get_registration_code().unwrap()),
                ),
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

pub struct Device {
    pub cert: rcgen::Certificate,
}

impl Device {
    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    pub fn id(&self) -> CertificateId {
        CertificateId::of_der(self.cert.der())
    }

    pub fn chain_with(&self, ca: &Ca) -> Vec<CertificateDer<'static>> {
        vec![self.der(), ca.der()]
    }
}

/// A CA (self-signed, registrable) with these key usages; none means no extension.
pub fn ca_with_usages(cn: &str, usages: Vec<KeyUsagePurpose>) -> Ca {
    let mut ca = Ca::new(cn);
    ca.params.key_usages = usages;
    ca.cert = ca.params.self_signed(&ca.key).unwrap();
    ca
}

/// `ca`'s name and key as a CRL signer, whatever its key usage says: rcgen refuses to
/// sign a CRL for an issuer whose key usage lacks cRLSign, and a misconfigured CA's CRL
/// is what some tests need.
pub fn signer_ignoring_key_usage(ca: &Ca) -> Issuer<'_, &KeyPair> {
    let mut params = ca.params.clone();
    params.key_usages.clear();
    Issuer::new(params, &ca.key)
}

/// A CRL signed by `issuer` from `this` to `next` (year, month, day), listing
/// `revoked`, with an issuingDistributionPoint naming `point` if given.
pub fn signed_crl(
    issuer: &Issuer<'_, &KeyPair>,
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
