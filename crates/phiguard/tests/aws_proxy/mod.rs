//! `scripts/aws_proxy.py` for the fault tests: a counting, fault-injecting HTTP proxy in front
//! of moto (python3, standard library only). Point the operator's `--endpoint-url` at
//! [`Proxy::endpoint`]; the test itself talks to moto directly, so only the operator sees faults.
#![allow(dead_code)] // each test binary uses a different part

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The proxy process, killed on drop.
pub struct Proxy {
    child: Child,
    pub port: u16,
    pub endpoint: String,
}

impl Proxy {
    /// Start it in front of `upstream`; its log goes to `dir/proxy.log`. `PHIGUARD_PYTHON`
    /// names the interpreter (default `python3`).
    pub fn start(upstream: &str, dir: &Path) -> Proxy {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/aws_proxy.py");
        let port_file = dir.join("proxy.port");
        let _ = std::fs::remove_file(&port_file);
        let child = Command::new(std::env::var("PHIGUARD_PYTHON").unwrap_or_else(|_| "python3".into()))
            .arg(&script)
            .args(["--upstream", upstream, "--port-file", port_file.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("proxy.log")).unwrap())
            .spawn()
            .expect("start scripts/aws_proxy.py with python3");
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            if let Some(p) = std::fs::read_to_string(&port_file).ok().and_then(|s| s.trim().parse::<u16>().ok()) {
                break p;
            }
            assert!(
                Instant::now() < deadline,
                "the proxy did not start: {:?}",
                std::fs::read_to_string(dir.join("proxy.log"))
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Proxy { child, port, endpoint: format!("http://127.0.0.1:{port}") }
    }

    fn control(&self, method: &str, path: &str, body: &str) -> Value {
        let (status, text) = http(self.port, method, path, body);
        assert_eq!(status, 200, "proxy {path}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// For `seconds`, fail a share `rate` of requests: `throttle`, `server_error` or `down`
    /// (see the script's docstring for what each sends).
    pub fn fault(&self, mode: &str, seconds: f64, rate: f64) {
        self.control("POST", "/__proxy/fault", &json!({"mode": mode, "seconds": seconds, "rate": rate}).to_string());
    }

    /// A fault as the script's `POST /__proxy/fault` takes it (`every`, `services`, `status`...).
    pub fn fault_with(&self, spec: Value) {
        self.control("POST", "/__proxy/fault", &spec.to_string());
    }

    /// `{"total", "services", "operations", "faults", "fault_modes", "fault_operations"}`.
    pub fn stats(&self) -> Value {
        self.control("GET", "/__proxy/stats", "")
    }

    /// Requests the proxy saw for `service:operation` (e.g. `s3:PUT ?encryption`).
    pub fn count(&self, operation: &str) -> u64 {
        self.stats()["operations"][operation].as_u64().unwrap_or(0)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Status and body of one HTTP/1.1 request on loopback (`Connection: close`).
pub fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a complete HTTP response");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    (status, body.to_string())
}
