//! Just-in-time provisioning (JITP): the provisioning-template engine.
//!
//! JITP is AWS IoT's sibling of JITR. When a CA's `registrationConfig` carries a
//! provisioning template (`templateBody` and `roleArn`, or the `templateName` of a
//! provisioning template of type `JITP`), a device's first connection with a certificate
//! the CA signed runs the template: it creates the device's thing and policy, attaches
//! them and activates the certificate, with no handler to write.
//!
//! This module is the pure part, with no registry and no clock:
//! - [`Template::parse`] reads and checks a template when it is stored, refusing
//!   anything AWS does not define for JITP with a [`TemplateError`] that says what and
//!   where (a JSON pointer); it converts into [`Error::InvalidRequest`](crate::Error),
//!   AWS's `InvalidRequestException`.
//! - [`certificate_parameters`] extracts JITP's parameters from a device certificate.
//! - [`Template::evaluate`] runs a template for one device and returns a
//!   [`ProvisioningPlan`] (plain data: the thing, the certificate's status, the policies)
//!   or a [`ProvisioningFailure`] that names what is missing: for a certificate
//!   parameter, the parameter *and* the certificate field it comes from. This is the
//!   diagnosis AWS never gives: there, such a certificate just stays
//!   `PENDING_ACTIVATION`.
//! - [`preview`] is the JSON entry point the Python package, the browser page and the
//!   pre-flight check bind.
//!
//! Carrying a plan out (creating, attaching, activating, all or nothing) is the
//! registry's.
//!
//! ```
//! use jitr_core::provisioning::{Parameters, Template};
//! let template = Template::parse(r#"{
//!   "Parameters": {"AWS::IoT::Certificate::CommonName": {"Type": "String"},
//!                  "AWS::IoT::Certificate::Country": {"Type": "String"},
//!                  "AWS::IoT::Certificate::Id": {"Type": "String"}},
//!   "Resources": {
//!     "thing": {"Type": "AWS::IoT::Thing", "Properties": {
//!       "ThingName": {"Fn::Join": ["-", [{"Ref": "AWS::IoT::Certificate::Country"},
//!                                        {"Ref": "AWS::IoT::Certificate::CommonName"}]]}}},
//!     "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {
//!       "CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}}}}"#)?;
//! let mut device = Parameters::new();
//! device.insert("AWS::IoT::Certificate::CommonName", "sensor-7");
//! device.insert("AWS::IoT::Certificate::Id", "00".repeat(32));
//! let failure = template.evaluate(&device).unwrap_err();
//! assert_eq!(failure.code(), "MISSING_PARAMETER");
//! assert_eq!(failure.parameter(), Some("AWS::IoT::Certificate::Country"));
//! device.insert("AWS::IoT::Certificate::Country", "DE");
//! assert_eq!(template.evaluate(&device).unwrap().thing.unwrap().thing_name, "DE-sensor-7");
//! # Ok::<(), jitr_core::provisioning::TemplateError>(())
//! ```
//!
//! # Sources
//!
//! - Provisioning templates (sections, resources and their properties,
//!   `OverrideSettings`, `Mappings`, intrinsic functions):
//!   <https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html>
//! - Just-in-time provisioning (the certificate parameters, the example template, the
//!   workflow, the failure on a missing field):
//!   <https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html>
//! - The functions' semantics, which AWS IoT's page leaves to CloudFormation's:
//!   <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html>
//!   (in particular `Fn::Sub`'s `${Name}` and `${!Literal}`:
//!   <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-sub.html>).
//! - botocore's `iot` model (`botocore/data/iot/2015-05-28/service-2.json`):
//!   `CreateProvisioningTemplate` and `RegisterThing` take a `templateBody` of at most
//!   10,240 characters and answer a bad one with `InvalidRequestException`; template
//!   `type` is `FLEET_PROVISIONING` (the default) or `JITP`; parameter names have at
//!   most 2,048 characters and values 4,096; the name patterns of things, thing types,
//!   thing groups, billing groups, attributes and policies are its `ThingName`,
//!   `ThingTypeName`, `ThingGroupName`, `BillingGroupName`, `AttributeName`,
//!   `AttributeValue` and `PolicyName` shapes. API reference:
//!   <https://docs.aws.amazon.com/iot/latest/apireference/API_CreateProvisioningTemplate.html>
//! - At most 3 attributes on a thing without a thing type, 50 with one:
//!   <https://docs.aws.amazon.com/iot/latest/developerguide/thing-types.html>
//! - At most 10 policies attached to a certificate:
//!   <https://docs.aws.amazon.com/general/latest/gr/iot-core.html>
//! - The registration event:
//!   <https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html>
//!   and <https://docs.aws.amazon.com/iot/latest/developerguide/reserved-topics.html>
//!
//! # What AWS IoT does when a device connects to a JITP CA
//!
//! AWS "loads the template from the CA certificate and uses it to call RegisterThing".
//! The workflow, in AWS's words: register the certificate as `PENDING_ACTIVATION`,
//! create the thing, create the policy, attach the policy to the certificate, attach the
//! certificate to the thing, set the certificate `ACTIVE`. The device's first
//! connection is refused either way; it connects again once provisioning is done.
//!
//! The values of the parameters "are limited to what JITP can extract from the subject
//! field of the certificate": `AWS::IoT::Certificate::Country` (subject `C`),
//! `Organization` (`O`), `OrganizationalUnit` (`OU`), `DistinguishedNameQualifier`
//! (`dnQualifier`), `StateName` (`ST`), `CommonName` (`CN`), `SerialNumber` (the
//! subject's `serialNumber` attribute, OID 2.5.4.5, *not* the certificate's serial
//! number) and `Id` (the certificate ID, "an internally generated ID, not an ID that is
//! contained in the certificate"). "The certificate must contain values for all of the
//! parameters in the template body": "if `AWS::IoT::Certificate::Country` is included in
//! the template, but the certificate doesn't have a `Country` property, the device
//! provisioning fails" — the certificate stays `PENDING_ACTIVATION`, and AWS reports only
//! a `ProvisionThing.ClientError` metric. jitr evaluates every declared parameter, even
//! one no property uses, and fails on the first missing one (by name order), naming
//! the others; a declared `Default` fills a missing value, as AWS's template page says
//! defaults do.
//!
//! ## Is the registration event published for a JITP CA?
//!
//! AWS publishes `$aws/events/certificates/registered/<caCertificateId>` "when AWS IoT
//! automatically registers a certificate and when a client presents a certificate with
//! the `PENDING_ACTIVATION` status" (reserved-topics page), and "the JITP workflow first
//! registers a certificate with a status value of `PENDING_ACTIVATION`" (JITP page). No
//! page makes an exception for CAs with a template, so jitr reads them together: the
//! registration event is published for a JITP CA too, once at the automatic
//! registration, and again at every later connection while provisioning has not
//! activated the certificate (a template that fails leaves it `PENDING_ACTIVATION`, so
//! each retry publishes it). AWS does not say this in so many words; it is jitr's
//! reading of the two pages, and it means a JITR handler and a JITP template on one CA
//! both see every new device.
//!
//! ## Things, certificates and policies that already exist
//!
//! "If a template specifies a resource that already exists, the `OverrideSettings`
//! section allows you to specify the action to take": `DO_NOTHING` (leave it as is),
//! `REPLACE` (replace it with the template's), `FAIL` ("cause the request to fail with a
//! `ResourceConflictsException`") and `MERGE` ("valid only for the `ThingGroups` and
//! `AttributePayload` properties of a thing": merge the existing attributes or group
//! memberships with the template's). A thing's settings are per property —
//! `AttributePayload`, `ThingTypeName`, `ThingGroups` — and a certificate's for
//! `Status`; "`OverrideSettings` are not available for policy resources". So when the
//! thing named by `ThingName` already exists, JITP does not create another: it applies
//! each property's setting to the existing thing, and one `FAIL` on a property that
//! differs fails the provisioning. The plan carries the settings as given
//! ([`ThingOverrideSettings`], `None` where the template gives none); AWS documents no
//! default for a missing setting.
//!
//! A policy is either an existing one, by `PolicyName` (it must exist: AWS counts a
//! missing one as a client error), or a new one, by `PolicyDocument`, named after a hash
//! of its document (AWS: `PolicyName` "defaults to a hash of the policy document"), so
//! every device with the same document shares one policy and a second device finds it
//! already made. A template may not give both.
//!
//! # Where AWS is silent: jitr's choices
//!
//! - **The policy-name hash** is the lowercase hex SHA-256 of the document text (AWS
//!   does not name its hash). A `PolicyDocument` written as a JSON object (as AWS's
//!   fleet-provisioning example does) is serialised compactly, keys sorted.
//! - **`Ref` to a resource** returns its name, as CloudFormation's `Ref` does: a thing's
//!   `ThingName`, a policy's name, a certificate's `CertificateId`. References between
//!   resources (through `Ref` or `${…}` of `Fn::Sub`) must not loop, a resource
//!   referring to itself included.
//! - **Pseudo parameters** `AWS::AccountId`, `AWS::Region` and `AWS::Partition` (AWS's
//!   page mentions pseudo parameters without listing them) come from the account's
//!   scope ([`Parameters::with_scope`]).
//! - **Parameter types** are `String` (all AWS's examples) and CloudFormation's
//!   `Number`; declarations have `Type` and `Default` only.
//! - **`OverrideSettings` keys** are the property names (`AttributePayload`,
//!   `ThingTypeName`, `ThingGroups`, as in all AWS's examples) or the upper-case forms
//!   AWS's prose lists (`ATTRIBUTE_PAYLOAD`, `THING_TYPE_NAME`, `THING_GROUPS`).
//! - **Certificate `Status`** is `ACTIVE` or `INACTIVE` in any case (AWS's own fleet
//!   example writes `"Active"`), `ACTIVE` when absent ("Defaults to ACTIVE").
//! - **A repeated subject attribute** (two `OU`s) gives its first value, in encoding
//!   order.
//! - **Refused when stored**, beyond AWS's explicit rules: anything but `Parameters`,
//!   `Mappings` and `Resources` at the top (`DeviceConfiguration` belongs to fleet
//!   provisioning); a certificate resource with `CertificateSigningRequest`,
//!   `CertificatePem` or `CACertificatePem` (AWS: "You must use `CertificateId` in a
//!   template that's used for JIT provisioning"); other than exactly one certificate
//!   resource, more than one thing or more than [`MAX_TEMPLATE_POLICIES`] policies;
//!   `Ref` to an undeclared parameter (AWS::IoT::Certificate::* ones included) or an
//!   unknown resource; `Fn::Sub` variables naming IoT policy variables (write
//!   `${!iot:…}`) or attributes (`${a.b}` is `Fn::GetAtt`); a literal `Fn::Select` index
//!   past the end of a literal list; `Fn::FindInMap` with a literal map or key that
//!   `Mappings` lacks; a string where a list is expected or the reverse; numbers,
//!   booleans and nulls where strings are expected.
//! - **Checked when run**, against the botocore shapes and AWS's limits: thing, thing
//!   type, group and billing-group names; attribute names, values and count; the policy
//!   name, and the policy document by
//!   [`validate_policy_document`](crate::validate_policy_document); `CertificateId`
//!   equal to the connecting certificate's ID.
//!
//! # Bounds
//!
//! A template has at most 10,240 characters (AWS) and [`MAX_TEMPLATE_DEPTH`] levels of
//! JSON nesting (checked without recursion before anything else reads it). Parsing is
//! linear in the template; evaluation visits each expression once and produces at most
//! [`MAX_EVALUATION_OUTPUT`] characters in all, so hostile templates and parameters
//! cost bounded time and memory. Nothing panics on any input (the `template` fuzz
//! target checks it).

mod intrinsic;
mod parameters;
mod plan;
mod preview;
mod template;

pub use intrinsic::{FUNCTIONS, MAX_EVALUATION_OUTPUT};
pub use parameters::{
    certificate_parameters, CertificateField, Parameters, CERTIFICATE_PARAMETERS,
    MAX_PARAMETER_NAME_LEN, MAX_PARAMETER_VALUE_LEN, PSEUDO_PARAMETERS,
};
pub use plan::{CertificatePlan, PolicyPlan, ProvisioningFailure, ProvisioningPlan, ThingPlan};
pub use preview::{preview, PREVIEW_KEYS};
pub use template::{
    OverrideSetting, ParameterDeclaration, ParameterType, Template, TemplateError,
    TemplateErrorKind, ThingOverrideSettings, MAX_TEMPLATE_DEPTH, MAX_TEMPLATE_POLICIES,
};

#[cfg(test)]
mod tests;
