//! Several accounts in one process, selected by SNI (docs/behaviour.md §11).

use std::collections::HashMap;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;

use crate::error::Error;
use crate::event::EventSink;
use crate::registry::{decide::Route, CaClaims, Decision, RefusalReason, Registry, RegistryConfig};
use crate::scope::Scope;
use crate::time::Timestamp;

/// The account registries of one process, keyed by the endpoint host names (SNI) that
/// select them, with an optional default account for connections without SNI.
///
/// Registries made by one directory share the rule that a `DEFAULT`-mode CA belongs to
/// one account per region.
///
/// ```
/// use jitr_core::{Directory, RegistryConfig, Scope};
/// let mut dir = Directory::new();
/// let a = dir
///     .add_account(
///         Scope::new("111111111111", "eu-west-1").unwrap(),
///         RegistryConfig::default(),
///         &["a1b2c3-ats.iot.eu-west-1.amazonaws.com"],
///     )
///     .unwrap();
/// dir.set_default_account(&a);
/// let (reg, by_sni) = dir.route(Some("A1B2C3-ats.iot.eu-west-1.amazonaws.com.")).unwrap();
/// assert!(by_sni);
/// assert_eq!(reg.scope().account(), "111111111111");
/// assert!(!dir.route(None).unwrap().1);
/// ```
#[derive(Default)]
pub struct Directory {
    claims: Arc<CaClaims>,
    sink: Option<Arc<dyn EventSink>>,
    by_host: HashMap<String, Arc<Registry>>,
    accounts: Vec<Arc<Registry>>,
    default: Option<Arc<Registry>>,
}

impl Directory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the event sink given to accounts added from now on.
    pub fn with_event_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Adds an account's registry, reached through the given endpoint host names.
    /// A scope already present, or a host name already taken, is an error.
    pub fn add_account(
        &mut self,
        scope: Scope,
        config: RegistryConfig,
        endpoint_hosts: &[&str],
    ) -> Result<Arc<Registry>, Error> {
        if self.accounts.iter().any(|r| r.scope() == &scope) {
            return Err(Error::ResourceAlreadyExists {
                message: format!(
                    "account {} in {} is already in the directory",
                    scope.account(),
                    scope.region()
                ),
                resource_id: scope.account().to_string(),
                resource_arn: String::new(),
            });
        }
        let hosts: Vec<String> = endpoint_hosts.iter().map(|h| normalize_host(h)).collect();
        if let Some(h) = hosts
            .iter()
            .find(|h| h.is_empty() || self.by_host.contains_key(*h))
        {
            return Err(Error::InvalidRequest(format!(
                "the endpoint host name {h:?} is empty or already serves another account"
            )));
        }
        let mut registry = Registry::build(
            scope,
            config,
            self.claims.clone(),
            Some(super::registry::random_code()),
        );
        if let Some(sink) = &self.sink {
            registry = registry.with_event_sink(sink.clone());
        }
        let registry = Arc::new(registry);
        for h in hosts {
            self.by_host.insert(h, registry.clone());
        }
        self.accounts.push(registry.clone());
        Ok(registry)
    }

    /// Makes `registry` (one of this directory's) the account for connections without
    /// SNI, or with an SNI no account serves.
    pub fn set_default_account(&mut self, registry: &Arc<Registry>) {
        self.default = Some(registry.clone());
    }

    /// Every account, in the order added.
    pub fn accounts(&self) -> &[Arc<Registry>] {
        &self.accounts
    }

    /// The registry that decides a connection with this SNI, and whether the SNI named
    /// it (as opposed to falling back to the default account).
    pub fn route(
        &self,
        server_name: Option<&str>,
    ) -> Result<(&Arc<Registry>, bool), RefusalReason> {
        if let Some(name) = server_name {
            if let Some(r) = self.by_host.get(&normalize_host(name)) {
                return Ok((r, true));
            }
        }
        match (&self.default, server_name) {
            (Some(r), _) => Ok((r, false)),
            (None, Some(name)) => Err(RefusalReason::UnknownServerName {
                server_name: name.to_string(),
            }),
            (None, None) => Err(RefusalReason::NoAccount),
        }
    }

    /// The JITR decision, in the account the SNI selects (docs/behaviour.md §11).
    pub fn decide(
        &self,
        chain: &[CertificateDer<'_>],
        server_name: Option<&str>,
        now: Timestamp,
    ) -> Decision {
        match self.route(server_name) {
            Ok((registry, named_by_sni)) => registry.decide_routed(
                chain,
                Route {
                    server_name,
                    named_by_sni,
                },
                now,
            ),
            Err(reason) => Decision::refuse(reason),
        }
    }
}

fn normalize_host(h: &str) -> String {
    h.trim_end_matches('.').to_ascii_lowercase()
}
