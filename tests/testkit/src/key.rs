//! Signing keys: deterministic ones (for the vectors) and random ones (for tests that
//! need many distinct keys).
//!
//! Every signature made with a deterministic key is deterministic:
//! - Ed25519 (RFC 8032) keys are derived from fixed 32-byte seeds;
//! - RSA PKCS#1 v1.5 with SHA-256 is deterministic; one fixed RSA-2048 key is embedded;
//! - ECDSA P-256 normally takes a random nonce: *ring* hashes the private key, the message
//!   digest and the output of the RNG it is handed into the nonce, so handing it a constant
//!   "RNG" makes the nonce a function of (key, message) — deterministic like RFC 6979.

use rcgen::{KeyPair, PublicKeyData, SignatureAlgorithm, SigningKey};
use ring::digest;
use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_ASN1_SIGNING};

use crate::Error;

/// The one RSA key of the tests and vectors, made once with
/// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048` (test material only).
const RSA_2048_PKCS8_PEM: &str = include_str!("../data/rsa-2048-key.pem");

/// PKCS#8 v1 prefix of an Ed25519 private key; the 32-byte seed follows.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// 32 bytes derived from a label: the seeds of all deterministic keys.
fn seed(label: &str) -> [u8; 32] {
    let d = digest::digest(
        &digest::SHA256,
        format!("jitr test vectors/{label}").as_bytes(),
    );
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// A signing key: rcgen's (Ed25519, RSA, or any random key) or a deterministic ECDSA
/// P-256 one. It signs certificates through rcgen ([`SigningKey`]).
pub struct Key(Inner);

enum Inner {
    /// Through rcgen: Ed25519 and RSA (both deterministic), or a random key.
    Rcgen(KeyPair),
    /// ECDSA P-256 with a deterministic nonce.
    P256(P256Key),
}

impl Key {
    /// The Ed25519 key whose seed is derived from `label`: the same label, the same key.
    pub fn ed25519(label: &str) -> Result<Self, Error> {
        let mut der = ED25519_PKCS8_PREFIX.to_vec();
        der.extend_from_slice(&seed(label));
        let kp = KeyPair::try_from(der)?;
        if kp.algorithm() != &rcgen::PKCS_ED25519 {
            return Err("Ed25519 seed did not load as an Ed25519 key".into());
        }
        Ok(Self(Inner::Rcgen(kp)))
    }

    /// The one embedded RSA-2048 key (PKCS#1 v1.5 SHA-256 signatures; ring cannot
    /// generate RSA keys).
    pub fn rsa2048() -> Result<Self, Error> {
        let kp = KeyPair::from_pem(RSA_2048_PKCS8_PEM)?;
        if kp.algorithm() != &rcgen::PKCS_RSA_SHA256 {
            return Err("embedded RSA key did not load as RSA PKCS#1 SHA-256".into());
        }
        Ok(Self(Inner::Rcgen(kp)))
    }

    /// The ECDSA P-256 key derived from `label`, signing with deterministic nonces.
    pub fn p256(label: &str) -> Result<Self, Error> {
        Ok(Self(Inner::P256(P256Key::from_label(label)?)))
    }

    /// A fresh random key for `alg` (ECDSA or Ed25519; not RSA).
    pub fn random(alg: &'static SignatureAlgorithm) -> Result<Self, Error> {
        Ok(Self(Inner::Rcgen(KeyPair::generate_for(alg)?)))
    }

    /// A fresh random ECDSA P-256 key.
    pub fn random_p256() -> Result<Self, Error> {
        Self::random(&rcgen::PKCS_ECDSA_P256_SHA256)
    }

    /// A fresh random Ed25519 key (the fastest to make).
    pub fn random_ed25519() -> Result<Self, Error> {
        Self::random(&rcgen::PKCS_ED25519)
    }

    /// The private key as PKCS#8 DER (what TLS stacks load).
    pub fn pkcs8_der(&self) -> Vec<u8> {
        match &self.0 {
            Inner::Rcgen(k) => k.serialize_der(),
            Inner::P256(k) => k.pkcs8.clone(),
        }
    }
}

impl From<KeyPair> for Key {
    /// An rcgen key pair made elsewhere (for example a random one of a given kind).
    fn from(pair: KeyPair) -> Self {
        Self(Inner::Rcgen(pair))
    }
}

impl PublicKeyData for Key {
    fn der_bytes(&self) -> &[u8] {
        match &self.0 {
            Inner::Rcgen(k) => k.der_bytes(),
            Inner::P256(k) => &k.public,
        }
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        match &self.0 {
            Inner::Rcgen(k) => PublicKeyData::algorithm(k),
            Inner::P256(_) => &rcgen::PKCS_ECDSA_P256_SHA256,
        }
    }
}

impl SigningKey for Key {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        match &self.0 {
            Inner::Rcgen(k) => k.sign(msg),
            Inner::P256(k) => k.sign(msg),
        }
    }
}

/// A deterministic ECDSA P-256 signer (see the module comment).
struct P256Key {
    pair: EcdsaKeyPair,
    public: Vec<u8>,
    pkcs8: Vec<u8>,
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
        Ok(Self {
            pair,
            public,
            pkcs8: pkcs8.as_ref().to_vec(),
        })
    }

    #[allow(deprecated)]
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let rng = ring::test::rand::FixedByteRandom { byte: 0xa5 };
        self.pair
            .sign(&rng, msg)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| rcgen::Error::RingUnspecified)
    }
}
