//! The values a template is evaluated with: JITP's certificate parameters, pseudo
//! parameters and any others.

use std::collections::BTreeMap;
use std::fmt;

use crate::cert::Certificate;
use crate::scope::Scope;

/// The largest parameter value accepted, in characters (botocore's `Value` shape).
pub const MAX_PARAMETER_VALUE_LEN: usize = 4096;
/// The longest parameter name accepted, in characters (botocore's `Parameter` shape).
pub const MAX_PARAMETER_NAME_LEN: usize = 2048;

/// The parameters JITP defines, in the order AWS's developer guide lists them, with the
/// certificate field each is read from.
pub const CERTIFICATE_PARAMETERS: &[(&str, CertificateField)] = &[
    (
        "AWS::IoT::Certificate::Country",
        CertificateField::subject("C", "countryName", "2.5.4.6"),
    ),
    (
        "AWS::IoT::Certificate::Organization",
        CertificateField::subject("O", "organizationName", "2.5.4.10"),
    ),
    (
        "AWS::IoT::Certificate::OrganizationalUnit",
        CertificateField::subject("OU", "organizationalUnitName", "2.5.4.11"),
    ),
    (
        "AWS::IoT::Certificate::DistinguishedNameQualifier",
        CertificateField::subject("dnQualifier", "dnQualifier", "2.5.4.46"),
    ),
    (
        "AWS::IoT::Certificate::StateName",
        CertificateField::subject("ST", "stateOrProvinceName", "2.5.4.8"),
    ),
    (
        "AWS::IoT::Certificate::CommonName",
        CertificateField::subject("CN", "commonName", "2.5.4.3"),
    ),
    (
        "AWS::IoT::Certificate::SerialNumber",
        CertificateField::subject("serialNumber", "serialNumber", "2.5.4.5"),
    ),
    ("AWS::IoT::Certificate::Id", CertificateField::CertificateId),
];

/// The pseudo parameters a template may name without declaring them; their values come
/// from the account's [`Scope`] ([`Parameters::with_scope`]).
pub const PSEUDO_PARAMETERS: &[&str] = &["AWS::AccountId", "AWS::Region", "AWS::Partition"];

/// Where a JITP parameter's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateField {
    /// An attribute of the certificate's subject.
    Subject {
        /// The short name jitr's [`DistinguishedName`](crate::DistinguishedName) uses:
        /// `C`, `O`, `OU`, `dnQualifier`, `ST`, `CN`, `serialNumber`.
        short_name: &'static str,
        /// The X.520 attribute name, e.g. `countryName`.
        attribute: &'static str,
        /// The attribute type's OID.
        oid: &'static str,
    },
    /// The certificate ID AWS IoT gives the certificate (the SHA-256 of its DER), not a
    /// field written in the certificate.
    CertificateId,
}

impl CertificateField {
    const fn subject(short_name: &'static str, attribute: &'static str, oid: &'static str) -> Self {
        Self::Subject {
            short_name,
            attribute,
            oid,
        }
    }

    /// The field JITP reads the parameter `name` from, if `name` is one of
    /// [`CERTIFICATE_PARAMETERS`].
    ///
    /// ```
    /// use jitr_core::provisioning::CertificateField;
    /// let field = CertificateField::for_parameter("AWS::IoT::Certificate::Country").unwrap();
    /// assert_eq!(field.to_string(), "subject C (countryName, OID 2.5.4.6)");
    /// assert!(CertificateField::for_parameter("ThingName").is_none());
    /// ```
    pub fn for_parameter(name: &str) -> Option<Self> {
        CERTIFICATE_PARAMETERS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
    }
}

impl fmt::Display for CertificateField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Subject {
                short_name,
                attribute,
                oid,
            } => write!(f, "subject {short_name} ({attribute}, OID {oid})"),
            Self::CertificateId => f.write_str("certificate ID (SHA-256 of the DER)"),
        }
    }
}

/// Named string values to evaluate a template with: what the JITP workflow takes from a
/// device certificate ([`certificate_parameters`]), the account's pseudo parameters
/// ([`Parameters::with_scope`]), or any others a caller supplies.
///
/// ```
/// use jitr_core::provisioning::Parameters;
/// let mut p = Parameters::new();
/// p.insert("AWS::IoT::Certificate::CommonName", "device-1");
/// assert_eq!(p.get("AWS::IoT::Certificate::CommonName"), Some("device-1"));
/// assert_eq!(p.len(), 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parameters {
    values: BTreeMap<String, String>,
    certificate: Option<CertificateFacts>,
}

/// What a diagnosis may say about the certificate the parameters came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CertificateFacts {
    /// The subject, RFC 4514.
    pub(crate) subject: String,
    /// The certificate's own serial number, hex.
    pub(crate) serial_hex: String,
}

impl Parameters {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`, replacing any earlier value.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.values.insert(name.into(), value.into());
        self
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The parameters, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many parameters there are.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Adds the pseudo parameters `AWS::AccountId`, `AWS::Region` and `AWS::Partition`
    /// of `scope`.
    pub fn with_scope(mut self, scope: &Scope) -> Self {
        self.insert("AWS::AccountId", scope.account());
        self.insert("AWS::Region", scope.region());
        self.insert("AWS::Partition", scope.partition());
        self
    }

    /// The subject (RFC 4514) of the certificate the parameters were read from, if they
    /// were.
    pub fn certificate_subject(&self) -> Option<&str> {
        self.certificate.as_ref().map(|c| c.subject.as_str())
    }

    pub(crate) fn certificate_facts(&self) -> Option<&CertificateFacts> {
        self.certificate.as_ref()
    }
}

/// The JITP parameters of a device certificate, as AWS IoT extracts them: each
/// `AWS::IoT::Certificate::*` parameter whose subject attribute is present (the first
/// value when the subject repeats an attribute), and `AWS::IoT::Certificate::Id`, the
/// certificate ID. Absent attributes are absent parameters; a template that declares one
/// fails to provision, and [`Template::evaluate`](super::Template::evaluate) says which
/// field is missing.
///
/// `AWS::IoT::Certificate::SerialNumber` is the subject's `serialNumber` attribute
/// (OID 2.5.4.5), not the certificate's serial number: JITP reads the subject only.
///
/// ```
/// use jitr_core::provisioning::certificate_parameters;
/// use jitr_core::Certificate;
/// use rcgen::{CertificateParams, DnType, KeyPair};
/// let mut params = CertificateParams::new(vec![])?;
/// params.distinguished_name.push(DnType::CommonName, "device-1");
/// params.distinguished_name.push(DnType::CountryName, "DE");
/// let pem = params.self_signed(&KeyPair::generate()?)?.pem();
/// let cert = Certificate::from_pem(&pem)?;
/// let p = certificate_parameters(&cert);
/// assert_eq!(p.get("AWS::IoT::Certificate::CommonName"), Some("device-1"));
/// assert_eq!(p.get("AWS::IoT::Certificate::Country"), Some("DE"));
/// assert_eq!(p.get("AWS::IoT::Certificate::Organization"), None);
/// assert_eq!(p.get("AWS::IoT::Certificate::Id"), Some(cert.id().to_string().as_str()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn certificate_parameters(certificate: &Certificate) -> Parameters {
    let subject = certificate.subject();
    let mut p = Parameters::new();
    for (name, field) in CERTIFICATE_PARAMETERS {
        let value = match field {
            CertificateField::Subject { short_name, .. } => subject.get(short_name),
            CertificateField::CertificateId => None,
        };
        if let Some(v) = value {
            p.insert(*name, v);
        }
    }
    p.insert("AWS::IoT::Certificate::Id", certificate.id().to_string());
    p.certificate = Some(CertificateFacts {
        subject: subject.rfc4514().to_string(),
        serial_hex: certificate.serial_hex(),
    });
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_certificate_parameter_has_its_field() {
        assert_eq!(CERTIFICATE_PARAMETERS.len(), 8);
        for (name, field) in CERTIFICATE_PARAMETERS {
            assert!(name.starts_with("AWS::IoT::Certificate::"));
            assert_eq!(CertificateField::for_parameter(name), Some(*field));
        }
        assert_eq!(
            CertificateField::for_parameter("AWS::IoT::Certificate::Id"),
            Some(CertificateField::CertificateId)
        );
        assert_eq!(
            CertificateField::for_parameter("AWS::IoT::Certificate::SerialNumber")
                .map(|f| f.to_string())
                .as_deref(),
            Some("subject serialNumber (serialNumber, OID 2.5.4.5)")
        );
    }

    #[test]
    fn scope_adds_pseudo_parameters() {
        let scope = Scope::new("123456789012", "eu-west-1").expect("scope");
        let p = Parameters::new().with_scope(&scope);
        assert_eq!(p.get("AWS::AccountId"), Some("123456789012"));
        assert_eq!(p.get("AWS::Region"), Some("eu-west-1"));
        assert_eq!(p.get("AWS::Partition"), Some("aws"));
        assert_eq!(p.len(), PSEUDO_PARAMETERS.len());
    }
}
