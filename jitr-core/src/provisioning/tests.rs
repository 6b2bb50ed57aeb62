use std::collections::BTreeSet;

use serde_json::json;

use super::*;
use crate::CertificateStatus;
// AWS's JITP example template, verbatim (see jitr-testkit).
use jitr_testkit::AWS_JITP_EXAMPLE as AWS_EXAMPLE;

const ID: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

fn params(pairs: &[(&str, &str)]) -> Parameters {
    let mut p = Parameters::new();
    for (k, v) in pairs {
        p.insert(*k, *v);
    }
    p
}

fn device() -> Parameters {
    params(&[
        ("AWS::IoT::Certificate::CommonName", "sensor-0001"),
        ("AWS::IoT::Certificate::SerialNumber", "SN-0001"),
        ("AWS::IoT::Certificate::Country", "DE"),
        ("AWS::IoT::Certificate::Id", ID),
    ])
}

/// A template with one certificate resource and `extra` resources/sections spliced in.
fn with(parameters: &str, resources: &str) -> String {
    format!(
        r#"{{"Parameters": {{"AWS::IoT::Certificate::Id": {{"Type": "String"}}{parameters}}},
            "Resources": {{"certificate": {{"Type": "AWS::IoT::Certificate",
               "Properties": {{"CertificateId": {{"Ref": "AWS::IoT::Certificate::Id"}}}}}}{resources}}}}}"#
    )
}

/// A template whose thing's name is `name` (a JSON value).
fn thing_named(parameters: &str, name: &str) -> String {
    with(
        parameters,
        &format!(
            r#", "thing": {{"Type": "AWS::IoT::Thing", "Properties": {{"ThingName": {name}}}}}"#
        ),
    )
}

fn thing_name(template: &str, p: &Parameters) -> Result<String, ProvisioningFailure> {
    let t = Template::parse(template).unwrap_or_else(|e| panic!("{e}\n{template}"));
    t.evaluate(p)
        .map(|plan| plan.thing.expect("a thing").thing_name)
}

#[test]
fn aws_example_template_provisions_the_documented_resources() {
    let t = Template::parse(AWS_EXAMPLE).expect("AWS's example parses");
    assert_eq!(
        t.resource_ids().collect::<Vec<_>>(),
        ["certificate", "policy", "thing"]
    );
    let plan = t.evaluate(&device()).expect("it runs");
    let thing = plan.thing.as_ref().expect("a thing");
    assert_eq!(thing.logical_id, "thing");
    assert_eq!(thing.thing_name, "sensor-0001");
    assert_eq!(
        thing.attributes.iter().collect::<Vec<_>>(),
        [
            (&"serialNumber".to_string(), &"SN-0001".to_string()),
            (&"version".to_string(), &"v1".to_string())
        ]
    );
    assert_eq!(thing.thing_type_name.as_deref(), Some("lightBulb-versionA"));
    assert_eq!(thing.thing_groups, ["v1-lightbulbs", "DE"]);
    assert_eq!(thing.billing_group, None);
    assert_eq!(
        thing.override_settings.attribute_payload,
        Some(OverrideSetting::Merge)
    );
    assert_eq!(
        thing.override_settings.thing_type_name,
        Some(OverrideSetting::Replace)
    );
    assert_eq!(
        thing.override_settings.thing_groups,
        Some(OverrideSetting::DoNothing)
    );
    assert_eq!(plan.certificate.certificate_id.to_string(), ID);
    assert_eq!(plan.certificate.status, CertificateStatus::Active);
    assert_eq!(
        plan.certificate.status_override,
        Some(OverrideSetting::DoNothing)
    );
    let doc = "{ \"Version\": \"2012-10-17\", \"Statement\": [{ \"Effect\": \"Allow\", \"Action\":[\"iot:Publish\"], \"Resource\": [\"arn:aws:iot:us-east-1:123456789012:topic/foo/bar\"] }] }";
    assert_eq!(plan.policies.len(), 1);
    let policy = &plan.policies[0];
    assert!(policy.creates());
    assert_eq!(policy.policy_document.as_deref(), Some(doc));
    let digest = ring::digest::digest(&ring::digest::SHA256, doc.as_bytes());
    assert_eq!(policy.policy_name, hex::encode(digest.as_ref()));
    assert_eq!(plan.parameters.len(), 4);
    // Deterministic.
    assert_eq!(t.evaluate(&device()), Ok(plan));
}

#[test]
fn a_missing_country_names_the_parameter_and_the_subject_field() {
    let t = Template::parse(AWS_EXAMPLE).expect("parses");
    let mut p = device();
    p = params(
        &p.iter()
            .filter(|(k, _)| *k != "AWS::IoT::Certificate::Country")
            .collect::<Vec<_>>(),
    );
    let f = t.evaluate(&p).expect_err("no Country");
    assert_eq!(f.code(), "MISSING_PARAMETER");
    assert_eq!(f.parameter(), Some("AWS::IoT::Certificate::Country"));
    assert_eq!(
        f.certificate_field().map(|c| c.to_string()).as_deref(),
        Some("subject C (countryName, OID 2.5.4.6)")
    );
    assert_eq!(f.path(), None);
    assert!(
        f.message().contains("AWS::IoT::Certificate::Country"),
        "{f}"
    );
}

#[test]
fn missing_parameters_are_all_named_and_defaults_fill_in() {
    let t = Template::parse(AWS_EXAMPLE).expect("parses");
    let f = t
        .evaluate(&params(&[("AWS::IoT::Certificate::Id", ID)]))
        .expect_err("three missing");
    match &f {
        ProvisioningFailure::MissingParameter {
            parameter, others, ..
        } => {
            assert_eq!(parameter, "AWS::IoT::Certificate::CommonName");
            assert_eq!(
                others,
                &[
                    "AWS::IoT::Certificate::Country",
                    "AWS::IoT::Certificate::SerialNumber"
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        f.message().contains(
            "also missing: AWS::IoT::Certificate::Country, AWS::IoT::Certificate::SerialNumber"
        ),
        "{f}"
    );

    let t = thing_named(
        r#", "AWS::IoT::Certificate::Organization": {"Type": "String", "Default": "unknown-org"},
             "Unused": {"Type": "String"}"#,
        r#"{"Ref": "AWS::IoT::Certificate::Organization"}"#,
    );
    // A declared parameter no property uses is still required (AWS: all parameters).
    let f = thing_name(&t, &params(&[("AWS::IoT::Certificate::Id", ID)])).expect_err("Unused");
    assert_eq!(f.parameter(), Some("Unused"));
    assert_eq!(f.certificate_field(), None);
    let p = params(&[("AWS::IoT::Certificate::Id", ID), ("Unused", "x")]);
    assert_eq!(thing_name(&t, &p).as_deref(), Ok("unknown-org"));
    let p = params(&[
        ("AWS::IoT::Certificate::Id", ID),
        ("Unused", "x"),
        ("AWS::IoT::Certificate::Organization", "acme"),
    ]);
    assert_eq!(thing_name(&t, &p).as_deref(), Ok("acme"));
}

/// Runs `name` (a JSON expression) as the thing's name, for CN = `acme.sensor.0042`.
fn run(extra_params: &str, name: &str, p: &Parameters) -> Result<String, ProvisioningFailure> {
    let cn =
        format!(r#", "AWS::IoT::Certificate::CommonName": {{"Type": "String"}}{extra_params}"#);
    thing_name(&thing_named(&cn, name), p)
}

fn dotted() -> Parameters {
    params(&[
        ("AWS::IoT::Certificate::Id", ID),
        ("AWS::IoT::Certificate::CommonName", "acme.sensor.0042"),
    ])
}

#[test]
fn every_function_evaluates() {
    let p = dotted();
    let cases = [
        (
            r#"{"Fn::Join": ["-", ["dev", {"Fn::Select": [2, {"Fn::Split": [".", {"Ref": "AWS::IoT::Certificate::CommonName"}]}]}]]}"#,
            "dev-0042",
        ),
        (
            r#"{"Fn::Join": ["", {"Fn::Split": [".", {"Ref": "AWS::IoT::Certificate::CommonName"}]}]}"#,
            "acmesensor0042",
        ),
        (r#"{"Fn::Select": ["1", ["a", "b", "c"]]}"#, "b"),
        (
            r#"{"Fn::Sub": ["${Head}_${AWS::IoT::Certificate::Id}", {"Head": {"Fn::Select": [0, {"Fn::Split": [".", {"Ref": "AWS::IoT::Certificate::CommonName"}]}]}}]}"#,
            "acme_c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00",
        ),
    ];
    for (expr, want) in cases {
        assert_eq!(run("", expr, &p).as_deref(), Ok(want), "{expr}");
    }
    // Fn::Sub's ${!…} is not a reference, even to an unknown name; an unclosed ${ is
    // text.
    for (sub, want) in [
        ("x-${!Literal}-${!}", "x-${Literal}-${}"),
        ("${AWS::IoT::Certificate::Id", "${AWS::IoT::Certificate::Id"),
        (
            "a${AWS::IoT::Certificate::CommonName}b${V}c",
            "aacme.sensor.0042bvc",
        ),
    ] {
        let expr = json!({"Fn::Sub": [sub, {"V": "v"}]});
        assert_eq!(eval_string(&expr, &p).as_deref(), Ok(want), "{sub}");
    }
}

/// Evaluates one expression with the CommonName and Id parameters declared.
fn eval_string(expr: &serde_json::Value, p: &Parameters) -> Result<String, ProvisioningFailure> {
    use std::collections::BTreeMap;
    let mut decls = BTreeMap::new();
    for name in [
        "AWS::IoT::Certificate::CommonName",
        "AWS::IoT::Certificate::Id",
    ] {
        decls.insert(
            name.to_string(),
            ParameterDeclaration {
                parameter_type: ParameterType::String,
                default: None,
            },
        );
    }
    let mappings = intrinsic::Mappings::new();
    let resources = BTreeSet::new();
    let e = intrinsic::Parser::new(&decls, &mappings, &resources)
        .string(expr, "")
        .expect("parses");
    let values: BTreeMap<String, String> = p.iter().map(|(k, v)| (k.into(), v.into())).collect();
    let pseudo = BTreeMap::new();
    e.eval_str(&mut intrinsic::Env::new(&values, &pseudo, &mappings))
}

#[test]
fn find_in_map_reads_strings_and_lists() {
    let template = |groups: &str| {
        format!(
            r#"{{"Parameters": {{"AWS::IoT::Certificate::Id": {{"Type": "String"}},
                               "AWS::IoT::Certificate::Country": {{"Type": "String"}}}},
                "Mappings": {{"ByCountry": {{"DE": {{"Groups": ["eu", "de"], "Name": "berlin", "Zone": 2}},
                                             "US": {{"Groups": ["us"], "Name": "boston", "Zone": 7}}}}}},
                "Resources": {{
                  "certificate": {{"Type": "AWS::IoT::Certificate",
                     "Properties": {{"CertificateId": {{"Ref": "AWS::IoT::Certificate::Id"}}}}}},
                  "thing": {{"Type": "AWS::IoT::Thing", "Properties": {{
                     "ThingName": {{"Fn::FindInMap": ["ByCountry", {{"Ref": "AWS::IoT::Certificate::Country"}}, "Name"]}},
                     "AttributePayload": {{"zone": {{"Fn::FindInMap": ["ByCountry", {{"Ref": "AWS::IoT::Certificate::Country"}}, "Zone"]}}}},
                     "ThingGroups": {groups}}}}}}}}}"#
        )
    };
    let t = Template::parse(&template(
        r#"{"Fn::FindInMap": ["ByCountry", {"Ref": "AWS::IoT::Certificate::Country"}, "Groups"]}"#,
    ))
    .expect("parses");
    let de = params(&[
        ("AWS::IoT::Certificate::Id", ID),
        ("AWS::IoT::Certificate::Country", "DE"),
    ]);
    let thing = t.evaluate(&de).expect("runs").thing.expect("thing");
    assert_eq!(thing.thing_name, "berlin");
    assert_eq!(thing.thing_groups, ["eu", "de"]);
    assert_eq!(thing.attributes["zone"], "2");

    let fr = params(&[
        ("AWS::IoT::Certificate::Id", ID),
        ("AWS::IoT::Certificate::Country", "FR"),
    ]);
    let f = t.evaluate(&fr).expect_err("no FR");
    assert_eq!(f.code(), "MAPPING_KEY_NOT_FOUND");
    assert_eq!(f.path(), Some("/Resources/thing/Properties/ThingName"));
    assert!(
        f.message().contains(r#"["ByCountry", "FR", "Name"]"#),
        "{f}"
    );

    // A map key used as a list where the value is a string: the parser cannot tell
    // (the map holds both), evaluation can.
    let t = Template::parse(&template(
        r#"{"Fn::FindInMap": ["ByCountry", "DE", {"Fn::Select": [0, ["Name"]]}]}"#,
    ))
    .expect("parses");
    let f = t.evaluate(&de).expect_err("a string, not a list");
    assert_eq!(f.code(), "TYPE_MISMATCH");
    assert_eq!(f.path(), Some("/Resources/thing/Properties/ThingGroups"));
    // Literal keys are checked when stored.
    let e = Template::parse(&template(
        r#"{"Fn::FindInMap": ["ByCountry", "FR", "Groups"]}"#,
    ))
    .expect_err("no FR");
    assert_eq!(e.kind(), TemplateErrorKind::UnknownMapping);
    assert_eq!(e.path(), "/Resources/thing/Properties/ThingGroups");
}

#[test]
fn select_out_of_range_is_caught_when_stored_or_when_run() {
    let p = dotted();
    let e = Template::parse(&thing_named("", r#"{"Fn::Select": [3, ["a", "b", "c"]]}"#))
        .expect_err("literal");
    assert_eq!(e.kind(), TemplateErrorKind::SelectOutOfRange);
    assert_eq!(e.path(), "/Resources/thing/Properties/ThingName");
    let e = Template::parse(&thing_named(
        "",
        r#"{"Fn::Select": [1, {"Fn::Split": [",", "only"]}]}"#,
    ))
    .expect_err("literal split");
    assert_eq!(e.kind(), TemplateErrorKind::SelectOutOfRange);
    let f = run(
        "",
        r#"{"Fn::Select": [5, {"Fn::Split": [".", {"Ref": "AWS::IoT::Certificate::CommonName"}]}]}"#,
        &p,
    )
    .expect_err("three parts");
    assert_eq!(
        f,
        ProvisioningFailure::SelectOutOfRange {
            path: "/Resources/thing/Properties/ThingName".into(),
            index: 5,
            len: 3
        }
    );
    let f = run(
        r#", "Index": {"Type": "String", "Default": "two"}"#,
        r#"{"Fn::Select": [{"Ref": "Index"}, ["a", "b", "c"]]}"#,
        &p,
    )
    .expect_err("not a number");
    assert_eq!(f.code(), "INVALID_SELECT_INDEX");
}

#[test]
fn refs_to_resources_return_their_names_and_must_not_loop() {
    let t = with(
        "",
        r#", "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Fn::Sub": "t-${policy}"}}},
             "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": {"Fn::Join": ["", ["p-", {"Ref": "certificate"}]]}}}"#,
    );
    let t = Template::parse(&t).expect("parses");
    assert_eq!(
        t.resource_ids().collect::<Vec<_>>(),
        ["certificate", "policy", "thing"]
    );
    let plan = t
        .evaluate(&params(&[("AWS::IoT::Certificate::Id", ID)]))
        .expect("runs");
    assert_eq!(plan.policies[0].policy_name, format!("p-{ID}"));
    assert!(!plan.policies[0].creates());
    assert_eq!(plan.thing.expect("thing").thing_name, format!("t-p-{ID}"));

    for (resources, path) in [
        (
            r#", "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "policy"}}},
                 "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": {"Fn::Sub": "${thing}"}}}"#,
            "/Resources/policy",
        ),
        (
            r#", "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": "t", "AttributePayload": {"me": {"Ref": "thing"}}}}"#,
            "/Resources/thing",
        ),
    ] {
        let e = Template::parse(&with("", resources)).expect_err("a loop");
        assert_eq!(e.kind(), TemplateErrorKind::RefCycle, "{e}");
        assert_eq!(e.path(), path);
    }
}

#[test]
fn pseudo_parameters_come_from_the_scope() {
    let t = with(
        "",
        r#", "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument": {"Fn::Sub":
             "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:client/${!iot:Connection.Thing.ThingName}\"}]}"}}}"#,
    );
    let t = Template::parse(&t).expect("parses");
    let p = params(&[("AWS::IoT::Certificate::Id", ID)]);
    let f = t.evaluate(&p).expect_err("no scope");
    assert_eq!(f.code(), "MISSING_PARAMETER");
    assert!(f.message().contains("pseudo parameter"), "{f}");
    let scope = crate::Scope::new("123456789012", "eu-west-1").expect("scope");
    let plan = t.evaluate(&p.with_scope(&scope)).expect("runs");
    let doc = plan.policies[0]
        .policy_document
        .clone()
        .expect("a document");
    assert!(
        doc.contains("arn:aws:iot:eu-west-1:123456789012:client/${iot:Connection.Thing.ThingName}"),
        "{doc}"
    );
    // An IoT policy variable left unescaped is refused when stored.
    let e = Template::parse(&thing_named("", r#"{"Fn::Sub": "${iot:ClientId}"}"#))
        .expect_err("unescaped");
    assert_eq!(e.kind(), TemplateErrorKind::UnknownReference);
    assert!(e.detail().contains("${!iot:ClientId}"), "{e}");
}

#[test]
fn policy_documents_as_objects_are_evaluated_and_validated() {
    let t = with(
        "",
        r#", "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument": {
              "Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": ["iot:Connect"], "Resource": "*",
                             "Condition": {"Bool": {"iot:Connection.Thing.IsAttached": "true"}}},
                            {"Effect": "Allow", "Action": ["iot:Publish"],
                             "Resource": [{"Fn::Join": ["", ["arn:aws:iot:us-east-1:123456789012:topic/", {"Ref": "AWS::IoT::Certificate::Id"}]]}]}]}}}"#,
    );
    let plan = Template::parse(&t)
        .expect("parses")
        .evaluate(&params(&[("AWS::IoT::Certificate::Id", ID)]))
        .expect("runs");
    let doc = plan.policies[0]
        .policy_document
        .clone()
        .expect("a document");
    assert_eq!(
        doc,
        format!(
            r#"{{"Statement":[{{"Action":["iot:Connect"],"Condition":{{"Bool":{{"iot:Connection.Thing.IsAttached":"true"}}}},"Effect":"Allow","Resource":"*"}},{{"Action":["iot:Publish"],"Effect":"Allow","Resource":["arn:aws:iot:us-east-1:123456789012:topic/{ID}"]}}],"Version":"2012-10-17"}}"#
        )
    );
    let digest = ring::digest::digest(&ring::digest::SHA256, doc.as_bytes());
    assert_eq!(plan.policies[0].policy_name, hex::encode(digest.as_ref()));

    let bad = with(
        "",
        r#", "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument": "{\"Version\": \"2012-10-17\"}"}}"#,
    );
    let f = Template::parse(&bad)
        .expect("parses")
        .evaluate(&params(&[("AWS::IoT::Certificate::Id", ID)]))
        .expect_err("no Statement");
    assert_eq!(f.code(), "INVALID_POLICY_DOCUMENT");
    assert_eq!(
        f.path(),
        Some("/Resources/policy/Properties/PolicyDocument")
    );
}

#[test]
fn values_aws_refuses_fail_with_the_property_and_place() {
    let p = params(&[
        ("AWS::IoT::Certificate::Id", ID),
        ("AWS::IoT::Certificate::CommonName", "Device 7"),
    ]);
    let f = run("", r#"{"Ref": "AWS::IoT::Certificate::CommonName"}"#, &p).expect_err("a space");
    assert_eq!(f.code(), "INVALID_PROPERTY_VALUE");
    assert_eq!(f.path(), Some("/Resources/thing/Properties/ThingName"));
    assert!(f.message().contains("\"Device 7\""), "{f}");

    let four = with(
        "",
        r#", "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": "t",
              "AttributePayload": {"a": "1", "b": "2", "c": "3", "d": "4"}}}"#,
    );
    let t = Template::parse(&four).expect("parses");
    let f = t.evaluate(&p).expect_err("four attributes, no type");
    assert_eq!(
        f.path(),
        Some("/Resources/thing/Properties/AttributePayload")
    );
    assert!(f.message().contains("at most 3 attributes"), "{f}");
    let typed = four.replace(
        r#""ThingName": "t","#,
        r#""ThingName": "t", "ThingTypeName": "sensor","#,
    );
    assert_eq!(
        Template::parse(&typed)
            .expect("parses")
            .evaluate(&p)
            .map(|p| p.thing.map(|t| t.attributes.len())),
        Ok(Some(4))
    );

    let other_id = "ab".repeat(32);
    let t = with(
        "",
        &format!(r#", "c2": {{"Type": "AWS::IoT::Policy", "Properties": {{"PolicyName": "{other_id}"}}}}"#),
    )
    .replace(r#"{"Ref": "AWS::IoT::Certificate::Id"}"#, &format!("\"{other_id}\""));
    let f = Template::parse(&t)
        .expect("parses")
        .evaluate(&p)
        .expect_err("another certificate");
    assert_eq!(f.code(), "CERTIFICATE_ID_MISMATCH");

    let status = with("", "").replace(
        r#""Properties": {"CertificateId""#,
        r#""Properties": {"Status": {"Fn::Join": ["", ["RE", "VOKED"]]}, "CertificateId""#,
    );
    let f = Template::parse(&status)
        .expect("parses")
        .evaluate(&p)
        .expect_err("REVOKED");
    assert_eq!(f.path(), Some("/Resources/certificate/Properties/Status"));

    let number = thing_named(
        r#", "Count": {"Type": "Number", "Default": "7"}"#,
        r#"{"Fn::Sub": "n${Count}"}"#,
    );
    assert_eq!(thing_name(&number, &p).as_deref(), Ok("n7"));
    let mut bad = p.clone();
    bad.insert("Count", "seven");
    assert_eq!(
        thing_name(&number, &bad).map_err(|f| f.code()),
        Err("INVALID_PARAMETER_VALUE")
    );
}

#[test]
fn a_serial_number_parameter_is_the_subject_attribute() {
    use rcgen::{CertificateParams, DnType, KeyPair};
    let mut cp = CertificateParams::new(vec![]).expect("params");
    cp.distinguished_name.push(DnType::CommonName, "sensor-1");
    cp.distinguished_name.push(DnType::CountryName, "DE");
    cp.serial_number = Some(rcgen::SerialNumber::from(0x1234_u64));
    let key = KeyPair::generate().expect("key");
    let cert =
        crate::Certificate::from_pem(&cp.self_signed(&key).expect("cert").pem()).expect("parses");
    let p = certificate_parameters(&cert);
    assert_eq!(p.get("AWS::IoT::Certificate::SerialNumber"), None);
    assert_eq!(p.certificate_subject(), Some(cert.subject().rfc4514()));
    let f = Template::parse(AWS_EXAMPLE)
        .expect("parses")
        .evaluate(&p)
        .expect_err("no serialNumber");
    assert_eq!(f.parameter(), Some("AWS::IoT::Certificate::SerialNumber"));
    let m = f.message();
    assert!(
        m.contains("has no serialNumber (serialNumber, OID 2.5.4.5) attribute"),
        "{m}"
    );
    assert!(
        m.contains("not the certificate's serial number (0x1234)"),
        "{m}"
    );
    assert!(m.contains("CN=sensor-1"), "{m}");
}

#[test]
fn output_is_bounded() {
    // 400 references to a 4,096-character parameter: past MAX_EVALUATION_OUTPUT.
    let refs = vec![r#"{"Ref": "Big"}"#; 400].join(",");
    let t = thing_named(
        r#", "Big": {"Type": "String"}"#,
        &format!(r#"{{"Fn::Join": ["", [{refs}]]}}"#),
    );
    assert!(t.chars().count() <= crate::MAX_TEMPLATE_BODY_LEN);
    let mut p = params(&[("AWS::IoT::Certificate::Id", ID)]);
    p.insert("Big", "x".repeat(MAX_PARAMETER_VALUE_LEN));
    let f = thing_name(&t, &p).expect_err("too much");
    assert_eq!(f.code(), "OUTPUT_TOO_LARGE");
    p.insert("Big", "x".repeat(MAX_PARAMETER_VALUE_LEN + 1));
    assert_eq!(
        thing_name(&t, &p).map_err(|f| f.code()),
        Err("INVALID_PARAMETER_VALUE")
    );
}

#[test]
fn every_template_error_kind_is_produced_with_its_path() {
    let thing = |props: &str| {
        with(
            "",
            &format!(r#", "thing": {{"Type": "AWS::IoT::Thing", "Properties": {props}}}"#),
        )
    };
    let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
    let very_deep = format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000));
    let long = format!("{{\"Resources\": {{}}, \"x\": \"{}\"}}", "y".repeat(10_300));
    let cases: Vec<(String, TemplateErrorKind, &str)> = vec![
        (long, TemplateErrorKind::TooLong, ""),
        ("{not json".into(), TemplateErrorKind::NotJson, ""),
        (
            format!(r#"{{"Resources": {{}}, "x": {deep}}}"#),
            TemplateErrorKind::TooDeep,
            "/x/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0",
        ),
        (very_deep, TemplateErrorKind::TooDeep, ""),
        ("[]".into(), TemplateErrorKind::WrongType, ""),
        (
            thing(r#"{"ThingName": 7}"#),
            TemplateErrorKind::WrongType,
            "/Resources/thing/Properties/ThingName",
        ),
        (
            thing(r#"{"ThingName": "t", "ThingGroups": "g"}"#),
            TemplateErrorKind::WrongType,
            "/Resources/thing/Properties/ThingGroups",
        ),
        (
            thing(r#"{"ThingName": {"Fn::Split": [",", "a,b"]}}"#),
            TemplateErrorKind::WrongType,
            "/Resources/thing/Properties/ThingName",
        ),
        (
            r#"{"Resources": {}, "Outputs": {}}"#.into(),
            TemplateErrorKind::UnknownKey,
            "/Outputs",
        ),
        (
            thing(r#"{"ThingName": "t", "Description": "d"}"#),
            TemplateErrorKind::UnknownKey,
            "/Resources/thing/Properties/Description",
        ),
        (
            r#"{"Parameters": {}}"#.into(),
            TemplateErrorKind::MissingKey,
            "",
        ),
        (
            thing(r#"{"AttributePayload": {}}"#),
            TemplateErrorKind::MissingKey,
            "/Resources/thing/Properties",
        ),
        (
            with(
                "",
                r#", "g": {"Type": "AWS::IoT::ThingGroup", "Properties": {}}"#,
            ),
            TemplateErrorKind::UnknownResourceType,
            "/Resources/g/Type",
        ),
        (
            r#"{"Resources": {}, "DeviceConfiguration": {}}"#.into(),
            TemplateErrorKind::NotForJitp,
            "/DeviceConfiguration",
        ),
        (
            with("", "").replace(
                "\"CertificateId\"",
                "\"CertificateSigningRequest\": \"csr\", \"CertificateId\"",
            ),
            TemplateErrorKind::NotForJitp,
            "/Resources/certificate/Properties/CertificateSigningRequest",
        ),
        (
            r#"{"Resources": {}}"#.into(),
            TemplateErrorKind::ResourceCount,
            "/Resources",
        ),
        (
            with(
                "",
                r#", "t1": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": "a"}}, "t2": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": "b"}}"#,
            ),
            TemplateErrorKind::ResourceCount,
            "/Resources",
        ),
        (
            with(r#", "P": {"Type": "CommaDelimitedList"}"#, ""),
            TemplateErrorKind::InvalidParameter,
            "/Parameters/P/Type",
        ),
        (
            with(
                r#", "AWS::IoT::Certificate::Locality": {"Type": "String"}"#,
                "",
            ),
            TemplateErrorKind::InvalidParameter,
            "/Parameters/AWS::IoT::Certificate::Locality",
        ),
        (
            with(r#", "AWS::Region": {"Type": "String"}"#, ""),
            TemplateErrorKind::InvalidParameter,
            "/Parameters/AWS::Region",
        ),
        (
            with(r#", "N": {"Type": "Number", "Default": "x"}"#, ""),
            TemplateErrorKind::InvalidParameter,
            "/Parameters/N/Default",
        ),
        (
            with(
                r#", "thing": {"Type": "String"}"#,
                r#", "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": "t"}}"#,
            ),
            TemplateErrorKind::DuplicateName,
            "/Resources/thing",
        ),
        (
            thing(r#"{"ThingName": {"Fn::GetAtt": ["certificate", "Arn"]}}"#),
            TemplateErrorKind::UnknownFunction,
            "/Resources/thing/Properties/ThingName",
        ),
        (
            thing(r#"{"ThingName": {"Fn::Upper": "x"}}"#),
            TemplateErrorKind::UnknownFunction,
            "/Resources/thing/Properties/ThingName",
        ),
        (
            thing(r#"{"ThingName": {"Fn::Sub": "${certificate.Arn}"}}"#),
            TemplateErrorKind::UnknownFunction,
            "/Resources/thing/Properties/ThingName/Fn::Sub",
        ),
        (
            thing(r#"{"ThingName": {"Fn::Join": ["-"]}}"#),
            TemplateErrorKind::InvalidFunction,
            "/Resources/thing/Properties/ThingName/Fn::Join",
        ),
        (
            thing(r#"{"ThingName": {"Ref": "x", "Fn::Join": []}}"#),
            TemplateErrorKind::InvalidFunction,
            "/Resources/thing/Properties/ThingName",
        ),
        (
            thing(r#"{"ThingName": {"Fn::Select": [-1, ["a"]]}}"#),
            TemplateErrorKind::InvalidFunction,
            "/Resources/thing/Properties/ThingName/Fn::Select/0",
        ),
        (
            thing(r#"{"ThingName": {"Ref": "Nope"}}"#),
            TemplateErrorKind::UnknownReference,
            "/Resources/thing/Properties/ThingName/Ref",
        ),
        (
            thing(r#"{"ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"}}"#),
            TemplateErrorKind::UnknownReference,
            "/Resources/thing/Properties/ThingName/Ref",
        ),
        (
            thing(r#"{"ThingName": {"Ref": "thing"}}"#),
            TemplateErrorKind::RefCycle,
            "/Resources/thing",
        ),
        (
            thing(r#"{"ThingName": {"Fn::Select": [1, ["a"]]}}"#),
            TemplateErrorKind::SelectOutOfRange,
            "/Resources/thing/Properties/ThingName",
        ),
        (
            thing(r#"{"ThingName": {"Fn::FindInMap": ["M", "a", "b"]}}"#),
            TemplateErrorKind::UnknownMapping,
            "/Resources/thing/Properties/ThingName",
        ),
        (
            r#"{"Mappings": {"M": {"a": {"b": {"Ref": "x"}}}}, "Resources": {}}"#.into(),
            TemplateErrorKind::InvalidMappings,
            "/Mappings/M/a/b",
        ),
        (
            with("", "").replace(
                r#"{"Type": "AWS::IoT::Certificate","#,
                r#"{"OverrideSettings": {"Status": "MERGE"}, "Type": "AWS::IoT::Certificate","#,
            ),
            TemplateErrorKind::InvalidOverride,
            "/Resources/certificate/OverrideSettings/Status",
        ),
        (
            with(
                "",
                r#", "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": "t"}, "OverrideSettings": {"ThingTypeName": "MERGE"}}"#,
            ),
            TemplateErrorKind::InvalidOverride,
            "/Resources/thing/OverrideSettings/ThingTypeName",
        ),
        (
            with(
                "",
                r#", "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": "t"}, "OverrideSettings": {"BillingGroup": "REPLACE"}}"#,
            ),
            TemplateErrorKind::InvalidOverride,
            "/Resources/thing/OverrideSettings/BillingGroup",
        ),
        (
            with(
                "",
                r#", "p": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "a"}, "OverrideSettings": {}}"#,
            ),
            TemplateErrorKind::InvalidOverride,
            "/Resources/p/OverrideSettings",
        ),
        (
            with(
                "",
                r#", "p": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "a", "PolicyDocument": "{}"}}"#,
            ),
            TemplateErrorKind::InvalidPolicy,
            "/Resources/p/Properties",
        ),
        (
            with(
                "",
                r#", "p": {"Type": "AWS::IoT::Policy", "Properties": {}}"#,
            ),
            TemplateErrorKind::InvalidPolicy,
            "/Resources/p/Properties",
        ),
    ];
    let mut seen = BTreeSet::new();
    for (template, kind, path) in &cases {
        let e = Template::parse(template).expect_err(&template[..template.len().min(200)]);
        assert_eq!((e.kind(), e.path()), (*kind, *path), "{e}");
        assert!(!e.detail().is_empty());
        let err = crate::Error::from(e.clone());
        assert_eq!(err.code(), "InvalidRequestException");
        assert!(err.message().contains(e.detail()));
        seen.insert(e.code());
    }
    let all: BTreeSet<_> = TemplateErrorKind::ALL.iter().map(|k| k.code()).collect();
    assert_eq!(seen, all, "every kind has a case");
    assert_eq!(
        all.len(),
        TemplateErrorKind::ALL.len(),
        "codes are distinct"
    );
}

#[test]
fn every_failure_code_is_distinct() {
    let codes: BTreeSet<_> = ProvisioningFailure::CODES.iter().collect();
    assert_eq!(codes.len(), ProvisioningFailure::CODES.len());
}

#[test]
fn preview_reports_plans_failures_and_template_errors() {
    let ok = preview(&json!({"templateBody": AWS_EXAMPLE, "parameters": {
        "AWS::IoT::Certificate::CommonName": "sensor-0001",
        "AWS::IoT::Certificate::SerialNumber": "SN-0001",
        "AWS::IoT::Certificate::Country": "DE",
        "AWS::IoT::Certificate::Id": ID,
    }}))
    .expect("valid input");
    assert_eq!(ok["provisioned"], true);
    assert_eq!(ok["certificateStatus"], "ACTIVE");
    assert_eq!(ok["thing"]["thingName"], "sensor-0001");
    assert_eq!(ok["thing"]["thingGroups"], json!(["v1-lightbulbs", "DE"]));
    assert_eq!(ok["thing"]["billingGroup"], json!(null));
    assert_eq!(ok["thing"]["overrideSettings"]["attributePayload"], "MERGE");
    assert_eq!(
        ok["certificate"]["overrideSettings"]["status"],
        "DO_NOTHING"
    );
    assert_eq!(ok["policies"][0]["create"], true);

    let bad = preview(&json!({"templateBody": "{", "parameters": {}})).expect("valid input");
    assert_eq!(bad["provisioned"], false);
    assert_eq!(bad["certificateStatus"], json!(null));
    assert_eq!(bad["failure"]["stage"], "TEMPLATE");
    assert_eq!(bad["failure"]["code"], "NOT_JSON");
    assert_eq!(bad["failure"]["error"], "InvalidRequestException");

    for input in [
        json!("x"),
        json!({"templateBody": AWS_EXAMPLE}),
        json!({"parameters": {}}),
        json!({"templateBody": AWS_EXAMPLE, "parameters": {"a": 1}}),
        json!({"templateBody": AWS_EXAMPLE, "parameters": {}, "other": 1}),
        json!({"templateBody": AWS_EXAMPLE, "parameters": {}, "account": "123456789012"}),
        json!({"templateBody": AWS_EXAMPLE, "parameters": {}, "account": "1", "region": "us-east-1"}),
    ] {
        assert_eq!(
            preview(&input).map_err(|e| e.code()),
            Err("InvalidRequestException"),
            "{input}"
        );
    }
    assert_eq!(
        preview(&json!({"templateBody": AWS_EXAMPLE, "certificatePem": "nope"}))
            .map_err(|e| e.code()),
        Err("CertificateValidationException")
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

    /// AWS's example provisions exactly the devices whose fields make valid names and
    /// attribute values, and then uses them unchanged.
    #[test]
    fn aws_example_takes_exactly_the_valid_fields(
        cn in "[ -~]{0,12}",
        serial in "[a-zA-Z0-9 .#=-]{0,8}",
        country in "[A-Za-z ]{0,3}",
    ) {
        let t = Template::parse(AWS_EXAMPLE).expect("parses");
        let p = params(&[
            ("AWS::IoT::Certificate::CommonName", &cn),
            ("AWS::IoT::Certificate::SerialNumber", &serial),
            ("AWS::IoT::Certificate::Country", &country),
            ("AWS::IoT::Certificate::Id", ID),
        ]);
        let name = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || ":_-".contains(c));
        let valid = name(&cn)
            && serial.chars().all(|c| c.is_ascii_alphanumeric() || "_.,@/:#=[]-".contains(c))
            && name(&country);
        let result = t.evaluate(&p);
        proptest::prop_assert_eq!(&result, &t.evaluate(&p));
        match result {
            Ok(plan) => {
                proptest::prop_assert!(valid);
                let thing = plan.thing.expect("a thing");
                proptest::prop_assert_eq!(thing.thing_name, cn);
                proptest::prop_assert_eq!(&thing.attributes["serialNumber"], &serial);
                proptest::prop_assert_eq!(&thing.thing_groups[1], &country);
            }
            Err(f) => {
                proptest::prop_assert!(!valid, "{}", f);
                proptest::prop_assert_eq!(f.code(), "INVALID_PROPERTY_VALUE");
            }
        }
    }
}
