//! Benchmark support: loading the shared BPPLIB and Mommessin et al. sets
//! from a data directory and summarising results against known optima.
//! Used by `rightsizer bench-pack` and the data conformance tests.

use crate::instance::Instance;
use crate::io::{parse_bpp, parse_vbp};
use crate::result::Budget;
use crate::rng::SplitMix64;
use crate::solver::{pack, PackOptions};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Errors reading the benchmark data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Unknown set name.
    #[error("unknown set {0:?}; known sets: {1}")]
    UnknownSet(String, String),
    /// An instance file or table is malformed.
    #[error(transparent)]
    Parse(#[from] crate::instance::PackError),
}

/// 1-D set names (folders of `binpacking/1d/bpplib/instances`).
pub const ONE_DIM_SETS: &[&str] = &[
    "Falkenauer_U",
    "Falkenauer_T",
    "Scholl_1",
    "Scholl_2",
    "Scholl_3",
    "Schwerin_1",
    "Schwerin_2",
    "Waescher",
    "Hard28",
    "ANI",
    "AI",
];

/// Vector set names (Mommessin et al.).
pub const VECTOR_SETS: &[&str] = &["New", "Panigrahy", "Triplet"];

/// The nine classic 1-D sets (1,615 instances).
pub const CLASSIC_SETS: &[&str] = &[
    "Falkenauer_U",
    "Falkenauer_T",
    "Scholl_1",
    "Scholl_2",
    "Scholl_3",
    "Schwerin_1",
    "Schwerin_2",
    "Waescher",
    "Hard28",
];

/// One benchmark instance with what is known about it.
#[derive(Clone, Debug)]
pub struct BenchInstance {
    /// Set name.
    pub set: String,
    /// Instance name (file stem).
    pub name: String,
    /// The instance.
    pub instance: Instance,
    /// Known optimum (bins), if any.
    pub optimum: Option<u64>,
}

fn read(path: &Path) -> Result<String, BenchError> {
    std::fs::read_to_string(path).map_err(|source| BenchError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn files_with_ext(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) -> Result<(), BenchError> {
    let rd = std::fs::read_dir(dir).map_err(|source| BenchError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for e in rd {
        let e = e.map_err(|source| BenchError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let p = e.path();
        if p.is_dir() {
            files_with_ext(&p, ext, out)?;
        } else if p.extension().and_then(|x| x.to_str()) == Some(ext) {
            out.push(p);
        }
    }
    Ok(())
}

/// Optima of the 1-D instances from `optima.csv` (solved rows only).
pub fn one_dim_optima(data: &Path) -> Result<BTreeMap<String, u64>, BenchError> {
    let path = data.join("binpacking/optima.csv");
    let text = read(&path)?;
    let mut m = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() >= 5 && !f[4].is_empty() {
            if let Ok(v) = f[4].parse::<u64>() {
                m.insert(f[0].to_string(), v);
            }
        }
    }
    Ok(m)
}

fn vector_optima(data: &Path, set: &str) -> Result<BTreeMap<String, u64>, BenchError> {
    let file = if set == "Triplet" {
        "Triplet_summary_known.csv".to_string()
    } else {
        format!("{set}_base_OPT.csv")
    };
    let text = read(&data.join("binpacking/vbp/mommessin2024/results").join(file))?;
    let mut m = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() >= 3 {
            if let Ok(v) = f[2].trim().parse::<i64>() {
                if v > 0 {
                    m.insert(f[0].to_string(), v as u64);
                }
            }
        }
    }
    Ok(m)
}

/// Lists the instance files of a set, sorted by name.
pub fn set_files(data: &Path, set: &str) -> Result<Vec<PathBuf>, BenchError> {
    let mut files = Vec::new();
    if ONE_DIM_SETS.contains(&set) {
        files_with_ext(
            &data.join("binpacking/1d/bpplib/instances").join(set),
            "txt",
            &mut files,
        )?;
    } else if VECTOR_SETS.contains(&set) {
        let dir = data
            .join("binpacking/vbp/mommessin2024/instances")
            .join(format!("{set}_instances_multidim"));
        files_with_ext(&dir, "vbp", &mut files)?;
    } else {
        let mut known: Vec<&str> = ONE_DIM_SETS.to_vec();
        known.extend(VECTOR_SETS);
        return Err(BenchError::UnknownSet(set.to_string(), known.join(", ")));
    }
    files.sort_by_key(|p| p.file_name().map(|f| f.to_os_string()));
    Ok(files)
}

/// Loads a set; with `sample = Some((k, seed))` a seeded sample of `k`
/// instances (all of them when the set is smaller). Files that cannot be
/// represented (60 Triplet files contain a size of `-1`) are skipped; see
/// [`load_set_reporting`] to learn which.
pub fn load_set(
    data: &Path,
    set: &str,
    sample: Option<(usize, u64)>,
) -> Result<Vec<BenchInstance>, BenchError> {
    load_set_reporting(data, set, sample).map(|(v, _)| v)
}

/// Like [`load_set`], also returning the skipped files with the reason.
pub fn load_set_reporting(
    data: &Path,
    set: &str,
    sample: Option<(usize, u64)>,
) -> Result<(Vec<BenchInstance>, Vec<String>), BenchError> {
    let mut files = set_files(data, set)?;
    if let Some((k, seed)) = sample {
        if k < files.len() {
            let mut rng = SplitMix64::new(seed ^ name_hash(set));
            for i in (1..files.len()).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                files.swap(i, j);
            }
            files.truncate(k);
            files.sort_by_key(|p| p.file_name().map(|f| f.to_os_string()));
        }
    }
    let one = ONE_DIM_SETS.contains(&set);
    let optima = if one {
        one_dim_optima(data)?
    } else {
        vector_optima(data, set)?
    };
    let mut out = Vec::with_capacity(files.len());
    let mut skipped = Vec::new();
    for f in files {
        let name = f
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let text = read(&f)?;
        let fname = f.display().to_string();
        let parsed = if one {
            parse_bpp(&fname, &text)
        } else {
            parse_vbp(&fname, &text)
        };
        let instance = match parsed {
            Ok(i) => i,
            Err(e) if text.split_whitespace().any(|t| t.starts_with('-')) => {
                skipped.push(format!("{name}: {e}"));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        out.push(BenchInstance {
            set: set.to_string(),
            optimum: optima.get(&name).copied(),
            name,
            instance,
        });
    }
    Ok((out, skipped))
}

fn name_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// The outcome on one instance.
#[derive(Clone, Debug, Serialize)]
pub struct InstanceOutcome {
    /// Set name.
    pub set: String,
    /// Instance name.
    pub name: String,
    /// Items.
    pub n: usize,
    /// Bins used.
    pub bins: u64,
    /// Lower bound reported.
    pub lower_bound: u64,
    /// Known optimum.
    pub optimum: Option<u64>,
    /// Proven optimal by the packer.
    pub proven_optimal: bool,
    /// Milliseconds.
    pub time_ms: f64,
}

/// Runs the packer on one benchmark instance.
pub fn run_instance(b: &BenchInstance, budget: Budget, seed: u64) -> InstanceOutcome {
    let opts = PackOptions {
        budget,
        seed,
        ..PackOptions::default()
    };
    let t = std::time::Instant::now();
    let r = pack(&b.instance, &opts);
    let time_ms = t.elapsed().as_secs_f64() * 1e3;
    let (bins, lb, proven) = match r {
        Ok(r) => (r.objective.0, r.lower_bound.0, r.proven_optimal),
        Err(_) => (u64::MAX, 0, false),
    };
    if let (Some(o), true) = (b.optimum, proven) {
        assert_eq!(
            o, bins,
            "{}: proven optimum {bins} differs from the known {o}",
            b.name
        );
    }
    InstanceOutcome {
        set: b.set.clone(),
        name: b.name.clone(),
        n: b.instance.items.len(),
        bins,
        lower_bound: lb,
        optimum: b.optimum,
        proven_optimal: proven,
        time_ms,
    }
}

/// Per-set summary.
#[derive(Clone, Debug, Serialize)]
pub struct SetSummary {
    /// Set name.
    pub set: String,
    /// Instances run.
    pub instances: usize,
    /// Instances with a known optimum.
    pub with_optimum: usize,
    /// Share (0–1) of instances with a known optimum where it was found.
    pub optimum_found: f64,
    /// Share (0–1) proven optimal.
    pub proven_optimal: f64,
    /// Mean bins over the optimum (instances with a known optimum).
    pub mean_excess: f64,
    /// Mean bins / optimum.
    pub mean_ratio: f64,
    /// Mean time, ms.
    pub mean_ms: f64,
    /// Max time, ms.
    pub max_ms: f64,
}

/// Summarises outcomes of one set.
pub fn summarize(set: &str, out: &[InstanceOutcome]) -> SetSummary {
    let with: Vec<&InstanceOutcome> = out.iter().filter(|o| o.optimum.is_some()).collect();
    let found = with.iter().filter(|o| Some(o.bins) == o.optimum).count();
    let n = out.len().max(1) as f64;
    let wn = with.len().max(1) as f64;
    SetSummary {
        set: set.to_string(),
        instances: out.len(),
        with_optimum: with.len(),
        optimum_found: found as f64 / wn,
        proven_optimal: out.iter().filter(|o| o.proven_optimal).count() as f64 / n,
        mean_excess: with
            .iter()
            .map(|o| o.bins as f64 - o.optimum.unwrap_or(0) as f64)
            .sum::<f64>()
            / wn,
        mean_ratio: with
            .iter()
            .map(|o| o.bins as f64 / o.optimum.unwrap_or(1).max(1) as f64)
            .sum::<f64>()
            / wn,
        mean_ms: out.iter().map(|o| o.time_ms).sum::<f64>() / n,
        max_ms: out.iter().map(|o| o.time_ms).fold(0.0, f64::max),
    }
}
