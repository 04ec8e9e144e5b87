//! Writing tables back as CSV and JSON (a round trip gives an equal table).

use super::read::{JsonDoc, JsonRow};
use super::types::*;

pub(super) fn quote_csv(s: &str) -> String {
    let needs =
        s.is_empty() || s.contains([',', '"', '\n', '\r']) || s.starts_with('#') || s.trim() != s;
    if needs {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl ProfileTable {
    /// Writes the table as CSV with every documented column, in [`COLUMNS`]
    /// order; reading it back gives an equal table.
    pub fn to_csv_string(&self) -> String {
        let mut s = COLUMNS.join(",");
        s.push('\n');
        for r in &self.rows {
            let fields: Vec<String> = row_fields(r)
                .into_iter()
                .map(|f| f.map(|v| quote_csv(&v)).unwrap_or_default())
                .collect();
            s += &fields.join(",");
            s.push('\n');
        }
        s
    }

    /// Writes the table as JSON (`{"rows": [...]}`); reading it back gives an
    /// equal table.
    pub fn to_json_string(&self) -> String {
        let rows = self
            .rows
            .iter()
            .map(|r| JsonRow {
                workload: r.workload.clone(),
                option: r.option.clone(),
                device: r.unit_of.device.clone(),
                share: (r.unit_of.share != Share::Whole).then(|| r.unit_of.share.to_string()),
                count: r.unit_of.count,
                bucket: r.bucket.label(),
                throughput: r.throughput,
                unit: r.unit.to_string(),
                slo: r.slo.metric().to_string(),
                slo_ms: r.slo.ms(),
                tpot_ms: r.tpot_ms,
                power_watts: r.power.map(|w| f64::from(w.get())),
            })
            .collect();
        serde_json::to_string_pretty(&JsonDoc { rows }).expect("plain data serialises")
    }
}

/// Shortest text that parses back to the same `f64`.
pub(super) fn format_f64(v: f64) -> String {
    format!("{v}")
}

/// A row's fields in [`COLUMNS`] order (`None` = empty).
pub(super) fn row_fields(r: &ProfileRow) -> Vec<Option<String>> {
    vec![
        Some(r.workload.clone()),
        Some(r.option.clone()),
        Some(r.unit_of.device.clone()),
        Some(r.unit_of.share.to_string()),
        Some(r.unit_of.count.to_string()),
        Some(r.bucket.label()),
        Some(format_f64(r.throughput)),
        Some(r.unit.to_string()),
        Some(r.slo.metric().to_string()),
        r.slo.ms().map(format_f64),
        r.tpot_ms.map(format_f64),
        r.power.map(|w| w.get().to_string()),
    ]
}
