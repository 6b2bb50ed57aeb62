//! What the account issues itself: its endpoint (DescribeEndpoint) and, with the
//! `tooling` feature, certificates signed by its own issuing CA (CreateKeysAndCertificate,
//! CreateCertificateFromCsr), as AWS IoT issues them
//! ([create your own client certificates](https://docs.aws.amazon.com/iot/latest/developerguide/device-certs-create.html),
//! [DescribeEndpoint](https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeEndpoint.html)).
//!
//! The issuing CA and the endpoint prefix are made on first use and kept in the store,
//! so every node and process of the account issues under the same CA and answers the
//! same endpoint. The issuing CA's private key lives in the store (and in
//! [`export_state`](Registry::export_state)): protect the store as the key.

use serde::{Deserialize, Serialize};

use super::Registry;
use crate::error::Error;
use crate::store::{Change, Kind, ResourceReads};
use crate::time::Timestamp;

/// The account's issuing CA as the store keeps it. `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct IssuerRow {
    /// The CA certificate, PEM.
    pub certificate_pem: String,
    /// Its private key, PEM (PKCS#8).
    pub private_key_pem: String,
    /// When it was made.
    pub creation_date: Timestamp,
}

impl core::fmt::Debug for IssuerRow {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IssuerRow")
            .field("certificate_pem", &self.certificate_pem)
            .field("private_key_pem", &"<redacted>")
            .field("creation_date", &self.creation_date)
            .finish()
    }
}

/// The account's endpoint prefix (14 lowercase letters and digits), as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EndpointRow {
    /// The prefix, e.g. `a1b2c3d4e5f6g7`.
    pub prefix: String,
}

/// The name the account's single issuer and endpoint rows have.
const ONE: &str = "account";

/// The endpoint types of DescribeEndpoint and the host name each has, after the prefix.
const ENDPOINT_TYPES: [(&str, &str); 4] = [
    ("iot:Data", ".iot"),
    ("iot:Data-ATS", "-ats.iot"),
    ("iot:CredentialProvider", ".credentials.iot"),
    ("iot:Jobs", ".jobs.iot"),
];

fn random_prefix() -> Result<String, Error> {
    use ring::rand::SecureRandom;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 14];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| {
            Error::Internal(crate::error::InternalError::new(
                "make the endpoint prefix",
                "the system's randomness failed",
            ))
        })?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

impl Registry {
    /// DescribeEndpoint: the account's endpoint host name of `endpoint_type` (`iot:Data`
    /// when omitted, as AWS; `iot:Data-ATS` is the one to use), made on the first call and
    /// the same ever after. A gateway serving the account answers to these names (its
    /// [`Directory`](crate::Directory) routes them by SNI).
    pub fn describe_endpoint(&self, endpoint_type: Option<&str>) -> Result<String, Error> {
        let kind = endpoint_type.unwrap_or("iot:Data");
        let Some((_, infix)) = ENDPOINT_TYPES.iter().find(|(t, _)| *t == kind) else {
            return Err(Error::InvalidRequest(format!(
                "{:?} is not an endpoint type: iot:Data, iot:Data-ATS, iot:CredentialProvider or iot:Jobs",
                crate::id::truncate_for_message(kind)
            )));
        };
        let known = self.read(|r| r.row::<EndpointRow>(&self.scope, Kind::Endpoint, ONE))?;
        let row = match known {
            Some(row) => row,
            None => {
                let fresh = EndpointRow {
                    prefix: random_prefix()?,
                };
                // The first writer's prefix wins; a concurrent caller reads it.
                self.commit(
                    |r| match r.row::<EndpointRow>(&self.scope, Kind::Endpoint, ONE)? {
                        Some(row) => Ok((row, Vec::new())),
                        None => Ok((fresh.clone(), vec![Change::EndpointCreated(fresh.clone())])),
                    },
                )?
            }
        };
        Ok(format!(
            "{}{infix}.{}.{}",
            row.prefix,
            self.scope.region(),
            dns_suffix(self.scope.partition())
        ))
    }
}

/// The DNS suffix of a partition's endpoints.
fn dns_suffix(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "amazonaws.com.cn",
        _ => "amazonaws.com",
    }
}

#[cfg(feature = "tooling")]
pub use issuing::CreateKeysAndCertificateResponse;

#[cfg(feature = "tooling")]
mod issuing {
    use serde::Serialize;

    use super::{IssuerRow, ONE};
    use crate::cert::Certificate;
    use crate::error::Error;
    use crate::registry::{RegisterCertificateResponse, Registry};
    use crate::status::CertificateStatus;
    use crate::store::{Change, Kind, ResourceReads};
    use crate::time::Timestamp;
    use crate::tooling::{self, CertificateOptions, GeneratedCertificate, KeyType};

    /// CreateKeysAndCertificate's output.
    #[derive(Clone, Serialize)]
    #[serde(rename_all = "camelCase")]
    #[non_exhaustive]
    pub struct CreateKeysAndCertificateResponse {
        /// The certificate's ARN.
        pub certificate_arn: String,
        /// Its ID.
        pub certificate_id: String,
        /// The certificate, PEM.
        pub certificate_pem: String,
        /// `{"PublicKey": PEM, "PrivateKey": PEM}`: the only time the private key is given.
        pub key_pair: KeyPairPem,
    }

    impl core::fmt::Debug for CreateKeysAndCertificateResponse {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.debug_struct("CreateKeysAndCertificateResponse")
                .field("certificate_id", &self.certificate_id)
                .field("key_pair", &"<redacted>")
                .finish()
        }
    }

    /// A key pair as CreateKeysAndCertificate returns it.
    #[derive(Clone, Serialize)]
    #[non_exhaustive]
    pub struct KeyPairPem {
        /// The public key, PEM.
        #[serde(rename = "PublicKey")]
        pub public_key: String,
        /// The private key, PEM (PKCS#8).
        #[serde(rename = "PrivateKey")]
        pub private_key: String,
    }

    impl Registry {
        /// The account's issuing CA, made on first use (an EC P-256 root named after the
        /// account and region) and kept in the store.
        fn issuer(&self, now: Timestamp) -> Result<GeneratedCertificate, Error> {
            let known = self.read(|r| r.row::<IssuerRow>(&self.scope, Kind::Issuer, ONE))?;
            let row = match known {
                Some(row) => row,
                None => {
                    let mut options = CertificateOptions::new_ca(now);
                    options.valid_days = 36_500;
                    options.organization = Some(format!("jitr account {}", self.scope.account()));
                    let ca = tooling::generate_ca(
                        &format!(
                            "jitr issuing CA {} {}",
                            self.scope.partition(),
                            self.scope.region()
                        ),
                        &options,
                        None,
                    )?;
                    let fresh = IssuerRow {
                        certificate_pem: ca.certificate_pem(),
                        private_key_pem: ca.private_key_pem(),
                        creation_date: now,
                    };
                    self.commit(
                        |r| match r.row::<IssuerRow>(&self.scope, Kind::Issuer, ONE)? {
                            Some(row) => Ok((row, Vec::new())),
                            None => Ok((fresh.clone(), vec![Change::IssuerCreated(fresh.clone())])),
                        },
                    )?
                }
            };
            GeneratedCertificate::from_pem(&row.certificate_pem, &row.private_key_pem)
        }

        /// The account's issuing CA certificate (made on first use): what a client that
        /// verifies certificates the account issued trusts.
        pub fn issuing_ca_certificate(&self, now: Timestamp) -> Result<Certificate, Error> {
            Ok(self.issuer(now)?.certificate().clone())
        }

        fn register_issued(
            &self,
            cert: &Certificate,
            set_as_active: bool,
            now: Timestamp,
        ) -> Result<RegisterCertificateResponse, Error> {
            let status = if set_as_active {
                CertificateStatus::Active
            } else {
                CertificateStatus::Inactive
            };
            self.register_issued_certificate(cert, status, now)
        }

        /// CreateKeysAndCertificate: a new 2048-bit RSA key pair and a certificate for it
        /// signed by the account's issuing CA (Common Name `AWS IoT Certificate`, valid until
        /// 2049-12-31), registered `ACTIVE` if `set_as_active`, else `INACTIVE`, with no CA
        /// certificate ID, as AWS does.
        pub fn create_keys_and_certificate(
            &self,
            set_as_active: bool,
            now: Timestamp,
        ) -> Result<CreateKeysAndCertificateResponse, Error> {
            let issuer = self.issuer(now)?;
            let issued = tooling::issue_with_new_key(&issuer, KeyType::Rsa2048, now)?;
            let out = self.register_issued(issued.certificate(), set_as_active, now)?;
            Ok(CreateKeysAndCertificateResponse {
                certificate_arn: out.certificate_arn,
                certificate_id: out.certificate_id.to_string(),
                certificate_pem: issued.certificate_pem(),
                key_pair: KeyPairPem {
                    public_key: issued.public_key_pem(),
                    private_key: issued.private_key_pem(),
                },
            })
        }

        /// CreateCertificateFromCsr: a certificate for the CSR's key signed by the account's
        /// issuing CA ([`tooling::issue_from_csr`]: AWS's key rules; each call a distinct
        /// certificate), registered as [`create_keys_and_certificate`](Self::create_keys_and_certificate)
        /// registers. Returns the registration and the certificate.
        pub fn create_certificate_from_csr(
            &self,
            csr_pem: &str,
            set_as_active: bool,
            now: Timestamp,
        ) -> Result<(RegisterCertificateResponse, Certificate), Error> {
            let issuer = self.issuer(now)?;
            let cert = tooling::issue_from_csr(&issuer, csr_pem, now)?;
            let out = self.register_issued(&cert, set_as_active, now)?;
            Ok((out, cert))
        }
    }
}
