//! The Prometheus text format as `/metrics` serves it, parsed for assertions.

use std::collections::BTreeMap;

/// One sample of the Prometheus text format.
#[derive(Debug)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

pub struct Scrape {
    pub samples: Vec<Sample>,
    /// Family name → type, from `# TYPE` lines.
    pub types: BTreeMap<String, String>,
}

impl Scrape {
    /// Panics on a line that is not a comment, blank or a sample: a malformed scrape is a
    /// finding, not something to skip.
    pub fn parse(text: &str) -> Scrape {
        let mut samples = Vec::new();
        let mut types = BTreeMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                types.insert(name.to_string(), kind.to_string());
            } else if !line.starts_with('#') && !line.trim().is_empty() {
                let (series, value) = line.rsplit_once(' ').unwrap();
                let (name, labels) = match series.split_once('{') {
                    Some((name, labels)) => (name, parse_labels(labels.trim_end_matches('}'))),
                    None => (series, BTreeMap::new()),
                };
                samples.push(Sample { name: name.to_string(), labels, value: value.parse().unwrap() });
            }
        }
        Scrape { samples, types }
    }

    /// Sum of the samples of `name` whose labels include `want`; `None` when there is no such
    /// sample (a series that is absent, as opposed to one at 0).
    pub fn value(&self, name: &str, want: &[(&str, &str)]) -> Option<f64> {
        let matching: Vec<f64> = self.matching(name, want).map(|s| s.value).collect();
        (!matching.is_empty()).then(|| matching.iter().sum())
    }

    pub fn get(&self, name: &str, want: &[(&str, &str)]) -> f64 {
        self.value(name, want).unwrap_or(0.0)
    }

    /// The samples of `name` whose labels include `want`.
    pub fn matching<'a>(&'a self, name: &'a str, want: &'a [(&str, &str)]) -> impl Iterator<Item = &'a Sample> {
        self.samples.iter().filter(move |s| {
            s.name == name && want.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
    }
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once("=\"") {
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        value.push(if n == 'n' { '\n' } else { n });
                    }
                }
                '"' => {
                    end = i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        labels.insert(key.trim_start_matches(',').trim().to_string(), value);
        rest = &after[end..];
    }
    labels
}
