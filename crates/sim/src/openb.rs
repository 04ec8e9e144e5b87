//! Loaders for the Alibaba `openb` trace CSVs (cluster-trace-gpu-v2023).
//!
//! Columns are found by header name, so the 5-column `multigpu*` pod lists
//! load too. Every malformed or truncated row is a [`CsvError`] naming the
//! file, the 1-based line and column, and the column's name.
//!
//! ```
//! use rightsizer_sim::openb::{parse_nodes, parse_pods};
//! let nodes = parse_nodes("n.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,96000,393216,8,G2\n")?;
//! assert_eq!(nodes[0].gpus, 8);
//! let pods = parse_pods("p.csv", "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,4000,1024,1,500\n")?;
//! assert_eq!(pods[0].gpu_milli, 500);
//! let err = parse_pods("p.csv", "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,4000,x,1,500\n").unwrap_err();
//! assert_eq!(err.to_string(), "p.csv:2:3 (memory_mib): invalid integer \"x\"");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// What is wrong at a CSV position.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsvProblem {
    /// The file could not be read.
    Io(String),
    /// The file is empty (no header).
    Empty,
    /// A required column is missing from the header.
    MissingColumn,
    /// The row ends before this column.
    Truncated,
    /// The value is not a non-negative integer.
    BadInteger(String),
    /// The name was already used on an earlier line of the file.
    Duplicate {
        /// The name.
        name: String,
        /// 1-based line of its first use.
        first_line: usize,
    },
    /// The value is out of the accepted range.
    OutOfRange {
        /// The value.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
}

impl fmt::Display for CsvProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsvProblem::Io(e) => write!(f, "cannot read: {e}"),
            CsvProblem::Empty => f.write_str("file is empty (no header)"),
            CsvProblem::MissingColumn => f.write_str("column missing from the header"),
            CsvProblem::Truncated => f.write_str("row is truncated (column missing)"),
            CsvProblem::BadInteger(v) => write!(f, "invalid integer {v:?}"),
            CsvProblem::Duplicate { name, first_line } => {
                write!(f, "duplicate name {name:?} (first on line {first_line})")
            }
            CsvProblem::OutOfRange { value, expected } => {
                write!(f, "value {value:?} out of range: expected {expected}")
            }
        }
    }
}

/// A CSV error with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column} ({column_name}): {problem}")]
#[non_exhaustive]
pub struct CsvError {
    /// The file name as given.
    pub file: String,
    /// 1-based line (the header is line 1).
    pub line: usize,
    /// 1-based column (0 when the whole file is at fault).
    pub column: usize,
    /// The column's header name.
    pub column_name: String,
    /// What is wrong.
    pub problem: CsvProblem,
}

/// One node of the node list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenbNode {
    /// Node name (`sn`).
    pub name: String,
    /// Allocatable CPU in millicores.
    pub cpu_milli: u64,
    /// Allocatable memory in MiB.
    pub memory_mib: u64,
    /// Number of GPUs (0..=64).
    pub gpus: u32,
    /// GPU model; `None` for CPU-only nodes.
    pub model: Option<String>,
}

/// One pod (task) of a pod list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenbPod {
    /// Pod name.
    pub name: String,
    /// CPU request in millicores.
    pub cpu_milli: u64,
    /// Memory request in MiB.
    pub memory_mib: u64,
    /// GPUs requested (0 for CPU-only).
    pub num_gpu: u32,
    /// Share per GPU in milli-GPU: `1..1000` a fraction (only with one GPU),
    /// `1000` whole GPUs, 0 for CPU-only.
    pub gpu_milli: u32,
    /// The `gpu_spec` column as written (`|`-separated models; empty: any).
    pub gpu_spec: String,
}

impl OpenbPod {
    /// Allowed GPU models (empty: any).
    pub fn allowed_models(&self) -> impl Iterator<Item = &str> {
        self.gpu_spec.split('|').filter(|s| !s.is_empty())
    }
}

struct Table<'a> {
    file: &'a str,
    header: Vec<&'a str>,
    rows: Vec<(usize, Vec<&'a str>)>,
}

impl<'a> Table<'a> {
    fn parse(file: &'a str, text: &'a str) -> Result<Self, CsvError> {
        let mut lines = text.lines().enumerate();
        let header = loop {
            match lines.next() {
                Some((_, l)) if l.trim().is_empty() => continue,
                Some((_, l)) => break l.trim_end_matches('\r').split(',').map(str::trim).collect(),
                None => {
                    return Err(CsvError {
                        file: file.to_string(),
                        line: 1,
                        column: 0,
                        column_name: String::new(),
                        problem: CsvProblem::Empty,
                    })
                }
            }
        };
        let rows = lines
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i + 1, l.trim_end_matches('\r').split(',').collect()))
            .collect();
        Ok(Self { file, header, rows })
    }

    fn col(&self, name: &str, required: bool) -> Result<Option<usize>, CsvError> {
        match self.header.iter().position(|h| *h == name) {
            Some(i) => Ok(Some(i)),
            None if !required => Ok(None),
            None => Err(CsvError {
                file: self.file.to_string(),
                line: 1,
                column: self.header.len() + 1,
                column_name: name.to_string(),
                problem: CsvProblem::MissingColumn,
            }),
        }
    }

    fn err(&self, line: usize, col: usize, problem: CsvProblem) -> CsvError {
        CsvError {
            file: self.file.to_string(),
            line,
            column: col + 1,
            column_name: self.header.get(col).copied().unwrap_or("").to_string(),
            problem,
        }
    }

    fn field<'r>(&self, line: usize, row: &'r [&'a str], col: usize) -> Result<&'r str, CsvError> {
        row.get(col)
            .map(|s| s.trim())
            .ok_or_else(|| self.err(line, col, CsvProblem::Truncated))
    }

    /// Records `name` at `line`, failing if an earlier line used it.
    fn unique<'n>(
        &self,
        seen: &mut std::collections::HashMap<&'n str, usize>,
        name: &'n str,
        line: usize,
        col: usize,
    ) -> Result<(), CsvError> {
        match seen.insert(name, line) {
            None => Ok(()),
            Some(first_line) => Err(self.err(
                line,
                col,
                CsvProblem::Duplicate {
                    name: name.to_string(),
                    first_line,
                },
            )),
        }
    }

    fn int(&self, line: usize, row: &[&str], col: usize) -> Result<u64, CsvError> {
        let v = self.field(line, row, col)?;
        v.parse::<u64>()
            .map_err(|_| self.err(line, col, CsvProblem::BadInteger(v.to_string())))
    }

    fn int_max(
        &self,
        line: usize,
        row: &[&str],
        col: usize,
        max: u64,
        expected: &'static str,
    ) -> Result<u64, CsvError> {
        let v = self.int(line, row, col)?;
        if v > max {
            return Err(self.err(
                line,
                col,
                CsvProblem::OutOfRange {
                    value: v.to_string(),
                    expected,
                },
            ));
        }
        Ok(v)
    }
}

/// Parses a node list (`sn,cpu_milli,memory_mib,gpu,model`).
pub fn parse_nodes(file: &str, text: &str) -> Result<Vec<OpenbNode>, CsvError> {
    let t = Table::parse(file, text)?;
    let c_name = t.col("sn", true)?.unwrap_or(0);
    let c_cpu = t.col("cpu_milli", true)?.unwrap_or(0);
    let c_mem = t.col("memory_mib", true)?.unwrap_or(0);
    let c_gpu = t.col("gpu", true)?.unwrap_or(0);
    let c_model = t.col("model", true)?.unwrap_or(0);
    let mut out = Vec::with_capacity(t.rows.len());
    let mut seen = std::collections::HashMap::new();
    for (line, row) in &t.rows {
        let line = *line;
        let name = t.field(line, row, c_name)?;
        t.unique(&mut seen, name, line, c_name)?;
        let name = name.to_string();
        if name.is_empty() {
            return Err(t.err(
                line,
                c_name,
                CsvProblem::OutOfRange {
                    value: name,
                    expected: "a non-empty name",
                },
            ));
        }
        let cpu_milli = t.int(line, row, c_cpu)?;
        let memory_mib = t.int_max(line, row, c_mem, u64::MAX >> 20, "a size in MiB below 2^44")?;
        let gpus = t.int_max(line, row, c_gpu, 64, "0..=64 GPUs")? as u32;
        let model = t.field(line, row, c_model)?;
        let model = if model.is_empty() {
            if gpus > 0 {
                return Err(t.err(
                    line,
                    c_model,
                    CsvProblem::OutOfRange {
                        value: String::new(),
                        expected: "a GPU model for a node with GPUs",
                    },
                ));
            }
            None
        } else {
            Some(model.to_string())
        };
        out.push(OpenbNode {
            name,
            cpu_milli,
            memory_mib,
            gpus,
            model,
        });
    }
    Ok(out)
}

/// Parses a pod list (`name,cpu_milli,memory_mib,num_gpu,gpu_milli[,gpu_spec,…]`).
pub fn parse_pods(file: &str, text: &str) -> Result<Vec<OpenbPod>, CsvError> {
    let t = Table::parse(file, text)?;
    let c_name = t.col("name", true)?.unwrap_or(0);
    let c_cpu = t.col("cpu_milli", true)?.unwrap_or(0);
    let c_mem = t.col("memory_mib", true)?.unwrap_or(0);
    let c_num = t.col("num_gpu", true)?.unwrap_or(0);
    let c_milli = t.col("gpu_milli", true)?.unwrap_or(0);
    let c_spec = t.col("gpu_spec", false)?;
    // Every header column must be present in each row (detects truncation).
    let width = t.header.len();
    let mut out = Vec::with_capacity(t.rows.len());
    let mut seen = std::collections::HashMap::new();
    for (line, row) in &t.rows {
        let line = *line;
        if row.len() < width {
            return Err(t.err(line, row.len(), CsvProblem::Truncated));
        }
        let name = t.field(line, row, c_name)?;
        t.unique(&mut seen, name, line, c_name)?;
        let name = name.to_string();
        let cpu_milli = t.int(line, row, c_cpu)?;
        let memory_mib = t.int_max(line, row, c_mem, u64::MAX >> 20, "a size in MiB below 2^44")?;
        let num_gpu = t.int_max(line, row, c_num, 64, "0..=64 GPUs")? as u32;
        let gpu_milli = t.int_max(line, row, c_milli, 1000, "0..=1000 milli-GPU")? as u32;
        if num_gpu > 1 && gpu_milli < 1000 {
            return Err(t.err(
                line,
                c_milli,
                CsvProblem::OutOfRange {
                    value: gpu_milli.to_string(),
                    expected:
                        "1000 when more than one GPU is requested (a fraction must fit one GPU)",
                },
            ));
        }
        if (num_gpu == 0) != (gpu_milli == 0) {
            return Err(t.err(
                line,
                c_milli,
                CsvProblem::OutOfRange {
                    value: gpu_milli.to_string(),
                    expected: "0 exactly when num_gpu is 0",
                },
            ));
        }
        let gpu_spec = match c_spec {
            Some(c) => t.field(line, row, c)?.to_string(),
            None => String::new(),
        };
        out.push(OpenbPod {
            name,
            cpu_milli,
            memory_mib,
            num_gpu,
            gpu_milli,
            gpu_spec,
        });
    }
    Ok(out)
}

/// Reads and parses a node list file.
pub fn load_nodes(path: &Path) -> Result<Vec<OpenbNode>, CsvError> {
    let file = path.display().to_string();
    let text = read(path, &file)?;
    parse_nodes(&file, &text)
}

/// Reads and parses a pod list file.
pub fn load_pods(path: &Path) -> Result<Vec<OpenbPod>, CsvError> {
    let file = path.display().to_string();
    let text = read(path, &file)?;
    parse_pods(&file, &text)
}

fn read(path: &Path, file: &str) -> Result<String, CsvError> {
    std::fs::read_to_string(path).map_err(|e| CsvError {
        file: file.to_string(),
        line: 0,
        column: 0,
        column_name: String::new(),
        problem: CsvProblem::Io(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODES: &str =
        "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\nn1,32000,1024,0,\n";
    const PODS: &str = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos\np0,12000,16384,1,1000,,LS\np1,6000,12288,1,460,V100M16|V100M32,LS\np2,1000,0,0,0,,BE\n";

    #[test]
    fn parses_nodes_and_pods() {
        let n = parse_nodes("n.csv", NODES).unwrap();
        assert_eq!(n.len(), 2);
        assert_eq!(n[0].model.as_deref(), Some("P100"));
        assert_eq!(n[1].model, None);
        let p = parse_pods("p.csv", PODS).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(
            p[1].allowed_models().collect::<Vec<_>>(),
            ["V100M16", "V100M32"]
        );
    }

    #[test]
    fn truncated_row_names_position() {
        let e = parse_pods(
            "p.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\np0,1000,10\n",
        )
        .unwrap_err();
        assert_eq!((e.file.as_str(), e.line, e.column), ("p.csv", 2, 4));
        assert_eq!(e.column_name, "num_gpu");
        assert_eq!(e.problem, CsvProblem::Truncated);
    }

    #[test]
    fn bad_values_name_position() {
        let e = parse_pods(
            "p.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,10,2,500\n",
        )
        .unwrap_err();
        assert_eq!(
            (e.line, e.column, e.column_name.as_str()),
            (2, 5, "gpu_milli")
        );
        let e = parse_pods(
            "p.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,10,1,1001\n",
        )
        .unwrap_err();
        assert!(matches!(e.problem, CsvProblem::OutOfRange { .. }));
        let e =
            parse_nodes("n.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,-5,1,0,\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 2));
        let e = parse_nodes("n.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,5,1,2,\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 5));
        let e = parse_nodes("n.csv", "sn,cpu_milli,memory_mib,gpu\n").unwrap_err();
        assert_eq!(e.problem, CsvProblem::MissingColumn);
        let e = parse_nodes("n.csv", "").unwrap_err();
        assert_eq!(e.problem, CsvProblem::Empty);
    }

    #[test]
    fn duplicate_names_are_errors() {
        let e = parse_nodes(
            "n.csv",
            "sn,cpu_milli,memory_mib,gpu,model\nn0,1,1,0,\nn1,1,1,0,\nn0,2,2,0,\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column, e.column_name.as_str()), (4, 1, "sn"));
        assert_eq!(
            e.problem,
            CsvProblem::Duplicate {
                name: "n0".into(),
                first_line: 2
            }
        );
        let e = parse_pods(
            "p.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1,1,0,0\n\np0,1,1,1,500\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "p.csv:4:1 (name): duplicate name \"p0\" (first on line 2)"
        );
    }
}
