//! `jitp.json`: just-in-time provisioning (issue 13).
//!
//! Its `previews` run through `jitr_core::provisioning::preview` in every front end: each
//! gives the preview input (a template and a device certificate, or parameters) and the
//! whole expected output. Its `steps` are ordinary registry steps (so the runners of the
//! other files run them too): a CA stores AWS's example template in its
//! `registrationConfig`.
//!
//! Every expected value is written here from AWS's documentation, never computed by
//! jitr-core: thing names and attributes are the certificate's subject fields as the
//! templates combine them, policy names the SHA-256 of the documents (AWS: "a hash of the
//! policy document"), failure codes and paths those of the module's documentation.

use jitr_testkit::rcgen::{DistinguishedName, DnType};
// AWS's JITP example template ("Example template body" of AWS_EXAMPLE_URL), verbatim.
use jitr_testkit::AWS_JITP_EXAMPLE as AWS_EXAMPLE;
use serde_json::{json, Value};

use super::expect::{ca_ok, cert_arn};
use super::json::{obj, J};
use super::pki::{
    ca_params, leaf_params, sha256_hex, Ca, Cert, Eku, Error, Key, NOT_AFTER, NOT_BEFORE,
};
use super::scenario::{decision, refused_with_event, Scenario};
use super::{ACCOUNT, PARTITION, REGION};

/// Where AWS's example comes from.
const AWS_EXAMPLE_URL: &str =
    "https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html";

/// The policy document inside AWS's example, as the template's string holds it.
const AWS_EXAMPLE_POLICY: &str = "{ \"Version\": \"2012-10-17\", \"Statement\": [{ \"Effect\": \"Allow\", \"Action\":[\"iot:Publish\"], \"Resource\": [\"arn:aws:iot:us-east-1:123456789012:topic/foo/bar\"] }] }";

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/JITPRole";

const CN: &str = "AWS::IoT::Certificate::CommonName";
const C: &str = "AWS::IoT::Certificate::Country";
const O: &str = "AWS::IoT::Certificate::Organization";
const OU: &str = "AWS::IoT::Certificate::OrganizationalUnit";
const ST: &str = "AWS::IoT::Certificate::StateName";
const DNQ: &str = "AWS::IoT::Certificate::DistinguishedNameQualifier";
const SERIAL: &str = "AWS::IoT::Certificate::SerialNumber";
const ID: &str = "AWS::IoT::Certificate::Id";

const FIELD_C: &str = "subject C (countryName, OID 2.5.4.6)";
const FIELD_SERIAL: &str = "subject serialNumber (serialNumber, OID 2.5.4.5)";

/// The device certificates of the previews.
struct Devices {
    ca: Ca,
    /// Every JITP subject field.
    full: Cert,
    /// No C.
    no_country: Cert,
    /// No subject serialNumber attribute (certificate serial 0x7103).
    no_serial: Cert,
    /// CN `acme.sensor.0042`, C=FR.
    dotted: Cert,
    /// CN `Device 7`: not a valid thing name.
    spaced: Cert,
}

fn devices() -> Result<Devices, Error> {
    let ca = Ca::root(
        "jitp-ca",
        "Ed25519 root CA registered SNI_ONLY with AWS's example JITP template",
        ca_params("jitr JITP CA", 0x7001, (NOT_BEFORE, NOT_AFTER)),
        Key::ed25519("jitp/ca")?,
    )?;
    let dn_qualifier = DnType::CustomDnType(vec![2, 5, 4, 46]);
    let serial_number = DnType::CustomDnType(vec![2, 5, 4, 5]);
    let device = |name: &str, description: &str, serial: u64, subject: &[(DnType, &str)]| {
        let mut p = leaf_params(name, serial, (NOT_BEFORE, NOT_AFTER), Eku::ClientAuth);
        let mut dn = DistinguishedName::new();
        for (t, v) in subject {
            dn.push(t.clone(), *v);
        }
        p.distinguished_name = dn;
        ca.issue(
            name,
            description,
            &p,
            &Key::ed25519(&format!("jitp/{name}"))?,
        )
    };
    let full = device(
        "jitp-device-full",
        "every JITP subject field: C=DE, ST=Bavaria, O=Acme, OU=Sensors, dnQualifier=q-0001, serialNumber=SN-0001, CN=sensor-0001",
        0x7101,
        &[
            (DnType::CountryName, "DE"),
            (DnType::StateOrProvinceName, "Bavaria"),
            (DnType::OrganizationName, "Acme"),
            (DnType::OrganizationalUnitName, "Sensors"),
            (dn_qualifier.clone(), "q-0001"),
            (serial_number.clone(), "SN-0001"),
            (DnType::CommonName, "sensor-0001"),
        ],
    )?;
    let no_country = device(
        "jitp-device-no-country",
        "no C: O=Acme, serialNumber=SN-0002, CN=sensor-0002",
        0x7102,
        &[
            (DnType::OrganizationName, "Acme"),
            (serial_number.clone(), "SN-0002"),
            (DnType::CommonName, "sensor-0002"),
        ],
    )?;
    // C, O=Acme and CN.
    let [no_serial, dotted, spaced] = [
        (
            "jitp-device-no-serial-number",
            "no subject serialNumber attribute (the certificate's serial number is 0x7103): C=US, O=Acme, CN=sensor-0003",
            0x7103,
            ["US", "sensor-0003"],
        ),
        (
            "jitp-device-dotted",
            "C=FR, O=Acme, CN=acme.sensor.0042",
            0x7104,
            ["FR", "acme.sensor.0042"],
        ),
        (
            "jitp-device-spaced",
            "C=DE, O=Acme, CN=Device 7 (a space: not a valid thing name)",
            0x7105,
            ["DE", "Device 7"],
        ),
    ]
    .map(|(name, description, serial, [country, cn])| {
        let subject = [
            (DnType::CountryName, country),
            (DnType::OrganizationName, "Acme"),
            (DnType::CommonName, cn),
        ];
        device(name, description, serial, &subject)
    });
    Ok(Devices {
        ca,
        full,
        no_country,
        no_serial: no_serial?,
        dotted: dotted?,
        spaced: spaced?,
    })
}

// ---------------------------------------------------------------------------------------
// Templates and expected outputs.

fn body(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn string() -> Value {
    json!({"Type": "String"})
}

fn declare(names: &[&str]) -> Value {
    Value::Object(names.iter().map(|n| (n.to_string(), string())).collect())
}

fn certificate_resource() -> Value {
    json!({"Type": "AWS::IoT::Certificate",
           "Properties": {"CertificateId": {"Ref": ID}, "Status": "ACTIVE"}})
}

/// A template: `parameters`, `thing` properties, and the certificate resource.
fn with_thing(parameters: Value, thing: Value) -> String {
    body(&json!({
        "Parameters": parameters,
        "Resources": {
            "thing": {"Type": "AWS::IoT::Thing", "Properties": thing},
            "certificate": certificate_resource(),
        }
    }))
}

fn pairs(items: &[(&str, &str)]) -> J {
    J::Obj(
        items
            .iter()
            .map(|(k, v)| (k.to_string(), J::from(*v)))
            .collect(),
    )
}

/// An expected thing.
struct Thing<'a> {
    name: &'a str,
    attributes: &'a [(&'a str, &'a str)],
    thing_type: Option<&'a str>,
    groups: &'a [&'a str],
    billing_group: Option<&'a str>,
    /// AttributePayload, ThingTypeName, ThingGroups.
    overrides: [Option<&'a str>; 3],
}

impl Thing<'_> {
    fn named(name: &str) -> Thing<'_> {
        Thing {
            name,
            attributes: &[],
            thing_type: None,
            groups: &[],
            billing_group: None,
            overrides: [None; 3],
        }
    }

    fn to_json(&self) -> J {
        obj! {
            "thingName" => self.name,
            "attributes" => pairs(self.attributes),
            "thingTypeName" => self.thing_type,
            "thingGroups" => self.groups.to_vec(),
            "billingGroup" => self.billing_group,
            "overrideSettings" => obj! {
                "attributePayload" => self.overrides[0],
                "thingTypeName" => self.overrides[1],
                "thingGroups" => self.overrides[2],
            },
        }
    }
}

fn created_policy(document: &str) -> J {
    obj! {
        "policyName" => sha256_hex(document.as_bytes()),
        "policyDocument" => document,
        "create" => true,
    }
}

fn existing_policy(name: &str) -> J {
    obj! {"policyName" => name, "policyDocument" => J::Null, "create" => false}
}

fn provisioned(
    parameters: &[(&str, &str)],
    thing: Option<Thing<'_>>,
    cert: &Cert,
    status: &str,
    status_override: Option<&str>,
    policies: Vec<J>,
) -> J {
    obj! {
        "provisioned" => true,
        "certificateStatus" => status,
        "parameters" => pairs(parameters),
        "thing" => thing.map_or(J::Null, |t| t.to_json()),
        "certificate" => obj! {
            "certificateId" => &cert.id,
            "status" => status,
            "overrideSettings" => obj! {"status" => status_override},
        },
        "policies" => J::Arr(policies),
    }
}

/// What a template with a thing and the certificate resource (ACTIVE, no override, no
/// policy) creates.
fn activated(parameters: &[(&str, &str)], thing: Thing<'_>, cert: &Cert) -> J {
    provisioned(parameters, Some(thing), cert, "ACTIVE", None, vec![])
}

/// A failure evaluating the template at `path` (no parameter or certificate field
/// involved).
fn evaluation_failure(code: &str, path: &str, contains: &[&str]) -> J {
    provisioning_failure(code, Some(path), None, None, contains)
}

/// A failure when the template runs: the certificate stays PENDING_ACTIVATION.
fn provisioning_failure(
    code: &str,
    path: Option<&str>,
    parameter: Option<&str>,
    field: Option<&str>,
    contains: &[&str],
) -> J {
    obj! {
        "provisioned" => false,
        "certificateStatus" => "PENDING_ACTIVATION",
        "failure" => obj! {
            "stage" => "PROVISIONING",
            "code" => code,
            "messageContains" => contains.to_vec(),
            "path" => path,
            "parameter" => parameter,
            "certificateField" => field,
            "error" => J::Null,
        },
    }
}

/// A template AWS refuses to store.
fn template_failure(code: &str, path: &str, contains: &[&str]) -> J {
    obj! {
        "provisioned" => false,
        "certificateStatus" => J::Null,
        "failure" => obj! {
            "stage" => "TEMPLATE",
            "code" => code,
            "messageContains" => contains.to_vec(),
            "path" => path,
            "parameter" => J::Null,
            "certificateField" => J::Null,
            "error" => "InvalidRequestException",
        },
    }
}

struct Previews<'s> {
    scenario: &'s mut Scenario,
    items: Vec<J>,
}

impl Previews<'_> {
    fn add(&mut self, name: &str, description: &str, template: &str, cert: &Cert, expect: J) {
        let input = obj! {"templateBody" => template, "certificatePem" => self.scenario.pem(cert)};
        self.raw(name, description, input, expect);
    }

    fn raw(&mut self, name: &str, description: &str, input: J, expect: J) {
        self.items.push(obj! {
            "name" => name,
            "description" => description,
            "input" => input,
            "expect" => expect,
        });
    }
}

/// The `jitp.json` vector file.
pub(crate) fn jitp() -> Result<J, Error> {
    let d = devices()?;
    let mut s = Scenario::new(
        "jitp",
        "Just-in-time provisioning: a CA stores AWS's example template; previews of what each template would create for a device, or why not",
    );

    // Registry steps: the template is stored and described verbatim.
    let ca_pem = s.pem(&d.ca.cert);
    let config = obj! {"templateBody" => AWS_EXAMPLE, "roleArn" => ROLE_ARN};
    s.step(
        "register_ca_certificate",
        obj! {
            "caCertificate" => ca_pem,
            "setAsActive" => true,
            "allowAutoRegistration" => true,
            "certificateMode" => "SNI_ONLY",
            "registrationConfig" => config.clone(),
        },
        ca_ok(&d.ca.cert.id),
        "a JITP CA: SNI_ONLY, auto-registration on, AWS's example template",
    );
    s.step(
        "describe_ca_certificate",
        obj! {"certificateId" => &d.ca.cert.id},
        obj! {
            "certificateDescription" => obj! {
                "status" => "ACTIVE",
                "autoRegistrationStatus" => "ENABLE",
                "certificateMode" => "SNI_ONLY",
            },
            "registrationConfig" => config,
        },
        "the registration config comes back as stored",
    );

    let mut p = Previews {
        scenario: &mut s,
        items: Vec::new(),
    };
    let full = &d.full;

    // AWS's example.
    p.add(
        "aws-example",
        "AWS's example template, verbatim, for a certificate with every field it needs",
        AWS_EXAMPLE,
        full,
        provisioned(
            &[
                (CN, "sensor-0001"),
                (SERIAL, "SN-0001"),
                (C, "DE"),
                (ID, &full.id),
            ],
            Some(Thing {
                attributes: &[("version", "v1"), ("serialNumber", "SN-0001")],
                thing_type: Some("lightBulb-versionA"),
                groups: &["v1-lightbulbs", "DE"],
                overrides: [Some("MERGE"), Some("REPLACE"), Some("DO_NOTHING")],
                ..Thing::named("sensor-0001")
            }),
            full,
            "ACTIVE",
            Some("DO_NOTHING"),
            vec![created_policy(AWS_EXAMPLE_POLICY)],
        ),
    );
    p.add(
        "aws-example-missing-country",
        "AWS's example for a certificate without C: provisioning fails (AWS's own example of the failure), naming the parameter and the field",
        AWS_EXAMPLE,
        &d.no_country,
        provisioning_failure(
            "MISSING_PARAMETER",
            None,
            Some(C),
            Some(FIELD_C),
            &[
                "the template needs AWS::IoT::Certificate::Country",
                "has no C (countryName, OID 2.5.4.6) attribute",
            ],
        ),
    );
    p.add(
        "aws-example-missing-serial-number",
        "AWS's example for a certificate without the subject serialNumber attribute: the certificate's own serial number does not count",
        AWS_EXAMPLE,
        &d.no_serial,
        provisioning_failure(
            "MISSING_PARAMETER",
            None,
            Some(SERIAL),
            Some(FIELD_SERIAL),
            &[
                "has no serialNumber (serialNumber, OID 2.5.4.5) attribute",
                "not the certificate's serial number (0x7103)",
            ],
        ),
    );

    // Ref and Default.
    let with_default = with_thing(
        json!({CN: string(), C: {"Type": "String", "Default": "ZZ"}, ID: string()}),
        json!({"ThingName": {"Ref": CN}, "ThingGroups": [{"Ref": C}]}),
    );
    p.add(
        "ref-default",
        "Ref of a parameter the certificate lacks but whose Default fills in",
        &with_default,
        &d.no_country,
        activated(
            &[(CN, "sensor-0002"), (C, "ZZ"), (ID, &d.no_country.id)],
            Thing {
                groups: &["ZZ"],
                ..Thing::named("sensor-0002")
            },
            &d.no_country,
        ),
    );
    p.raw(
        "parameters-without-certificate",
        "the same template with parameters given instead of a certificate",
        obj! {
            "templateBody" => with_default.as_str(),
            "parameters" => pairs(&[(CN, "gateway-9"), (ID, &full.id)]),
        },
        activated(
            &[(CN, "gateway-9"), (C, "ZZ"), (ID, &full.id)],
            Thing {
                groups: &["ZZ"],
                ..Thing::named("gateway-9")
            },
            full,
        ),
    );

    // Fn::Join.
    p.add(
        "fn-join",
        "Fn::Join over subject fields, and the other JITP parameters as attributes",
        &with_thing(
            declare(&[CN, C, O, OU, ST, DNQ, ID]),
            json!({
                "ThingName": {"Fn::Join": ["-", [{"Ref": C}, {"Ref": CN}]]},
                "AttributePayload": {
                    "org": {"Fn::Join": ["/", [{"Ref": O}, {"Ref": OU}]]},
                    "state": {"Ref": ST},
                    "dnq": {"Ref": DNQ},
                },
            }),
        ),
        full,
        activated(
            &[
                (CN, "sensor-0001"),
                (C, "DE"),
                (O, "Acme"),
                (OU, "Sensors"),
                (ST, "Bavaria"),
                (DNQ, "q-0001"),
                (ID, &full.id),
            ],
            Thing {
                attributes: &[
                    ("org", "Acme/Sensors"),
                    ("state", "Bavaria"),
                    ("dnq", "q-0001"),
                ],
                ..Thing::named("DE-sensor-0001")
            },
            full,
        ),
    );

    // Fn::Split and Fn::Select.
    let split = |i: Value| json!({"Fn::Select": [i, {"Fn::Split": [".", {"Ref": CN}]}]});
    p.add(
        "fn-split-select",
        "Fn::Select (numeric and string index) from Fn::Split of the Common Name",
        &with_thing(
            declare(&[CN, ID]),
            json!({
                "ThingName": split(json!(2)),
                "AttributePayload": {"vendor": split(json!("0")), "kind": split(json!(1))},
            }),
        ),
        &d.dotted,
        activated(
            &[(CN, "acme.sensor.0042"), (ID, &d.dotted.id)],
            Thing {
                attributes: &[("vendor", "acme"), ("kind", "sensor")],
                ..Thing::named("0042")
            },
            &d.dotted,
        ),
    );
    p.add(
        "fn-select-out-of-range",
        "Fn::Select past the end of a list known only when the device connects",
        &with_thing(
            declare(&[CN, ID]),
            json!({"ThingName": {"Fn::Select": [3, {"Fn::Split": ["-", {"Ref": CN}]}]}}),
        ),
        full,
        evaluation_failure(
            "SELECT_INDEX_OUT_OF_RANGE",
            "/Resources/thing/Properties/ThingName",
            &["index 3 is out of range", "the list has 2 items"],
        ),
    );

    // Fn::FindInMap.
    let mapped = body(&json!({
        "Parameters": declare(&[CN, C, ID]),
        "Mappings": {"ByCountry": {
            "DE": {"Groups": ["eu-sensors", "de-sensors"], "Type": "sensor-eu"},
            "US": {"Groups": ["us-sensors"], "Type": "sensor-us"},
        }},
        "Resources": {
            "thing": {"Type": "AWS::IoT::Thing", "Properties": {
                "ThingName": {"Fn::Join": ["-", {"Fn::Split": [".", {"Ref": CN}]}]},
                "ThingTypeName": {"Fn::FindInMap": ["ByCountry", {"Ref": C}, "Type"]},
                "ThingGroups": {"Fn::FindInMap": ["ByCountry", {"Ref": C}, "Groups"]},
            }},
            "certificate": certificate_resource(),
        }
    }));
    p.add(
        "fn-find-in-map",
        "Fn::FindInMap keyed by the certificate's country: a string (thing type) and a list (groups)",
        &mapped,
        full,
        activated(
            &[(CN, "sensor-0001"), (C, "DE"), (ID, &full.id)],
            Thing {
                thing_type: Some("sensor-eu"),
                groups: &["eu-sensors", "de-sensors"],
                ..Thing::named("sensor-0001")
            },
            full,
        ),
    );
    p.add(
        "fn-find-in-map-missing-key",
        "the same template for a country the map lacks",
        &mapped,
        &d.dotted,
        evaluation_failure(
            "MAPPING_KEY_NOT_FOUND",
            "/Resources/thing/Properties/ThingTypeName",
            &[r#"["ByCountry", "FR", "Type"]"#],
        ),
    );

    // Fn::Sub, pseudo parameters, Ref to a resource.
    let document = "{\"Version\":\"2012-10-17\",\"Statement\":[\
        {\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:client/${thing}\"},\
        {\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":\"arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:topic/${!iot:Connection.Thing.ThingName}/*\"}]}";
    let thing_name = "Acme-SN-0001";
    let expected_document = document
        .replace("${AWS::Partition}", PARTITION)
        .replace("${AWS::Region}", REGION)
        .replace("${AWS::AccountId}", ACCOUNT)
        .replace("${thing}", thing_name)
        .replace("${!iot:", "${iot:");
    let sub = body(&json!({
        "Parameters": declare(&[O, SERIAL, ID]),
        "Resources": {
            "thing": {"Type": "AWS::IoT::Thing", "Properties": {
                "ThingName": {"Fn::Sub": [format!("${{{O}}}-${{Serial}}"), {"Serial": {"Ref": SERIAL}}]},
            }},
            "certificate": certificate_resource(),
            "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument": {"Fn::Sub": document}}},
        }
    }));
    let input = obj! {
        "templateBody" => sub.as_str(),
        "certificatePem" => p.scenario.pem(full),
        "account" => ACCOUNT,
        "region" => REGION,
        "partition" => PARTITION,
    };
    p.raw(
        "fn-sub",
        "Fn::Sub with a variable map, pseudo parameters, ${thing} (Ref to a resource: its name) and ${!…} to keep an IoT policy variable",
        input,
        provisioned(
            &[(O, "Acme"), (SERIAL, "SN-0001"), (ID, &full.id)],
            Some(Thing::named(thing_name)),
            full,
            "ACTIVE",
            None,
            vec![created_policy(&expected_document)],
        ),
    );

    // OverrideSettings.
    p.add(
        "override-settings",
        "each override setting (FAIL, DO_NOTHING, MERGE on the thing; REPLACE on the certificate's Status), Status INACTIVE (AWS accepts any case), an existing policy by name",
        &body(&json!({
            "Parameters": declare(&[CN, ID]),
            "Resources": {
                "thing": {
                    "Type": "AWS::IoT::Thing",
                    "Properties": {
                        "ThingName": {"Ref": CN},
                        "AttributePayload": {"model": "m1"},
                        "ThingTypeName": "sensor",
                        "ThingGroups": ["fleet-a"],
                        "BillingGroup": "billing-a",
                    },
                    "OverrideSettings": {
                        "AttributePayload": "FAIL",
                        "ThingTypeName": "DO_NOTHING",
                        "ThingGroups": "MERGE",
                    },
                },
                "certificate": {
                    "Type": "AWS::IoT::Certificate",
                    "Properties": {"CertificateId": {"Ref": ID}, "Status": "Inactive"},
                    "OverrideSettings": {"Status": "REPLACE"},
                },
                "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "DevicePolicy"}},
            }
        })),
        full,
        provisioned(
            &[(CN, "sensor-0001"), (ID, &full.id)],
            Some(Thing {
                attributes: &[("model", "m1")],
                thing_type: Some("sensor"),
                groups: &["fleet-a"],
                billing_group: Some("billing-a"),
                overrides: [Some("FAIL"), Some("DO_NOTHING"), Some("MERGE")],
                ..Thing::named("sensor-0001")
            }),
            full,
            "INACTIVE",
            Some("REPLACE"),
            vec![existing_policy("DevicePolicy")],
        ),
    );
    p.add(
        "override-merge-on-thing-type",
        "MERGE is valid only for AttributePayload and ThingGroups (AWS): refused when stored",
        &body(&json!({
            "Parameters": declare(&[CN, ID]),
            "Resources": {
                "thing": {
                    "Type": "AWS::IoT::Thing",
                    "Properties": {"ThingName": {"Ref": CN}, "ThingTypeName": "sensor"},
                    "OverrideSettings": {"ThingTypeName": "MERGE"},
                },
                "certificate": certificate_resource(),
            }
        })),
        full,
        template_failure(
            "INVALID_OVERRIDE",
            "/Resources/thing/OverrideSettings/ThingTypeName",
            &["MERGE is valid only for a thing's AttributePayload and ThingGroups"],
        ),
    );

    // Values AWS refuses.
    p.add(
        "invalid-thing-name",
        "a Common Name with a space is not a thing name",
        &with_thing(declare(&[CN, ID]), json!({"ThingName": {"Ref": CN}})),
        &d.spaced,
        evaluation_failure(
            "INVALID_PROPERTY_VALUE",
            "/Resources/thing/Properties/ThingName",
            &["ThingName \"Device 7\" is not valid"],
        ),
    );

    // Template errors: refused when stored.
    let thing = |name: Value| with_thing(declare(&[CN, ID]), json!({"ThingName": name}));
    // (name, description, template, code, path, message parts)
    type TemplateErrorCase<'a> = (&'a str, &'a str, String, &'a str, &'a str, &'a [&'a str]);
    let errors: Vec<TemplateErrorCase<'_>> = vec![
        (
            "template-not-json",
            "not JSON",
            "{\"Resources\": ".to_string(),
            "NOT_JSON",
            "",
            &["not JSON"],
        ),
        (
            "template-unknown-function",
            "Fn::GetAtt is CloudFormation's, not provisioning templates'",
            thing(json!({"Fn::GetAtt": ["certificate", "Arn"]})),
            "UNKNOWN_FUNCTION",
            "/Resources/thing/Properties/ThingName",
            &["Fn::GetAtt"],
        ),
        (
            "template-unknown-reference",
            "Ref to a parameter the template does not declare",
            with_thing(declare(&[ID]), json!({"ThingName": {"Ref": CN}})),
            "UNKNOWN_REFERENCE",
            "/Resources/thing/Properties/ThingName/Ref",
            &["AWS::IoT::Certificate::CommonName is not declared"],
        ),
        (
            "template-ref-cycle",
            "a thing named after a policy named after the thing",
            body(&json!({
                "Parameters": declare(&[ID]),
                "Resources": {
                    "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "policy"}}},
                    "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": {"Fn::Sub": "${thing}-policy"}}},
                    "certificate": certificate_resource(),
                }
            })),
            "REF_CYCLE",
            "/Resources/policy",
            &["policy, thing"],
        ),
        (
            "template-select-out-of-range",
            "Fn::Select with a literal index past the end of a literal list",
            thing(json!({"Fn::Select": [2, ["a", "b"]]})),
            "SELECT_OUT_OF_RANGE",
            "/Resources/thing/Properties/ThingName",
            &["index 2 is out of range"],
        ),
        (
            "template-unknown-resource-type",
            "a resource type provisioning templates do not have",
            body(&json!({
                "Parameters": declare(&[ID]),
                "Resources": {
                    "group": {"Type": "AWS::IoT::ThingGroup", "Properties": {"ThingGroupName": "g"}},
                    "certificate": certificate_resource(),
                }
            })),
            "UNKNOWN_RESOURCE_TYPE",
            "/Resources/group/Type",
            &["AWS::IoT::ThingGroup"],
        ),
        (
            "template-csr-is-not-for-jitp",
            "a certificate from a CSR belongs to bulk registration, not JITP",
            body(&json!({
                "Parameters": declare(&[ID]),
                "Resources": {"certificate": {"Type": "AWS::IoT::Certificate",
                    "Properties": {"CertificateSigningRequest": {"Ref": ID}, "Status": "ACTIVE"}}}
            })),
            "NOT_FOR_JITP",
            "/Resources/certificate/Properties/CertificateSigningRequest",
            &["You must use CertificateId"],
        ),
        (
            "template-too-long",
            "more than AWS's 10,240 characters",
            with_thing(
                declare(&[ID]),
                json!({"ThingName": "t", "AttributePayload": {"padding": "p".repeat(10_240)}}),
            ),
            "TEMPLATE_TOO_LONG",
            "",
            &["at most 10240"],
        ),
    ];
    for (name, description, template, code, path, contains) in errors {
        p.add(
            name,
            description,
            &template,
            full,
            template_failure(code, path, contains),
        );
    }

    // Malformed input.
    let pem = p.scenario.pem(full);
    p.raw(
        "input-without-template",
        "the preview needs a templateBody",
        obj! {"certificatePem" => pem},
        obj! {"error" => "InvalidRequestException"},
    );

    let previews = J::Arr(std::mem::take(&mut p.items));
    provisioning_steps(&mut s, &d);
    let mut out = s.to_json();
    out.push("awsExampleSource", AWS_EXAMPLE_URL);
    out.push("previews", previews);
    Ok(out)
}

/// The registry steps of JITP: the first connection of a device under the CA with AWS's
/// example template provisions it (thing, type, groups, policy, ACTIVE) in the same
/// transaction as its registration, or records why not and leaves it pending.
fn provisioning_steps(s: &mut Scenario, d: &Devices) {
    let ca = &d.ca.cert.id;
    s.step(
        "create_thing_type",
        obj! {"thingTypeName" => "lightBulb-versionA"},
        obj! {"thingTypeName" => "lightBulb-versionA"},
        "the thing type AWS's example template names",
    );
    for group in ["v1-lightbulbs", "DE"] {
        s.step(
            "create_thing_group",
            obj! {"thingGroupName" => group},
            obj! {"thingGroupName" => group},
            "a thing group the example template names (DE: the device's C)",
        );
    }

    // A device with every field: provisioned, refused once, then allowed.
    let full = &d.full;
    let (pem, _) = first_connection(
        s,
        full,
        ca,
        "PROVISIONED",
        "first connection under the JITP CA: registered and provisioned in one transaction, refused (the device connects again)",
    );
    s.describe_cert(
        &full.id,
        obj! {"certificateDescription" => obj! {"status" => "ACTIVE", "caCertificateId" => ca}},
        "the template's certificate resource set it ACTIVE",
    );
    s.step(
        "describe_thing",
        obj! {"thingName" => "sensor-0001"},
        obj! {
            "thingName" => "sensor-0001",
            "thingTypeName" => "lightBulb-versionA",
            "attributes" => obj! {"serialNumber" => "SN-0001", "version" => "v1"},
            "version" => 1i64,
        },
        "the thing is named by the CN, typed, with the subject's serialNumber",
    );
    s.step(
        "list_thing_groups_for_thing",
        obj! {"thingName" => "sensor-0001"},
        obj! {"thingGroups" => vec![
            obj! {"groupName" => "DE", "groupArn" => "arn:aws:iot:us-east-1:123456789012:thinggroup/DE"},
            obj! {"groupName" => "v1-lightbulbs", "groupArn" => "arn:aws:iot:us-east-1:123456789012:thinggroup/v1-lightbulbs"},
        ]},
        "in the fixed group and the group of its country",
    );
    s.step(
        "list_thing_principals",
        obj! {"thingName" => "sensor-0001"},
        obj! {"principals" => vec![cert_arn(&full.id)]},
        "the certificate is the thing's principal",
    );
    s.list_policies(
        &full.id,
        &[&sha256_hex(AWS_EXAMPLE_POLICY.as_bytes())],
        "the template's inline policy, named by the SHA-256 of its document, is attached",
    );
    s.connect_raw(
        vec![pem],
        true,
        decision(true, None, Some(full.id.clone()), Some(ca.clone())),
        "the second connection is allowed",
    );

    // A device without C: registered, not provisioned, and why.
    let bare = &d.no_country;
    let (pem, registered) = first_connection(
        s,
        bare,
        ca,
        "PROVISIONING_FAILED",
        "no C in the subject: the template cannot run; the certificate is registered PENDING_ACTIVATION all the same",
    );
    s.step(
        "describe_provisioning_failure",
        obj! {"certificateId" => &bare.id},
        obj! {
            "certificateId" => &bare.id,
            "caCertificateId" => ca,
            "code" => "MISSING_PARAMETER",
            "parameter" => C,
            "certificateField" => FIELD_C,
        },
        "jitr records why (AWS only counts it in a metric)",
    );
    s.describe_cert(
        &bare.id,
        obj! {"certificateDescription" => obj! {"status" => "PENDING_ACTIVATION"}},
        "nothing of the template was written: the certificate is pending",
    );
    s.step(
        "list_things",
        obj! {},
        obj! {"things" => vec![obj! {
            "thingName" => "sensor-0001",
            "thingTypeName" => "lightBulb-versionA",
            "thingArn" => "arn:aws:iot:us-east-1:123456789012:thing/sensor-0001",
            "attributes" => obj! {"serialNumber" => "SN-0001", "version" => "v1"},
            "version" => 1i64,
        }]},
        "no thing for the failed device",
    );
    s.step(
        "describe_provisioning_failure",
        obj! {"certificateId" => &full.id},
        obj! {"error" => "ResourceNotFoundException"},
        "a provisioned certificate has no failure",
    );
    let now = s.now();
    s.connect_raw(
        vec![pem],
        true,
        refused_with_event("PENDING_ACTIVATION", &bare.id, ca, now, registered),
        "connecting again: a pending certificate (the template does not run twice)",
    );
}

/// The first connection of `device` (its leaf alone, with SNI) under the JITP CA `ca`:
/// refused for `reason`, the registration event published. Its PEM, to connect again,
/// and the time it was registered.
fn first_connection(
    s: &mut Scenario,
    device: &Cert,
    ca: &str,
    reason: &str,
    note: &str,
) -> (String, i64) {
    let pem = s.pem(device);
    let now = s.now();
    s.connect_raw(
        vec![pem.clone()],
        true,
        refused_with_event(reason, &device.id, ca, now, now),
        note,
    );
    (pem, now)
}
