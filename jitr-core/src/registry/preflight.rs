//! What JITR would decide, on a throw-away registry: for tools that diagnose a device
//! (the browser page) without a service behind them.
//!
//! A CA given with a registration config (a JITP template body) provisions the device
//! as the real registry's decision does ([just-in-time
//! provisioning](https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html)):
//! the answer is `PROVISIONED` (the thing, the policies, the status) or
//! `PROVISIONING_FAILED` with the reason. The throw-away registry starts empty, so before
//! deciding it is given what the template's plan for this device names and the account
//! must already hold: the thing type, the thing groups, and the policies named by
//! `PolicyName` (with a placeholder document). The pre-flight takes the user's word that
//! the account has them, and answers "would this device be provisioned, and into
//! what"; what the template itself gets wrong (a missing parameter, a bad name) still
//! fails as it would on AWS.

use std::collections::BTreeMap;

use rustls_pki_types::CertificateDer;

use super::index::NoSigner;
use super::{AttributePayload, Decision, RegistrationConfig, Registry, RegistryConfig};
use crate::cert::Certificate;
use crate::error::Error;
use crate::id::CertificateId;
use crate::provisioning::{certificate_parameters, Template};
use crate::scope::Scope;
use crate::status::{AutoRegistrationStatus, CaStatus, CertificateMode, CertificateStatus};
use crate::store::{CaRow, CertRow, Change, Meta, Store};
use crate::time::Timestamp;

/// A CA as the user says it is registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreflightCa {
    /// The CA certificate, PEM.
    pub pem: String,
    /// Its status.
    pub status: CaStatus,
    /// Its auto-registration status.
    pub auto_registration_status: AutoRegistrationStatus,
    /// Its mode.
    pub certificate_mode: CertificateMode,
    /// Its just-in-time provisioning configuration, if any: a `template_body` (a
    /// pre-flight has no provisioning templates for a `template_name` to name).
    pub registration_config: Option<RegistrationConfig>,
}

/// The document given to a policy a template names by `PolicyName` (the pre-flight does
/// not know the account's): valid, and granting nothing.
const PLACEHOLDER_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/jitr-preflight-placeholder"}]}"#;

/// A device certificate as the user says it is registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreflightCertificate {
    /// Its ID.
    pub certificate_id: CertificateId,
    /// Its status.
    pub status: CertificateStatus,
}

/// The decision [`Registry::decide`] would make for `chain` if the account held exactly
/// these CAs (as given, without proof of possession or validity checks at registration)
/// and these device certificates. Nothing persists; the registration event in a
/// `REGISTERED_PENDING_ACTIVATION` decision is what would be published, for `account`.
///
/// A registered certificate that is not the chain's leaf cannot affect the decision and
/// is ignored. Malformed CA PEMs are errors; a CA listed twice keeps its first entry.
///
/// A CA with a registration config provisions an unknown leaf as the real decision does
/// ([JITP](https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html)):
/// `PROVISIONED` or `PROVISIONING_FAILED`. Its config must hold a template body that AWS
/// would store (`InvalidRequestException` otherwise). The throw-away registry is empty, so
/// the thing type, thing groups and `PolicyName` policies the template's plan for the
/// leaf names are created first: the caller says the account has them.
pub fn preflight(
    account: &str,
    chain: &[CertificateDer<'_>],
    cas: &[PreflightCa],
    certificates: &[PreflightCertificate],
    server_name: Option<&str>,
    now: Timestamp,
) -> Result<Decision, Error> {
    let scope = Scope::new(account, "us-east-1")?;
    let reg = Registry::open(scope, RegistryConfig::default(), &Store::memory())?;
    let mut rows: BTreeMap<CertificateId, CaRow> = BTreeMap::new();
    let mut templates: BTreeMap<CertificateId, Template> = BTreeMap::new();
    for ca in cas {
        let cert = Certificate::from_pem(&ca.pem)?;
        if rows.contains_key(&cert.id()) {
            continue;
        }
        if let Some(cfg) = &ca.registration_config {
            templates.insert(cert.id(), template_of(cfg)?);
        }
        rows.insert(
            cert.id(),
            CaRow {
                certificate_id: cert.id(),
                certificate_pem: cert.to_pem(),
                status: ca.status,
                auto_registration_status: ca.auto_registration_status,
                certificate_mode: ca.certificate_mode,
                registration_config: ca.registration_config.clone(),
                tags: Vec::new(),
                meta: Meta::new(now),
                parsed: Some(cert),
            },
        );
    }
    let mut changes: Vec<Change> = rows
        .into_values()
        .map(Change::CaCertificateRegistered)
        .collect();
    reg.commit(|_| Ok(((), std::mem::take(&mut changes))))?;
    if let Some(leaf) = chain.first() {
        // A leaf that does not parse is the decision's to report.
        if let Ok(cert) = Certificate::from_der(leaf) {
            for template in templates.values() {
                create_what_the_plan_names(&reg, template, &cert, now)?;
            }
        }
        let leaf_id = CertificateId::of_der(leaf);
        if let Some(known) = certificates.iter().find(|c| c.certificate_id == leaf_id) {
            let cert = Certificate::from_der(leaf)?;
            // The CA link: the registered CA that signed it, if one did.
            let ca_id = match reg
                .caches
                .ca_index
                .signer(cert.issuer().key(), chain, |c| cert.is_issued_by(&c.cert))
            {
                Ok(c) => Some(c.id),
                Err(NoSigner::Ambiguous(n)) => {
                    return Err(Error::CertificateConflict(format!(
                        "{n} of the given CA certificates have this certificate's issuer name and key; give one of them or send it in the chain"
                    )))
                }
                Err(NoSigner::Unknown | NoSigner::Failed(_)) => None,
            };
            let row = CertRow {
                certificate_id: leaf_id,
                certificate_pem: cert.to_pem(),
                ca_certificate_id: ca_id,
                status: known.status,
                certificate_mode: CertificateMode::Default,
                validity: cert.validity(),
                previous_owned_by: None,
                transfer_data: None,
                meta: Meta::new(now),
            };
            reg.commit(|_| Ok(((), vec![Change::CertificateRegistered(row.clone())])))?;
        }
    }
    Ok(reg.decide(chain, server_name, now))
}

/// The template a pre-flight CA carries, checked as RegisterCACertificate checks it.
fn template_of(cfg: &RegistrationConfig) -> Result<Template, Error> {
    match (&cfg.template_body, &cfg.template_name) {
        (Some(body), None) => Ok(Template::parse(body)?),
        (Some(_), Some(_)) => Err(Error::InvalidRequest(
            "registrationConfig takes templateBody or templateName, not both".into(),
        )),
        (None, Some(name)) => Err(Error::InvalidRequest(format!(
            "a pre-flight has no provisioning templates: give the body of {} as templateBody",
            crate::id::truncate_for_message(name)
        ))),
        (None, None) => Err(Error::InvalidRequest(
            "registrationConfig needs a templateBody for a pre-flight".into(),
        )),
    }
}

/// Creates, in the throw-away registry, the thing type, thing groups and named policies
/// that `template`'s plan for `leaf` needs to exist. A template that does not run for
/// this leaf names nothing: the decision says why.
fn create_what_the_plan_names(
    reg: &Registry,
    template: &Template,
    leaf: &Certificate,
    now: Timestamp,
) -> Result<(), Error> {
    let params = certificate_parameters(leaf).with_scope(reg.scope());
    let Ok(plan) = template.evaluate(&params) else {
        return Ok(());
    };
    let exists = |r: Result<(), Error>| match r {
        Err(Error::ResourceAlreadyExists { .. }) => Ok(()),
        other => other,
    };
    if let Some(thing) = &plan.thing {
        if let Some(t) = &thing.thing_type_name {
            exists(reg.create_thing_type(t, None, &[], now).map(|_| ()))?;
        }
        for g in &thing.thing_groups {
            let none = AttributePayload::default();
            exists(
                reg.create_thing_group(g, None, None, &none, now)
                    .map(|_| ()),
            )?;
        }
    }
    for p in plan.policies.iter().filter(|p| p.policy_document.is_none()) {
        exists(
            reg.create_policy(&p.policy_name, PLACEHOLDER_POLICY, now)
                .map(|_| ()),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use jitr_testkit::rcgen::DnType;
    use jitr_testkit::{self as kit, Key};

    use super::*;
    use crate::RefusalReason;

    /// AWS's example template's shape (thing type, a fixed group and one named by the
    /// certificate's country, a policy by document), plus a policy by name.
    const TEMPLATE: &str = r#"{
      "Parameters": {"AWS::IoT::Certificate::CommonName": {"Type": "String"},
                     "AWS::IoT::Certificate::Country": {"Type": "String"},
                     "AWS::IoT::Certificate::Id": {"Type": "String"}},
      "Resources": {
        "thing": {"Type": "AWS::IoT::Thing", "Properties": {
          "ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"},
          "AttributePayload": {"version": "v1"},
          "ThingTypeName": "lightBulb-versionA",
          "ThingGroups": ["v1-lightbulbs", {"Ref": "AWS::IoT::Certificate::Country"}]}},
        "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {
          "CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}},
        "policy": {"Type": "AWS::IoT::Policy", "Properties": {
          "PolicyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":\"arn:aws:iot:us-east-1:123456789012:topic/foo/bar\"}]}"}},
        "base": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "fleet-base"}}}}"#;

    fn now() -> Timestamp {
        Timestamp::from_unix_secs(kit::date((2026, 6, 1)).unix_timestamp())
    }

    /// A CA and a device it issued with subject `C=<country>` (if any), `CN=sensor-1`.
    fn ca_and_device(country: Option<&str>) -> (kit::Ca, kit::Cert) {
        let ca = kit::Ca::root(
            kit::ca_params(kit::cn("JITP CA"), None, kit::VALIDITY),
            Key::random_ed25519().unwrap(),
        )
        .unwrap();
        let mut dn = jitr_testkit::rcgen::DistinguishedName::new();
        if let Some(c) = country {
            dn.push(DnType::CountryName, c);
        }
        dn.push(DnType::CommonName, "sensor-1");
        let p = kit::leaf_params(dn, None, kit::VALIDITY, kit::Eku::ClientAuth);
        let device = ca.issue(&p, &Key::random_ed25519().unwrap()).unwrap();
        (ca, device)
    }

    fn jitp_ca(ca: &kit::Ca, config: RegistrationConfig) -> PreflightCa {
        PreflightCa {
            pem: ca.cert.pem.clone(),
            status: CaStatus::Active,
            auto_registration_status: AutoRegistrationStatus::Enable,
            certificate_mode: CertificateMode::Default,
            registration_config: Some(config),
        }
    }

    fn body(template: &str) -> RegistrationConfig {
        RegistrationConfig {
            template_body: Some(template.into()),
            role_arn: Some("arn:aws:iam::123456789012:role/JITP".into()),
            template_name: None,
        }
    }

    fn decide(ca: &kit::Ca, device: &kit::Cert, config: RegistrationConfig) -> Decision {
        let chain = [
            CertificateDer::from(device.der.clone()),
            CertificateDer::from(ca.cert.der.clone()),
        ];
        preflight(
            "123456789012",
            &chain,
            &[jitp_ca(ca, config)],
            &[],
            None,
            now(),
        )
        .unwrap()
    }

    #[test]
    fn a_template_provisions_the_device_into_what_it_names() {
        let (ca, device) = ca_and_device(Some("DE"));
        let d = decide(&ca, &device, body(TEMPLATE));
        let document_policy = crate::provisioning::Template::parse(TEMPLATE)
            .unwrap()
            .evaluate(
                &certificate_parameters(&Certificate::from_pem(&device.pem).unwrap())
                    .with_scope(&Scope::new("123456789012", "us-east-1").unwrap()),
            )
            .unwrap()
            .policies
            .into_iter()
            .find(|p| p.policy_document.is_some())
            .unwrap()
            .policy_name;
        assert_eq!(document_policy.len(), 64, "named by the document's hash");
        assert_eq!(
            d.refusal,
            Some(RefusalReason::Provisioned {
                thing_name: Some("sensor-1".into()),
                // In the template's resource order (its logical IDs, sorted).
                policy_names: vec!["fleet-base".into(), document_policy],
                status: CertificateStatus::Active,
            })
        );
        assert_eq!(d.certificate_id.map(|i| i.to_string()), Some(device.id()));
        assert_eq!(
            d.ca_certificate_id.map(|i| i.to_string()),
            Some(ca.cert.id())
        );
        // The registration event is published for a JITP CA too.
        assert!(d.event.is_some());
        assert!(
            d.message().contains("the thing sensor-1"),
            "{}",
            d.message()
        );
    }

    #[test]
    fn a_missing_parameter_leaves_the_device_pending_and_says_which() {
        let (ca, device) = ca_and_device(None);
        let d = decide(&ca, &device, body(TEMPLATE));
        let Some(RefusalReason::ProvisioningFailed { code, detail }) = &d.refusal else {
            panic!("{:?}", d.refusal);
        };
        assert_eq!(code, "MISSING_PARAMETER");
        assert!(
            detail.contains("AWS::IoT::Certificate::Country") && detail.contains("countryName"),
            "{detail}"
        );
        assert!(d.event.is_some());
    }

    #[test]
    fn without_a_template_the_device_is_only_registered() {
        let (ca, device) = ca_and_device(Some("DE"));
        let chain = [CertificateDer::from(device.der.clone())];
        let mut plain = jitp_ca(&ca, body(TEMPLATE));
        plain.registration_config = None;
        let d = preflight("123456789012", &chain, &[plain], &[], Some("x"), now()).unwrap();
        assert_eq!(d.refusal, Some(RefusalReason::RegisteredPendingActivation));
    }

    #[test]
    fn a_template_aws_would_not_store_or_a_template_name_is_refused() {
        let (ca, device) = ca_and_device(Some("DE"));
        let chain = [CertificateDer::from(device.der.clone())];
        for (config, needle) in [
            (body("{not json"), "JSON"),
            (
                RegistrationConfig {
                    template_name: Some("fleet".into()),
                    ..Default::default()
                },
                "no provisioning templates",
            ),
            (RegistrationConfig::default(), "needs a templateBody"),
            (
                RegistrationConfig {
                    template_name: Some("fleet".into()),
                    ..body(TEMPLATE)
                },
                "not both",
            ),
        ] {
            let e = preflight(
                "123456789012",
                &chain,
                &[jitp_ca(&ca, config)],
                &[],
                Some("x"),
                now(),
            )
            .unwrap_err();
            assert_eq!(e.code(), "InvalidRequestException");
            assert!(e.message().contains(needle), "{}", e.message());
        }
    }
}
