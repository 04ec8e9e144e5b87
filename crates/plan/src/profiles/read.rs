//! Reading tables: the CSV and JSON syntax, row validation, duplicates.

use super::error::{Location, ProfileError};
use super::types::*;
use super::write::{format_f64, row_fields};
use rightsizer_model::units::Watts;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

const REQUIRED: [&str; 9] = [
    "workload",
    "option",
    "device",
    "count",
    "bucket",
    "throughput",
    "unit",
    "slo",
    "slo_ms",
];

/// JSON document: `{"rows": [...]}`.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JsonDoc {
    pub(super) rows: Vec<JsonRow>,
}

/// One JSON row: the CSV columns as fields.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JsonRow {
    pub(super) workload: String,
    pub(super) option: String,
    pub(super) device: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) share: Option<String>,
    pub(super) count: u32,
    pub(super) bucket: String,
    pub(super) throughput: f64,
    pub(super) unit: String,
    pub(super) slo: String,
    #[serde(default)]
    pub(super) slo_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) tpot_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) power_watts: Option<f64>,
}

/// Raw text fields of one row, before validation.
struct RawRow<'a> {
    get: Getter<'a>,
    at: Locator<'a>,
}

type Getter<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;
type Locator<'a> = Box<dyn Fn(&str) -> Box<Location> + 'a>;

impl RawRow<'_> {
    fn required(&self, col: &str) -> Result<String, ProfileError> {
        match (self.get)(col) {
            Some(v) if v.chars().any(char::is_control) => Err(self.invalid(
                col,
                &v,
                "control characters (line breaks, tabs) are not allowed",
            )),
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(ProfileError::MissingValue { at: (self.at)(col) }),
        }
    }
    fn optional(&self, col: &str) -> Option<String> {
        (self.get)(col).filter(|v| !v.is_empty())
    }
    fn invalid(&self, col: &str, value: &str, message: impl Into<String>) -> ProfileError {
        ProfileError::InvalidValue {
            at: (self.at)(col),
            value: value.to_string(),
            message: message.into(),
        }
    }
    fn number(&self, col: &str, text: &str) -> Result<f64, ProfileError> {
        text.parse::<f64>()
            .map_err(|_| self.invalid(col, text, "not a number"))
    }
    fn positive_ms(&self, col: &str, text: &str) -> Result<f64, ProfileError> {
        let v = self.number(col, text)?;
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(self.invalid(col, text, "must be a finite number of milliseconds > 0"))
        }
    }

    fn parse(&self) -> Result<ProfileRow, ProfileError> {
        let workload = self.required("workload")?;
        let option = self.required("option")?;
        let device = self.required("device")?;
        let share_text = match self.optional("share") {
            Some(_) => self.required("share")?,
            None => String::new(),
        };
        let share = share_text
            .parse::<Share>()
            .map_err(|m| self.invalid("share", &share_text, m))?;
        let count_text = self.required("count")?;
        let count = match count_text.parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err(self.invalid(
                    "count",
                    &count_text,
                    "devices per replica: an integer >= 1",
                ))
            }
        };
        let bucket_text = self.required("bucket")?;
        let bucket = bucket_text
            .parse::<Bucket>()
            .map_err(|m| self.invalid("bucket", &bucket_text, m))?;
        let tp_text = self.required("throughput")?;
        let throughput = self.number("throughput", &tp_text)?;
        if !(throughput.is_finite() && throughput >= 0.0) {
            return Err(ProfileError::InvalidThroughput {
                at: (self.at)("throughput"),
                value: throughput,
            });
        }
        let unit_text = self.required("unit")?;
        let unit = unit_text
            .parse::<ThroughputUnit>()
            .map_err(|_| ProfileError::UnknownUnit {
                at: (self.at)("unit"),
                value: unit_text.clone(),
            })?;
        let slo_text = self.required("slo")?;
        let slo_ms = self.optional("slo_ms");
        let slo = match (slo_text.as_str(), slo_ms) {
            ("none", None) => Slo::None,
            ("none", Some(v)) => {
                return Err(self.invalid("slo_ms", &v, "must be empty when slo is `none`"))
            }
            ("tpot" | "ttft" | "latency", None) => {
                return Err(ProfileError::MissingValue {
                    at: (self.at)("slo_ms"),
                })
            }
            ("tpot", Some(v)) => Slo::TpotMs(self.positive_ms("slo_ms", &v)?),
            ("ttft", Some(v)) => Slo::TtftMs(self.positive_ms("slo_ms", &v)?),
            ("latency", Some(v)) => Slo::LatencyMs(self.positive_ms("slo_ms", &v)?),
            (other, _) => {
                return Err(self.invalid("slo", other, "expected tpot, ttft, latency or none"))
            }
        };
        let tpot_ms = match self.optional("tpot_ms") {
            Some(v) => Some(self.positive_ms("tpot_ms", &v)?),
            None => None,
        };
        let power = match self.optional("power_watts") {
            Some(v) => {
                let w = self.number("power_watts", &v)?;
                if !(w.is_finite() && w >= 0.0 && w <= f64::from(u32::MAX)) {
                    return Err(self.invalid("power_watts", &v, "watts: a finite number >= 0"));
                }
                Some(Watts::new(w.round() as u32))
            }
            None => None,
        };
        Ok(ProfileRow {
            workload,
            option,
            unit_of: ProfileOption {
                device,
                share,
                count,
            },
            bucket,
            throughput,
            unit,
            slo,
            tpot_ms,
            power,
        })
    }
}

/// Splits one CSV line into fields; `Err((column, message))` on a quote error.
pub(super) fn split_csv_line(line: &str) -> Result<Vec<String>, (usize, String)> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false; // the current field was quoted (and the quote closed)
    let mut in_quotes = false;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek().map(|&(_, d)| d) == Some('"') => {
                    cur.push('"');
                    chars.next();
                }
                '"' => in_quotes = false,
                _ => cur.push(c),
            }
            continue;
        }
        match c {
            ',' => {
                let f = std::mem::take(&mut cur);
                fields.push(if quoted { f } else { f.trim().to_string() });
                quoted = false;
            }
            '"' if !quoted && cur.trim().is_empty() => {
                cur.clear();
                quoted = true;
                in_quotes = true;
            }
            '"' => return Err((i + 1, "quote inside a field (quote the whole field)".into())),
            _ if quoted && !c.is_whitespace() => {
                return Err((i + 1, "text after a closing quote".into()))
            }
            _ if quoted => {}
            _ => cur.push(c),
        }
    }
    if in_quotes {
        return Err((line.len() + 1, "unterminated quoted field".into()));
    }
    fields.push(if quoted { cur } else { cur.trim().to_string() });
    Ok(fields)
}

impl ProfileTable {
    /// Reads a CSV table; `origin` names the input in errors.
    ///
    /// ```
    /// use rightsizer_plan::profiles::{ProfileError, ProfileTable};
    /// let bad = "workload,option,device,count,bucket,throughput,unit,slo,slo_ms\n\
    ///            llama,L4,L4,1,512x128,-3,req/s,tpot,40\n";
    /// match ProfileTable::from_csv_str(bad, "bad.csv") {
    ///     Err(ProfileError::InvalidThroughput { at, value }) => {
    ///         assert_eq!(at.line, Some(2));
    ///         assert_eq!(at.field, "throughput");
    ///         assert_eq!(value, -3.0);
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn from_csv_str(text: &str, origin: impl AsRef<Path>) -> Result<Self, ProfileError> {
        let file = origin.as_ref().to_path_buf();
        let loc = |line: Option<usize>, field: &str| {
            Box::new(Location {
                file: file.clone(),
                line,
                field: field.to_string(),
            })
        };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        let Some((hline, header)) = lines.next() else {
            return Err(ProfileError::Empty { file });
        };
        let header = split_csv_line(header).map_err(|(c, m)| ProfileError::Syntax {
            at: loc(Some(hline), &format!("column {c}")),
            message: m,
        })?;
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, h) in header.iter().enumerate() {
            let Some(col) = COLUMNS.iter().find(|c| **c == h.as_str()) else {
                return Err(ProfileError::UnknownColumn {
                    at: loc(Some(hline), &format!("column {}", i + 1)),
                    column: h.clone(),
                    expected: COLUMNS.join(", "),
                });
            };
            if index.insert(col, i).is_some() {
                return Err(ProfileError::DuplicateColumn {
                    at: loc(Some(hline), &format!("column {}", i + 1)),
                    column: h.clone(),
                });
            }
        }
        for r in REQUIRED {
            if !index.contains_key(r) {
                return Err(ProfileError::MissingColumn {
                    at: loc(Some(hline), ""),
                    column: r.to_string(),
                });
            }
        }
        let mut table = ProfileTable {
            origin: file.clone(),
            rows: Vec::new(),
            places: Vec::new(),
        };
        for (n, line) in lines {
            let rec = split_csv_line(line).map_err(|(c, m)| ProfileError::Syntax {
                at: loc(Some(n), &format!("column {c}")),
                message: m,
            })?;
            if rec.len() != header.len() {
                return Err(ProfileError::Syntax {
                    at: loc(Some(n), ""),
                    message: format!(
                        "expected {} fields (as in the header), found {}",
                        header.len(),
                        rec.len()
                    ),
                });
            }
            let raw = RawRow {
                get: Box::new(|c: &str| index.get(c).map(|&i| rec[i].clone())),
                at: Box::new(|c: &str| loc(Some(n), c)),
            };
            let row = raw.parse()?;
            table.push(row, (Some(n), String::new()));
        }
        table.finish()
    }

    /// Reads a JSON table `{"rows": [...]}`; `origin` names the input in errors.
    ///
    /// ```
    /// use rightsizer_plan::profiles::ProfileTable;
    /// let json = r#"{"rows": [{"workload": "resnet50", "option": "V100", "device": "V100", "count": 1,
    ///   "bucket": "bs64", "throughput": 4.3948, "unit": "steps/s", "slo": "none"}]}"#;
    /// let t = ProfileTable::from_json_str(json, "gavel.json")?;
    /// assert_eq!(t.rows()[0].throughput, 4.3948);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_json_str(text: &str, origin: impl AsRef<Path>) -> Result<Self, ProfileError> {
        let file = origin.as_ref().to_path_buf();
        let doc: JsonDoc = serde_json::from_str(text).map_err(|e| ProfileError::Syntax {
            at: Box::new(Location {
                file: file.clone(),
                line: Some(e.line()),
                field: format!("column {}", e.column()),
            }),
            message: e.to_string(),
        })?;
        let mut table = ProfileTable {
            origin: file.clone(),
            rows: Vec::new(),
            places: Vec::new(),
        };
        for (i, r) in doc.rows.iter().enumerate() {
            let num = |v: Option<f64>| v.map(format_f64);
            let fields: BTreeMap<&str, Option<String>> = BTreeMap::from([
                ("workload", Some(r.workload.clone())),
                ("option", Some(r.option.clone())),
                ("device", Some(r.device.clone())),
                ("share", r.share.clone()),
                ("count", Some(r.count.to_string())),
                ("bucket", Some(r.bucket.clone())),
                ("throughput", Some(format_f64(r.throughput))),
                ("unit", Some(r.unit.clone())),
                ("slo", Some(r.slo.clone())),
                ("slo_ms", num(r.slo_ms)),
                ("tpot_ms", num(r.tpot_ms)),
                ("power_watts", num(r.power_watts)),
            ]);
            let file = &file;
            let raw = RawRow {
                get: Box::new(move |c: &str| fields.get(c).cloned().flatten()),
                at: Box::new(move |c: &str| {
                    Box::new(Location {
                        file: file.clone(),
                        line: None,
                        field: if c.is_empty() {
                            format!("rows[{i}]")
                        } else {
                            format!("rows[{i}].{c}")
                        },
                    })
                }),
            };
            let row = raw.parse()?;
            table.push(row, (None, format!("rows[{i}]")));
        }
        table.finish()
    }

    /// Reads a `.csv` or `.json` file (by extension, case-insensitive).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ProfileError> {
        let path = path.as_ref();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let read = || {
            std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
                file: path.to_path_buf(),
                source,
            })
        };
        match ext.as_deref() {
            Some("csv") => Self::from_csv_str(&read()?, path),
            Some("json") => Self::from_json_str(&read()?, path),
            _ => Err(ProfileError::UnsupportedFormat {
                file: path.to_path_buf(),
            }),
        }
    }

    /// Builds a table from rows (validated like a file; `origin` names it in errors).
    pub fn from_rows(
        rows: impl IntoIterator<Item = ProfileRow>,
        origin: impl AsRef<Path>,
    ) -> Result<Self, ProfileError> {
        let mut table = ProfileTable {
            origin: origin.as_ref().to_path_buf(),
            rows: Vec::new(),
            places: Vec::new(),
        };
        for (i, r) in rows.into_iter().enumerate() {
            // Re-validate through the text form so constructed rows obey the file rules.
            let checked = table.validate_row(&r, i)?;
            table.push(checked, (None, format!("rows[{i}]")));
        }
        table.finish()
    }

    fn validate_row(&self, r: &ProfileRow, i: usize) -> Result<ProfileRow, ProfileError> {
        let fields = row_fields(r);
        let file = self.origin.clone();
        let raw = RawRow {
            get: Box::new(move |c: &str| {
                COLUMNS
                    .iter()
                    .position(|k| *k == c)
                    .and_then(|p| fields[p].clone())
            }),
            at: Box::new(move |c: &str| {
                Box::new(Location {
                    file: file.clone(),
                    line: None,
                    field: format!("rows[{i}].{c}"),
                })
            }),
        };
        raw.parse()
    }

    pub(super) fn place(&self, i: usize) -> String {
        match &self.places[i] {
            (Some(l), _) => format!("line {l}"),
            (None, p) => p.clone(),
        }
    }

    pub(super) fn loc(&self, i: usize, field: &str) -> Box<Location> {
        let (line, path) = &self.places[i];
        Box::new(Location {
            file: self.origin.clone(),
            line: *line,
            field: if path.is_empty() || field.is_empty() {
                format!("{path}{field}")
            } else {
                format!("{path}.{field}")
            },
        })
    }

    fn push(&mut self, row: ProfileRow, place: (Option<usize>, String)) {
        self.rows.push(row);
        self.places.push(place);
    }

    /// Checks uniqueness and option consistency once all rows are in.
    fn finish(self) -> Result<Self, ProfileError> {
        if self.rows.is_empty() {
            return Err(ProfileError::Empty { file: self.origin });
        }
        let mut seen: BTreeMap<(&str, &str, &Bucket), usize> = BTreeMap::new();
        let mut options: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, r) in self.rows.iter().enumerate() {
            if let Some(&j) = seen.get(&(r.workload.as_str(), r.option.as_str(), &r.bucket)) {
                return Err(ProfileError::DuplicateRow {
                    at: self.loc(i, ""),
                    first: self.place(j),
                    workload: r.workload.clone(),
                    option: r.option.clone(),
                    bucket: r.bucket.label(),
                });
            }
            seen.insert((&r.workload, &r.option, &r.bucket), i);
            match options.get(r.option.as_str()) {
                Some(&j) if self.rows[j].unit_of != r.unit_of => {
                    return Err(ProfileError::ConflictingOption {
                        at: self.loc(i, ""),
                        option: r.option.clone(),
                        found: r.unit_of.to_string(),
                        first: self.rows[j].unit_of.to_string(),
                        first_at: self.place(j),
                    })
                }
                Some(_) => {}
                None => {
                    options.insert(&r.option, i);
                }
            }
        }
        Ok(self)
    }
}
