//! The manual: how a connection is decided, and why it may be refused.
//!
//! ## The decision ([`Registry::decide`](crate::Registry::decide))
//! 1. **Bounds.** An empty chain is `NO_CERTIFICATE`; more than
//!    [`MAX_CHAIN_LEN`](crate::MAX_CHAIN_LEN) certificates is `CHAIN_TOO_LONG`; a
//!    certificate over [`MAX_CERTIFICATE_DER_LEN`](crate::MAX_CERTIFICATE_DER_LEN) bytes
//!    is `CERTIFICATE_TOO_LARGE`. Nothing is parsed before these checks.
//! 2. **Known leaf.** The leaf's SHA-256 is its certificate ID. If it is registered, its
//!    record decides: `ACTIVE` and valid now is allowed (else `CERTIFICATE_EXPIRED` /
//!    `CERTIFICATE_NOT_YET_VALID`); `PENDING_ACTIVATION` re-publishes the registration
//!    event (new `timestamp`, the original `certificateRegistrationTimestamp`) and is
//!    refused as `PENDING_ACTIVATION`; `INACTIVE`, `REVOKED`, `PENDING_TRANSFER` and
//!    `REGISTER_INACTIVE` are refused as `CERTIFICATE_INACTIVE`, `CERTIFICATE_REVOKED`,
//!    `CERTIFICATE_PENDING_TRANSFER` and `CERTIFICATE_REGISTER_INACTIVE`. A CA later
//!    deactivated does not stop certificates it already signed (AWS).
//! 3. **Unknown leaf: candidates.** The leaf must be a well-formed X.509 certificate
//!    (`MALFORMED_CERTIFICATE`: webpki reads v3; v1 leaves are read by jitr, see below).
//!    The candidates are the registered CAs whose subject matches the leaf's issuer as
//!    RFC 5280 §7.1 compares names ([`DistinguishedName::matches`](crate::DistinguishedName::matches):
//!    after RFC 4518 string preparation, so letter case, insignificant spaces and the
//!    string type do not matter). None: `UNKNOWN_ISSUER` — SNI would not help, so this
//!    comes before the SNI rule. A CA certificate sent in the chain that is a candidate narrows the
//!    candidates to itself. Only the CA that directly signed the leaf counts:
//!    intermediates are never used to reach a registered root.
//! 4. **SNI.** A leaf sent alone, without SNI, is refused as `SNI_REQUIRED`
//!    ([`RegistryConfig::require_sni_for_leaf_only`](crate::RegistryConfig)): AWS finds
//!    the account through the CA in the chain or the SNI. Checked before any signature is
//!    verified.
//! 5. **Path validation** by rustls-webpki against each candidate alone, for client
//!    authentication (an EKU extension, when present, must contain clientAuth; none at
//!    all is accepted, as AWS does): `BAD_SIGNATURE` when no candidate's key verifies,
//!    `CERTIFICATE_EXPIRED`, `CERTIFICATE_NOT_YET_VALID`, `EKU_NOT_CLIENT_AUTH`, or
//!    `INVALID_CERTIFICATE` with webpki's reason, or because the CA may not sign
//!    certificates (its keyUsage lacks keyCertSign: RFC 5280 §4.2.1.3; webpki does not
//!    check it). Several candidates verifying (matching subjects, the same key) is
//!    `AMBIGUOUS_CA`.
//! 6. **The CA.** `CA_INACTIVE`, `AUTO_REGISTRATION_DISABLED`, `CA_REQUIRES_SNI` (an
//!    `SNI_ONLY` CA is reached only through the SNI of its account), `CA_EXPIRED`,
//!    `CA_NOT_YET_VALID`.
//! 7. **Registration.** The leaf is stored as `PENDING_ACTIVATION` with the CA's ID and
//!    mode, the event is published, and the connection is refused as
//!    `REGISTERED_PENDING_ACTIVATION`. Of concurrent first connections exactly one
//!    registers; the others see the pending certificate (step 2).
//!
//!    A CA with a provisioning template (its registration config: JITP) provisions the
//!    device in the same transaction: the template runs on the leaf's subject, and its
//!    thing, groups, policies and certificate status are written with the registration,
//!    all or nothing. The connection is refused as `PROVISIONED` (the device connects
//!    again, as on AWS, and is then decided by step 2). When the template cannot
//!    provision the device (a parameter its subject lacks, a thing type or group that
//!    does not exist, a limit), the certificate stays `PENDING_ACTIVATION`, the failure
//!    is recorded for `describe_provisioning_failure`, and the connection is refused as
//!    `PROVISIONING_FAILED` with the reason. The registration event is published in
//!    both cases.
//!
//! While the registry's store cannot be reached, a new certificate cannot be registered
//! and is refused as `STORE_UNAVAILABLE`; a known one is decided from the node's cache,
//! or refused the same way with
//! [`StoreOutage::RefuseAll`](crate::StoreOutage::RefuseAll).
//!
//! A [`Directory`](crate::Directory) first selects the account by SNI: an unknown host
//! name with no default account is `UNKNOWN_SERVER_NAME`, no SNI with no default account
//! is `NO_ACCOUNT`.
//!
//! ## Choices where AWS is silent
//! - The CA and the leaf must be valid now; CA registration also refuses an expired CA
//!   or verification certificate.
//! - `REVOKED` is final; nothing leaves `PENDING_TRANSFER` through UpdateCertificate.
//! - Several registered CAs with the same subject and key are ambiguous unless the chain
//!   names one.
//! - A CA that webpki cannot use as a trust anchor (for example a v1 certificate) is
//!   refused at registration rather than never matching later, and so is a CA whose
//!   keyUsage lacks keyCertSign, whose subject is empty, or that has a critical extension
//!   nothing processes (RFC 5280 §4.2.1.3, §4.1.2.4, §4.2). A CA that got into the
//!   registry another way (a state file, a preflight) and lacks keyCertSign signs
//!   nothing: its devices are refused as `INVALID_CERTIFICATE`.
//! - Names are compared as RFC 5280 §7.1 says, after RFC 4518 string preparation. Two
//!   registered CAs whose subjects match only after preparation are both candidates, as
//!   identical subjects are: the signature decides between different keys; the same key
//!   is `AMBIGUOUS_CA` unless the chain names one.
//! - RFC 5280 §4's profile of what conforming CAs issue (an authorityKeyIdentifier in the
//!   device certificate, ...) is not required of devices, as AWS does not require it;
//!   [`PathOptions::rfc5280_profile`](crate::PathOptions) checks it for conformance
//!   suites.
//! - X.509 v1 *device* certificates are accepted, as AWS accepts them (`openssl x509
//!   -req` without an extensions file makes them, as in AWS's JITR walkthrough). webpki
//!   refuses v1, so jitr checks such a leaf itself: same CA index, directly signed by the
//!   CA (signature verified with its key), valid now; the verifier checks the TLS
//!   handshake signature with the certificate's key. Switch it off with
//!   [`RegistryConfig::accept_v1_device_certificates`](crate::RegistryConfig).

#[cfg(test)]
mod tests;
