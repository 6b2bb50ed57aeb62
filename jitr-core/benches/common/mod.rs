//! Certificates and registries for the benchmarks.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};

pub const RSA_KEY: &str = include_str!("../../../tests/data/rsa-2048-key.pem");

/// 2026-06-01.
pub fn now() -> Timestamp {
    Timestamp::from_unix_secs(1_780_272_000)
}

pub struct Ca {
    pub params: CertificateParams,
    pub key: KeyPair,
    pub der: CertificateDer<'static>,
    pub pem: String,
}

impl Ca {
    pub fn new(cn: &str, key: KeyPair) -> Self {
        let mut params = CertificateParams::new(vec![]).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.not_before = rcgen::date_time_ymd(2025, 1, 1);
        params.not_after = rcgen::date_time_ymd(2035, 1, 1);
        let cert = params.self_signed(&key).unwrap();
        Self {
            der: cert.der().clone(),
            pem: cert.pem(),
            params,
            key,
        }
    }

    pub fn p256(cn: &str) -> Self {
        Self::new(cn, KeyPair::generate().unwrap())
    }

    pub fn rsa(cn: &str) -> Self {
        Self::new(cn, KeyPair::from_pem(RSA_KEY).unwrap())
    }

    /// A device certificate (P-256 key) signed by this CA, and its key (PKCS#8 DER).
    pub fn device(&self, cn: &str) -> (CertificateDer<'static>, Vec<u8>) {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec![]).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.not_before = rcgen::date_time_ymd(2025, 1, 1);
        p.not_after = rcgen::date_time_ymd(2035, 1, 1);
        let cert = p
            .signed_by(&key, &Issuer::new(self.params.clone(), &self.key))
            .unwrap();
        (cert.der().clone(), key.serialize_der())
    }
}

/// A registry holding `cas` (ACTIVE, auto-registration, SNI_ONLY so no verification
/// certificate is needed), loaded in one go from a state (registering 100,000 CAs one by
/// one would rebuild the CA index each time).
pub fn registry_with(cas: &[&str]) -> Registry {
    let ca_states: Vec<_> = cas
        .iter()
        .map(|pem| {
            let id = Certificate::from_pem(pem).unwrap().id();
            serde_json::json!({
                "certificateId": id.to_string(),
                "certificatePem": pem,
                "status": "ACTIVE",
                "autoRegistrationStatus": "ENABLE",
                "certificateMode": "SNI_ONLY",
                "creationDate": 0,
                "lastModifiedDate": 0,
                "customerVersion": 1,
                "generationId": "00000000-0000-4000-8000-000000000000"
            })
        })
        .collect();
    let state = serde_json::json!({
        "format": 1,
        "scope": {"partition": "aws", "region": "us-east-1", "account": "123456789012"},
        "registrationCode": null,
        "caCertificates": ca_states,
        "certificates": [],
        "policies": [],
        "attachments": []
    });
    let state = RegistryState::from_json(&state.to_string()).unwrap();
    Registry::from_state(&state, RegistryConfig::default()).unwrap()
}

/// `n` distinct CA certificates (Ed25519: fast to make) as PEM.
pub fn filler_cas(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            Ca::new(
                &format!("Filler CA {i}"),
                KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap(),
            )
            .pem
        })
        .collect()
}
