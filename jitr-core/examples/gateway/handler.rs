//! `gateway --handler`: the activation handler as its own process, subscribed to the
//! registration events on the broker the way an AWS IoT rule
//! (`SELECT * FROM '$aws/events/certificates/registered/#'`) routes them to a Lambda
//! (<https://aws.amazon.com/blogs/iot/just-in-time-registration-of-device-certificates-on-aws-iot/>).
//!
//! It is an MQTT client (rumqttc) with a persistent session and QoS 1: an event published
//! while it was away is delivered when it comes back (as long as the broker kept its
//! session), and an event is acknowledged only after it was handled, so a handler that
//! dies mid-way gets it again. Each event runs jitr's activation handler
//! ([`jitr_core::handler::Handler`]: CRL check, AWS's sample policy, `ACTIVE`) against
//! the registry on the shared store. Handling is idempotent: a repeated event is
//! `SKIPPED` (`NOT_PENDING_ACTIVATION`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jitr_core::crl::CrlStore;
use jitr_core::handler::{Handler, PolicyTemplate};
use jitr_core::{RegistrationEvent, Registry, RegistryConfig, Scope, Store, Timestamp};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

use crate::Error;

/// The topic filter of every registration event.
pub(crate) const EVENTS: &str = "$aws/events/certificates/registered/#";

/// Runs until the broker connection can no longer be made for good or, with
/// `exit_on_stdin_eof`, until standard input closes (the parent process is gone).
pub(crate) async fn run(
    broker: &str,
    store_url: &str,
    region: &str,
    exit_on_stdin_eof: bool,
) -> Result<(), Error> {
    if exit_on_stdin_eof {
        std::thread::spawn(|| {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
            std::process::exit(0);
        });
    }
    let store = tokio::task::block_in_place(|| Store::open(store_url))
        .map_err(|e| format!("the store: {}", e.message()))?;
    let (host, port) = broker
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
        .ok_or_else(|| format!("--broker {broker:?} is not HOST:PORT"))?;
    let mut options = MqttOptions::new("jitr-activation-handler", host, port);
    options
        .set_clean_session(false)
        .set_keep_alive(Duration::from_secs(30))
        .set_manual_acks(true);
    let (client, mut events) = AsyncClient::new(options, 64);
    let mut registries: HashMap<String, Arc<Registry>> = HashMap::new();
    let crls = Arc::new(CrlStore::new());
    tracing::info!(%broker, store = %store.kind(), topic = EVENTS, "activation handler started");
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                tracing::info!(
                    session_present = ack.session_present,
                    "connected to the broker"
                );
                // A broker that lost the session (restarted) needs the subscription again.
                if !ack.session_present {
                    client.subscribe(EVENTS, QoS::AtLeastOnce).await?;
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                handle(&store, region, &mut registries, &crls, &p.topic, &p.payload).await;
                client.ack(&p).await?;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "broker connection lost; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn handle(
    store: &Store,
    region: &str,
    registries: &mut HashMap<String, Arc<Registry>>,
    crls: &Arc<CrlStore>,
    topic: &str,
    payload: &[u8],
) {
    let event = match std::str::from_utf8(payload)
        .map_err(|e| e.to_string())
        .and_then(|s| RegistrationEvent::from_json(s).map_err(|e| e.message()))
    {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(%topic, error = %e, "not a registration event; ignored");
            return;
        }
    };
    let registry = match registries.get(&event.aws_account_id) {
        Some(r) => r.clone(),
        None => {
            // PostgreSQL's client runs its own runtime: not on this one's threads.
            let opened = tokio::task::block_in_place(|| {
                Scope::new(&event.aws_account_id, region)
                    .and_then(|scope| Registry::open(scope, RegistryConfig::default(), store))
            });
            match opened {
                Ok(r) => {
                    let r = Arc::new(r);
                    registries.insert(event.aws_account_id.clone(), r.clone());
                    r
                }
                Err(e) => {
                    tracing::error!(
                        certificate_id = %event.certificate_id,
                        ca_certificate_id = %event.ca_certificate_id,
                        code = e.code(),
                        error = %e.message(),
                        "cannot open the account's registry"
                    );
                    return;
                }
            }
        }
    };
    let handler = Handler::new(registry.clone(), crls.clone(), PolicyTemplate::aws_sample());
    let run = tokio::task::spawn_blocking(move || {
        // Changes made by other processes first (the gateway registered the certificate).
        let _ = registry.catch_up();
        handler.handle(&event, Timestamp::now()).map(|r| (event, r))
    })
    .await;
    match run {
        Ok(Ok((event, report))) => {
            tracing::info!(
                certificate_id = %event.certificate_id,
                ca_certificate_id = %event.ca_certificate_id,
                report = %report.to_json(),
                "activation handler ran"
            );
        }
        Ok(Err(e)) => tracing::error!(
            code = e.code(),
            error = %e.message(),
            "activation failed (the event stays unacknowledged only until this log line; a repeated event retries)"
        ),
        Err(e) => tracing::error!(error = %e, "activation handler panicked"),
    }
}
