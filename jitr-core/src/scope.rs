//! Where a registry lives: partition, region and account, and the ARNs it hands out.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::id::{truncate_for_message, CertificateId};

/// The (partition, region, account) a [`Registry`](crate::Registry) is scoped to.
///
/// ```
/// use jitr_core::{CertificateId, Scope};
/// let scope = Scope::new("123456789012", "us-east-1").unwrap();
/// let id = CertificateId::from_bytes([0; 32]);
/// assert_eq!(scope.ca_certificate_arn(&id), format!("arn:aws:iot:us-east-1:123456789012:cacert/{id}"));
/// assert!(Scope::new("1234", "us-east-1").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "ScopeRepr")]
pub struct Scope {
    partition: String,
    region: String,
    account: String,
}

impl Scope {
    /// A scope in the `aws` partition. The account must be 12 digits and the region a
    /// lowercase AWS region name such as `us-east-1`.
    pub fn new(account: &str, region: &str) -> Result<Self, Error> {
        Self::with_partition("aws", account, region)
    }

    /// A scope in another partition (`aws-cn`, `aws-us-gov`, ...).
    pub fn with_partition(partition: &str, account: &str, region: &str) -> Result<Self, Error> {
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidRequest(format!(
                "the account ID must be 12 digits, got {}",
                crate::input::quote(account)
            )));
        }
        let label_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 32
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !s.starts_with('-')
                && !s.ends_with('-')
        };
        if !label_ok(region) || !region.contains('-') {
            return Err(Error::InvalidRequest(format!(
                "{} is not a region name such as us-east-1",
                crate::input::quote(region)
            )));
        }
        if !label_ok(partition) || !partition.starts_with("aws") {
            return Err(Error::InvalidRequest(format!(
                "{} is not an AWS partition such as aws",
                crate::input::quote(partition)
            )));
        }
        Ok(Self {
            partition: partition.into(),
            region: region.into(),
            account: account.into(),
        })
    }

    /// The partition, e.g. `aws`.
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// The region, e.g. `us-east-1`.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The 12-digit account ID.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// `arn:<partition>:iot:<region>:<account>:<kind>/<name>`.
    pub(crate) fn arn_of(&self, kind: &str, name: &str) -> String {
        self.arn(kind, name)
    }

    fn arn(&self, kind: &str, rest: &str) -> String {
        format!(
            "arn:{}:iot:{}:{}:{kind}/{rest}",
            self.partition, self.region, self.account
        )
    }

    /// `arn:<partition>:iot:<region>:<account>:cert/<id>`.
    pub fn certificate_arn(&self, id: &CertificateId) -> String {
        self.arn("cert", &id.to_string())
    }

    /// `arn:<partition>:iot:<region>:<account>:cacert/<id>`.
    pub fn ca_certificate_arn(&self, id: &CertificateId) -> String {
        self.arn("cacert", &id.to_string())
    }

    /// `arn:<partition>:iot:<region>:<account>:policy/<name>`.
    pub fn policy_arn(&self, name: &str) -> String {
        self.arn("policy", name)
    }

    /// `arn:<partition>:iot:<region>:<account>:thing/<name>`.
    pub fn thing_arn(&self, name: &str) -> String {
        self.arn("thing", name)
    }

    /// `arn:<partition>:iot:<region>:<account>:thingtype/<name>`.
    pub fn thing_type_arn(&self, name: &str) -> String {
        self.arn("thingtype", name)
    }

    /// `arn:<partition>:iot:<region>:<account>:provisioningtemplate/<name>`.
    pub fn provisioning_template_arn(&self, name: &str) -> String {
        self.arn("provisioningtemplate", name)
    }

    /// The resource type and name of an ARN of this scope, e.g. `("policy", "P")`;
    /// `None` when the ARN is of another account, region, partition or service.
    pub fn parse_arn<'a>(&self, arn: &'a str) -> Option<(&'a str, &'a str)> {
        let prefix = format!(
            "arn:{}:iot:{}:{}:",
            self.partition, self.region, self.account
        );
        arn.strip_prefix(prefix.as_str())?.split_once('/')
    }

    /// The scope and certificate ID of a device certificate ARN,
    /// `arn:<partition>:iot:<region>:<account>:cert/<id>` (as DescribeCertificate
    /// returns it), each part checked as [`Scope::with_partition`] and
    /// [`CertificateId`]'s parser check them.
    ///
    /// ```
    /// use jitr_core::Scope;
    /// let id = "ab".repeat(32);
    /// let (scope, parsed) =
    ///     Scope::from_certificate_arn(&format!("arn:aws-cn:iot:cn-north-1:123456789012:cert/{id}")).unwrap();
    /// assert_eq!((scope.partition(), scope.region(), scope.account()), ("aws-cn", "cn-north-1", "123456789012"));
    /// assert_eq!(parsed.to_string(), id);
    /// assert!(Scope::from_certificate_arn("arn:aws:iot:us-east-1:123456789012:cacert/00").is_err());
    /// ```
    pub fn from_certificate_arn(arn: &str) -> Result<(Self, CertificateId), Error> {
        let bad = || {
            Error::InvalidRequest(format!(
                "{:?} is not a certificate ARN (arn:<partition>:iot:<region>:<account>:cert/<id>)",
                truncate_for_message(arn)
            ))
        };
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts[..] else {
            return Err(bad());
        };
        if prefix != "arn" || service != "iot" {
            return Err(bad());
        }
        let id = resource.strip_prefix("cert/").ok_or_else(bad)?.parse()?;
        Ok((Self::with_partition(partition, account, region)?, id))
    }

    /// The certificate ID in a device certificate ARN of this scope.
    pub fn parse_certificate_arn(&self, arn: &str) -> Result<CertificateId, Error> {
        let prefix = self.arn("cert", "");
        match arn.strip_prefix(&prefix) {
            Some(id) => id.parse(),
            None => Err(Error::InvalidRequest(format!(
                "{:?} is not a certificate ARN of this account and region ({prefix}<id>)",
                truncate_for_message(arn)
            ))),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeRepr {
    partition: String,
    region: String,
    account: String,
}

impl TryFrom<ScopeRepr> for Scope {
    type Error = Error;

    fn try_from(r: ScopeRepr) -> Result<Self, Error> {
        Self::with_partition(&r.partition, &r.account, &r.region)
    }
}
