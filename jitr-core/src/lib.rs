//! # jitr-core
//!
//! Just-in-Time Registration (JITR) of X.509 device certificates, as AWS IoT Core does
//! it, for any mutual-TLS service.
//!
//! A fleet owner registers a CA certificate with a [`Registry`], proving possession of
//! its key with a verification certificate whose Common Name is the account's
//! registration code. With auto-registration enabled on that CA, the first time a device
//! connects with a certificate the CA signed, [`Registry::decide`] registers the device
//! certificate as `PENDING_ACTIVATION`, refuses the connection and publishes a
//! [`RegistrationEvent`] on `$aws/events/certificates/registered/<caCertificateId>`. A
//! handler activates the certificate ([`Registry::update_certificate`]) and attaches a
//! policy; from then on the device connects.
//!
//! The design:
//! - **Pure and clock-free.** Every operation takes `now`; nothing reads a clock or does
//!   I/O. Events reach the host through an [`EventSink`] and are returned in the
//!   [`Decision`].
//! - **AWS's names.** Operations, inputs, outputs, statuses and error codes
//!   ([`Error::code`]) are AWS IoT's (boto3's `iot` client), so the Python and JavaScript
//!   front ends only convert.
//! - **A fast, safe decision.** A registered certificate is found by its SHA-256 in one
//!   of 64 shards. An unknown one is matched to candidate CAs through an immutable index
//!   keyed by subject (swapped whole when CAs change), then verified by rustls-webpki
//!   against those anchors alone. Chain length and certificate size are bounded before
//!   any parsing.
//!
//! The whole story, in-process:
//!
//! ```
//! use jitr_core::*;
//! use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
//! use rustls_pki_types::CertificateDer;
//!
//! let now = Timestamp::from_unix_secs(1_780_000_000); // 2026-05-28
//! let registry = Registry::new(Scope::new("123456789012", "us-east-1")?);
//!
//! // The fleet owner's CA and its proof of possession.
//! let ca_key = KeyPair::generate()?;
//! let mut ca_params = CertificateParams::new(vec![])?;
//! ca_params.distinguished_name.push(DnType::CommonName, "Fleet CA");
//! ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
//! let ca_cert = ca_params.self_signed(&ca_key)?;
//! let ca = rcgen::Issuer::new(ca_params, &ca_key);
//! let mut v_params = CertificateParams::new(vec![])?;
//! v_params
//!     .distinguished_name
//!     .push(DnType::CommonName, registry.get_registration_code()?);
//! let verification = v_params.signed_by(&KeyPair::generate()?, &ca)?;
//!
//! let ca_id = registry
//!     .register_ca_certificate(
//!         &RegisterCaCertificateRequest {
//!             ca_certificate: ca_cert.pem(),
//!             verification_certificate: Some(verification.pem()),
//!             set_as_active: true,
//!             allow_auto_registration: true,
//!             ..Default::default()
//!         },
//!         now,
//!     )?
//!     .certificate_id;
//!
//! // A device connects for the first time with its certificate and the CA.
//! let mut d_params = CertificateParams::new(vec![])?;
//! d_params.distinguished_name.push(DnType::CommonName, "device-1");
//! let device = d_params.signed_by(&KeyPair::generate()?, &ca)?;
//! let chain = [device.der().clone(), ca_cert.der().clone()];
//! let first = registry.decide(&chain, None, now);
//! assert_eq!(first.reason_code(), Some("REGISTERED_PENDING_ACTIVATION"));
//! let event = first.event.clone().expect("an event");
//! assert_eq!(event.topic(), format!("$aws/events/certificates/registered/{ca_id}"));
//!
//! // The handler activates it; the device connects.
//! let id = first.certificate_id.expect("the leaf's id");
//! registry.update_certificate(&id, CertificateStatus::Active, now)?;
//! assert!(registry.decide(&chain, None, now).is_allowed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! See [`manual`] for every refusal reason and the choices jitr makes where AWS is
//! silent.

#![deny(missing_docs)]
#![forbid(unsafe_code)]
// Library code never unwraps: input must not reach a panic.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
// A refusal is a `Decision` returned by value once per connection; boxing it would add
// an allocation to every refusal.
#![allow(clippy::result_large_err)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod api;
mod cert;
pub mod crl;
mod directory;
mod error;
mod event;
pub mod handler;
mod id;
pub mod input;
pub mod inspect;
mod json_message;
pub mod manual;
pub mod policy;
pub mod provisioning;
mod registry;
mod scope;
mod status;
pub mod store;
mod time;
#[cfg(feature = "tooling")]
pub mod tooling;
#[cfg(feature = "rustls")]
pub mod verifier;

// The public interface is:
pub use cert::{
    parse_pem_chain, pem_blocks_der, BasicConstraints, Certificate, DistinguishedName,
    KeyAlgorithm, MAX_CERTIFICATE_DER_LEN, MAX_CHAIN_LEN, MAX_PEM_LEN,
};
pub use directory::{Directory, Routed, Router};
pub use error::{CertificateError, CertificateErrorKind, Error, InternalError, ResourceKind};
pub use event::{registration_topic, EventSink, RegistrationEvent};
pub use id::CertificateId;
#[cfg(feature = "tooling")]
pub use registry::CreateKeysAndCertificateResponse;
pub use registry::{
    check_verification_certificate, preflight, validate_policy_document, validate_policy_name,
    AttachedPolicy, CaCertificateDescription, CaCertificateState, CaCertificateSummary,
    CertificateDescription, CertificateState, CertificateSummary, CreatePolicyResponse, Decision,
    DescribeCaCertificateResponse, GetPolicyResponse, ListRequest, Page, PathOptions, PolicyState,
    PreflightCa, PreflightCertificate, RefusalReason, RegisterCaCertificateRequest,
    RegisterCertificateRequest, RegisterCertificateResponse, RegistrationConfig, Registry,
    RegistryConfig, RegistryState, RequiredEku, StoreOutage, Subscription, Tag, TransferData,
    UpdateCaCertificateRequest, DEFAULT_PAGE_SIZE, MAX_CA_PEM_LEN, MAX_PAGE_SIZE,
    MAX_POLICY_DOCUMENT_LEN, MAX_TEMPLATE_BODY_LEN,
};
pub use registry::{
    validate_thing_name, AttributePayload, ConnectionInfo, CreatePolicyVersionResponse,
    CreateThingResponse, CreateThingTypeResponse, EffectivePolicy, GetPolicyVersionResponse,
    PolicyVersionSummary, ThingDescription, ThingFilter, ThingPrincipalType, ThingSummary,
    ThingTypeDescription, ThingTypeMetadata, ThingTypeProperties, MAX_POLICIES_PER_TARGET,
    MAX_POLICY_VERSIONS, MAX_TAGS, MAX_THING_ATTRIBUTES,
};
pub use registry::{
    EndpointRow, GroupNameAndArn, IssuerRow, ProvisioningFailureRow,
    ProvisioningTemplateDescription, ProvisioningTemplateRow, ProvisioningTemplateSummary,
    ThingGroupDescription, ThingGroupRow,
};
pub use scope::Scope;
pub use status::{
    AutoRegistrationStatus, CaStatus, CertificateMode, CertificateStatus, Transition,
};
pub use store::{Change, Committed, Store};
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub use time::SystemClock;
pub use time::{Clock, FixedClock, Timestamp, Validity, ValidityCheck};

/// Re-exported so hosts name the same types jitr takes.
pub use rustls_pki_types;
