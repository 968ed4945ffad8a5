//! Lenient readers for the loose JSON AWS produces: keys in camelCase or PascalCase, booleans
//! and numbers as strings, JSON documents embedded as strings (sometimes twice), timestamps in
//! half a dozen layouts, tags as maps or lists. Nothing here fails: an unreadable value is
//! `None` ("the source did not say").

use std::borrow::Cow;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use serde_json::Value;

/// Looks `key` up in an object: the exact key first, then ignoring ASCII case (`Protocol` vs
/// `protocol`, `dBClusterParameterGroup` vs `dbclusterParameterGroup`). JSON `null` counts as
/// absent.
pub(crate) fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let map = v.as_object()?;
    let found = match map.get(key) {
        Some(x) => Some(x),
        None => map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, x)| x),
    };
    found.filter(|x| !x.is_null())
}

/// Whether `key` is present (even as `null`), ignoring ASCII case.
pub(crate) fn has(v: &Value, key: &str) -> bool {
    v.as_object().is_some_and(|m| m.contains_key(key) || m.keys().any(|k| k.eq_ignore_ascii_case(key)))
}

/// Follows a path of keys with [`get`].
pub(crate) fn path<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(v, |cur, k| get(cur, k))
}

/// The first of several alternative keys that is present.
pub(crate) fn any_of<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| get(v, k))
}

/// How many times a JSON document embedded in a string is unwrapped (the API layout of
/// configuration items double-encodes some supplementary values).
const MAX_EMBEDDING: usize = 3;

/// A value that may be a JSON document serialised into a string: the parsed document, or the
/// value itself when it is not such a string (plain strings such as `"true"` stay strings).
pub(crate) fn embedded(v: &Value) -> Cow<'_, Value> {
    let mut cur: Cow<'_, Value> = Cow::Borrowed(v);
    for _ in 0..MAX_EMBEDDING {
        let parsed = match cur.as_ref() {
            Value::String(s) if looks_like_json(s) => serde_json::from_str::<Value>(s).ok(),
            _ => None,
        };
        match parsed {
            Some(p) => cur = Cow::Owned(p),
            None => break,
        }
    }
    cur
}

fn looks_like_json(s: &str) -> bool {
    let t = s.trim_start();
    t.starts_with('{') || t.starts_with('[') || t.starts_with('"')
}

/// [`get`] followed by [`embedded`]; `null` (also once decoded) is absent.
pub(crate) fn get_embedded<'a>(v: &'a Value, key: &str) -> Option<Cow<'a, Value>> {
    let e = embedded(get(v, key)?);
    if e.is_null() { None } else { Some(e) }
}

/// A non-empty string.
pub(crate) fn as_str(v: &Value) -> Option<&str> {
    v.as_str().filter(|s| !s.is_empty())
}

/// [`get`] then [`as_str`].
pub(crate) fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    get(v, key).and_then(as_str)
}

/// A scalar as text: non-empty strings, numbers and booleans (ids such as
/// `configurationStateId` arrive as numbers or strings).
pub(crate) fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// [`get`] then [`text`].
pub(crate) fn text_at(v: &Value, key: &str) -> Option<String> {
    get(v, key).and_then(text)
}

/// Any value as text: scalars as in [`text`] (empty strings kept), arrays and objects as
/// compact JSON. `null` is `None`.
pub(crate) fn stringify(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(_) | Value::Object(_) => Some(v.to_string()),
    }
}

/// A boolean, or a string saying `true`/`false` in any case, or the numbers 0/1.
pub(crate) fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => {
            let t = s.trim();
            if t.eq_ignore_ascii_case("true") {
                Some(true)
            } else if t.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                None
            }
        }
        Value::Number(n) => match n.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        _ => None,
    }
}

/// [`get`] then [`as_bool`].
pub(crate) fn bool_at(v: &Value, key: &str) -> Option<bool> {
    get(v, key).and_then(as_bool)
}

/// An integer, from a number or a numeric string (`"100"`, `"7.0"`).
pub(crate) fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(integral)),
        Value::String(s) => {
            let t = s.trim();
            t.parse::<i64>().ok().or_else(|| t.parse::<f64>().ok().and_then(integral))
        }
        _ => None,
    }
}

fn integral(f: f64) -> Option<i64> {
    // Range-checked, so the cast below is exact.
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

/// A non-negative integer that fits `u32`.
pub(crate) fn as_u32(v: &Value) -> Option<u32> {
    as_i64(v).and_then(|i| u32::try_from(i).ok())
}

/// [`get`] then [`as_u32`].
pub(crate) fn u32_at(v: &Value, key: &str) -> Option<u32> {
    get(v, key).and_then(as_u32)
}

/// Elements of a list that AWS may wrap: a plain array, EC2's `{"items": [...]}` /
/// `{"item": ...}`, CloudFront's `{"quantity": n, "items": [...]}`, or a single object
/// where XML-to-JSON conversion dropped the list.
pub(crate) fn list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => {
            if let Some(inner) = any_of(v, &["items", "item", "member"]) {
                return match inner {
                    Value::Array(a) => a.iter().collect(),
                    other => vec![other],
                };
            }
            if has(v, "quantity") { Vec::new() } else { vec![v] }
        }
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// [`get`] then [`list`] (absent: empty).
pub(crate) fn list_at<'a>(v: &'a Value, key: &str) -> Vec<&'a Value> {
    get(v, key).map(list).unwrap_or_default()
}

/// Epoch values at or above this are milliseconds (as seconds they would be past year 5000;
/// as milliseconds this is March 1973).
const EPOCH_MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// A point in time from any layout AWS uses: RFC 3339, `…UTC` suffixes, `+0000` offsets,
/// epoch seconds or milliseconds (number or string), `May 3, 2015 11:34:14 PM`, naive
/// `2020-10-20 15:52:44.809783` (read as UTC), RFC 2822. Anything else is `None`.
pub(crate) fn timestamp(v: &Value) -> Option<Timestamp> {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => epoch_int(i),
            None => n.as_f64().and_then(epoch_float),
        },
        Value::String(s) => parse_timestamp(s),
        _ => None,
    }
}

/// [`get`] then [`timestamp`].
pub(crate) fn timestamp_at(v: &Value, key: &str) -> Option<Timestamp> {
    get(v, key).and_then(timestamp)
}

fn epoch_int(i: i64) -> Option<Timestamp> {
    if i.unsigned_abs() >= EPOCH_MILLIS_THRESHOLD.unsigned_abs() {
        Timestamp::from_millisecond(i).ok()
    } else {
        Timestamp::from_second(i).ok()
    }
}

fn epoch_float(f: f64) -> Option<Timestamp> {
    if !f.is_finite() {
        return None;
    }
    let millis = if f.abs() >= EPOCH_MILLIS_THRESHOLD as f64 { f } else { f * 1000.0 };
    if millis.abs() > 9.0e15 {
        return None;
    }
    // Range-checked above.
    Timestamp::from_millisecond(millis.round() as i64).ok()
}

/// Longest timestamp text worth trying to parse.
const MAX_TIMESTAMP_LEN: usize = 64;

/// Layouts for [`jiff::fmt::strtime`], tried in order (Java `Date` formats seen in DynamoDB
/// and API Gateway payloads).
const STRTIME_LAYOUTS: &[&str] = &["%B %d, %Y %I:%M:%S %p", "%b %d, %Y %I:%M:%S %p", "%B %d, %Y %H:%M:%S"];

pub(crate) fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.is_empty() || s.len() > MAX_TIMESTAMP_LEN {
        return None;
    }
    let numeric = s.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    if numeric && s.get(1..).is_some_and(|rest| !rest.contains('-')) {
        return match s.parse::<i64>() {
            Ok(i) => epoch_int(i),
            Err(_) => s.parse::<f64>().ok().and_then(epoch_float),
        };
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    // "2017-02-24T18:34:32.932UTC", "... GMT"
    for suffix in ["UTC", "GMT"] {
        if let Some(rest) = s.strip_suffix(suffix) {
            let mut z = rest.trim_end().to_string();
            z.push('Z');
            if let Ok(t) = z.parse::<Timestamp>() {
                return Some(t);
            }
            return naive_utc(rest.trim_end());
        }
    }
    // "2014-02-27T21:43:53.0885+0000": insert the colon jiff wants in the offset.
    if let Some(t) = with_offset_colon(s).and_then(|fixed| fixed.parse::<Timestamp>().ok()) {
        return Some(t);
    }
    if let Some(t) = naive_utc(s) {
        return Some(t);
    }
    if s.bytes().any(|b| b.is_ascii_alphabetic()) {
        for layout in STRTIME_LAYOUTS {
            let parsed = jiff::fmt::strtime::parse(layout, s).and_then(|tm| tm.to_datetime());
            if let Some(t) = parsed.ok().and_then(|dt| TimeZone::UTC.to_timestamp(dt).ok()) {
                return Some(t);
            }
        }
        if let Ok(z) = jiff::fmt::rfc2822::parse(s) {
            return Some(z.timestamp());
        }
    }
    None
}

/// A date-time without offset (or a bare date), read as UTC.
fn naive_utc(s: &str) -> Option<Timestamp> {
    if let Ok(dt) = s.parse::<DateTime>() {
        return TimeZone::UTC.to_timestamp(dt).ok();
    }
    let d = s.parse::<Date>().ok()?;
    TimeZone::UTC.to_timestamp(d.to_datetime(jiff::civil::Time::midnight())).ok()
}

/// `…+0000` / `…-0530` → `…+00:00` / `…-05:30`.
fn with_offset_colon(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let n = bytes.len();
    if n < 6 {
        return None;
    }
    let sign = *bytes.get(n - 5)?;
    let digits = bytes.get(n - 4..)?;
    if (sign == b'+' || sign == b'-') && digits.iter().all(u8::is_ascii_digit) {
        let (head, tail) = (s.get(..n - 2)?, s.get(n - 2..)?);
        Some(format!("{head}:{tail}"))
    } else {
        None
    }
}

/// Tags in any shape AWS uses: a map `{"k": "v"}`, a list of `{key, value}` / `{Key, Value}` /
/// `{tagKey, tagValue}`, EC2's `{"items": [...]}`, or a JSON string of any of those.
/// `None` when the value is not recognisably tags.
pub(crate) fn tags(v: &Value) -> Option<Vec<(String, String)>> {
    tags_at_depth(v, 0)
}

fn tags_at_depth(v: &Value, depth: usize) -> Option<Vec<(String, String)>> {
    match v {
        Value::Object(m) => {
            let wrapped = if m.len() == 1 { any_of(v, &["items", "item", "tagSet", "TagList"]) } else { None };
            if let Some(inner @ Value::Array(_)) = wrapped {
                return tags_at_depth(inner, depth + 1);
            }
            Some(m.iter().map(|(k, val)| (k.clone(), stringify(val).unwrap_or_default())).collect())
        }
        Value::Array(items) => {
            let pairs: Vec<(String, String)> = items
                .iter()
                .filter_map(|item| {
                    let key = any_of(item, &["key", "tagKey"]).and_then(text)?;
                    let value = any_of(item, &["value", "tagValue"]).and_then(stringify).unwrap_or_default();
                    Some((key, value))
                })
                .collect();
            if pairs.is_empty() && !items.is_empty() { None } else { Some(pairs) }
        }
        Value::String(s) if depth < MAX_EMBEDDING && looks_like_json(s) => {
            let parsed = serde_json::from_str::<Value>(s).ok()?;
            tags_at_depth(&parsed, depth + 1)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("test timestamp")
    }

    #[test]
    fn timestamps_in_every_layout() {
        let cases: &[(Value, &str)] = &[
            (json!("2022-01-19T20:34:12.000Z"), "2022-01-19T20:34:12Z"),
            (json!("2017-02-04T06:10:33.880000-05:00"), "2017-02-04T11:10:33.88Z"),
            (json!("2017-02-24T18:34:32.932UTC"), "2017-02-24T18:34:32.932Z"),
            (json!("2014-02-27T21:43:53.0885+0000"), "2014-02-27T21:43:53.0885Z"),
            (json!(1455204717646_i64), "2016-02-11T15:31:57.646Z"),
            (json!(1602023249), "2020-10-06T22:27:29Z"),
            (json!("1602023249"), "2020-10-06T22:27:29Z"),
            (json!("1455204717646"), "2016-02-11T15:31:57.646Z"),
            (json!(1455204717.5), "2016-02-11T15:31:57.5Z"),
            (json!("May 3, 2015 11:34:14 PM"), "2015-05-03T23:34:14Z"),
            (json!("Feb 21, 2022 6:37:48 PM"), "2022-02-21T18:37:48Z"),
            (json!("2020-10-20 15:52:44.809783"), "2020-10-20T15:52:44.809783Z"),
            (json!("2015-05-03"), "2015-05-03T00:00:00Z"),
            (json!("Tue, 1 Jul 2003 10:52:37 +0200"), "2003-07-01T08:52:37Z"),
        ];
        for (input, want) in cases {
            assert_eq!(timestamp(input), Some(ts(want)), "input {input}");
        }
    }

    #[test]
    fn unparseable_timestamps_are_none() {
        for input in [
            json!("FriMar0723: 46: 28UTC2014"),
            json!(""),
            json!("-"),
            json!("not a date"),
            json!("NaN"),
            json!("99999999999999999999999"),
            json!(1e300),
            json!(true),
            json!(null),
            json!({"a": 1}),
            json!("2014-13-45T99:99:99Z"),
            json!("x".repeat(200)),
            json!("é+0000"),
            json!("UTC"),
        ] {
            assert_eq!(timestamp(&input), None, "input {input}");
        }
    }

    #[test]
    fn booleans_from_strings_and_numbers() {
        assert_eq!(as_bool(&json!(true)), Some(true));
        assert_eq!(as_bool(&json!("true")), Some(true));
        assert_eq!(as_bool(&json!("False")), Some(false));
        assert_eq!(as_bool(&json!(" TRUE ")), Some(true));
        assert_eq!(as_bool(&json!(0)), Some(false));
        assert_eq!(as_bool(&json!(1)), Some(true));
        assert_eq!(as_bool(&json!(2)), None);
        assert_eq!(as_bool(&json!("yes please")), None);
        assert_eq!(as_bool(&json!(null)), None);
    }

    #[test]
    fn numbers_from_strings() {
        assert_eq!(as_u32(&json!("100")), Some(100));
        assert_eq!(as_u32(&json!(7)), Some(7));
        assert_eq!(as_u32(&json!("7.0")), Some(7));
        assert_eq!(as_u32(&json!(-1)), None);
        assert_eq!(as_u32(&json!("1e99")), None);
        assert_eq!(as_u32(&json!(4_294_967_296_u64)), None);
        assert_eq!(as_i64(&json!("abc")), None);
    }

    #[test]
    fn keys_match_ignoring_case_exact_first() {
        let v = json!({"Protocol": "HTTP", "port": 80, "x": null, "sSEType": "KMS"});
        assert_eq!(str_at(&v, "protocol"), Some("HTTP"));
        assert_eq!(u32_at(&v, "Port"), Some(80));
        assert_eq!(get(&v, "x"), None);
        assert!(has(&v, "X"));
        assert_eq!(str_at(&v, "SSEType"), Some("KMS"));
        let both = json!({"name": "exact", "Name": "other"});
        assert_eq!(str_at(&both, "Name"), Some("other"));
        assert_eq!(str_at(&both, "name"), Some("exact"));
    }

    #[test]
    fn embedded_json_is_unwrapped_up_to_double_encoding() {
        let once = json!("{\"policyText\":null}");
        assert_eq!(embedded(&once).as_ref(), &json!({"policyText": null}));
        let twice = json!("\"{\\\"grantList\\\":[]}\"");
        assert_eq!(embedded(&twice).as_ref(), &json!({"grantList": []}));
        assert_eq!(embedded(&json!("false")).as_ref(), &json!("false"));
        assert_eq!(embedded(&json!("{broken")).as_ref(), &json!("{broken"));
        assert_eq!(get_embedded(&json!({"a": "null"}), "a"), Some(Cow::Owned(json!("null"))));
        assert_eq!(get_embedded(&json!({"a": "\"null\""}), "a").as_deref(), Some(&json!("null")));
    }

    #[test]
    fn tags_in_every_shape() {
        let want = vec![("env".to_string(), "prod".to_string())];
        assert_eq!(tags(&json!({"env": "prod"})), Some(want.clone()));
        assert_eq!(tags(&json!([{"key": "env", "value": "prod"}])), Some(want.clone()));
        assert_eq!(tags(&json!([{"Key": "env", "Value": "prod"}])), Some(want.clone()));
        assert_eq!(tags(&json!({"items": [{"key": "env", "value": "prod"}]})), Some(want.clone()));
        assert_eq!(tags(&json!("[{\"key\":\"env\",\"value\":\"prod\"}]")), Some(want.clone()));
        assert_eq!(tags(&json!("{\"env\":\"prod\"}")), Some(want));
        assert_eq!(tags(&json!({})), Some(vec![]));
        assert_eq!(tags(&json!([])), Some(vec![]));
        assert_eq!(
            tags(&json!({"n": 1, "b": null})),
            Some(vec![("b".into(), String::new()), ("n".into(), "1".into())])
        );
        assert_eq!(tags(&json!([{"key": "k"}])), Some(vec![("k".into(), String::new())]));
        assert_eq!(tags(&json!([1, 2])), None);
        assert_eq!(tags(&json!("not tags")), None);
        assert_eq!(tags(&json!(3)), None);
    }

    #[test]
    fn lists_in_wrappers() {
        assert_eq!(list(&json!([1, 2])).len(), 2);
        assert_eq!(list(&json!({"items": [1, 2, 3]})).len(), 3);
        assert_eq!(list(&json!({"item": "fl-1"})), vec![&json!("fl-1")]);
        assert!(list(&json!({"quantity": 0})).is_empty());
        assert_eq!(list(&json!({"Key": "a"})).len(), 1);
        assert!(list(&json!(null)).is_empty());
    }
}
