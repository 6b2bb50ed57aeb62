//! Context keys: the names a policy uses as variables (`${iot:ClientId}`) and as
//! condition keys (`"Bool": {"iot:Connection.Thing.IsAttached": "true"}`), and how each
//! resolves against an [`AuthContext`].
//!
//! Names are matched without regard to ASCII case, as IAM matches condition keys; a
//! thing attribute's name (`Attributes[name]`) is matched exactly.

use core::fmt;

use super::condition::{format_epoch_secs, format_iso8601};
use super::context::{AltNameKind, AuthContext, DnAttribute};

/// Which value of a multi-valued certificate attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Index {
    /// No suffix: the first value.
    First,
    /// `.N`: the value at index N (`.1` is the second value).
    At(u32),
    /// `.List`: every value (a multi-valued key).
    List,
}

/// A context key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ContextKey {
    ClientId,
    SourceIp,
    DomainName,
    CertificateId,
    /// `iot:Certificate.{Subject|Issuer}.<attribute>[.N|.List]`.
    Dn {
        issuer: bool,
        attr: DnAttribute,
        index: Index,
    },
    /// `iot:Certificate.{Subject|Issuer}.AlternativeName.<kind>[.N|.List]`.
    AltName {
        issuer: bool,
        kind: AltNameKind,
        index: Index,
    },
    SerialNumber,
    AvailableKeys,
    ThingName,
    ThingTypeName,
    ThingAttribute(String),
    ThingIsAttached,
    ConnectAttributes,
    LastWillTopic,
    CurrentTime,
    EpochTime,
    /// A name jitr does not know: never has a value.
    Unknown(String),
}

/// Certificate attributes that hold arrays are limited to five items (AWS).
pub(crate) const MAX_CERT_ARRAY_ITEMS: usize = 5;
/// Certificate attribute strings longer than this are not substituted (AWS).
pub(crate) const MAX_CERT_STRING_CHARS: usize = 1024;

impl ContextKey {
    /// Parses a key name; anything unrecognised is [`ContextKey::Unknown`].
    pub(crate) fn parse(name: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        let simple = match lower.as_str() {
            "iot:clientid" => Some(Self::ClientId),
            "aws:sourceip" => Some(Self::SourceIp),
            "iot:domainname" => Some(Self::DomainName),
            "iot:certificateid" => Some(Self::CertificateId),
            "iot:certificate.serialnumber" => Some(Self::SerialNumber),
            "iot:certificate.availablekeys" => Some(Self::AvailableKeys),
            "iot:connection.thing.thingname" => Some(Self::ThingName),
            "iot:connection.thing.thingtypename" => Some(Self::ThingTypeName),
            "iot:connection.thing.isattached" => Some(Self::ThingIsAttached),
            "iot:connectattributes" => Some(Self::ConnectAttributes),
            "iot:lastwilltopic" => Some(Self::LastWillTopic),
            "aws:currenttime" => Some(Self::CurrentTime),
            "aws:epochtime" => Some(Self::EpochTime),
            _ => None,
        };
        if let Some(k) = simple {
            return k;
        }
        const THING_ATTR: &str = "iot:connection.thing.attributes[";
        if lower.starts_with(THING_ATTR) && name.ends_with(']') {
            let attr = &name[THING_ATTR.len()..name.len() - 1];
            if !attr.is_empty() && !attr.contains(['[', ']']) {
                return Self::ThingAttribute(attr.to_string());
            }
        }
        if let Some(rest) = lower.strip_prefix("iot:certificate.") {
            let (issuer, rest) = if let Some(r) = rest.strip_prefix("subject.") {
                (false, r)
            } else if let Some(r) = rest.strip_prefix("issuer.") {
                (true, r)
            } else {
                return Self::Unknown(name.to_string());
            };
            if let Some(alt) = rest.strip_prefix("alternativename.") {
                if let Some((kind, index)) = indexed(alt, AltNameKind::from_policy_name) {
                    return Self::AltName {
                        issuer,
                        kind,
                        index,
                    };
                }
            } else if let Some((attr, index)) = indexed(rest, DnAttribute::from_policy_name) {
                return Self::Dn {
                    issuer,
                    attr,
                    index,
                };
            }
        }
        Self::Unknown(name.to_string())
    }

    /// Whether the key holds a list of values (so cannot be substituted into text).
    pub(crate) fn is_multi_valued(&self) -> bool {
        matches!(
            self,
            Self::AvailableKeys
                | Self::ConnectAttributes
                | Self::Dn {
                    index: Index::List,
                    ..
                }
                | Self::AltName {
                    index: Index::List,
                    ..
                }
        )
    }

    /// Whether the key's value changes during a connection (the clock).
    pub(crate) fn is_time(&self) -> bool {
        matches!(self, Self::CurrentTime | Self::EpochTime)
    }

    /// Whether the value comes from the certificate (and so is subject to AWS's
    /// certificate-variable limitations).
    fn is_certificate(&self) -> bool {
        matches!(
            self,
            Self::Dn { .. } | Self::AltName { .. } | Self::SerialNumber | Self::CertificateId
        )
    }

    /// The key's values in `ctx`, or `None` when the context has none (an empty list
    /// counts as none, as IAM treats an empty multi-valued key).
    pub(crate) fn values(&self, ctx: &AuthContext) -> Option<Vec<String>> {
        let one = |v: Option<&str>| v.map(|s| vec![s.to_string()]);
        let thing = || ctx.thing.as_ref().filter(|t| t.is_attached);
        let cert = ctx.certificate.as_ref();
        let out = match self {
            Self::ClientId => one(ctx.client_id.as_deref()),
            Self::SourceIp => ctx.source_ip.map(|ip| vec![ip.to_string()]),
            Self::DomainName => one(ctx.domain_name.as_deref()),
            Self::CertificateId => one(cert.and_then(|c| c.certificate_id.as_deref())),
            Self::SerialNumber => one(cert.and_then(|c| c.serial_number.as_deref())),
            Self::Dn {
                issuer,
                attr,
                index,
            } => {
                let c = cert?;
                let list = if *issuer { &c.issuer } else { &c.subject };
                let all: Vec<String> = list
                    .iter()
                    .filter(|(a, _)| a == attr)
                    .take(MAX_CERT_ARRAY_ITEMS)
                    .map(|(_, v)| escape_special(v))
                    .collect();
                pick(all, *index)
            }
            Self::AltName {
                issuer,
                kind,
                index,
            } => {
                let c = cert?;
                let list = if *issuer {
                    &c.issuer_alternative_names
                } else {
                    &c.subject_alternative_names
                };
                let all: Vec<String> = list
                    .iter()
                    .filter(|(k, _)| k == kind)
                    .take(MAX_CERT_ARRAY_ITEMS)
                    .map(|(_, v)| v.clone())
                    .collect();
                pick(all, *index)
            }
            Self::AvailableKeys => cert.map(|c| c.available_keys()),
            Self::ThingName => thing().map(|t| vec![t.thing_name.clone()]),
            Self::ThingTypeName => one(thing().and_then(|t| t.thing_type_name.as_deref())),
            Self::ThingAttribute(name) => one(thing()
                .and_then(|t| t.attributes.get(name))
                .map(String::as_str)),
            Self::ThingIsAttached => ctx.thing.as_ref().map(|t| vec![t.is_attached.to_string()]),
            Self::ConnectAttributes => Some(ctx.connect_attributes.clone()),
            Self::LastWillTopic => ctx
                .last_will_topic
                .as_ref()
                .map(|t| vec![ctx.resource_arn_of_type("topic", t)]),
            Self::CurrentTime => Some(vec![format_iso8601(ctx.now).to_string()]),
            Self::EpochTime => Some(vec![format_epoch_secs(ctx.now).to_string()]),
            Self::Unknown(_) => None,
        };
        out.filter(|v| !v.is_empty())
    }

    /// What a `${key}` in a pattern becomes.
    pub(crate) fn substitute(&self, ctx: &AuthContext) -> Substitution {
        // Time keys are condition keys only: a variable would make a compiled
        // connection's patterns change with the clock.
        if self.is_multi_valued() || self.is_time() {
            return Substitution::Missing;
        }
        match self.values(ctx) {
            None => Substitution::Missing,
            Some(mut v) => {
                let value = v.swap_remove(0);
                if self.is_certificate()
                    && (value.chars().count() > MAX_CERT_STRING_CHARS
                        || value.contains(['*', '$', '+', '?', '#']))
                {
                    Substitution::LeftLiteral
                } else {
                    Substitution::Value(value)
                }
            }
        }
    }
}

/// The outcome of substituting a policy variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Substitution {
    /// The value, matched literally.
    Value(String),
    /// AWS leaves the `${name}` text in the policy (certificate values with wildcard
    /// characters or longer than 1,024 characters).
    LeftLiteral,
    /// No value: the pattern matches nothing.
    Missing,
}

fn pick(mut all: Vec<String>, index: Index) -> Option<Vec<String>> {
    match index {
        Index::List => Some(all),
        Index::First => all.drain(..).next().map(|v| vec![v]),
        Index::At(i) => {
            let i = usize::try_from(i).ok()?;
            (i < all.len()).then(|| vec![all.swap_remove(i)])
        }
    }
}

/// What `name` or `name.N` or `name.list` (lowercase input) names: `name` read by
/// `read`, and the index.
fn indexed<T>(s: &str, read: impl FnOnce(&str) -> Option<T>) -> Option<(T, Index)> {
    let (name, index) = split_index(s);
    Some((read(name)?, index?))
}

/// `name` or `name.N` or `name.list` (lowercase input).
fn split_index(s: &str) -> (&str, Option<Index>) {
    if let Some((head, tail)) = s.rsplit_once('.') {
        if tail == "list" {
            return (head, Some(Index::List));
        }
        if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
            return (head, Some(Index::At(tail.parse().unwrap_or(u32::MAX))));
        }
        // A dot that is not an index suffix: no attribute name has one.
        return (s, None);
    }
    (s, Some(Index::First))
}

/// Certificate attribute values as AWS presents them to a policy: `,` `"` `\` `+` `=`
/// `<` `>` `;` prefixed with a backslash.
fn escape_special(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, ',' | '"' | '\\' | '+' | '=' | '<' | '>' | ';') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for ContextKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let suffix = |i: &Index| match i {
            Index::First => String::new(),
            Index::At(n) => format!(".{n}"),
            Index::List => ".List".into(),
        };
        let side = |issuer: &bool| if *issuer { "Issuer" } else { "Subject" };
        match self {
            Self::ClientId => f.write_str("iot:ClientId"),
            Self::SourceIp => f.write_str("aws:SourceIp"),
            Self::DomainName => f.write_str("iot:DomainName"),
            Self::CertificateId => f.write_str("iot:CertificateId"),
            Self::Dn {
                issuer,
                attr,
                index,
            } => write!(
                f,
                "iot:Certificate.{}.{}{}",
                side(issuer),
                attr.policy_name(),
                suffix(index)
            ),
            Self::AltName {
                issuer,
                kind,
                index,
            } => write!(
                f,
                "iot:Certificate.{}.AlternativeName.{}{}",
                side(issuer),
                kind.policy_name(),
                suffix(index)
            ),
            Self::SerialNumber => f.write_str("iot:Certificate.SerialNumber"),
            Self::AvailableKeys => f.write_str("iot:Certificate.AvailableKeys"),
            Self::ThingName => f.write_str("iot:Connection.Thing.ThingName"),
            Self::ThingTypeName => f.write_str("iot:Connection.Thing.ThingTypeName"),
            Self::ThingAttribute(a) => write!(f, "iot:Connection.Thing.Attributes[{a}]"),
            Self::ThingIsAttached => f.write_str("iot:Connection.Thing.IsAttached"),
            Self::ConnectAttributes => f.write_str("iot:ConnectAttributes"),
            Self::LastWillTopic => f.write_str("iot:LastWillTopic"),
            Self::CurrentTime => f.write_str("aws:CurrentTime"),
            Self::EpochTime => f.write_str("aws:EpochTime"),
            Self::Unknown(n) => f.write_str(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_case_insensitively_and_print_canonically() {
        for (text, canonical) in [
            ("iot:clientid", "iot:ClientId"),
            ("AWS:SourceIp", "aws:SourceIp"),
            (
                "iot:Certificate.Subject.Organization.List",
                "iot:Certificate.Subject.Organization.List",
            ),
            (
                "iot:certificate.subject.commonname.2",
                "iot:Certificate.Subject.CommonName.2",
            ),
            (
                "iot:Certificate.Issuer.initials",
                "iot:Certificate.Issuer.Initials",
            ),
            (
                "iot:Certificate.Subject.AlternativeName.DNSName",
                "iot:Certificate.Subject.AlternativeName.DNSName",
            ),
            (
                "iot:Connection.Thing.Attributes[Floor]",
                "iot:Connection.Thing.Attributes[Floor]",
            ),
            ("iot:Thing.ThingName", "iot:Thing.ThingName"),
            (
                "iot:Certificate.Subject.Locality",
                "iot:Certificate.Subject.Locality",
            ),
        ] {
            assert_eq!(ContextKey::parse(text).to_string(), canonical, "{text}");
        }
        assert!(matches!(
            ContextKey::parse("iot:Thing.ThingName"),
            ContextKey::Unknown(_)
        ));
        assert!(matches!(
            ContextKey::parse("iot:Certificate.Subject.CommonName.x"),
            ContextKey::Unknown(_)
        ));
        assert!(matches!(
            ContextKey::parse("iot:Connection.Thing.Attributes[]"),
            ContextKey::Unknown(_)
        ));
    }

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(
            escape_special("Amazon Web Services O=Amazon.com Inc. L=Seattle"),
            "Amazon Web Services O\\=Amazon.com Inc. L\\=Seattle"
        );
        assert_eq!(
            escape_special("a,b\"c\\d<e>f;g"),
            "a\\,b\\\"c\\\\d\\<e\\>f\\;g"
        );
    }
}
