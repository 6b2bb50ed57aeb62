//! The operator's HTTP endpoint (loopback by default):
//!
//! - `GET /metrics`: Prometheus text format (open connections, handshakes, CONNACK
//!   codes, registrations, refusals by code, policy denials by action, evictions).
//! - `DELETE /connections/{clientId}?cleanSession=true&preventWillMessage=true`: AWS IoT's
//!   DeleteConnection (data plane), with its parameters and answers: 200 and `{}` when a
//!   session of that client id was live on this node and is closed, 404
//!   `ResourceNotFoundException` when none is, 400 `InvalidRequestException` for a client
//!   id starting with `$` or a parameter that is not `true`/`false`
//!   (<https://docs.aws.amazon.com/iot/latest/apireference/API_iotdata_DeleteConnection.html>).
//!   The client id is percent-encoded in the path, as AWS asks.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, Response, StatusCode};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

use crate::sessions::Sessions;

/// Serves the endpoint on `listener` until the process ends.
pub(crate) async fn serve(
    listener: TcpListener,
    metrics: PrometheusHandle,
    sessions: Arc<Sessions>,
) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let metrics = metrics.clone();
        let sessions = sessions.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let reply = handle(&req, &metrics, &sessions);
                async move { Ok::<_, Infallible>(reply) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tcp), service);
            // A slow or silent operator connection cannot stay forever.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(30), conn).await;
        });
    }
}

fn handle<B>(
    req: &Request<B>,
    metrics: &PrometheusHandle,
    sessions: &Sessions,
) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    match (req.method(), path) {
        (&Method::GET, "/metrics") => text(StatusCode::OK, metrics.render()),
        (&Method::DELETE, p) if p.starts_with("/connections/") => {
            delete_connection(&p["/connections/".len()..], req.uri().query(), sessions)
        }
        _ => json_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            "no such resource",
        ),
    }
}

fn delete_connection(
    raw_id: &str,
    query: Option<&str>,
    sessions: &Sessions,
) -> Response<Full<Bytes>> {
    let client_id = match percent_encoding::percent_decode_str(raw_id).decode_utf8() {
        Ok(id) => id.into_owned(),
        Err(_) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestException",
                "the client ID is not UTF-8",
            )
        }
    };
    if client_id.is_empty() || client_id.starts_with('$') {
        return json_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestException",
            "the client ID must be given and cannot start with $",
        );
    }
    let mut clean_session = false;
    let mut prevent_will_message = false;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let flag = match v {
            "true" => true,
            "false" => false,
            _ => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestException",
                    &format!("{k} must be true or false"),
                )
            }
        };
        match k {
            "cleanSession" => clean_session = flag,
            "preventWillMessage" => prevent_will_message = flag,
            _ => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestException",
                    &format!("unknown parameter {k}"),
                )
            }
        }
    }
    if sessions.delete_connection(&client_id, clean_session, prevent_will_message) {
        tracing::info!(%client_id, clean_session, prevent_will_message, "DeleteConnection");
        json(StatusCode::OK, "{}".into())
    } else {
        json_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            &format!("no connection of client ID {client_id} on this node"),
        )
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    respond(status, "text/plain; version=0.0.4", body)
}

fn json(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    respond(status, "application/json", body)
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    let mut r = json(
        status,
        serde_json::json!({ "message": message }).to_string(),
    );
    if let Ok(v) = code.parse() {
        r.headers_mut().insert("x-amzn-ErrorType", v);
    }
    r
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    r
}

/// The address to print for the endpoint.
pub(crate) fn describe(addr: SocketAddr) -> String {
    format!("http://{addr}/metrics")
}
