//! Several accounts in one process, selected by SNI (docs/behaviour.md §11).

use std::collections::HashMap;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;

use crate::error::Error;
use crate::event::EventSink;
use crate::registry::{decide::Route, Decision, RefusalReason, Registry, RegistryConfig};
use crate::store::Store;

/// Which account decides a connection, and whether the connection's SNI named it.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Routed<'a> {
    /// The account's registry.
    pub registry: &'a Registry,
    /// Whether the SNI selected this account (needed to reach `SNI_ONLY` CAs), as
    /// opposed to falling back to a default account.
    pub named_by_sni: bool,
}

impl<'a> Routed<'a> {
    /// What the registry's decision needs to know of the route: the SNI and whether it
    /// named this account.
    fn with_server_name<'s>(self, server_name: Option<&'s str>) -> Route<'s> {
        Route {
            server_name,
            named_by_sni: self.named_by_sni,
        }
    }
}

/// How a connection reaches an account: a [`Registry`] serves every connection itself
/// (any SNI names it); a [`Directory`] picks the account by SNI. The rustls verifier and
/// hosts decide through this one trait.
pub trait Router: Send + Sync {
    /// The account that decides a connection with this SNI host name.
    fn route(&self, server_name: Option<&str>) -> Result<Routed<'_>, RefusalReason>;

    /// Every account this router reaches.
    fn accounts(&self) -> Vec<&Registry>;

    /// The JITR decision ([`Registry::decide`]), in the account the SNI selects.
    fn decide(
        &self,
        chain: &[CertificateDer<'_>],
        server_name: Option<&str>,
        now: Timestamp,
    ) -> Decision {
        match self.route(server_name) {
            Ok(r) => r
                .registry
                .decide_routed(chain, r.with_server_name(server_name), now),
            Err(reason) => Decision::refuse(reason),
        }
    }

    /// Protocol mode's handshake check ([`Registry::authenticate`]), in the account the
    /// SNI selects.
    fn authenticate(
        &self,
        chain: &[CertificateDer<'_>],
        server_name: Option<&str>,
        now: Timestamp,
    ) -> Result<(), Decision> {
        match self.route(server_name) {
            Ok(r) => r
                .registry
                .authenticate_routed(chain, r.with_server_name(server_name), now),
            Err(reason) => Err(Decision::refuse(reason)),
        }
    }
}

impl Router for Registry {
    fn route(&self, server_name: Option<&str>) -> Result<Routed<'_>, RefusalReason> {
        Ok(Routed {
            registry: self,
            named_by_sni: server_name.is_some(),
        })
    }

    fn accounts(&self) -> Vec<&Registry> {
        vec![self]
    }
}

impl Router for Directory {
    fn route(&self, server_name: Option<&str>) -> Result<Routed<'_>, RefusalReason> {
        if let Some(name) = server_name {
            if let Some(r) = self.by_host.get(&normalize_host(name)) {
                return Ok(Routed {
                    registry: r,
                    named_by_sni: true,
                });
            }
        }
        match (&self.default, server_name) {
            (Some(r), _) => Ok(Routed {
                registry: r,
                named_by_sni: false,
            }),
            (None, Some(name)) => Err(RefusalReason::UnknownServerName {
                server_name: name.to_string(),
            }),
            (None, None) => Err(RefusalReason::NoAccount),
        }
    }

    fn accounts(&self) -> Vec<&Registry> {
        self.accounts.iter().map(|r| &**r).collect()
    }
}
use crate::scope::Scope;
use crate::time::Timestamp;

/// The account registries of one process, keyed by the endpoint host names (SNI) that
/// select them, with an optional default account for connections without SNI.
///
/// Registries made by one directory share its store, and with it the rule that a
/// `DEFAULT`-mode CA belongs to one account per region.
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
/// use jitr_core::Router;
/// let routed = dir.route(Some("A1B2C3-ats.iot.eu-west-1.amazonaws.com.")).unwrap();
/// assert!(routed.named_by_sni);
/// assert_eq!(routed.registry.scope().account(), "111111111111");
/// assert!(!dir.route(None).unwrap().named_by_sni);
/// ```
pub struct Directory {
    store: Store,
    sink: Option<Arc<dyn EventSink>>,
    by_host: HashMap<String, Arc<Registry>>,
    accounts: Vec<Arc<Registry>>,
    default: Option<Arc<Registry>>,
}

impl Default for Directory {
    fn default() -> Self {
        Self::new()
    }
}

impl Directory {
    /// An empty directory whose accounts live in memory.
    pub fn new() -> Self {
        Self::with_store(Store::memory())
    }

    /// An empty directory whose accounts live in `store` (the rule that a `DEFAULT` CA
    /// belongs to one account per region is the store's, across every process sharing it).
    pub fn with_store(store: Store) -> Self {
        Self {
            store,
            sink: None,
            by_host: HashMap::new(),
            accounts: Vec::new(),
            default: None,
        }
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
                resource: crate::error::ResourceKind::Account,
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
        let mut registry = Registry::open(scope, config, &self.store)?;
        registry.get_registration_code()?;
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
}

fn normalize_host(h: &str) -> String {
    h.trim_end_matches('.').to_ascii_lowercase()
}
