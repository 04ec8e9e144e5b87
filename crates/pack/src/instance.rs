//! Problem description: items, bin types and already-open bins.

use rightsizer_model::units::PricePerHour;
use serde::{Deserialize, Serialize};

/// Integer cost of one bin. Prices are converted with [`Cost::from_price`]
/// (micro-dollars per hour); for plain bin packing every bin costs 1.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cost(pub u64);

impl Cost {
    /// The cost of a bin priced per hour (micro-dollars per hour).
    pub fn from_price(p: PricePerHour) -> Self {
        Cost(p.micros())
    }
    /// Back to an hourly price (the inverse of [`Cost::from_price`]).
    pub fn as_price(self) -> PricePerHour {
        PricePerHour::from_micros(self.0)
    }
}

/// One item to pack: a size per dimension and, optionally, the bin types it
/// may go into (e.g. only nodes with a given GPU model).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Size in each dimension.
    pub size: Vec<u64>,
    /// Indices into [`Instance::bin_types`] the item may use; `None` = any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_types: Option<Vec<usize>>,
}

impl Item {
    /// An item that may go into any bin type.
    pub fn new(size: Vec<u64>) -> Self {
        Item {
            size,
            allowed_types: None,
        }
    }
}

/// A kind of bin (node type) that can be opened any number of times (up to
/// `max_count`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinType {
    /// Optional display name (e.g. an instance type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Capacity in each dimension.
    pub capacity: Vec<u64>,
    /// Cost of one opened bin of this type.
    #[serde(default = "one_cost")]
    pub cost: Cost,
    /// At most this many new bins of the type; `None` = unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_count: Option<u64>,
}

fn one_cost() -> Cost {
    Cost(1)
}

impl BinType {
    /// An unlimited bin type with the given capacity and cost.
    pub fn new(capacity: Vec<u64>, cost: Cost) -> Self {
        BinType {
            name: None,
            capacity,
            cost,
            max_count: None,
        }
    }
}

/// A bin that is already open (a current node) with some capacity in use.
/// It costs its type's cost when it holds anything after packing (already
/// used capacity or new items); an empty one can be released for free.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenBin {
    /// Index into [`Instance::bin_types`].
    pub bin_type: usize,
    /// Capacity already used, per dimension.
    pub used: Vec<u64>,
}

/// A packing problem. Build it with [`Instance::uniform`] for classic bin
/// packing or fill the fields for heterogeneous bins.
///
/// ```
/// use rightsizer_pack::{Instance, Item};
/// let inst = Instance::uniform(vec![10], vec![Item::new(vec![6]), Item::new(vec![4])]);
/// inst.validate()?;
/// assert_eq!(inst.dims(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    /// Items to pack.
    pub items: Vec<Item>,
    /// Bin types that can be opened.
    pub bin_types: Vec<BinType>,
    /// Bins already open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_bins: Vec<OpenBin>,
}

/// Why an instance is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PackError {
    /// No bin types were given.
    #[error("the instance has no bin types")]
    NoBinTypes,
    /// A vector has the wrong number of dimensions.
    #[error("{what} has {got} dimensions, expected {expected}")]
    DimensionMismatch {
        /// Field path, e.g. `items[3].size`.
        what: String,
        /// Dimensions found.
        got: usize,
        /// Dimensions expected (those of `bin_types[0].capacity`).
        expected: usize,
    },
    /// A bin-type index is out of range.
    #[error("{what} refers to bin type {index}, but there are only {count}")]
    BadBinType {
        /// Field path.
        what: String,
        /// The bad index.
        index: usize,
        /// Number of bin types.
        count: usize,
    },
    /// An open bin already uses more than its capacity.
    #[error("open_bins[{index}] uses more than its capacity in dimension {dim}")]
    Overfull {
        /// Index of the open bin.
        index: usize,
        /// Dimension.
        dim: usize,
    },
    /// Sums overflow 64 bits.
    #[error("sizes too large: the sum in dimension {dim} overflows u64")]
    Overflow {
        /// Dimension.
        dim: usize,
    },
    /// Zero dimensions.
    #[error("bin capacities have zero dimensions")]
    ZeroDimensions,
    /// Bin costs so large that the cost of a packing could exceed `u64`
    /// (every packing uses at most one bin per item plus the open bins, so
    /// `bins × the largest cost` must fit, with one bin to spare for the
    /// search's comparisons).
    #[error(
        "bin costs too large: {bins} bins at cost up to {max_cost} overflow u64 (the largest cost allowed for this instance is {limit})"
    )]
    CostOverflow {
        /// Most bins a packing can use, plus one.
        bins: u64,
        /// The largest bin cost.
        max_cost: u64,
        /// The largest bin cost the instance may have.
        limit: u64,
    },
    /// A text instance could not be parsed.
    #[error("{file}:{line}: {message}")]
    Parse {
        /// File name (or `<input>`).
        file: String,
        /// 1-based line.
        line: usize,
        /// What was wrong.
        message: String,
    },
}

impl Instance {
    /// Classic bin packing: identical bins of `capacity`, cost 1 each.
    pub fn uniform(capacity: Vec<u64>, items: Vec<Item>) -> Self {
        Instance {
            items,
            bin_types: vec![BinType::new(capacity, Cost(1))],
            open_bins: Vec::new(),
        }
    }

    /// One-dimensional bin packing from weights.
    pub fn one_dim(capacity: u64, weights: &[u64]) -> Self {
        Self::uniform(
            vec![capacity],
            weights.iter().map(|&w| Item::new(vec![w])).collect(),
        )
    }

    /// Number of dimensions (0 if there are no bin types).
    pub fn dims(&self) -> usize {
        self.bin_types.first().map_or(0, |t| t.capacity.len())
    }

    /// Checks shapes, indices and overflow.
    pub fn validate(&self) -> Result<(), PackError> {
        let d = self.dims();
        if self.bin_types.is_empty() {
            return Err(PackError::NoBinTypes);
        }
        if d == 0 {
            return Err(PackError::ZeroDimensions);
        }
        let nt = self.bin_types.len();
        let mism = |what: String, got: usize| PackError::DimensionMismatch {
            what,
            got,
            expected: d,
        };
        for (t, bt) in self.bin_types.iter().enumerate() {
            if bt.capacity.len() != d {
                return Err(mism(format!("bin_types[{t}].capacity"), bt.capacity.len()));
            }
        }
        let mut sums = vec![0u64; d];
        for (i, it) in self.items.iter().enumerate() {
            if it.size.len() != d {
                return Err(mism(format!("items[{i}].size"), it.size.len()));
            }
            for (k, &s) in it.size.iter().enumerate() {
                sums[k] = sums[k]
                    .checked_add(s)
                    .ok_or(PackError::Overflow { dim: k })?;
            }
            if let Some(a) = &it.allowed_types {
                for &t in a {
                    if t >= nt {
                        return Err(PackError::BadBinType {
                            what: format!("items[{i}].allowed_types"),
                            index: t,
                            count: nt,
                        });
                    }
                }
            }
        }
        for (b, ob) in self.open_bins.iter().enumerate() {
            if ob.bin_type >= nt {
                return Err(PackError::BadBinType {
                    what: format!("open_bins[{b}].bin_type"),
                    index: ob.bin_type,
                    count: nt,
                });
            }
            if ob.used.len() != d {
                return Err(mism(format!("open_bins[{b}].used"), ob.used.len()));
            }
            let cap = &self.bin_types[ob.bin_type].capacity;
            for k in 0..d {
                if ob.used[k] > cap[k] {
                    return Err(PackError::Overfull { index: b, dim: k });
                }
                // Loads are bounded by capacity + item sums; check they fit.
                cap[k]
                    .checked_add(sums[k])
                    .ok_or(PackError::Overflow { dim: k })?;
            }
        }
        for bt in &self.bin_types {
            for k in 0..d {
                bt.capacity[k]
                    .checked_add(sums[k])
                    .ok_or(PackError::Overflow { dim: k })?;
            }
        }
        self.check_cost_range()
    }

    /// Every packing uses at most one new bin per item plus the open bins,
    /// so once `(items + open bins + 1) × max cost` fits in `u64` no sum of
    /// bin costs the packer forms (a packing's cost, a bound, a candidate
    /// plus one bin) can overflow.
    fn check_cost_range(&self) -> Result<(), PackError> {
        let max_cost = self.bin_types.iter().map(|t| t.cost.0).max().unwrap_or(0);
        let bins = (self.items.len() as u64)
            .saturating_add(self.open_bins.len() as u64)
            .saturating_add(1);
        if max_cost.checked_mul(bins).is_none() {
            return Err(PackError::CostOverflow {
                bins,
                max_cost,
                limit: u64::MAX / bins,
            });
        }
        Ok(())
    }

    /// `true` for classic (vector) bin packing: one bin type, no open bins,
    /// no type restrictions and no count limit.
    pub fn is_uniform(&self) -> bool {
        self.bin_types.len() == 1
            && self.open_bins.is_empty()
            && self.bin_types[0].max_count.is_none()
            && self.items.iter().all(|i| i.allowed_types.is_none())
    }
}
