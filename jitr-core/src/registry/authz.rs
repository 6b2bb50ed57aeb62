//! What a device may do: its policies, as AWS IoT resolves them at CONNECT
//! ([authorization](https://docs.aws.amazon.com/iot/latest/developerguide/iot-authorization.html)).
//!
//! A device certificate's policies are the default versions of the policies attached to
//! it. Its thing, for the `iot:Connection.Thing.*` variables
//! ([thing policy variables](https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html)),
//! is the thing the certificate is attached to exclusively, or else the attached thing
//! whose name is the client id; with neither, the thing variables are not resolved and
//! `IsAttached` is false. Its certificate attributes come from the certificate.
//!
//! [`Registry::compile_connection`] compiles them once per connection for the hot path
//! (each check allocates nothing); a host recompiles when the change feed says a policy,
//! an attachment or the thing changed. [`Registry::test_authorization`] is AWS's
//! TestAuthorization over the same resolution.

use std::net::IpAddr;

use super::Registry;
use crate::cert::Certificate;
use crate::error::{Error, ResourceKind};
use crate::id::CertificateId;
use crate::policy::{AuthContext, AuthInfo, CompiledPolicies, PolicyDocument, ThingContext};
use crate::store::{Change, Reader, ResourceReads};
use crate::time::Timestamp;

/// What a connection presents, for its policies' variables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// The MQTT client id.
    pub client_id: String,
    /// The client's address.
    pub source_ip: Option<IpAddr>,
    /// The server name the client connected to (SNI).
    pub domain_name: Option<String>,
    /// `PersistentConnect` and/or `LastWill` (`iot:ConnectAttributes`).
    pub connect_attributes: Vec<String>,
    /// The will topic, if any.
    pub last_will_topic: Option<String>,
}

impl ConnectionInfo {
    /// A connection with this client id.
    pub fn new(client_id: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            ..Self::default()
        }
    }
}

/// The policies and the context a principal's requests are decided in.
struct Resolved {
    policies: Vec<(String, PolicyDocument)>,
    ctx: AuthContext,
}

impl Resolved {
    fn refs(&self) -> Vec<(&str, &PolicyDocument)> {
        self.policies.iter().map(|(n, d)| (n.as_str(), d)).collect()
    }
}

impl Registry {
    /// Resolves a certificate's policies (the attached ones, with `add` and without
    /// `skip`) and its context.
    fn resolve(
        &self,
        r: &mut dyn Reader,
        certificate_id: &CertificateId,
        client_id: Option<&str>,
        add: &[String],
        skip: &[String],
        now: Timestamp,
    ) -> Result<Resolved, Error> {
        let row = r
            .certificate(&self.scope, certificate_id)?
            .ok_or_else(|| Self::cert_not_found(certificate_id))?;
        let cert = Certificate::from_pem(&row.certificate_pem)?;
        let arn = self.scope.certificate_arn(certificate_id);
        let mut names: Vec<String> = r
            .attached_to(&self.scope, &arn)?
            .into_iter()
            .filter(|n| !skip.contains(n))
            .collect();
        for n in add {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
        let mut policies = Vec::with_capacity(names.len());
        for name in names {
            let p = r
                .policy(&self.scope, &name)?
                .ok_or_else(|| Error::not_found(ResourceKind::Policy, &name))?;
            policies.push((name, PolicyDocument::parse(&p.policy_document)?));
        }
        let mut ctx = AuthContext::new(self.scope.clone(), now).with_certificate(&cert);
        if let Some(c) = client_id {
            ctx = ctx.with_client_id(c);
        }
        let things = r.things_of_principal(&self.scope, &arn)?;
        let exclusive = things
            .iter()
            .find(|(_, k)| k == super::ThingPrincipalType::Exclusive.as_str());
        let named = client_id.and_then(|c| things.iter().find(|(t, _)| t == c));
        if let Some((thing, _)) = exclusive.or(named) {
            if let Some(t) = r.thing(&self.scope, thing)? {
                ctx = ctx.with_thing(ThingContext {
                    thing_type_name: t.thing_type_name,
                    attributes: t.attributes,
                    ..ThingContext::attached(t.thing_name)
                });
            }
        } else if let Some(c) = client_id {
            // A thing of that name that is not attached: the variables stay unresolved.
            if r.thing(&self.scope, c)?.is_some() {
                ctx = ctx.with_thing(ThingContext {
                    is_attached: false,
                    ..ThingContext::attached(c)
                });
            }
        }
        Ok(Resolved { policies, ctx })
    }

    /// The policies of a device certificate's connection, compiled once at CONNECT: every
    /// variable that cannot change during the connection resolved, so each
    /// [`check`](CompiledPolicies::check) of a PUBLISH, SUBSCRIBE or RECEIVE allocates
    /// nothing. Recompile when the change feed reports a change that
    /// [`affects_connections`](Change::affects_connections).
    ///
    /// ```
    /// use jitr_core::policy::{Action, AuthDecision};
    /// use jitr_core::ConnectionInfo;
    /// # use jitr_core::*;
    /// # fn demo(reg: &Registry, id: &CertificateId, now: Timestamp) -> Result<(), Error> {
    /// let conn = reg.compile_connection(id, &ConnectionInfo::new("device-1"), now)?;
    /// if conn.check(Action::Connect, "device-1", now) != AuthDecision::Allowed {
    ///     // CONNACK 5
    /// }
    /// # Ok(()) }
    /// ```
    pub fn compile_connection(
        &self,
        certificate_id: &CertificateId,
        conn: &ConnectionInfo,
        now: Timestamp,
    ) -> Result<CompiledPolicies, Error> {
        let mut resolved =
            self.read(|r| self.resolve(r, certificate_id, Some(&conn.client_id), &[], &[], now))?;
        let mut ctx = resolved.ctx.clone();
        if let Some(ip) = conn.source_ip {
            ctx = ctx.with_source_ip(ip);
        }
        if let Some(d) = &conn.domain_name {
            ctx = ctx.with_domain_name(d.clone());
        }
        ctx = ctx.with_connect_attributes(conn.connect_attributes.iter().cloned());
        if let Some(t) = &conn.last_will_topic {
            ctx = ctx.with_last_will_topic(t.clone());
        }
        resolved.ctx = ctx;
        Ok(CompiledPolicies::compile(&resolved.refs(), &resolved.ctx))
    }

    /// TestAuthorization: how AWS IoT would decide `auth_infos` for a principal (a device
    /// certificate's ARN) connecting with `client_id`, with the policies attached to it,
    /// plus `add`, minus `skip` (at most 10 in all). The answer is TestAuthorization's
    /// `authResults`.
    pub fn test_authorization(
        &self,
        principal: &str,
        client_id: Option<&str>,
        auth_infos: &[AuthInfo],
        add: &[String],
        skip: &[String],
        now: Timestamp,
    ) -> Result<serde_json::Value, Error> {
        let id = self.scope.parse_certificate_arn(principal)?;
        let resolved = self.read(|r| self.resolve(r, &id, client_id, add, skip, now))?;
        if resolved.policies.len() > super::MAX_POLICIES_PER_TARGET {
            return Err(Error::LimitExceeded(format!(
                "at most {} policies are tested together, not {}",
                super::MAX_POLICIES_PER_TARGET,
                resolved.policies.len()
            )));
        }
        crate::policy::simulate::auth_results(&resolved.refs(), auth_infos, &resolved.ctx)
    }
}

impl Change {
    /// Whether this change can change what a live connection may do: a policy's default
    /// version, an attachment, a thing or its principals, a certificate's status. A host
    /// holding [`CompiledPolicies`] recompiles (or drops) the affected connections.
    pub fn affects_connections(&self) -> bool {
        matches!(
            self,
            Change::PolicyVersionsChanged(_)
                | Change::PolicyDeleted { .. }
                | Change::PolicyAttached { .. }
                | Change::PolicyDetached { .. }
                | Change::ThingUpdated { .. }
                | Change::ThingDeleted(_)
                | Change::ThingPrincipalAttached { .. }
                | Change::ThingPrincipalDetached { .. }
                | Change::CertificateStatusChanged { .. }
                | Change::CertificateDeleted { .. }
                | Change::AccountImported
        )
    }
}
