//! Logs: to stderr (stdout carries findings), as JSON Lines or text, with a filter that can be
//! replaced at run time (`PUT /loglevel` on the admin port).
//!
//! JSON is formatted here rather than with tracing-subscriber's `json` feature: that feature
//! turns on `tracing-core`'s default features, which would rebuild `tracing` and every crate
//! above it (the AWS SDK, kube) for one output format.

use std::fmt;
use std::io::IsTerminal;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};

/// `--log-format`. Text is the default everywhere (terminals, scripts and tests read it);
/// deployments ask for JSON (`PHIGUARD_LOG_FORMAT=json`, which the Helm chart sets) rather
/// than the binary guessing from whether stderr is a terminal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line: `timestamp`, `level`, `target`, `message`, the event's
    /// fields, and `spans` (names only).
    Json,
    /// Human-readable lines.
    #[default]
    Text,
}

#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error("invalid log filter {0:?}: {1}")]
    InvalidFilter(String, String),
    #[error("the log filter can no longer be changed: {0}")]
    Reload(String),
    #[error("installing the log subscriber: {0}")]
    Init(String),
}

/// The filter: `--log-level` / `PHIGUARD_LOG_LEVEL`, else `RUST_LOG`, else `info`.
pub fn filter_directives(log_level: Option<&str>, rust_log: Option<&str>) -> String {
    log_level.or(rust_log).map(str::trim).filter(|s| !s.is_empty()).unwrap_or("info").to_string()
}

/// Changes the filter of the installed subscriber.
#[derive(Clone)]
pub struct LogControl {
    handle: reload::Handle<EnvFilter, Registry>,
}

impl LogControl {
    /// The filter in force, as directives (`info,phiguard_aws=debug`).
    pub fn current(&self) -> String {
        self.handle.with_current(|f| f.to_string()).unwrap_or_default()
    }

    /// Replace the filter; an invalid one changes nothing.
    pub fn set(&self, directives: &str) -> Result<String, LoggingError> {
        let directives = directives.trim();
        let filter = EnvFilter::builder()
            .parse(directives)
            .map_err(|e| LoggingError::InvalidFilter(directives.to_string(), e.to_string()))?;
        self.handle.reload(filter).map_err(|e| LoggingError::Reload(e.to_string()))?;
        Ok(self.current())
    }
}

/// Install the process-wide subscriber.
pub fn init(format: LogFormat, directives: &str) -> Result<LogControl, LoggingError> {
    let filter = EnvFilter::builder()
        .parse(directives)
        .map_err(|e| LoggingError::InvalidFilter(directives.to_string(), e.to_string()))?;
    let (filter, handle) = reload::Layer::new(filter);
    let json = (format == LogFormat::Json)
        .then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr).event_format(JsonFormat));
    let text = (format == LogFormat::Text).then(|| {
        tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal())
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(json)
        .with(text)
        .try_init()
        .map_err(|e| LoggingError::Init(e.to_string()))?;
    Ok(LogControl { handle })
}

/// One JSON object per event.
pub struct JsonFormat;

impl<S, N> FormatEvent<S, N> for JsonFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let meta = event.metadata();
        let spans: Vec<Value> =
            ctx.event_scope().into_iter().flat_map(|scope| scope.from_root()).map(|s| s.name().into()).collect();
        let line = json_line(jiff::Timestamp::now(), meta.level().as_str(), meta.target(), event, spans);
        writeln!(writer, "{line}")
    }
}

/// The JSON object for one event (separate from the formatter so that it can be tested).
pub fn json_line(
    now: jiff::Timestamp,
    level: &str,
    target: &str,
    event: &dyn EventFields,
    spans: Vec<Value>,
) -> String {
    let mut fields = Fields(Map::new());
    event.visit(&mut fields);
    let mut out = Map::new();
    out.insert("timestamp".into(), now.to_string().into());
    out.insert("level".into(), level.into());
    out.insert("target".into(), target.into());
    if let Some(message) = fields.0.remove("message") {
        out.insert("message".into(), message);
    }
    for (k, v) in fields.0 {
        // An event field never overwrites the envelope keys above.
        out.entry(k).or_insert(v);
    }
    if !spans.is_empty() {
        out.insert("spans".into(), Value::Array(spans));
    }
    Value::Object(out).to_string()
}

/// What [`json_line`] needs from an event.
pub trait EventFields {
    fn visit(&self, visitor: &mut dyn Visit);
}

impl EventFields for Event<'_> {
    fn visit(&self, visitor: &mut dyn Visit) {
        self.record(visitor);
    }
}

struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_flag_wins_over_rust_log_and_info_is_the_default() {
        assert_eq!(filter_directives(Some("debug"), Some("warn")), "debug");
        assert_eq!(filter_directives(None, Some("warn,phiguard_aws=debug")), "warn,phiguard_aws=debug");
        assert_eq!(filter_directives(None, None), "info");
        assert_eq!(filter_directives(Some("  "), None), "info");
    }

    /// A real event through a real subscriber, captured as JSON.
    #[test]
    fn json_lines_carry_level_target_message_and_fields() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_writer(move || writer.clone()).event_format(JsonFormat));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("resync");
            let _e = span.enter();
            tracing::warn!(received = 3u64, ok = true, reason = "not-json", "message rejected");
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let line: Value = serde_json::from_str(text.trim()).expect("one JSON object per line");
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["message"], "message rejected");
        assert_eq!(line["received"], 3);
        assert_eq!(line["ok"], true);
        assert_eq!(line["reason"], "not-json");
        assert_eq!(line["spans"], serde_json::json!(["resync"]));
        assert!(line["target"].as_str().unwrap().starts_with("phiguard_cli"));
        assert!(line["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn the_filter_can_be_replaced_and_a_bad_one_changes_nothing() {
        let (layer, handle) = reload::Layer::<EnvFilter, Registry>::new(EnvFilter::new("info"));
        let _subscriber = tracing_subscriber::registry().with(layer);
        let control = LogControl { handle };
        assert_eq!(control.current(), "info");
        assert_eq!(control.set("warn,phiguard_aws=debug").unwrap(), "phiguard_aws=debug,warn");
        assert!(matches!(control.set("phiguard_aws=[bad"), Err(LoggingError::InvalidFilter(..))));
        assert_eq!(control.current(), "phiguard_aws=debug,warn");
    }
}
