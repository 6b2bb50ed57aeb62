//! Policy versions, policy listings and limits, things, thing types, thing principals and
//! tags: AWS IoT's rules, on the store `JITR_TEST_STORE` names.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use jitr_core::*;

fn doc(topic: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/{topic}"}}]}}"#
    )
}

fn code(e: Error) -> &'static str {
    e.code()
}

/// The ARN of a new device of `ca`, registered ACTIVE.
fn device_arn(reg: &Registry, ca: &Ca, cn: &str) -> String {
    let id = ca.device(cn).register(reg, Some(CertificateStatus::Active));
    reg.scope().certificate_arn(&id)
}

#[test]
fn policy_versions_as_aws_keeps_them() {
    let reg = registry();
    let feed = reg.subscribe();
    reg.create_policy("P", &doc("v1"), now()).unwrap();
    let v2 = reg
        .create_policy_version("P", &doc("v2"), false, now())
        .unwrap();
    assert_eq!(
        (v2.policy_version_id.as_str(), v2.is_default_version),
        ("2", false)
    );
    assert_eq!(reg.get_policy("P").unwrap().policy_document, doc("v1"));
    let v3 = reg
        .create_policy_version("P", &doc("v3"), true, now())
        .unwrap();
    assert!(v3.is_default_version);
    let p = reg.get_policy("P").unwrap();
    assert_eq!(
        (p.policy_document.as_str(), p.default_version_id.as_str()),
        (doc("v3").as_str(), "3")
    );
    let ids: Vec<String> = reg
        .list_policy_versions("P")
        .unwrap()
        .into_iter()
        .map(|v| v.version_id)
        .collect();
    assert_eq!(ids, ["3", "2", "1"], "newest first");
    let got = reg.get_policy_version("P", "2").unwrap();
    assert_eq!(
        (got.policy_document.as_str(), got.is_default_version),
        (doc("v2").as_str(), false)
    );

    // The default cannot be deleted; a missing version is not found.
    assert_eq!(
        code(reg.delete_policy_version("P", "3", now()).unwrap_err()),
        "DeleteConflictException"
    );
    assert_eq!(
        code(reg.get_policy_version("P", "9").unwrap_err()),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(reg.get_policy_version("P", "x").unwrap_err()),
        "InvalidRequestException"
    );
    reg.set_default_policy_version("P", "1", now()).unwrap();
    assert_eq!(reg.get_policy("P").unwrap().policy_document, doc("v1"));

    // Five versions at most.
    reg.create_policy_version("P", &doc("v4"), false, now())
        .unwrap();
    reg.create_policy_version("P", &doc("v5"), false, now())
        .unwrap();
    assert_eq!(
        code(
            reg.create_policy_version("P", &doc("v6"), false, now())
                .unwrap_err()
        ),
        "VersionsLimitExceededException"
    );
    // A policy with other versions cannot be deleted; without them it can.
    assert_eq!(
        code(reg.delete_policy("P").unwrap_err()),
        "DeleteConflictException"
    );
    for v in ["2", "3", "4", "5"] {
        reg.delete_policy_version("P", v, now()).unwrap();
    }
    let next = reg
        .create_policy_version("P", &doc("v6"), false, now())
        .unwrap();
    assert_eq!(next.policy_version_id, "6", "IDs are never reused");
    reg.delete_policy_version("P", "6", now()).unwrap();
    reg.delete_policy("P").unwrap();
    assert_eq!(
        code(reg.get_policy("P").unwrap_err()),
        "ResourceNotFoundException"
    );
    // Malformed documents are refused for versions too.
    reg.create_policy("Q", &doc("q"), now()).unwrap();
    assert_eq!(
        code(
            reg.create_policy_version("Q", "{}", false, now())
                .unwrap_err()
        ),
        "MalformedPolicyException"
    );

    let mut kinds = Vec::new();
    while let Some(c) = feed.recv_timeout(Duration::from_millis(100)) {
        kinds.push(
            serde_json::to_value(&c.change).unwrap()["change"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(kinds.first().map(String::as_str), Some("POLICY_CREATED"));
    assert!(kinds.iter().any(|k| k == "POLICY_VERSIONS_CHANGED"));
    assert!(kinds.iter().any(|k| k == "POLICY_DELETED"));
}

#[test]
fn policy_listings_limits_and_effective_policies() {
    let (reg, ca) = registry_with_ca("Fleet CA");
    let arn = device_arn(&reg, &ca, "d1");
    for i in 0..11 {
        reg.create_policy(&format!("P{i:02}"), &doc(&format!("t{i}")), now())
            .unwrap();
    }
    for i in 0..10 {
        reg.attach_policy(&format!("P{i:02}"), &arn).unwrap();
    }
    reg.attach_policy("P00", &arn).unwrap(); // again: not an error
    assert_eq!(
        code(reg.attach_policy("P10", &arn).unwrap_err()),
        "LimitExceededException"
    );

    // ListPolicies pages by name, both ways.
    let mut req = ListRequest {
        page_size: Some(4),
        marker: None,
        ascending_order: true,
    };
    let mut names = Vec::new();
    loop {
        let page = reg.list_policies(&req).unwrap();
        assert!(page.items.len() <= 4);
        names.extend(page.items.into_iter().map(|p| p.policy_name));
        match page.next_marker {
            Some(m) => req.marker = Some(m),
            None => break,
        }
    }
    let expected: Vec<String> = (0..11).map(|i| format!("P{i:02}")).collect();
    assert_eq!(names, expected);
    let desc = reg
        .list_policies(&ListRequest {
            page_size: Some(2),
            marker: None,
            ascending_order: false,
        })
        .unwrap();
    assert_eq!(desc.items[0].policy_name, "P10");
    assert_eq!(
        code(
            reg.list_policies(&ListRequest {
                marker: Some("zz".into()),
                ..Default::default()
            })
            .unwrap_err()
        ),
        "InvalidRequestException"
    );

    let targets = reg
        .list_targets_for_policy("P03", &ListRequest::default())
        .unwrap();
    assert_eq!(targets.items, std::slice::from_ref(&arn));
    assert!(reg
        .list_targets_for_policy("P10", &ListRequest::default())
        .unwrap()
        .items
        .is_empty());
    let attached = reg
        .list_principal_policies(&arn, &ListRequest::default())
        .unwrap();
    assert_eq!(attached.items.len(), 10);
    let effective = reg.get_effective_policies(&arn, None).unwrap();
    assert_eq!(effective.len(), 10);
    assert_eq!(effective[3].policy_document, doc("t3"));
    assert_eq!(
        code(
            reg.get_effective_policies(&arn, Some("no-such-thing"))
                .unwrap_err()
        ),
        "ResourceNotFoundException"
    );
    // Attached policies cannot be deleted.
    assert_eq!(
        code(reg.delete_policy("P01").unwrap_err()),
        "DeleteConflictException"
    );
}

fn attrs(pairs: &[(&str, &str)], merge: bool) -> AttributePayload {
    AttributePayload {
        attributes: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        merge,
    }
}

/// CreateThing without a type or billing group, with these attributes (not merged).
fn create_untyped(
    reg: &Registry,
    name: &str,
    pairs: &[(&str, &str)],
) -> Result<CreateThingResponse, Error> {
    reg.create_thing(name, None, &attrs(pairs, false), None, now())
}

#[test]
fn things_their_attributes_versions_and_types() {
    let reg = registry();
    let t = create_untyped(&reg, "sensor-1", &[("room", "12"), ("floor", "1")]).unwrap();
    assert_eq!(
        t.thing_arn,
        "arn:aws:iot:us-east-1:123456789012:thing/sensor-1"
    );
    // Same configuration: the same thing; another: refused.
    let again = create_untyped(&reg, "sensor-1", &[("floor", "1"), ("room", "12")]).unwrap();
    assert_eq!(again.thing_id, t.thing_id);
    assert_eq!(
        code(create_untyped(&reg, "sensor-1", &[("room", "13")]).unwrap_err()),
        "ResourceAlreadyExistsException"
    );
    // Names, attributes and their limits.
    for bad in ["", "has space", &"x".repeat(129)] {
        assert_eq!(
            code(
                reg.create_thing(bad, None, &AttributePayload::default(), None, now())
                    .unwrap_err()
            ),
            "InvalidRequestException",
            "{bad:?}"
        );
    }
    assert_eq!(
        code(
            create_untyped(
                &reg,
                "four",
                &[("a", "1"), ("b", "1"), ("c", "1"), ("d", "1")]
            )
            .unwrap_err()
        ),
        "InvalidRequestException",
        "three attributes without a thing type"
    );
    assert_eq!(
        code(
            reg.create_thing(
                "typed",
                Some("NoType"),
                &AttributePayload::default(),
                None,
                now()
            )
            .unwrap_err()
        ),
        "ResourceNotFoundException"
    );
    reg.create_thing_type("Sensor", Some("sensors"), &["room".into()], now())
        .unwrap();
    let many: Vec<(String, String)> = (0..10)
        .map(|i| (format!("a{i}"), "v".to_string()))
        .collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    reg.create_thing("typed", Some("Sensor"), &attrs(&many, false), None, now())
        .unwrap();

    // Update: merge adds, replaces and (empty value) removes; without merge, replaces.
    let d = reg.describe_thing("sensor-1").unwrap();
    assert_eq!((d.version, d.default_client_id.as_str()), (1, "sensor-1"));
    reg.update_thing(
        "sensor-1",
        None,
        false,
        Some(&attrs(&[("room", "14"), ("floor", "")], true)),
        Some(1),
        now(),
    )
    .unwrap();
    let d = reg.describe_thing("sensor-1").unwrap();
    assert_eq!(
        d.attributes,
        BTreeMap::from([("room".to_string(), "14".to_string())])
    );
    assert_eq!(d.version, 2);
    assert_eq!(
        code(
            reg.update_thing("sensor-1", None, false, None, Some(1), now())
                .unwrap_err()
        ),
        "VersionConflictException"
    );
    reg.update_thing(
        "sensor-1",
        Some("Sensor"),
        false,
        Some(&attrs(&[("zone", "b")], false)),
        None,
        now(),
    )
    .unwrap();
    let d = reg.describe_thing("sensor-1").unwrap();
    assert_eq!(d.thing_type_name.as_deref(), Some("Sensor"));
    assert_eq!(
        d.attributes,
        BTreeMap::from([("zone".to_string(), "b".to_string())])
    );

    // ListThings: all, by attribute, by type, paged.
    let all = reg
        .list_things(&ThingFilter::default(), &ListRequest::default())
        .unwrap();
    let names: Vec<_> = all.items.iter().map(|t| t.thing_name.as_str()).collect();
    assert_eq!(names, ["sensor-1", "typed"]);
    let by_attr = reg
        .list_things(
            &ThingFilter {
                attribute_name: Some("zone".into()),
                attribute_value: Some("b".into()),
                ..Default::default()
            },
            &ListRequest::default(),
        )
        .unwrap();
    assert_eq!(by_attr.items.len(), 1);
    assert_eq!(by_attr.items[0].thing_name, "sensor-1");
    let by_type = reg
        .list_things(
            &ThingFilter {
                thing_type_name: Some("Sensor".into()),
                ..Default::default()
            },
            &ListRequest {
                page_size: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(by_type.items.len(), 1);
    assert!(by_type.next_marker.is_some());

    // Thing types: deprecated ones take no new things, and only a deprecated type with
    // no things can be deleted.
    assert_eq!(
        code(reg.delete_thing_type("Sensor").unwrap_err()),
        "InvalidRequestException"
    );
    reg.deprecate_thing_type("Sensor", false, now()).unwrap();
    assert!(
        reg.describe_thing_type("Sensor")
            .unwrap()
            .thing_type_metadata
            .deprecated
    );
    assert_eq!(
        code(
            reg.create_thing(
                "late",
                Some("Sensor"),
                &AttributePayload::default(),
                None,
                now()
            )
            .unwrap_err()
        ),
        "InvalidRequestException"
    );
    assert_eq!(
        code(reg.delete_thing_type("Sensor").unwrap_err()),
        "InvalidRequestException"
    );
    reg.update_thing("sensor-1", None, true, None, None, now())
        .unwrap();
    reg.delete_thing("typed", None).unwrap();
    reg.delete_thing_type("Sensor").unwrap();
    assert_eq!(
        code(reg.describe_thing_type("Sensor").unwrap_err()),
        "ResourceNotFoundException"
    );
    // Deleting a thing that does not exist succeeds, as on AWS.
    reg.delete_thing("never-was", None).unwrap();
}

#[test]
fn thing_principals_exclusive_and_not() {
    let (reg, ca) = registry_with_ca("Fleet CA");
    let a = device_arn(&reg, &ca, "a");
    let b = device_arn(&reg, &ca, "b");
    for t in ["t1", "t2", "t3"] {
        reg.create_thing(t, None, &AttributePayload::default(), None, now())
            .unwrap();
    }
    use ThingPrincipalType::{Exclusive, NonExclusive};
    let attach = |thing: &str, principal: &str, kind| {
        reg.attach_thing_principal(thing, principal, kind)
            .map_err(code)
    };
    attach("t1", &a, NonExclusive).unwrap();
    attach("t2", &a, NonExclusive).unwrap();
    assert_eq!(
        attach("t3", &a, Exclusive),
        Err("InvalidRequestException"),
        "exclusive needs the principal attached to nothing else"
    );
    attach("t3", &b, Exclusive).unwrap();
    assert_eq!(
        attach("t1", &b, NonExclusive),
        Err("InvalidRequestException"),
        "b belongs to t3 alone"
    );
    let things = reg
        .list_principal_things(&a, &ListRequest::default())
        .unwrap();
    assert_eq!(things.items, ["t1", "t2"]);
    let principals = reg
        .list_thing_principals("t3", &ListRequest::default())
        .unwrap();
    assert_eq!(principals.items, std::slice::from_ref(&b));
    assert_eq!(
        code(reg.delete_thing("t3", None).unwrap_err()),
        "InvalidRequestException"
    );
    reg.detach_thing_principal("t3", &b).unwrap();
    reg.delete_thing("t3", None).unwrap();
    let unregistered = reg
        .scope()
        .certificate_arn(&CertificateId::from_bytes([7; 32]));
    for (thing, principal) in [("nope", &a), ("t1", &unregistered)] {
        assert_eq!(
            attach(thing, principal, NonExclusive),
            Err("ResourceNotFoundException"),
            "{thing} {principal}"
        );
    }
}

#[test]
fn tags_on_cas_policies_and_thing_types() {
    let reg = registry();
    let ca = Ca::new("Fleet CA");
    let ca_id = register_ca(
        &reg,
        &RegisterCaCertificateRequest {
            tags: vec![Tag {
                key: "team".into(),
                value: Some("fleet".into()),
            }],
            ..ca.request(ca.proof_for(&reg))
        },
        now(),
    );
    let ca_arn = reg.scope().ca_certificate_arn(&ca_id);
    let tags = reg
        .list_tags_for_resource(&ca_arn, &ListRequest::default())
        .unwrap();
    assert_eq!(
        tags.items,
        [Tag {
            key: "team".into(),
            value: Some("fleet".into())
        }]
    );

    reg.create_policy("P", &doc("x"), now()).unwrap();
    let p_arn = reg.scope().policy_arn("P");
    reg.tag_resource(
        &p_arn,
        &[
            Tag {
                key: "a".into(),
                value: Some("1".into()),
            },
            Tag {
                key: "b".into(),
                value: None,
            },
        ],
    )
    .unwrap();
    reg.tag_resource(
        &p_arn,
        &[Tag {
            key: "a".into(),
            value: Some("2".into()),
        }],
    )
    .unwrap();
    let tags = reg
        .list_tags_for_resource(&p_arn, &ListRequest::default())
        .unwrap();
    assert_eq!(
        tags.items,
        [
            Tag {
                key: "a".into(),
                value: Some("2".into())
            },
            Tag {
                key: "b".into(),
                value: None
            }
        ]
    );
    reg.untag_resource(&p_arn, &["a".into(), "zz".into()])
        .unwrap();
    assert_eq!(
        reg.list_tags_for_resource(&p_arn, &ListRequest::default())
            .unwrap()
            .items
            .len(),
        1
    );

    let too_many: Vec<Tag> = (0..51)
        .map(|i| Tag {
            key: format!("k{i}"),
            value: None,
        })
        .collect();
    assert_eq!(
        code(reg.tag_resource(&p_arn, &too_many).unwrap_err()),
        "LimitExceededException"
    );
    assert_eq!(
        code(
            reg.tag_resource(
                &p_arn,
                &[Tag {
                    key: "aws:x".into(),
                    value: None
                }]
            )
            .unwrap_err()
        ),
        "InvalidRequestException"
    );
    assert_eq!(
        code(
            reg.tag_resource(
                &reg.scope().policy_arn("Nope"),
                &[Tag {
                    key: "a".into(),
                    value: None
                }]
            )
            .unwrap_err()
        ),
        "ResourceNotFoundException"
    );
    reg.create_thing("t", None, &AttributePayload::default(), None, now())
        .unwrap();
    assert_eq!(
        code(
            reg.tag_resource(
                &reg.scope().thing_arn("t"),
                &[Tag {
                    key: "a".into(),
                    value: None
                }]
            )
            .unwrap_err()
        ),
        "InvalidRequestException"
    );
    assert_eq!(
        code(
            reg.tag_resource("arn:aws:iot:eu-west-1:123456789012:policy/P", &[])
                .unwrap_err()
        ),
        "InvalidRequestException",
        "another region's ARN"
    );
    // Deleting a resource drops its tags.
    reg.delete_policy("P").unwrap();
    reg.create_policy("P", &doc("x"), now()).unwrap();
    assert!(reg
        .list_tags_for_resource(&p_arn, &ListRequest::default())
        .unwrap()
        .items
        .is_empty());
}

#[test]
fn the_json_api_speaks_the_new_operations() {
    use serde_json::json;
    let reg = registry();
    let call = |op: &str, p: serde_json::Value| api::call(&reg, op, &p, now());
    call("create_thing_type", json!({"thingTypeName": "T", "thingTypeProperties": {"searchableAttributes": ["a"]}, "tags": [{"Key": "k", "Value": "v"}]})).unwrap();
    call("create_thing", json!({"thingName": "x", "thingTypeName": "T", "attributePayload": {"attributes": {"a": "1"}}})).unwrap();
    let things = call(
        "list_things",
        json!({"attributeName": "a", "attributeValue": "1"}),
    )
    .unwrap();
    assert_eq!(things["things"][0]["thingName"], "x");
    assert_eq!(
        things["things"][0]["thingArn"],
        "arn:aws:iot:us-east-1:123456789012:thing/x"
    );
    let err = call(
        "update_thing",
        json!({"thingName": "x", "expectedVersion": 7}),
    )
    .unwrap_err();
    assert_eq!(err.code(), "VersionConflictException");
    call(
        "create_policy",
        json!({"policyName": "P", "policyDocument": doc("t"), "tags": [{"Key": "k"}]}),
    )
    .unwrap();
    let v = call(
        "create_policy_version",
        json!({"policyName": "P", "policyDocument": doc("u"), "setAsDefault": true}),
    )
    .unwrap();
    assert_eq!(v["policyVersionId"], "2");
    let versions = call("list_policy_versions", json!({"policyName": "P"})).unwrap();
    assert_eq!(versions["policyVersions"][0]["isDefaultVersion"], true);
    let tags = call(
        "list_tags_for_resource",
        json!({"resourceArn": "arn:aws:iot:us-east-1:123456789012:thingtype/T"}),
    )
    .unwrap();
    assert_eq!(tags["tags"], json!([{"Key": "k", "Value": "v"}]));
    let err = call(
        "list_things",
        json!({"usePrefixAttributeValue": true, "attributeName": "a"}),
    )
    .unwrap_err();
    assert_eq!(err.code(), "InvalidRequestException");
}

#[test]
fn a_connections_policies_decide_with_its_certificate_and_thing() {
    use jitr_core::policy::{Action, AuthDecision};
    let (reg, ca) = registry_with_ca("Fleet CA");
    let arn = device_arn(&reg, &ca, "d1");
    let id = reg.scope().parse_certificate_arn(&arn).unwrap();
    // AWS's sample: connect only as client/<certificateId>.
    let sample = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/{id}"}}]}}"#
    );
    reg.create_policy("Sample", &sample, now()).unwrap();
    reg.attach_policy("Sample", &arn).unwrap();
    // What a connection of the device as `client` may do, compiled from the registry now.
    let check = |client: &str, action: Action, resource: &str| {
        reg.compile_connection(&id, &ConnectionInfo::new(client), now())
            .unwrap()
            .check(action, resource, now())
    };
    for client in ["device-1", "ld0", "abc"] {
        assert_eq!(
            check(client, Action::Connect, client),
            AuthDecision::ImplicitDeny,
            "{client}"
        );
    }
    let own = id.to_string();
    assert_eq!(check(&own, Action::Connect, &own), AuthDecision::Allowed);

    // Thing variables resolve through the thing the certificate is attached to.
    let thing_policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"},
        {"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/rooms/${iot:Connection.Thing.Attributes[room]}/*"}]}"#;
    reg.create_policy("Thing", thing_policy, now()).unwrap();
    reg.attach_policy("Thing", &arn).unwrap();
    create_untyped(&reg, "sensor-1", &[("room", "12")]).unwrap();
    assert_eq!(
        check("sensor-1", Action::Connect, "sensor-1"),
        AuthDecision::ImplicitDeny,
        "not attached yet"
    );
    reg.attach_thing_principal("sensor-1", &arn, ThingPrincipalType::NonExclusive)
        .unwrap();
    for (action, resource, expected) in [
        (Action::Connect, "sensor-1", AuthDecision::Allowed),
        (Action::Publish, "rooms/12/temp", AuthDecision::Allowed),
        (Action::Publish, "rooms/13/temp", AuthDecision::ImplicitDeny),
    ] {
        assert_eq!(check("sensor-1", action, resource), expected, "{resource}");
    }
    // Non-exclusive: the client id must be the thing's name.
    assert_eq!(
        check("someone", Action::Publish, "rooms/12/temp"),
        AuthDecision::ImplicitDeny
    );

    // TestAuthorization over the same resolution, with policies added and skipped.
    let topic = |t: &str| format!("arn:aws:iot:us-east-1:123456789012:topic/{t}");
    let infos = [jitr_core::policy::AuthInfo {
        action_type: "PUBLISH".into(),
        resources: vec![topic("rooms/12/x")],
    }];
    let out = reg
        .test_authorization(&arn, Some("sensor-1"), &infos, &[], &[], now())
        .unwrap();
    assert_eq!(out["authResults"][0]["authDecision"], "ALLOWED");
    assert_eq!(
        out["authResults"][0]["allowed"]["policies"][0]["policyName"],
        "Thing"
    );
    let out = reg
        .test_authorization(
            &arn,
            Some("sensor-1"),
            &infos,
            &[],
            &["Thing".into()],
            now(),
        )
        .unwrap();
    assert_eq!(out["authResults"][0]["authDecision"], "IMPLICIT_DENY");
    reg.create_policy(
        "Deny",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:*","Resource":"*"}]}"#,
        now(),
    )
    .unwrap();
    let out = reg
        .test_authorization(&arn, Some("sensor-1"), &infos, &["Deny".into()], &[], now())
        .unwrap();
    assert_eq!(out["authResults"][0]["authDecision"], "EXPLICIT_DENY");
    assert_eq!(
        out["authResults"][0]["denied"]["explicitDeny"]["policies"][0]["policyName"],
        "Deny"
    );
    assert_eq!(
        code(
            reg.test_authorization(&arn, None, &infos, &["Nope".into()], &[], now())
                .unwrap_err()
        ),
        "ResourceNotFoundException"
    );

    // The feed says which changes a host must recompile for.
    let feed = reg.subscribe();
    reg.detach_policy("Thing", &arn).unwrap();
    let change = feed.recv_timeout(Duration::from_secs(5)).unwrap().change;
    assert!(change.affects_connections(), "{change:?}");
    assert_eq!(
        check("sensor-1", Action::Publish, "rooms/12/temp"),
        AuthDecision::ImplicitDeny
    );
}

/// An attachment, membership, detachment or CA update whose effect is already in place
/// commits nothing (no change reaches the feed); the same operation that does change
/// something commits its one change.
#[test]
fn an_operation_already_in_effect_commits_nothing() {
    let (reg, ca) = registry_with_ca("Fleet CA");
    let a = device_arn(&reg, &ca, "a");
    let b = device_arn(&reg, &ca, "b");
    reg.create_thing("t", None, &AttributePayload::default(), None, now())
        .unwrap();
    reg.create_thing_group("g", None, None, &AttributePayload::default(), now())
        .unwrap();
    reg.create_policy("P", &doc("x"), now()).unwrap();
    reg.attach_thing_principal("t", &a, ThingPrincipalType::NonExclusive)
        .unwrap();
    reg.add_thing_to_thing_group("g", "t").unwrap();
    reg.attach_policy("P", &a).unwrap();

    let feed = reg.subscribe();
    let changes = || {
        let mut kinds = Vec::new();
        while let Some(c) = feed.recv_timeout(Duration::from_millis(100)) {
            let kind = serde_json::to_value(&c.change).unwrap()["change"].clone();
            kinds.push(kind.as_str().unwrap().to_string());
        }
        kinds
    };
    reg.attach_thing_principal("t", &a, ThingPrincipalType::NonExclusive)
        .unwrap();
    reg.add_thing_to_thing_group("g", "t").unwrap();
    reg.attach_policy("P", &a).unwrap();
    reg.detach_thing_principal("t", &b).unwrap();
    reg.detach_policy("P", &b).unwrap();
    reg.update_ca_certificate(&UpdateCaCertificateRequest::new(ca.id()), now())
        .unwrap();
    assert_eq!(changes(), Vec::<String>::new());

    reg.detach_thing_principal("t", &a).unwrap();
    reg.detach_policy("P", &a).unwrap();
    assert_eq!(changes(), ["THING_PRINCIPAL_DETACHED", "POLICY_DETACHED"]);
}
