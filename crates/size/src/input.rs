//! Readers for usage history: a long-format CSV and Prometheus range-query
//! JSON.
//!
//! **CSV.** Header `timestamp,namespace,pod,container,resource,value` plus an
//! optional `workload` column, in any order. `timestamp` is unix seconds or
//! RFC 3339; `resource` is `cpu` (cores), `memory` (bytes), `gpu_memory`
//! (bytes), `gpu_util` (0–1) or `oom` (value ignored, may be empty). Fields may
//! be double-quoted (`""` escapes a quote). Blank lines are skipped, CRLF is
//! accepted. Every error names the file, the 1-based line and column.
//!
//! **Prometheus.** The `/api/v1/query_range` response (`resultType: matrix`).
//! Each series' metric comes from its `__name__` label, else from the caller's
//! default:
//! - `container_cpu_usage_seconds_total` with `__name__` is the raw counter and
//!   is turned into a rate per interval (counter resets handled); without
//!   `__name__` (the result of `rate(...)`) values are already cores;
//! - `container_memory_working_set_bytes` → memory bytes;
//! - `DCGM_FI_DEV_FB_USED` (MiB) → GPU memory bytes; `DCGM_FI_DEV_GPU_UTIL`
//!   (percent) → utilisation fraction. Several GPUs of one container at the
//!   same time are summed.
//!
//! Labels: `namespace`, `pod`, `container` (DCGM exporters also use
//! `exported_namespace`/`exported_pod`/`exported_container`), optional
//! `workload`. `NaN` values (stale markers) are skipped with a warning.
//! Two series for the same container, resource and device (GPU labels
//! `gpu`, `UUID`, `device`, `GPU_I_ID`) are duplicates, e.g. from an HA
//! Prometheus pair that differ only in a replica label: the first series'
//! values are kept (never summed) and [`UsageWarning::DuplicateSeries`]
//! names the labels that differ. Errors name the series by its index in
//! `data.result` and the sample by its index in `values`.
//!
//! ```
//! use rightsizer_size::input::read_csv;
//! let csv = "timestamp,namespace,pod,container,resource,value\n\
//!            1700000000,prod,api-0,app,cpu,0.5\n\
//!            2023-11-14T22:14:20Z,prod,api-0,app,memory,1e9\n";
//! let set = read_csv("usage.csv", csv)?;
//! assert_eq!(set.sample_count(), 2);
//! let bad = "timestamp,namespace,pod,container,resource,value\n1700000000,prod,api-0,app,cpu,-1\n";
//! let err = read_csv("usage.csv", bad).unwrap_err();
//! assert_eq!(err.to_string(), "usage.csv:2:31: cpu sample -1 is invalid (negative)");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::time::{Timestamp, TimestampError};
use crate::usage::{
    check_value, NameError, Resource, SampleError, UsageBuilder, UsageSet, UsageWarning,
};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

/// Why usage input could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The input is empty (no header).
    #[error("{file}: empty input, expected a header line")]
    Empty {
        /// File.
        file: String,
    },
    /// A required CSV column is missing from the header.
    #[error("{file}:1: missing required column {column:?}")]
    MissingColumn {
        /// File.
        file: String,
        /// The column.
        column: &'static str,
    },
    /// The header names a column twice or an unknown column.
    #[error("{file}:1:{column}: unexpected header field {name:?} ({reason})")]
    BadHeader {
        /// File.
        file: String,
        /// 1-based column.
        column: usize,
        /// The field.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A CSV row has the wrong number of fields or an unterminated quote.
    #[error("{file}:{line}:{column}: expected {expected} fields, found {found}")]
    FieldCount {
        /// File.
        file: String,
        /// Line.
        line: usize,
        /// Column where the row ends.
        column: usize,
        /// Expected count.
        expected: usize,
        /// Found count.
        found: usize,
    },
    /// A quoted field is not terminated or has text after its closing quote.
    #[error("{file}:{line}:{column}: malformed quoted field")]
    Quote {
        /// File.
        file: String,
        /// Line.
        line: usize,
        /// Column.
        column: usize,
    },
    /// A field cannot be parsed.
    #[error("{file}:{line}:{column}: field {field} = {value:?}: {reason}")]
    BadField {
        /// File.
        file: String,
        /// Line.
        line: usize,
        /// 1-based column (characters) where the field starts.
        column: usize,
        /// Field name.
        field: &'static str,
        /// The text.
        value: String,
        /// Why.
        reason: String,
    },
    /// A timestamp cannot be parsed or is out of range.
    #[error("{file}:{line}:{column}: {source}")]
    Timestamp {
        /// File.
        file: String,
        /// Line.
        line: usize,
        /// Column.
        column: usize,
        /// The parse error.
        source: TimestampError,
    },
    /// A sample value or name is invalid.
    #[error(transparent)]
    Sample(#[from] SampleError),
    /// The JSON is malformed or not a query_range response.
    #[error("{file}:{line}:{column}: {message}")]
    Json {
        /// File.
        file: String,
        /// Line.
        line: usize,
        /// Column.
        column: usize,
        /// What serde_json reported.
        message: String,
    },
    /// The Prometheus response is well-formed JSON but not usable.
    #[error("{file}: result #{index}: {reason}")]
    Prometheus {
        /// File.
        file: String,
        /// Index of the series in `data.result`.
        index: usize,
        /// Why.
        reason: String,
    },
}

const COLUMNS: [&str; 7] = [
    "timestamp",
    "namespace",
    "pod",
    "container",
    "resource",
    "value",
    "workload",
];

/// One CSV field: its text (borrowed unless a `""` escape had to be undone)
/// and the byte offset in its line where it starts.
type Field<'t> = (Cow<'t, str>, usize);

/// The 1-based character column of byte offset `at` in `line`.
fn char_column(line: &str, at: usize) -> usize {
    line.get(..at).map_or(at, |s| s.chars().count()) + 1
}

/// Splits one CSV line into its fields (trimmed), borrowing from the line.
fn split_csv_line<'t>(
    file: &str,
    line_no: usize,
    line: &'t str,
    out: &mut Vec<Field<'t>>,
) -> Result<(), InputError> {
    out.clear();
    let b = line.as_bytes();
    let quote_err = |at: usize| InputError::Quote {
        file: file.to_string(),
        line: line_no,
        column: char_column(line, at),
    };
    let mut i = 0;
    loop {
        let start = i;
        let field: Cow<'t, str> = if b.get(i) == Some(&b'"') {
            i += 1;
            let body = i;
            let mut owned: Option<String> = None;
            loop {
                let Some(q) = b[i..].iter().position(|&c| c == b'"') else {
                    return Err(quote_err(start));
                };
                let end = i + q;
                if b.get(end + 1) == Some(&b'"') {
                    // `""`: a literal quote; keep the text up to and including one quote.
                    owned
                        .get_or_insert_with(String::new)
                        .push_str(&line[i..=end]);
                    i = end + 2;
                } else {
                    let text = match owned.take() {
                        Some(mut s) => {
                            s.push_str(&line[i..end]);
                            Cow::Owned(s)
                        }
                        None => Cow::Borrowed(&line[body..end]),
                    };
                    i = end + 1;
                    break text;
                }
            }
        } else {
            let end = b[i..]
                .iter()
                .position(|&c| c == b',')
                .map_or(b.len(), |p| i + p);
            let text = Cow::Borrowed(&line[i..end]);
            i = end;
            text
        };
        match b.get(i) {
            None | Some(b',') => {}
            Some(_) => return Err(quote_err(i)),
        }
        out.push((trim_cow(field), start));
        if b.get(i) == Some(&b',') {
            i += 1;
        } else {
            return Ok(());
        }
    }
}

fn trim_cow(s: Cow<'_, str>) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
        Cow::Owned(o) if o.trim().len() == o.len() => Cow::Owned(o),
        Cow::Owned(o) => Cow::Owned(o.trim().to_string()),
    }
}

/// Reads long-format CSV usage (see the module docs). `file` names the
/// source in errors.
pub fn read_csv(file: &str, text: &str) -> Result<UsageSet, InputError> {
    let mut b = UsageBuilder::new();
    read_csv_into(&mut b, file, text)?;
    Ok(b.finish())
}

/// A timestamp field: plain unix seconds (the common case) without the
/// general parser, anything else through [`Timestamp::parse`].
fn csv_timestamp(s: &str) -> Result<Timestamp, TimestampError> {
    let b = s.as_bytes();
    if !b.is_empty() && b.len() <= 18 && b.iter().all(u8::is_ascii_digit) {
        let secs = b.iter().fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
        if let Some(t) = Timestamp::from_unix_secs(secs) {
            return Ok(t);
        }
    }
    Timestamp::parse(s)
}

/// Like [`read_csv`] but adds to an existing builder (to merge several files).
///
/// Fields are split on the bytes of the borrowed text (no allocation per
/// field unless a quoted field has `""` escapes), and each distinct
/// (namespace, workload, pod, container) is validated and looked up in the
/// builder once, then found again through a map from the borrowed key.
pub fn read_csv_into(b: &mut UsageBuilder, file: &str, text: &str) -> Result<(), InputError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate();
    let header = loop {
        match lines.next() {
            None => {
                return Err(InputError::Empty {
                    file: file.to_string(),
                })
            }
            Some((_, l)) if l.trim().is_empty() => continue,
            Some((n, l)) => break (n + 1, l),
        }
    };
    let mut fields: Vec<Field<'_>> = Vec::new();
    split_csv_line(file, header.0, header.1, &mut fields)?;
    let mut idx: [Option<usize>; 7] = [None; 7];
    for (pos, (name, start)) in fields.iter().enumerate() {
        let column = char_column(header.1, *start);
        let Some(k) = COLUMNS.iter().position(|c| c == name) else {
            return Err(InputError::BadHeader {
                file: file.to_string(),
                column,
                name: name.to_string(),
                reason: "unknown column",
            });
        };
        if idx[k].is_some() {
            return Err(InputError::BadHeader {
                file: file.to_string(),
                column,
                name: name.to_string(),
                reason: "duplicate column",
            });
        }
        idx[k] = Some(pos);
    }
    let mut col = [0usize; 6];
    for (k, name) in COLUMNS.iter().enumerate().take(6) {
        col[k] = idx[k].ok_or_else(|| InputError::MissingColumn {
            file: file.to_string(),
            column: name,
        })?;
    }
    let ncols = fields.len();
    // (namespace, workload or "", pod, container) → builder slot.
    let mut slots: HashMap<[&str; 4], usize> = HashMap::new();
    let mut last: Option<([&str; 4], usize)> = None;
    for (n, line) in lines {
        let line_no = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        split_csv_line(file, line_no, line, &mut fields)?;
        if fields.len() != ncols {
            return Err(InputError::FieldCount {
                file: file.to_string(),
                line: line_no,
                column: line.chars().count() + 1,
                expected: ncols,
                found: fields.len(),
            });
        }
        let column = |pos: usize| char_column(line, fields[pos].1);
        let text_of = |k: usize| -> &str { &fields[col[k]].0 };
        let t = csv_timestamp(text_of(0)).map_err(|source| InputError::Timestamp {
            file: file.to_string(),
            line: line_no,
            column: column(col[0]),
            source,
        })?;
        let res_text = text_of(4);
        let resource = Resource::parse(res_text).ok_or_else(|| InputError::BadField {
            file: file.to_string(),
            line: line_no,
            column: column(col[4]),
            field: "resource",
            value: res_text.to_string(),
            reason: "expected cpu, memory, gpu_memory, gpu_util or oom".into(),
        })?;
        let val_text = text_of(5);
        let value = if resource == Resource::Oom && val_text.is_empty() {
            0.0
        } else {
            parse_number(val_text).ok_or_else(|| InputError::BadField {
                file: file.to_string(),
                line: line_no,
                column: column(col[5]),
                field: "value",
                value: val_text.to_string(),
                reason: "not a number".into(),
            })?
        };
        for (k, name) in [(2usize, "pod"), (3, "container")] {
            if text_of(k).is_empty() {
                return Err(InputError::BadField {
                    file: file.to_string(),
                    line: line_no,
                    column: column(col[k]),
                    field: name,
                    value: String::new(),
                    reason: "must not be empty".into(),
                });
            }
        }
        if let Some(reason) = check_value(resource, value) {
            return Err(InputError::Sample(SampleError::BadValue {
                file: file.to_string(),
                line: line_no,
                column: column(col[5]),
                resource,
                value,
                reason,
            }));
        }
        let workload = idx[6].map(|k| &*fields[k].0);
        let name_err = |e: NameError| {
            let pos = match e.field {
                "pod" => col[2],
                "container" => col[3],
                _ => idx[6].unwrap_or(col[2]),
            };
            InputError::Sample(SampleError::BadName {
                file: file.to_string(),
                line: line_no,
                column: column(pos),
                field: e.field,
                value: e.value,
                source: e.source,
            })
        };
        let borrowed = |pos: usize| match fields[pos].0 {
            Cow::Borrowed(s) => Some(s),
            Cow::Owned(_) => None,
        };
        let key = (|| {
            Some([
                borrowed(col[1])?,
                idx[6].map_or(Some(""), borrowed)?,
                borrowed(col[2])?,
                borrowed(col[3])?,
            ])
        })();
        let slot = match key {
            Some(key) => match last {
                Some((k, s)) if k == key => s,
                _ => {
                    let s = match slots.get(&key) {
                        Some(&s) => s,
                        None => {
                            let s = b
                                .instance(key[0], workload, key[2], key[3])
                                .map_err(name_err)?;
                            slots.insert(key, s);
                            s
                        }
                    };
                    last = Some((key, s));
                    s
                }
            },
            // A name with a `""` escape: no borrowed key, look it up directly.
            None => b
                .instance(text_of(1), workload, text_of(2), text_of(3))
                .map_err(name_err)?,
        };
        b.push_valid(slot, resource, t.unix_nanos(), value);
    }
    Ok(())
}

/// Parses a decimal number; the spellings `inf`/`nan` are returned as such
/// so the sample validation reports them as what they are.
fn parse_number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if !b.is_empty()
        && b.iter()
            .all(|c| matches!(c, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return s.parse().ok();
    }
    let is = |names: &[&str]| names.iter().any(|n| s.eq_ignore_ascii_case(n));
    if is(&["nan", "+nan", "-nan"]) {
        Some(f64::NAN)
    } else if is(&["inf", "+inf", "infinity", "+infinity"]) {
        Some(f64::INFINITY)
    } else if is(&["-inf", "-infinity"]) {
        Some(f64::NEG_INFINITY)
    } else {
        None
    }
}

/// The metric a Prometheus series carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PromMetric {
    /// `container_cpu_usage_seconds_total`: a counter, or already a rate when
    /// the series has no `__name__` label.
    CpuUsageSecondsTotal,
    /// `container_memory_working_set_bytes`.
    MemoryWorkingSetBytes,
    /// `DCGM_FI_DEV_FB_USED` (MiB).
    DcgmFbUsed,
    /// `DCGM_FI_DEV_GPU_UTIL` (percent).
    DcgmGpuUtil,
}

impl PromMetric {
    /// By metric name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "container_cpu_usage_seconds_total" => PromMetric::CpuUsageSecondsTotal,
            "container_memory_working_set_bytes" => PromMetric::MemoryWorkingSetBytes,
            "DCGM_FI_DEV_FB_USED" => PromMetric::DcgmFbUsed,
            "DCGM_FI_DEV_GPU_UTIL" => PromMetric::DcgmGpuUtil,
            _ => return None,
        })
    }
}

#[derive(Deserialize)]
struct PromResponse {
    status: String,
    #[serde(default)]
    data: Option<PromData>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromData {
    result_type: String,
    result: Vec<PromSeries>,
}

#[derive(Deserialize)]
struct PromSeries {
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, PromValue)>,
}

/// A sample value as Prometheus writes it (a JSON string), parsed while
/// deserialising: no `String` per sample; the text is kept only when it is
/// not a number, for the error.
enum PromValue {
    Number(f64),
    NotANumber(String),
}

impl<'de> Deserialize<'de> for PromValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = PromValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sample value as a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PromValue, E> {
                Ok(match parse_number(v) {
                    Some(x) => PromValue::Number(x),
                    None => PromValue::NotANumber(v.to_string()),
                })
            }
        }
        d.deserialize_str(V)
    }
}

fn label<'a>(m: &'a BTreeMap<String, String>, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| m.get(*n).map(String::as_str).filter(|s| !s.is_empty()))
}

/// Reads a Prometheus `query_range` response (see the module docs).
/// `default_metric` applies to series without a `__name__` label.
pub fn read_prometheus(
    file: &str,
    text: &str,
    default_metric: Option<PromMetric>,
) -> Result<UsageSet, InputError> {
    let mut b = UsageBuilder::new();
    read_prometheus_into(&mut b, file, text, default_metric)?;
    Ok(b.finish())
}

/// Adds the points of `new` (sorted, unique times) absent from `into`
/// (sorted, unique times) to it; returns how many times were in both.
fn merge_absent(into: &mut Vec<(i64, f64)>, new: Vec<(i64, f64)>) -> usize {
    let mut out = Vec::with_capacity(into.len() + new.len());
    let mut overlapping = 0;
    let mut a = std::mem::take(into).into_iter().peekable();
    let mut b = new.into_iter().peekable();
    loop {
        match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x.0 == y.0 => {
                overlapping += 1;
                out.extend(a.next());
                b.next();
            }
            (Some(x), Some(y)) if x.0 < y.0 => out.extend(a.next()),
            (Some(_), Some(_)) | (None, Some(_)) => out.extend(b.next()),
            (Some(_), None) => out.extend(a.next()),
            (None, None) => break,
        }
    }
    *into = out;
    overlapping
}

/// Like [`read_prometheus`] but adds to an existing builder.
///
/// The response is deserialised into typed series whose values are parsed
/// as they are read (no JSON tree, no `String` per sample); each container's
/// names are validated once.
pub fn read_prometheus_into(
    b: &mut UsageBuilder,
    file: &str,
    text: &str,
    default_metric: Option<PromMetric>,
) -> Result<(), InputError> {
    let resp: PromResponse = serde_json::from_str(text).map_err(|e| InputError::Json {
        file: file.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let prom_err = |index, reason: String| InputError::Prometheus {
        file: file.to_string(),
        index,
        reason,
    };
    if resp.status != "success" {
        return Err(prom_err(
            0,
            format!(
                "status {:?}: {}",
                resp.status,
                resp.error.unwrap_or_default()
            ),
        ));
    }
    let data = resp
        .data
        .ok_or_else(|| prom_err(0, "missing data".into()))?;
    if data.result_type != "matrix" {
        return Err(prom_err(
            0,
            format!("resultType {:?}, expected \"matrix\"", data.result_type),
        ));
    }
    // (namespace, workload, pod, container, resource) → device → series.
    // Several devices (GPUs) of one container are summed per timestamp; two
    // series with the same key and device are duplicates (an HA replica or
    // scrape label): the first series' value is kept, with a warning naming
    // the labels that differ.
    type Key<'s> = (&'s str, Option<&'s str>, &'s str, &'s str, Resource);
    struct DeviceSeries<'s> {
        index: usize,
        labels: &'s BTreeMap<String, String>,
        /// Sorted by time, unique times.
        points: Vec<(i64, f64)>,
    }
    let mut acc: BTreeMap<Key<'_>, BTreeMap<String, DeviceSeries<'_>>> = BTreeMap::new();
    let mut skipped = 0usize;
    for (index, s) in data.result.iter().enumerate() {
        let named = s.metric.get("__name__");
        let metric = match named {
            Some(n) => PromMetric::from_name(n)
                .ok_or_else(|| prom_err(index, format!("unsupported metric {n:?}")))?,
            None => default_metric.ok_or_else(|| {
                prom_err(
                    index,
                    "series has no __name__ label and no default metric was given".into(),
                )
            })?,
        };
        let pod = label(&s.metric, &["pod", "exported_pod", "pod_name"])
            .ok_or_else(|| prom_err(index, "missing label \"pod\"".into()))?;
        let container = label(
            &s.metric,
            &["container", "exported_container", "container_name"],
        )
        .ok_or_else(|| prom_err(index, "missing label \"container\"".into()))?;
        if container == "POD" {
            continue; // the pause container
        }
        let namespace = label(&s.metric, &["namespace", "exported_namespace"]).unwrap_or("");
        let workload = label(&s.metric, &["workload"]);
        let mut pts = Vec::with_capacity(s.values.len());
        for (i, (t, v)) in s.values.iter().enumerate() {
            let ts = Timestamp::from_unix_secs_f64(*t).ok_or_else(|| {
                prom_err(index, format!("values[{i}]: timestamp {t} out of range"))
            })?;
            let v = match v {
                PromValue::Number(x) if x.is_nan() => {
                    skipped += 1;
                    continue;
                }
                PromValue::Number(x) => *x,
                PromValue::NotANumber(v) => {
                    return Err(prom_err(
                        index,
                        format!("values[{i}]: value {v:?} is not a number"),
                    ))
                }
            };
            let bad = match metric {
                _ if v.is_infinite() => Some("infinite"),
                _ if v < 0.0 => Some("negative"),
                PromMetric::DcgmGpuUtil if v > 100.0 => {
                    Some("DCGM_FI_DEV_GPU_UTIL is a percentage in [0, 100]")
                }
                _ => None,
            };
            if let Some(reason) = bad {
                return Err(prom_err(
                    index,
                    format!("values[{i}]: value {v} at {ts} is invalid ({reason})"),
                ));
            }
            pts.push((ts.unix_nanos(), v));
        }
        pts.sort_by_key(|p| p.0); // stable, linear on sorted input
        let (resource, converted): (Resource, Vec<(i64, f64)>) = match metric {
            PromMetric::CpuUsageSecondsTotal if named.is_some() => {
                (Resource::Cpu, counter_rate(&pts))
            }
            PromMetric::CpuUsageSecondsTotal => (Resource::Cpu, pts),
            PromMetric::MemoryWorkingSetBytes => (Resource::Memory, pts),
            PromMetric::DcgmFbUsed => (
                Resource::GpuMemory,
                pts.into_iter().map(|(t, v)| (t, v * 1_048_576.0)).collect(),
            ),
            PromMetric::DcgmGpuUtil => (
                Resource::GpuUtil,
                pts.into_iter().map(|(t, v)| (t, v / 100.0)).collect(),
            ),
        };
        // A time repeated within one series keeps its last value.
        let mut unique: Vec<(i64, f64)> = Vec::with_capacity(converted.len());
        for p in converted {
            match unique.last_mut() {
                Some(l) if l.0 == p.0 => *l = p,
                _ => unique.push(p),
            }
        }
        let converted = unique;
        let device = match resource {
            Resource::GpuMemory | Resource::GpuUtil => DEVICE_LABELS
                .iter()
                .filter_map(|l| s.metric.get(*l).map(|v| format!("{l}={v}")))
                .collect::<Vec<_>>()
                .join(","),
            _ => String::new(),
        };
        let key = (namespace, workload, pod, container, resource);
        let devices = acc.entry(key).or_default();
        match devices.get_mut(&device) {
            None => {
                devices.insert(
                    device,
                    DeviceSeries {
                        index,
                        labels: &s.metric,
                        points: converted,
                    },
                );
            }
            Some(first) => {
                let mut differing: Vec<String> = first
                    .labels
                    .keys()
                    .chain(s.metric.keys())
                    .filter(|l| first.labels.get(*l) != s.metric.get(*l))
                    .cloned()
                    .collect();
                differing.sort();
                differing.dedup();
                let overlapping = merge_absent(&mut first.points, converted);
                b.warn(UsageWarning::DuplicateSeries {
                    file: file.to_string(),
                    index,
                    first_index: first.index,
                    resource,
                    differing_labels: differing,
                    overlapping,
                });
            }
        }
    }
    if skipped > 0 {
        b.warn(UsageWarning::SamplesSkipped {
            file: file.to_string(),
            reason: "NaN values (stale markers)".into(),
            count: skipped,
        });
    }
    for ((ns, wl, pod, container, resource), devices) in acc {
        let index = devices.values().map(|d| d.index).min().unwrap_or(0);
        let points: Vec<(i64, f64)> = if devices.len() == 1 {
            devices
                .into_values()
                .next()
                .map(|d| d.points)
                .unwrap_or_default()
        } else {
            let mut summed: BTreeMap<i64, f64> = BTreeMap::new();
            for d in devices.into_values() {
                for (t, v) in d.points {
                    *summed.entry(t).or_insert(0.0) += v;
                }
            }
            summed.into_iter().collect()
        };
        let mut slot = None;
        for (t, v) in points {
            let v = if resource == Resource::GpuUtil {
                v.min(1.0) // several devices summed: report at most one device's worth per sample
            } else {
                v
            };
            let Some(ts) = Timestamp::from_unix_nanos(t) else {
                return Err(prom_err(index, format!("timestamp {t} ns out of range")));
            };
            if let Some(reason) = check_value(resource, v) {
                let e = SampleError::BadValue {
                    file: file.to_string(),
                    line: 0,
                    column: 0,
                    resource,
                    value: v,
                    reason,
                };
                return Err(prom_err(index, sample_reason(&e, ts)));
            }
            let s = match slot {
                Some(s) => s,
                None => {
                    let s = b.instance(ns, wl, pod, container).map_err(|e| {
                        let e = SampleError::BadName {
                            file: file.to_string(),
                            line: 0,
                            column: 0,
                            field: e.field,
                            value: e.value,
                            source: e.source,
                        };
                        prom_err(index, sample_reason(&e, ts))
                    })?;
                    slot = Some(s);
                    s
                }
            };
            b.push_valid(s, resource, t, v);
        }
    }
    Ok(())
}

/// Labels that tell the GPUs of one container apart (DCGM exporter).
const DEVICE_LABELS: [&str; 4] = ["gpu", "UUID", "device", "GPU_I_ID"];

/// A sample error without the `file:line:column` prefix (Prometheus input
/// has no line; the series index says where).
fn sample_reason(e: &SampleError, ts: Timestamp) -> String {
    match e {
        SampleError::BadValue {
            resource,
            value,
            reason,
            ..
        } => format!("{resource} sample {value} at {ts} is invalid ({reason})"),
        SampleError::BadName {
            field,
            value,
            source,
            ..
        } => format!("label {field} = {value:?} is not a valid name: {source}"),
    }
}

/// Per-interval rate of a counter, treating a decrease as a reset (the new
/// value is the increase since the reset), like Prometheus `rate`.
fn counter_rate(pts: &[(i64, f64)]) -> Vec<(i64, f64)> {
    pts.windows(2)
        .filter(|w| w[1].0 > w[0].0)
        .map(|w| {
            let dt = (w[1].0 - w[0].0) as f64 / 1e9;
            let dv = if w[1].1 >= w[0].1 {
                w[1].1 - w[0].1
            } else {
                w[1].1
            };
            (w[1].0, dv / dt)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HDR: &str = "timestamp,namespace,pod,container,resource,value\n";

    #[test]
    fn csv_errors_name_line_and_column() {
        let cases = [
            (
                "x,namespace,pod,container,resource,value\n",
                "usage.csv:1:1: unexpected header field \"x\" (unknown column)",
            ),
            (
                "timestamp,namespace,pod,container,value\n",
                "usage.csv:1: missing required column \"resource\"",
            ),
            ("", "usage.csv: empty input, expected a header line"),
        ];
        for (text, msg) in cases {
            assert_eq!(read_csv("usage.csv", text).unwrap_err().to_string(), msg);
        }
        let e = read_csv(
            "u.csv",
            &format!("{HDR}1700000000,ns,p,c,cpu,0.1\nbogus,ns,p,c,cpu,1\n"),
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                InputError::Timestamp {
                    line: 3,
                    column: 1,
                    ..
                }
            ),
            "{e}"
        );
        let e = read_csv("u.csv", &format!("{HDR}1700000000,ns,p,c,disk,1\n")).unwrap_err();
        assert!(
            matches!(
                e,
                InputError::BadField {
                    line: 2,
                    column: 19,
                    field: "resource",
                    ..
                }
            ),
            "{e}"
        );
        let e = read_csv("u.csv", &format!("{HDR}1700000000,ns,p,c,cpu,abc\n")).unwrap_err();
        assert!(
            matches!(
                e,
                InputError::BadField {
                    column: 23,
                    field: "value",
                    ..
                }
            ),
            "{e}"
        );
        let e = read_csv("u.csv", &format!("{HDR}1700000000,ns,p,c,cpu,NaN\n")).unwrap_err();
        assert!(
            matches!(
                e,
                InputError::Sample(SampleError::BadValue {
                    line: 2,
                    column: 23,
                    ..
                })
            ),
            "{e}"
        );
        let e = read_csv("u.csv", &format!("{HDR}1700000000,ns,p,c,cpu\n")).unwrap_err();
        assert!(
            matches!(
                e,
                InputError::FieldCount {
                    line: 2,
                    expected: 6,
                    found: 5,
                    ..
                }
            ),
            "{e}"
        );
        let e = read_csv("u.csv", &format!("{HDR}1700000000,ns,\"p,c,cpu,1\n")).unwrap_err();
        assert!(
            matches!(
                e,
                InputError::Quote {
                    line: 2,
                    column: 15,
                    ..
                }
            ),
            "{e}"
        );
        let e = read_csv("u.csv", &format!("{HDR}99999999999999,ns,p,c,cpu,1\n")).unwrap_err();
        assert!(
            matches!(
                e,
                InputError::Timestamp {
                    source: TimestampError::OutOfRange { .. },
                    ..
                }
            ),
            "{e}"
        );
        let e = read_csv("u.csv", &format!("{HDR}1700000000,ns,p,,cpu,1\n")).unwrap_err();
        assert!(
            matches!(
                e,
                InputError::BadField {
                    field: "container",
                    column: 17,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn csv_unsorted_duplicated_quoted_workload_column() {
        let text = "value,resource,container,pod,namespace,timestamp,workload\r\n\
                    0.3,cpu,app,\"web-0\",prod,1700000120,web\r\n\
                    \r\n\
                    0.1,cpu,app,web-0,prod,1700000000,web\r\n\
                    0.2,cpu,app,web-0,prod,1700000060,web\r\n\
                    0.9,cpu,app,web-0,prod,1700000060,web\r\n\
                    ,oom,app,web-0,prod,1700000100,web\r\n";
        let set = read_csv("u.csv", text).unwrap();
        let (k, w) = set.workloads().next().unwrap();
        assert_eq!(k.to_string(), "prod/web");
        let s = &w.containers["app"].values().next().unwrap();
        assert_eq!(s.cpu.values(), &[0.1, 0.2, 0.3]);
        assert_eq!(s.ooms.len(), 1);
        assert_eq!(set.warnings().len(), 1);
    }

    #[test]
    fn prometheus_counter_rate_and_dcgm() {
        let json = r#"{"status":"success","data":{"resultType":"matrix","result":[
          {"metric":{"__name__":"container_cpu_usage_seconds_total","namespace":"ml","pod":"vllm-0","container":"server"},
           "values":[[1700000000,"100"],[1700000060,"130"],[1700000120,"6"],[1700000180,"NaN"]]},
          {"metric":{"__name__":"DCGM_FI_DEV_FB_USED","exported_namespace":"ml","exported_pod":"vllm-0","exported_container":"server","gpu":"0"},
           "values":[[1700000000,"1024"]]},
          {"metric":{"__name__":"DCGM_FI_DEV_FB_USED","exported_namespace":"ml","exported_pod":"vllm-0","exported_container":"server","gpu":"1"},
           "values":[[1700000000,"2048"]]},
          {"metric":{"__name__":"DCGM_FI_DEV_GPU_UTIL","exported_namespace":"ml","exported_pod":"vllm-0","exported_container":"server"},
           "values":[[1700000000,"45"]]},
          {"metric":{"namespace":"ml","pod":"vllm-0","container":"server"},
           "values":[[1700000000,"2.5e9"]]}
        ]}}"#;
        let set = read_prometheus("q.json", json, Some(PromMetric::MemoryWorkingSetBytes)).unwrap();
        let (_, w) = set.workloads().next().unwrap();
        let s = w.containers["server"].values().next().unwrap();
        assert_eq!(s.cpu.values(), &[0.5, 0.1]);
        assert_eq!(s.gpu_memory.values(), &[3072.0 * 1_048_576.0]);
        assert_eq!(s.gpu_util.values(), &[0.45]);
        assert_eq!(s.memory.values(), &[2.5e9]);
        assert_eq!(set.warnings().len(), 1);
    }

    #[test]
    fn prometheus_errors() {
        let e = read_prometheus("q.json", "{\n \"status\": ", None).unwrap_err();
        assert!(matches!(e, InputError::Json { line: 2, .. }), "{e}");
        let e =
            read_prometheus("q.json", r#"{"status":"error","error":"boom"}"#, None).unwrap_err();
        assert!(e.to_string().contains("boom"));
        let e = read_prometheus(
            "q.json",
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"pod":"a","container":"b"},"values":[[1,"1"]]}]}}"#,
            None,
        )
        .unwrap_err();
        assert!(matches!(e, InputError::Prometheus { index: 0, .. }), "{e}");
        let e = read_prometheus(
            "q.json",
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"container_memory_working_set_bytes","pod":"a","container":"b"},"values":[[1,"-5"]]}]}}"#,
            None,
        )
        .unwrap_err();
        // Regression (issue 15): this used to point at `q.json:0:0`.
        assert_eq!(
            e.to_string(),
            "q.json: result #0: values[0]: value -5 at 1970-01-01T00:00:01Z is invalid (negative)"
        );
        let two = |second: &str| {
            format!(
                r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{"__name__":"container_memory_working_set_bytes","pod":"a","container":"b"}},"values":[[1,"1"]]}},{}]}}}}"#,
                second
            )
        };
        let e = read_prometheus(
            "q.json",
            &two(r#"{"metric":{"__name__":"container_memory_working_set_bytes","pod":"a","container":"b"},"values":[[1,"2"],[2,"1e400"]]}"#),
            None,
        )
        .unwrap_err();
        assert!(matches!(e, InputError::Prometheus { index: 1, .. }), "{e}");
        assert!(e.to_string().contains("values[1]"), "{e}");
        // Regression (issue 15): 1e308 cores used to be clamped silently.
        let e = read_csv(
            "u.csv",
            &format!("{HDR}1700000000,prod,api-0,app,cpu,1e308\n"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("largest accepted cpu sample"), "{e}");
        let e = read_prometheus(
            "q.json",
            &two(r#"{"metric":{"__name__":"container_memory_working_set_bytes","pod":"a","container":"b"},"values":[[1,"2"],[2,"1e300"]]}"#),
            None,
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("q.json: result #"), "{e}");
        let e = read_prometheus(
            "q.json",
            &two(r#"{"metric":{"__name__":"container_memory_working_set_bytes","pod":"bad pod","container":"b"},"values":[[1,"2"]]}"#),
            None,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("q.json: result #1: label pod = \"bad pod\""),
            "{e}"
        );
    }

    /// Regression (issue 15): two series of one container from an HA pair
    /// (differing only in `prometheus_replica`) were summed, doubling memory.
    #[test]
    fn prometheus_duplicate_series_are_not_summed() {
        let series = |replica: &str, gpu: &str, v: f64| {
            format!(
                r#"{{"metric":{{"__name__":"container_memory_working_set_bytes","namespace":"prod","pod":"api-0","container":"app","prometheus_replica":"{replica}"{gpu}}},"values":[[60,"{v}"],[120,"{v}"]]}}"#
            )
        };
        let text = format!(
            r#"{{"status":"success","data":{{"resultType":"matrix","result":[{},{}]}}}}"#,
            series("a", "", 1e9),
            series("b", "", 2e9)
        );
        let set = read_prometheus("q.json", &text, None).unwrap();
        let (_, w) = set.workloads().next().unwrap();
        let s = w.containers["app"].values().next().unwrap();
        assert_eq!(s.memory.values(), &[1e9, 1e9]);
        assert_eq!(
            set.warnings(),
            &[UsageWarning::DuplicateSeries {
                file: "q.json".into(),
                index: 1,
                first_index: 0,
                resource: Resource::Memory,
                differing_labels: vec!["prometheus_replica".into()],
                overlapping: 2,
            }]
        );
        assert!(set.warnings()[0]
            .to_string()
            .contains("differing labels: prometheus_replica"));
        // GPUs of one container told apart by `gpu` are still summed.
        let dcgm = |gpu: &str, v: f64| {
            format!(
                r#"{{"metric":{{"__name__":"DCGM_FI_DEV_FB_USED","exported_pod":"api-0","exported_container":"app","gpu":"{gpu}"}},"values":[[60,"{v}"]]}}"#
            )
        };
        let text = format!(
            r#"{{"status":"success","data":{{"resultType":"matrix","result":[{},{}]}}}}"#,
            dcgm("0", 100.0),
            dcgm("1", 50.0)
        );
        let set = read_prometheus("q.json", &text, None).unwrap();
        let (_, w) = set.workloads().next().unwrap();
        let s = w.containers["app"].values().next().unwrap();
        assert_eq!(s.gpu_memory.values(), &[150.0 * 1_048_576.0]);
        assert!(set.warnings().is_empty());
    }
}
