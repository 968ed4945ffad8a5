//! The admin port of `phiguard run`: `/metrics`, `/healthz`, `/readyz`, `/loglevel`.
//!
//! A minimal HTTP/1.1 responder on tokio's `TcpListener`, one request per connection
//! (`Connection: close`). An HTTP server crate would mean hyper's `server` feature (kube and
//! the AWS SDK share hyper, so enabling it rebuilds them) for four fixed paths that kubelet
//! probes and Prometheus scrapes; requests are bounded in size and time, and anything
//! unexpected gets a 4xx, never a panic.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use metrics_exporter_prometheus::PrometheusHandle;
use phiguard_aws::sqs::{ConsumerStats, ReceiveHealth};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tracing::{debug, info};

use crate::logging::LogControl;

/// Longest request head (and `PUT /loglevel` body) accepted.
const MAX_REQUEST: usize = 8 * 1024;
/// A client gets this long to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Readiness probes of SQS and the Kubernetes API give up after this long (kubelet's default
/// probe timeout is 1 s; the chart sets a longer one).
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// A receive this recent (long polls last up to 20 s) proves SQS reachable without a probe.
const RECEIVE_FRESH: Duration = Duration::from_secs(60);
/// Queue depth polling period.
const DEPTH_EVERY: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("binding the admin address {0}: {1}")]
    Bind(String, std::io::Error),
}

/// Leader election as readiness sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum LeaderState {
    /// Election configured, not started yet.
    Unknown = 0,
    Leader = 1,
    Standby = 2,
}

/// What readiness checks, filled in by `run` as the parts start.
pub struct Health {
    sqs: Mutex<Option<(aws_sdk_sqs::Client, String)>>,
    consumer: Mutex<Option<Arc<ConsumerStats>>>,
    kube: Mutex<Option<kube::Client>>,
    leader: AtomicU8,
}

/// The process's readiness state (one `phiguard run` per process).
pub fn health() -> &'static Health {
    static HEALTH: OnceLock<Health> = OnceLock::new();
    HEALTH.get_or_init(|| Health {
        sqs: Mutex::new(None),
        consumer: Mutex::new(None),
        kube: Mutex::new(None),
        leader: AtomicU8::new(LeaderState::Leader as u8),
    })
}

impl Health {
    /// At the start of `run`: the queue to probe and poll for depth (until `stop`), the
    /// Kubernetes API to probe (cluster mode), and whether a lease must be won or lost first.
    pub fn start(&self, config: &aws_config::SdkConfig, opts: &crate::run::RunOptions, stop: watch::Receiver<bool>) {
        let sqs: aws_sdk_sqs::Client = phiguard_aws::client(config);
        *lock(&self.sqs) = Some((sqs.clone(), opts.queue_url.clone()));
        *lock(&self.kube) = opts.cluster.as_ref().map(|c| c.client.clone());
        let election = opts.cluster.as_ref().is_some_and(|c| c.lease.is_some());
        self.set_leader(if election { LeaderState::Unknown } else { LeaderState::Leader });
        if !opts.until_idle {
            tokio::spawn(phiguard_aws::sqs::poll_depth(sqs, opts.queue_url.clone(), DEPTH_EVERY, stop));
        }
    }

    /// The consumer whose receives prove SQS reachable.
    pub fn set_consumer(&self, stats: Arc<ConsumerStats>) {
        *lock(&self.consumer) = Some(stats);
    }

    pub fn set_leader(&self, state: LeaderState) {
        self.leader.store(state as u8, Ordering::Relaxed);
        crate::metrics::set_leader(state == LeaderState::Leader);
    }

    fn leader(&self) -> LeaderState {
        match self.leader.load(Ordering::Relaxed) {
            1 => LeaderState::Leader,
            2 => LeaderState::Standby,
            _ => LeaderState::Unknown,
        }
    }

    /// `Ok` when ready, else the first reason it is not.
    pub async fn ready(&self) -> Result<(), String> {
        if self.leader() == LeaderState::Unknown {
            return Err("leader election has not started".into());
        }
        let receives = lock(&self.consumer).as_ref().map(|s| s.receive_health());
        if !receives.is_some_and(|h| receive_fresh(h, SystemTime::now(), RECEIVE_FRESH)) {
            let Some((sqs, url)) = lock(&self.sqs).clone() else { return Err("SQS client not started".into()) };
            let probe = tokio::time::timeout(PROBE_TIMEOUT, phiguard_aws::sqs::queue_depth(&sqs, &url)).await;
            match probe {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    debug!(error = %e, "readiness: SQS probe failed");
                    return Err("SQS unreachable (GetQueueAttributes failed)".into());
                }
                Err(_) => return Err("SQS unreachable (GetQueueAttributes timed out)".into()),
            }
        }
        let kube = lock(&self.kube).clone();
        if let Some(client) = kube {
            match tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version()).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    debug!(error = %e, "readiness: Kubernetes API probe failed");
                    return Err("Kubernetes API unreachable".into());
                }
                Err(_) => return Err("Kubernetes API unreachable (timed out)".into()),
            }
        }
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether receives alone prove SQS reachable: the last one succeeded, recently.
pub fn receive_fresh(h: ReceiveHealth, now: SystemTime, window: Duration) -> bool {
    let Some(ok) = h.last_ok else { return false };
    // A success stamped after `now` (clock stepped back) is recent.
    let recent = match now.duration_since(ok) {
        Ok(age) => age <= window,
        Err(_) => true,
    };
    recent && h.last_error.is_none_or(|err| err < ok)
}

/// The parts of a request the admin server looks at.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub content_length: usize,
}

/// Parse a request head (up to the blank line). `Err` is the status to answer.
pub fn parse_head(head: &str) -> Result<Request, u16> {
    let mut lines = head.split("\r\n");
    let mut first = lines.next().ok_or(400u16)?.split(' ');
    let (Some(method), Some(target), Some(version)) = (first.next(), first.next(), first.next()) else {
        return Err(400);
    };
    if !version.starts_with("HTTP/1.") {
        return Err(505);
    }
    let path = target.split('?').next().unwrap_or(target).to_string();
    let mut content_length = 0;
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().map_err(|_| 400u16)?;
        }
    }
    if content_length > MAX_REQUEST {
        return Err(413);
    }
    Ok(Request { method: method.to_string(), path, content_length })
}

/// What the admin server serves.
#[derive(Clone)]
pub struct Admin {
    pub prometheus: PrometheusHandle,
    pub log: LogControl,
}

struct Response {
    status: u16,
    content_type: &'static str,
    body: String,
    allow: Option<&'static str>,
}

fn text(status: u16, body: impl Into<String>) -> Response {
    Response { status, content_type: "text/plain; charset=utf-8", body: body.into(), allow: None }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    }
}

/// Debug logging can name resources (and a name can be PHI): only a client inside the pod's
/// network namespace may turn it on — `kubectl port-forward` (which needs `pods/portforward`)
/// or `kubectl exec` — not any pod that can reach the metrics port.
pub fn may_change_log_level(peer: IpAddr) -> bool {
    peer.to_canonical().is_loopback()
}

impl Admin {
    /// Bind `addr` (port 0: any free port) and serve until the runtime stops. Returns the
    /// bound address.
    pub async fn start(self, addr: &str) -> Result<SocketAddr, AdminError> {
        let listener = TcpListener::bind(addr).await.map_err(|e| AdminError::Bind(addr.to_string(), e))?;
        let bound = listener.local_addr().map_err(|e| AdminError::Bind(addr.to_string(), e))?;
        info!(addr = %bound, "admin server listening (/metrics, /healthz, /readyz, /loglevel)");
        let admin = Arc::new(self);
        let upkeep = admin.prometheus.clone();
        tokio::spawn(async move {
            // Histogram storage is drained by upkeep; a scrape also runs it.
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                upkeep.run_upkeep();
            }
        });
        tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, peer)) => {
                        let admin = admin.clone();
                        tokio::spawn(async move { admin.connection(stream, peer.ip()).await });
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: pause rather than spin.
                        debug!(error = %e, "admin accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Ok(bound)
    }

    async fn connection(&self, mut stream: TcpStream, peer: IpAddr) {
        let response = match tokio::time::timeout(READ_TIMEOUT, read_request(&mut stream)).await {
            Ok(Ok((request, body))) => self.route(&request, &body, peer).await,
            Ok(Err(status)) => text(status, reason(status)),
            Err(_) => text(408, "request timeout"),
        };
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
            response.status,
            reason(response.status),
            response.content_type,
            response.body.len()
        );
        if let Some(allow) = response.allow {
            head.push_str(&format!("Allow: {allow}\r\n"));
        }
        head.push_str("\r\n");
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(response.body.as_bytes()).await;
        let _ = stream.shutdown().await;
    }

    async fn route(&self, request: &Request, body: &str, peer: IpAddr) -> Response {
        let method = request.method.as_str();
        match (request.path.as_str(), method) {
            ("/metrics", "GET") => {
                crate::metrics::update_noncompliant();
                self.prometheus.run_upkeep();
                Response {
                    status: 200,
                    content_type: "text/plain; version=0.0.4; charset=utf-8",
                    body: self.prometheus.render(),
                    allow: None,
                }
            }
            ("/healthz", "GET") => text(200, "ok\n"),
            ("/readyz", "GET") => match health().ready().await {
                Ok(()) => text(200, "ready\n"),
                Err(why) => text(503, format!("not ready: {why}\n")),
            },
            ("/loglevel", "GET") => text(200, format!("{}\n", self.log.current())),
            ("/loglevel", "PUT") if !may_change_log_level(peer) => {
                text(403, "PUT /loglevel only from inside the pod (e.g. kubectl port-forward)\n")
            }
            ("/loglevel", "PUT") => match self.log.set(body) {
                Ok(now) => {
                    info!(filter = %now, "log filter changed");
                    text(200, format!("{now}\n"))
                }
                Err(e) => text(400, format!("{e}\n")),
            },
            ("/metrics" | "/healthz" | "/readyz", _) => Response { allow: Some("GET"), ..text(405, "GET only\n") },
            ("/loglevel", _) => Response { allow: Some("GET, PUT"), ..text(405, "GET or PUT\n") },
            _ => text(404, "not found: /metrics, /healthz, /readyz, /loglevel\n"),
        }
    }
}

/// Read one request: the head, then `Content-Length` bytes of body.
async fn read_request(stream: &mut TcpStream) -> Result<(Request, String), u16> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_REQUEST {
            return Err(413);
        }
        let n = stream.read(&mut chunk).await.map_err(|_| 400u16)?;
        if n == 0 {
            return Err(400);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| 400u16)?;
    let request = parse_head(head)?;
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < request.content_length {
        let n = stream.read(&mut chunk).await.map_err(|_| 400u16)?;
        if n == 0 {
            return Err(400);
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(request.content_length);
    let body = String::from_utf8(body).map_err(|_| 400u16)?;
    Ok((request, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_clients_change_the_log_level() {
        for ok in ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"] {
            assert!(may_change_log_level(ok.parse().unwrap()), "{ok}");
        }
        for no in ["10.0.0.7", "192.168.1.2", "::ffff:10.0.0.7", "fd00::1", "0.0.0.0"] {
            assert!(!may_change_log_level(no.parse().unwrap()), "{no}");
        }
    }

    #[test]
    fn request_heads_parse_or_name_the_status() {
        assert_eq!(
            parse_head("GET /metrics?x=1 HTTP/1.1\r\nHost: a"),
            Ok(Request { method: "GET".into(), path: "/metrics".into(), content_length: 0 })
        );
        assert_eq!(
            parse_head("PUT /loglevel HTTP/1.1\r\ncontent-length: 5"),
            Ok(Request { method: "PUT".into(), path: "/loglevel".into(), content_length: 5 })
        );
        assert_eq!(parse_head("GET /metrics"), Err(400));
        assert_eq!(parse_head(""), Err(400));
        assert_eq!(parse_head("GET / HTTP/2"), Err(505));
        assert_eq!(parse_head("PUT /loglevel HTTP/1.1\r\nContent-Length: lots"), Err(400));
        assert_eq!(parse_head("PUT /loglevel HTTP/1.1\r\nContent-Length: 100000"), Err(413));
    }

    #[test]
    fn receives_prove_sqs_reachable_only_while_fresh_and_not_failing() {
        let t = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let window = Duration::from_secs(60);
        let ok_at = |ok: u64, err: Option<u64>| ReceiveHealth { last_ok: Some(t(ok)), last_error: err.map(t) };
        assert!(receive_fresh(ok_at(100, None), t(130), window));
        assert!(receive_fresh(ok_at(100, Some(90)), t(130), window), "an old error was followed by a success");
        assert!(!receive_fresh(ok_at(100, Some(110)), t(130), window), "the last receive failed");
        assert!(!receive_fresh(ok_at(100, None), t(200), window), "stale");
        assert!(!receive_fresh(ReceiveHealth::default(), t(1), window), "no receive yet");
    }
}
