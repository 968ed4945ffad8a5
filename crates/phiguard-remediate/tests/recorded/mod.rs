//! Recorded Redshift responses for the two parameter-group calls moto does not really
//! implement, in front of moto for everything else.
//!
//! moto 5.2 has no ModifyClusterParameterGroup (it answers 500) and its
//! DescribeClusterParameters returns the same fixed list of engine defaults for every group,
//! whatever was set. Those two calls, and only those, are answered here from response bodies
//! shaped like the AWS API reference's examples (Amazon Redshift API Reference,
//! DescribeClusterParameters and ModifyClusterParameterGroup, query protocol, XML), with the
//! values a group holds filled in; every other request (DescribeClusters, ModifyCluster,
//! CreateClusterParameterGroup, DescribeLoggingStatus, STS...) is relayed to moto unchanged.
//! A canned answer is only acceptable for calls moto lacks: see docs/remediation.md.

#![allow(dead_code)] // each test binary uses a different subset

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use phiguard_aws::AwsSettings;

/// Per group: parameter name → value, for the parameters a user set (Source `user`).
type Groups = Arc<Mutex<BTreeMap<String, BTreeMap<String, String>>>>;

/// A loopback HTTP server: the recorded parameter-group calls, moto for the rest.
pub struct RecordedRedshift {
    pub endpoint: String,
    groups: Groups,
    /// Actions answered from the recordings, in order (what the test can assert on).
    recorded: Arc<Mutex<Vec<String>>>,
}

/// Engine defaults the recordings list for every group (a subset of `redshift-1.0`).
const DEFAULTS: &[(&str, &str, &str, &str, &str)] = &[
    // name, value, data type, apply type, description
    ("require_ssl", "false", "boolean", "static", "require ssl for all databaseconnections"),
    (
        "statement_timeout",
        "0",
        "integer",
        "dynamic",
        "Aborts any statement that takes over the specified number of milliseconds.",
    ),
    ("enable_user_activity_logging", "false", "boolean", "static", "parameter for audit logging purpose"),
];

impl RecordedRedshift {
    pub fn start(moto_endpoint: &str) -> RecordedRedshift {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let upstream = moto_endpoint.trim_start_matches("http://").to_string();
        let groups = Groups::default();
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let (g, rec) = (groups.clone(), recorded.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (g, rec, up) = (g.clone(), rec.clone(), upstream.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &up, &g, &rec);
                });
            }
        });
        RecordedRedshift { endpoint, groups, recorded }
    }

    pub fn settings(&self, moto: &AwsSettings) -> AwsSettings {
        AwsSettings { endpoint_url: Some(self.endpoint.clone()), ..moto.clone() }
    }

    /// The user-set parameters of a group, as the recordings hold them.
    pub fn user_parameters(&self, group: &str) -> BTreeMap<String, String> {
        self.groups.lock().unwrap().get(group).cloned().unwrap_or_default()
    }

    pub fn recorded_actions(&self) -> Vec<String> {
        self.recorded.lock().unwrap().clone()
    }
}

fn serve(mut client: TcpStream, upstream: &str, groups: &Groups, recorded: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
        // One request per connection: the relay reads moto's answer to the end.
        if !line.to_ascii_lowercase().starts_with("connection:") {
            head.push(line);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let form = parse_form(&String::from_utf8_lossy(&body));
    let action = form.get("Action").cloned().unwrap_or_default();
    let answer = match action.as_str() {
        "DescribeClusterParameters" | "ModifyClusterParameterGroup" => {
            recorded.lock().unwrap().push(action.clone());
            let xml =
                if action == "ModifyClusterParameterGroup" { modify(&form, groups) } else { describe(&form, groups) };
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nx-amzn-RequestId: 2ba35df4-40d3-11e2-82cf-0b45b05c0221\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
                xml.len()
            )
            .into_bytes()
        }
        _ => {
            let mut moto = TcpStream::connect(upstream)?;
            let mut request = head.concat().into_bytes();
            request.extend_from_slice(b"Connection: close\r\n\r\n");
            request.extend_from_slice(&body);
            moto.write_all(&request)?;
            let mut response = Vec::new();
            moto.read_to_end(&mut response)?;
            response
        }
    };
    client.write_all(&answer)?;
    client.flush()
}

fn parse_form(body: &str) -> BTreeMap<String, String> {
    body.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// ModifyClusterParameterGroup: store `Parameters.Parameter.N.{ParameterName,ParameterValue}`.
fn modify(form: &BTreeMap<String, String>, groups: &Groups) -> String {
    let name = form.get("ParameterGroupName").cloned().unwrap_or_default();
    let mut groups = groups.lock().unwrap();
    let group = groups.entry(name.clone()).or_default();
    for n in 1.. {
        let Some(p) = form.get(&format!("Parameters.Parameter.{n}.ParameterName")) else { break };
        let v = form.get(&format!("Parameters.Parameter.{n}.ParameterValue")).cloned().unwrap_or_default();
        group.insert(p.clone(), v);
    }
    format!(
        r#"<ModifyClusterParameterGroupResponse xmlns="http://redshift.amazonaws.com/doc/2012-12-01/">
  <ModifyClusterParameterGroupResult>
    <ParameterGroupStatus>Your parameter group has been updated but changes won't get applied until you reboot the associated Clusters.</ParameterGroupStatus>
    <ParameterGroupName>{name}</ParameterGroupName>
  </ModifyClusterParameterGroupResult>
  <ResponseMetadata>
    <RequestId>86e64043-40de-11e2-8a25-eb010998df4e</RequestId>
  </ResponseMetadata>
</ModifyClusterParameterGroupResponse>"#
    )
}

/// DescribeClusterParameters: the defaults with the group's user values over them; with
/// `Source=user`, only the user values.
fn describe(form: &BTreeMap<String, String>, groups: &Groups) -> String {
    let name = form.get("ParameterGroupName").cloned().unwrap_or_default();
    let only_user = form.get("Source").map(String::as_str) == Some("user");
    let set = groups.lock().unwrap().get(&name).cloned().unwrap_or_default();
    let mut items = String::new();
    for (param, default, data_type, apply, description) in DEFAULTS {
        let (value, source) = match set.get(*param) {
            Some(v) => (v.as_str(), "user"),
            None => (*default, "engine-default"),
        };
        if only_user && source != "user" {
            continue;
        }
        items.push_str(&format!(
            r#"
      <Parameter>
        <ParameterValue>{value}</ParameterValue>
        <DataType>{data_type}</DataType>
        <Source>{source}</Source>
        <IsModifiable>true</IsModifiable>
        <Description>{description}</Description>
        <ApplyType>{apply}</ApplyType>
        <ParameterName>{param}</ParameterName>
      </Parameter>"#
        ));
    }
    format!(
        r#"<DescribeClusterParametersResponse xmlns="http://redshift.amazonaws.com/doc/2012-12-01/">
  <DescribeClusterParametersResult>
    <Parameters>{items}
    </Parameters>
  </DescribeClusterParametersResult>
  <ResponseMetadata>
    <RequestId>2ba35df4-40d3-11e2-82cf-0b45b05c0221</RequestId>
  </ResponseMetadata>
</DescribeClusterParametersResponse>"#
    )
}
