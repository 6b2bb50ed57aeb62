//! Deterministic keys and certificates for the test-vector generator.
//!
//! Every signature made here is deterministic, so that regenerating the vectors yields
//! byte-identical files:
//! - Ed25519 (RFC 8032) keys are derived from fixed 32-byte seeds;
//! - RSA PKCS#1 v1.5 with SHA-256 is deterministic; one fixed RSA-2048 key is embedded below;
//! - ECDSA P-256 normally takes a random nonce: *ring* hashes the private key, the message
//!   digest and the output of the RNG it is handed into the nonce, so handing it a constant
//!   "RNG" makes the nonce a function of (key, message) — deterministic like RFC 6979.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SerialNumber, SignatureAlgorithm, SigningKey,
};
use ring::digest;
use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_ASN1_SIGNING};

/// The one RSA key of the vectors, made once with
/// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048` (test material only).
const RSA_2048_PKCS8_PEM: &str = include_str!("../../data/rsa-2048-key.pem");

/// PKCS#8 v1 prefix of an Ed25519 private key; the 32-byte seed follows.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

pub(crate) type Error = Box<dyn std::error::Error>;

/// 32 bytes derived from a label: the seeds of all generated keys.
fn seed(label: &str) -> [u8; 32] {
    let d = digest::digest(
        &digest::SHA256,
        format!("jitr test vectors/{label}").as_bytes(),
    );
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Lowercase hex SHA-256: the certificateId rule (spec §1).
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, bytes))
}

/// A deterministic ECDSA P-256 signer (see the module comment).
pub(crate) struct P256Key {
    pair: EcdsaKeyPair,
    public: Vec<u8>,
}

impl P256Key {
    #[allow(deprecated)] // ring's fixed "RNG"s live in its (deprecated, hidden) test module
    fn from_label(label: &str) -> Result<Self, Error> {
        let s = seed(label);
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            &ring::test::rand::FixedSliceRandom { bytes: &s },
        )
        .map_err(|e| format!("P-256 key generation: {e}"))?;
        let pair = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            pkcs8.as_ref(),
            &ring::test::rand::FixedByteRandom { byte: 0x5a },
        )
        .map_err(|e| format!("P-256 key: {e}"))?;
        let public = pair.public_key().as_ref().to_vec();
        Ok(Self { pair, public })
    }
}

impl PublicKeyData for P256Key {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl SigningKey for P256Key {
    #[allow(deprecated)]
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let rng = ring::test::rand::FixedByteRandom { byte: 0xa5 };
        self.pair
            .sign(&rng, msg)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| rcgen::Error::RingUnspecified)
    }
}

/// A signing key of one of the three kinds used by the vectors.
pub(crate) enum Key {
    /// Ed25519 or RSA, through rcgen (both deterministic).
    Rcgen(KeyPair),
    /// ECDSA P-256 with a deterministic nonce.
    P256(P256Key),
}

impl Key {
    pub(crate) fn ed25519(label: &str) -> Result<Self, Error> {
        let mut der = ED25519_PKCS8_PREFIX.to_vec();
        der.extend_from_slice(&seed(label));
        let kp = KeyPair::try_from(der)?;
        if kp.algorithm() != &rcgen::PKCS_ED25519 {
            return Err("Ed25519 seed did not load as an Ed25519 key".into());
        }
        Ok(Key::Rcgen(kp))
    }

    pub(crate) fn rsa2048() -> Result<Self, Error> {
        let kp = KeyPair::from_pem(RSA_2048_PKCS8_PEM)?;
        if kp.algorithm() != &rcgen::PKCS_RSA_SHA256 {
            return Err("embedded RSA key did not load as RSA PKCS#1 SHA-256".into());
        }
        Ok(Key::Rcgen(kp))
    }

    pub(crate) fn p256(label: &str) -> Result<Self, Error> {
        Ok(Key::P256(P256Key::from_label(label)?))
    }
}

impl PublicKeyData for Key {
    fn der_bytes(&self) -> &[u8] {
        match self {
            Key::Rcgen(k) => k.der_bytes(),
            Key::P256(k) => k.der_bytes(),
        }
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        match self {
            Key::Rcgen(k) => PublicKeyData::algorithm(k),
            Key::P256(k) => k.algorithm(),
        }
    }
}

impl SigningKey for Key {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        match self {
            Key::Rcgen(k) => k.sign(msg),
            Key::P256(k) => k.sign(msg),
        }
    }
}

/// A calendar date (UTC midnight).
pub(crate) type Ymd = (i32, u8, u8);

/// Validity of normal certificates.
pub(crate) const NOT_BEFORE: Ymd = (2025, 1, 1);
pub(crate) const NOT_AFTER: Ymd = (2035, 1, 1);

/// Extended key usage of an end-entity certificate.
#[derive(Clone, Copy)]
pub(crate) enum Eku {
    ClientAuth,
    ServerAuth,
    /// No extendedKeyUsage extension at all.
    Absent,
}

/// Subject DN `O=jitr test vectors, CN=<cn>`.
pub(crate) fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "jitr test vectors");
    dn.push(DnType::CommonName, cn);
    dn
}

fn base_params(cn: &str, serial: u64, validity: (Ymd, Ymd)) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(cn);
    p.serial_number = Some(SerialNumber::from(serial));
    let ((y1, m1, d1), (y2, m2, d2)) = validity;
    p.not_before = rcgen::date_time_ymd(y1, m1, d1);
    p.not_after = rcgen::date_time_ymd(y2, m2, d2);
    p
}

/// Parameters of a CA certificate: basicConstraints CA (unconstrained), keyCertSign + cRLSign.
pub(crate) fn ca_params(cn: &str, serial: u64, validity: (Ymd, Ymd)) -> CertificateParams {
    let mut p = base_params(cn, serial, validity);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

/// Parameters of an end-entity certificate (device or verification certificate).
pub(crate) fn leaf_params(
    cn: &str,
    serial: u64,
    validity: (Ymd, Ymd),
    eku: Eku,
) -> CertificateParams {
    let mut p = base_params(cn, serial, validity);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = match eku {
        Eku::ClientAuth => vec![ExtendedKeyUsagePurpose::ClientAuth],
        Eku::ServerAuth => vec![ExtendedKeyUsagePurpose::ServerAuth],
        Eku::Absent => Vec::new(),
    };
    p.use_authority_key_identifier_extension = true;
    p
}

/// A generated certificate, with its DER, PEM and certificateId.
#[derive(Clone)]
pub(crate) struct Cert {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) der: Vec<u8>,
    pub(crate) pem: String,
    pub(crate) id: String,
}

impl Cert {
    fn new(name: &str, description: &str, der: Vec<u8>) -> Self {
        Cert {
            name: name.to_string(),
            description: description.to_string(),
            pem: pem_encode("CERTIFICATE", &der),
            id: sha256_hex(&der),
            der,
        }
    }
}

/// A CA: its parameters (to issue from), its key and its certificate.
pub(crate) struct Ca {
    pub(crate) params: CertificateParams,
    pub(crate) key: Key,
    pub(crate) cert: Cert,
}

impl Ca {
    /// A self-signed CA.
    pub(crate) fn root(
        name: &str,
        description: &str,
        params: CertificateParams,
        key: Key,
    ) -> Result<Self, Error> {
        let der = params.self_signed(&key)?.der().to_vec();
        Ok(Ca {
            cert: Cert::new(name, description, der),
            params,
            key,
        })
    }

    /// A CA certificate signed by `issuer` (an intermediate).
    pub(crate) fn signed_by(
        name: &str,
        description: &str,
        params: CertificateParams,
        key: Key,
        issuer: &Ca,
    ) -> Result<Self, Error> {
        let der = params.signed_by(&key, &Issuer::from_params(&issuer.params, &issuer.key))?;
        Ok(Ca {
            cert: Cert::new(name, description, der.der().to_vec()),
            params,
            key,
        })
    }

    /// Issues an end-entity certificate for `subject_key` with this CA's name and key.
    pub(crate) fn issue(
        &self,
        name: &str,
        description: &str,
        params: &CertificateParams,
        subject_key: &Key,
    ) -> Result<Cert, Error> {
        issue_with(
            name,
            description,
            params,
            subject_key,
            &self.params,
            &self.key,
        )
    }
}

/// Issues a certificate whose issuer name is `issuer_params`' subject, signed by `issuer_key`
/// (which need not be the key of any real CA: used to forge bad signatures).
pub(crate) fn issue_with(
    name: &str,
    description: &str,
    params: &CertificateParams,
    subject_key: &Key,
    issuer_params: &CertificateParams,
    issuer_key: &Key,
) -> Result<Cert, Error> {
    let cert = params.signed_by(subject_key, &Issuer::from_params(issuer_params, issuer_key))?;
    Ok(Cert::new(name, description, cert.der().to_vec()))
}

/// A self-signed certificate that is not a CA.
pub(crate) fn self_signed(
    name: &str,
    description: &str,
    params: &CertificateParams,
    key: &Key,
) -> Result<Cert, Error> {
    Ok(Cert::new(
        name,
        description,
        params.self_signed(key)?.der().to_vec(),
    ))
}

/// PEM with LF line endings and 64-character lines on every platform.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
