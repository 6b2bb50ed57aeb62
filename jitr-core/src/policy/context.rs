//! What a policy decision knows about the connection: client id, source address, domain
//! name, account, the client certificate's attributes and the thing the client id names.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Deserialize;
use serde_json::Value;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate, X509Name};

use super::action::Action;
use crate::{Certificate, Error, Scope, Timestamp};

/// A certificate subject or issuer attribute AWS IoT exposes as a policy variable
/// (`iot:Certificate.Subject.<name>`, `iot:Certificate.Issuer.<name>`): the thirteen
/// AWS lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum DnAttribute {
    /// `dnQualifier` (2.5.4.46).
    DistinguishedNameQualifier,
    /// `C` (2.5.4.6).
    Country,
    /// `O` (2.5.4.10).
    Organization,
    /// `OU` (2.5.4.11).
    OrganizationalUnit,
    /// `ST` (2.5.4.8).
    State,
    /// `CN` (2.5.4.3).
    CommonName,
    /// `serialNumber` (2.5.4.5), the attribute, not the certificate's serial.
    SerialNumber,
    /// `title` (2.5.4.12).
    Title,
    /// `SN` (2.5.4.4).
    Surname,
    /// `GN` / `givenName` (2.5.4.42).
    GivenName,
    /// `initials` (2.5.4.43).
    Initials,
    /// `pseudonym` (2.5.4.65).
    Pseudonym,
    /// `generationQualifier` (2.5.4.44).
    GenerationQualifier,
}

impl DnAttribute {
    /// All thirteen, in AWS's order.
    pub const ALL: [DnAttribute; 13] = [
        Self::DistinguishedNameQualifier,
        Self::Country,
        Self::Organization,
        Self::OrganizationalUnit,
        Self::State,
        Self::CommonName,
        Self::SerialNumber,
        Self::Title,
        Self::Surname,
        Self::GivenName,
        Self::Initials,
        Self::Pseudonym,
        Self::GenerationQualifier,
    ];

    /// The name in the policy variable, e.g. `CommonName`.
    pub fn policy_name(self) -> &'static str {
        match self {
            Self::DistinguishedNameQualifier => "DistinguishedNameQualifier",
            Self::Country => "Country",
            Self::Organization => "Organization",
            Self::OrganizationalUnit => "OrganizationalUnit",
            Self::State => "State",
            Self::CommonName => "CommonName",
            Self::SerialNumber => "SerialNumber",
            Self::Title => "Title",
            Self::Surname => "Surname",
            Self::GivenName => "GivenName",
            Self::Initials => "Initials",
            Self::Pseudonym => "Pseudonym",
            Self::GenerationQualifier => "GenerationQualifier",
        }
    }

    /// The attribute type's OID.
    pub fn oid(self) -> &'static str {
        match self {
            Self::DistinguishedNameQualifier => "2.5.4.46",
            Self::Country => "2.5.4.6",
            Self::Organization => "2.5.4.10",
            Self::OrganizationalUnit => "2.5.4.11",
            Self::State => "2.5.4.8",
            Self::CommonName => "2.5.4.3",
            Self::SerialNumber => "2.5.4.5",
            Self::Title => "2.5.4.12",
            Self::Surname => "2.5.4.4",
            Self::GivenName => "2.5.4.42",
            Self::Initials => "2.5.4.43",
            Self::Pseudonym => "2.5.4.65",
            Self::GenerationQualifier => "2.5.4.44",
        }
    }

    /// From a policy name (any ASCII case).
    pub fn from_policy_name(name: &str) -> Option<Self> {
        by_policy_name(Self::ALL, Self::policy_name, name)
    }

    /// From a short name as [`crate::DistinguishedName::attributes`] gives it (`CN`,
    /// `givenName`, ...) or a dotted OID.
    pub fn from_short_name(name: &str) -> Option<Self> {
        let by_short = match name {
            "dnQualifier" => Some(Self::DistinguishedNameQualifier),
            "C" => Some(Self::Country),
            "O" => Some(Self::Organization),
            "OU" => Some(Self::OrganizationalUnit),
            "ST" => Some(Self::State),
            "CN" => Some(Self::CommonName),
            "serialNumber" => Some(Self::SerialNumber),
            "title" => Some(Self::Title),
            "SN" => Some(Self::Surname),
            "GN" | "givenName" => Some(Self::GivenName),
            "initials" => Some(Self::Initials),
            "pseudonym" => Some(Self::Pseudonym),
            "generationQualifier" => Some(Self::GenerationQualifier),
            _ => None,
        };
        by_short.or_else(|| Self::ALL.into_iter().find(|a| a.oid() == name))
    }
}

/// A kind of subject or issuer alternative name AWS IoT exposes
/// (`iot:Certificate.Subject.AlternativeName.<kind>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum AltNameKind {
    /// An e-mail address (`email:`).
    Rfc822Name,
    /// A DNS name.
    DnsName,
    /// A directory name, as `cn=...,ou=...,o=...,c=...`.
    DirectoryName,
    /// A URI.
    UniformResourceIdentifier,
    /// An IP address.
    IpAddress,
}

impl AltNameKind {
    /// All five, in AWS's order.
    pub const ALL: [AltNameKind; 5] = [
        Self::Rfc822Name,
        Self::DnsName,
        Self::DirectoryName,
        Self::UniformResourceIdentifier,
        Self::IpAddress,
    ];

    /// The name in the policy variable, e.g. `DNSName`.
    pub fn policy_name(self) -> &'static str {
        match self {
            Self::Rfc822Name => "RFC822Name",
            Self::DnsName => "DNSName",
            Self::DirectoryName => "DirectoryName",
            Self::UniformResourceIdentifier => "UniformResourceIdentifier",
            Self::IpAddress => "IPAddress",
        }
    }

    /// From a policy name (any ASCII case).
    pub fn from_policy_name(name: &str) -> Option<Self> {
        by_policy_name(Self::ALL, Self::policy_name, name)
    }
}

/// The certificate attributes AWS IoT's certificate policy variables read.
///
/// Values are as in the certificate; jitr applies AWS's limits when a policy reads them
/// (five values per attribute, special characters escaped with a backslash, values with
/// wildcard characters or over 1,024 characters not substituted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateAttributes {
    /// Subject attributes in encoding order (an attribute may repeat).
    pub subject: Vec<(DnAttribute, String)>,
    /// Issuer attributes in encoding order.
    pub issuer: Vec<(DnAttribute, String)>,
    /// Subject alternative names in encoding order.
    pub subject_alternative_names: Vec<(AltNameKind, String)>,
    /// Issuer alternative names in encoding order.
    pub issuer_alternative_names: Vec<(AltNameKind, String)>,
    /// The serial number as a decimal integer (`iot:Certificate.SerialNumber`).
    pub serial_number: Option<String>,
    /// The certificate ID (`iot:CertificateId`), the SHA-256 of the DER in hex.
    pub certificate_id: Option<String>,
}

impl CertificateAttributes {
    /// The attributes of a parsed certificate: subject and issuer from
    /// [`crate::DistinguishedName::attributes`], alternative names from the
    /// `subjectAltName` and `issuerAltName` extensions, the serial as a decimal number
    /// (unsigned, as AWS shows `92:12:85:cb:b7:a5:e0:86` as `10525622389124227206`).
    pub fn from_certificate(cert: &Certificate) -> Self {
        // The lists are made to their size (a collected filter starts with room for
        // four): a gateway keeps a connection's attributes for the session's life.
        let dn = |attrs: &[(String, String)]| -> Vec<(DnAttribute, String)> {
            let known = |k: &String| DnAttribute::from_short_name(k);
            let mut list = Vec::with_capacity(attrs.iter().filter_map(|(k, _)| known(k)).count());
            list.extend(
                attrs
                    .iter()
                    .filter_map(|(k, v)| known(k).map(|a| (a, v.clone()))),
            );
            list
        };
        let mut out = Self {
            subject: dn(cert.subject().attributes()),
            issuer: dn(cert.issuer().attributes()),
            serial_number: Some(decimal(cert.serial())),
            certificate_id: Some(cert.id().to_string()),
            ..Self::default()
        };
        // Certificate parsed the DER once already; the alternative names are read again
        // from it here, once per connection.
        if let Ok((_, x509)) = X509Certificate::from_der(cert.der()) {
            if let Ok(Some(san)) = x509.subject_alternative_name() {
                out.subject_alternative_names = alt_names(&san.value.general_names);
            }
            for ext in x509.extensions() {
                if let x509_parser::extensions::ParsedExtension::IssuerAlternativeName(ian) =
                    ext.parsed_extension()
                {
                    out.issuer_alternative_names = alt_names(&ian.general_names);
                }
            }
        }
        out
    }

    /// The names of the certificate policy variables that have a value
    /// (`iot:Certificate.AvailableKeys`).
    pub fn available_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        for (side, list) in [("Subject", &self.subject), ("Issuer", &self.issuer)] {
            for a in DnAttribute::ALL {
                if list.iter().any(|(k, _)| *k == a) {
                    keys.push(format!("iot:Certificate.{side}.{}", a.policy_name()));
                }
            }
        }
        for (side, list) in [
            ("Subject", &self.subject_alternative_names),
            ("Issuer", &self.issuer_alternative_names),
        ] {
            for k in AltNameKind::ALL {
                if list.iter().any(|(kind, _)| *kind == k) {
                    keys.push(format!(
                        "iot:Certificate.{side}.AlternativeName.{}",
                        k.policy_name()
                    ));
                }
            }
        }
        if self.serial_number.is_some() {
            keys.push("iot:Certificate.SerialNumber".into());
        }
        keys
    }
}

/// The names the policy variables read, in a list sized for them all (see
/// `from_certificate`).
fn alt_names(names: &[GeneralName<'_>]) -> Vec<(AltNameKind, String)> {
    let mut list = Vec::with_capacity(names.len());
    list.extend(names.iter().filter_map(|n| match n {
        GeneralName::RFC822Name(s) => Some((AltNameKind::Rfc822Name, s.to_string())),
        GeneralName::DNSName(s) => Some((AltNameKind::DnsName, s.to_string())),
        GeneralName::URI(s) => Some((AltNameKind::UniformResourceIdentifier, s.to_string())),
        GeneralName::IPAddress(b) => {
            crate::cert::ip_address(b).map(|ip| (AltNameKind::IpAddress, ip.to_string()))
        }
        GeneralName::DirectoryName(name) => {
            Some((AltNameKind::DirectoryName, directory_name(name)))
        }
        _ => None,
    }));
    list
}

/// The item of `all` whose policy name is `name`, in any ASCII case.
fn by_policy_name<T: Copy, const N: usize>(
    all: [T; N],
    policy_name: fn(T) -> &'static str,
    name: &str,
) -> Option<T> {
    all.into_iter()
        .find(|a| policy_name(*a).eq_ignore_ascii_case(name))
}

/// A directory name as AWS shows it: RFC 4514 order (last RDN first), lowercase short
/// names, `cn=LightBulbCert,ou=SmartHome,o=IoT,c=US`.
fn directory_name(name: &X509Name<'_>) -> String {
    let mut rdns: Vec<String> = Vec::new();
    for rdn in name.iter_rdn() {
        let parts: Vec<String> = rdn
            .iter()
            .map(|atv| {
                let oid = atv.attr_type().to_id_string();
                let key = match oid.as_str() {
                    "2.5.4.3" => "cn".to_string(),
                    "2.5.4.6" => "c".into(),
                    "2.5.4.7" => "l".into(),
                    "2.5.4.8" => "st".into(),
                    "2.5.4.10" => "o".into(),
                    "2.5.4.11" => "ou".into(),
                    "2.5.4.9" => "street".into(),
                    "0.9.2342.19200300.100.1.25" => "dc".into(),
                    "0.9.2342.19200300.100.1.1" => "uid".into(),
                    _ => oid,
                };
                let value = atv
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|_| format!("#{}", hex::encode(atv.attr_value().data)));
                format!("{key}={value}")
            })
            .collect();
        rdns.push(parts.join("+"));
    }
    rdns.reverse();
    rdns.join(",")
}

/// Big-endian unsigned bytes as a decimal string.
pub(crate) fn decimal(bytes: &[u8]) -> String {
    let mut digits: Vec<u8> = vec![0]; // little-endian base-10 digits
    for &byte in bytes {
        let mut carry = u32::from(byte);
        for d in digits.iter_mut() {
            let v = u32::from(*d) * 256 + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    while digits.len() > 1 && digits.last() == Some(&0) {
        digits.pop();
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}

/// The thing a connection's client id names, as the registry resolves it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThingContext {
    /// The thing's name (for a certificate, the client id must equal it).
    pub thing_name: String,
    /// Its thing type, if any.
    pub thing_type_name: Option<String>,
    /// Its attributes.
    pub attributes: BTreeMap<String, String>,
    /// Whether the thing is attached to the connecting principal (`AttachThingPrincipal`).
    /// When it is not, `iot:Connection.Thing.IsAttached` is `false` and the other thing
    /// variables are not resolved (AWS: access is denied).
    pub is_attached: bool,
}

impl ThingContext {
    /// A thing attached to the principal, without type or attributes.
    pub fn attached(thing_name: impl Into<String>) -> Self {
        Self {
            thing_name: thing_name.into(),
            thing_type_name: None,
            attributes: BTreeMap::new(),
            is_attached: true,
        }
    }
}

/// Everything a decision reads besides the request itself.
///
/// ```
/// use jitr_core::policy::AuthContext;
/// use jitr_core::{Scope, Timestamp};
/// let ctx = AuthContext::new(Scope::new("123456789012", "us-east-1")?, Timestamp::from_unix_secs(0))
///     .with_client_id("client1");
/// assert_eq!(
///     ctx.resource_arn(jitr_core::policy::Action::Publish, "my/topic"),
///     "arn:aws:iot:us-east-1:123456789012:topic/my/topic"
/// );
/// # Ok::<(), jitr_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthContext {
    /// The account, region and partition resources live in.
    pub scope: Scope,
    /// The MQTT client id (`iot:ClientId`).
    pub client_id: Option<String>,
    /// The client's address (`aws:SourceIp`).
    pub source_ip: Option<IpAddr>,
    /// The domain name the client connected to (`iot:DomainName`, the TLS server name).
    pub domain_name: Option<String>,
    /// The client certificate's attributes, when it used one.
    pub certificate: Option<CertificateAttributes>,
    /// The thing the client id names, as the registry found it; `None` when unknown.
    pub thing: Option<ThingContext>,
    /// The CONNECT packet's features (`iot:ConnectAttributes`): `PersistentConnect`,
    /// `LastWill`. Empty for a clean connection without a will.
    pub connect_attributes: Vec<String>,
    /// The will topic, if any (`iot:LastWillTopic`, compared as a topic ARN).
    pub last_will_topic: Option<String>,
    /// The time of the request (`aws:CurrentTime`, `aws:EpochTime`).
    pub now: Timestamp,
}

impl AuthContext {
    /// A context with nothing but the scope and the time.
    pub fn new(scope: Scope, now: Timestamp) -> Self {
        Self {
            scope,
            client_id: None,
            source_ip: None,
            domain_name: None,
            certificate: None,
            thing: None,
            connect_attributes: Vec::new(),
            last_will_topic: None,
            now,
        }
    }

    /// With this client id.
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// With this source address.
    pub fn with_source_ip(mut self, ip: IpAddr) -> Self {
        self.source_ip = Some(ip);
        self
    }

    /// With this domain name.
    pub fn with_domain_name(mut self, domain: impl Into<String>) -> Self {
        self.domain_name = Some(domain.into());
        self
    }

    /// With the attributes of this certificate.
    pub fn with_certificate(mut self, cert: &Certificate) -> Self {
        self.certificate = Some(CertificateAttributes::from_certificate(cert));
        self
    }

    /// With these certificate attributes.
    pub fn with_certificate_attributes(mut self, attrs: CertificateAttributes) -> Self {
        self.certificate = Some(attrs);
        self
    }

    /// With this thing.
    pub fn with_thing(mut self, thing: ThingContext) -> Self {
        self.thing = Some(thing);
        self
    }

    /// With these connect attributes.
    pub fn with_connect_attributes<I, S>(mut self, attrs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.connect_attributes = attrs.into_iter().map(Into::into).collect();
        self
    }

    /// With this will topic.
    pub fn with_last_will_topic(mut self, topic: impl Into<String>) -> Self {
        self.last_will_topic = Some(topic.into());
        self
    }

    /// At this time.
    pub fn at(mut self, now: Timestamp) -> Self {
        self.now = now;
        self
    }

    /// `arn:<partition>:iot:<region>:<account>:`.
    pub(crate) fn arn_prefix(&self) -> String {
        format!(
            "arn:{}:iot:{}:{}:",
            self.scope.partition(),
            self.scope.region(),
            self.scope.account()
        )
    }

    pub(crate) fn resource_arn_of_type(&self, resource_type: &str, name: &str) -> String {
        format!("{}{resource_type}/{name}", self.arn_prefix())
    }

    /// The resource an action on `name` is checked against: `client/<clientId>` for
    /// `iot:Connect`, `topic/<topic>` for publish, receive and retained messages,
    /// `topicfilter/<filter>` for `iot:Subscribe`, `thing/<thing>[/<shadow>]` for
    /// shadows and jobs, `rolealias/<alias>` for `iot:AssumeRoleWithCertificate`, and
    /// `*` for actions on all resources (`iot:ListRetainedMessages`), whatever `name`.
    pub fn resource_arn(&self, action: Action, name: &str) -> String {
        match action.resource_type() {
            Some(t) => self.resource_arn_of_type(t, name),
            None => "*".into(),
        }
    }

    /// Parses the JSON form [`super::simulate`] takes (camelCase keys): `partition`
    /// (default `aws`), `region`, `account`, `now` (epoch milliseconds) required;
    /// `clientId`, `sourceIp`, `domainName`, `certificate` (`subject`, `issuer`:
    /// attribute name to a string or a list; `subjectAlternativeName`,
    /// `issuerAlternativeName`: kind to a string or a list; `serialNumber` decimal;
    /// `certificateId`) or `certificatePem`, `thing` (`thingName`, `thingTypeName`,
    /// `attributes`, `isAttached`, default true), `connectAttributes`, `lastWillTopic`.
    /// Unknown keys are an `InvalidRequestException`.
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        let raw = ContextJson::deserialize(value)
            .map_err(|e| Error::InvalidRequest(format!("invalid policy context: {e}")))?;
        let scope = Scope::with_partition(
            raw.partition.as_deref().unwrap_or("aws"),
            &raw.account,
            &raw.region,
        )?;
        let mut ctx = Self::new(scope, Timestamp::from_unix_millis(raw.now));
        ctx.client_id = raw.client_id;
        ctx.domain_name = raw.domain_name;
        if let Some(ip) = raw.source_ip {
            ctx.source_ip = Some(ip.parse().map_err(|_| {
                Error::InvalidRequest(format!("sourceIp {ip:?} is not an IP address"))
            })?);
        }
        ctx.certificate = match (raw.certificate, raw.certificate_pem) {
            (Some(_), Some(_)) => {
                return Err(Error::InvalidRequest(
                    "give either certificate or certificatePem, not both".into(),
                ))
            }
            (Some(c), None) => Some(c.into_attributes()?),
            (None, Some(pem)) => Some(CertificateAttributes::from_certificate(
                &Certificate::from_pem(&pem)?,
            )),
            (None, None) => None,
        };
        ctx.thing = raw.thing.map(|t| ThingContext {
            thing_name: t.thing_name,
            thing_type_name: t.thing_type_name,
            attributes: t.attributes,
            is_attached: t.is_attached.unwrap_or(true),
        });
        ctx.connect_attributes = raw.connect_attributes;
        ctx.last_will_topic = raw.last_will_topic;
        Ok(ctx)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ContextJson {
    partition: Option<String>,
    region: String,
    account: String,
    now: i64,
    client_id: Option<String>,
    source_ip: Option<String>,
    domain_name: Option<String>,
    certificate: Option<CertificateJson>,
    certificate_pem: Option<String>,
    thing: Option<ThingJson>,
    #[serde(default)]
    connect_attributes: Vec<String>,
    last_will_topic: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ThingJson {
    thing_name: String,
    thing_type_name: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    is_attached: Option<bool>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CertificateJson {
    #[serde(default)]
    subject: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    issuer: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    subject_alternative_name: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    issuer_alternative_name: BTreeMap<String, OneOrMany>,
    serial_number: Option<String>,
    certificate_id: Option<String>,
}

impl CertificateJson {
    fn into_attributes(self) -> Result<CertificateAttributes, Error> {
        // Each key named as AWS IoT's policy variables name it, each value one or many.
        fn keyed<A: Copy>(
            m: BTreeMap<String, OneOrMany>,
            lookup: fn(&str) -> Option<A>,
            not_one: &str,
        ) -> Result<Vec<(A, String)>, Error> {
            let mut out = Vec::new();
            for (k, v) in m {
                let a = lookup(&k)
                    .ok_or_else(|| Error::InvalidRequest(format!("{k:?} is not {not_one}")))?;
                out.extend(v.into_vec().into_iter().map(|s| (a, s)));
            }
            Ok(out)
        }
        let dn = |m| {
            keyed(
                m,
                DnAttribute::from_policy_name,
                "a certificate attribute AWS IoT exposes (CommonName, Organization, ...)",
            )
        };
        let alt = |m| {
            keyed(
                m,
                AltNameKind::from_policy_name,
                "an alternative name kind (DNSName, IPAddress, ...)",
            )
        };
        if let Some(s) = &self.serial_number {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::InvalidRequest(format!(
                    "serialNumber {s:?} is not a decimal number (AWS IoT shows serials in decimal)"
                )));
            }
        }
        Ok(CertificateAttributes {
            subject: dn(self.subject)?,
            issuer: dn(self.issuer)?,
            subject_alternative_names: alt(self.subject_alternative_name)?,
            issuer_alternative_names: alt(self.issuer_alternative_name)?,
            serial_number: self.serial_number,
            certificate_id: self.certificate_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_print_as_unsigned_decimal() {
        // AWS's example: 92:12:85:cb:b7:a5:e0:86.
        assert_eq!(
            decimal(&[0x92, 0x12, 0x85, 0xcb, 0xb7, 0xa5, 0xe0, 0x86]),
            "10525622389124227206"
        );
        assert_eq!(decimal(&[]), "0");
        assert_eq!(decimal(&[0, 0, 1, 0]), "256");
        assert_eq!(
            decimal(&[0xff; 20]),
            "1461501637330902918203684832716283019655932542975"
        );
    }

    #[test]
    fn attribute_names_map_both_ways() {
        for a in DnAttribute::ALL {
            assert_eq!(DnAttribute::from_policy_name(a.policy_name()), Some(a));
            assert_eq!(DnAttribute::from_short_name(a.oid()), Some(a));
        }
        assert_eq!(
            DnAttribute::from_short_name("CN"),
            Some(DnAttribute::CommonName)
        );
        assert_eq!(DnAttribute::from_short_name("L"), None);
        for k in AltNameKind::ALL {
            assert_eq!(AltNameKind::from_policy_name(k.policy_name()), Some(k));
        }
    }
}
