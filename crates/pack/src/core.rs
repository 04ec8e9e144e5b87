//! Internal flat representation of an instance and of a (partial) packing.

use crate::instance::Instance;
use crate::result::{BinSource, PackedBin};

/// A bin type, flattened.
#[derive(Clone, Debug)]
pub(crate) struct TypeInfo {
    pub cap: Vec<u64>,
    pub cost: u64,
    /// Remaining number of new bins of this type that may be opened.
    pub max: u64,
}

/// The instance in flat arrays.
#[derive(Clone, Debug)]
pub(crate) struct Prob {
    pub d: usize,
    pub n: usize,
    pub size: Vec<u64>,
    pub types: Vec<TypeInfo>,
    /// Open bins: (type, used).
    pub open: Vec<(usize, Vec<u64>)>,
    /// `allow[i * T + t]`, only when some item is restricted.
    pub allow: Option<Vec<bool>>,
    /// Reference scale per dimension (largest capacity) for normalised sizes.
    pub scale: Vec<f64>,
}

impl Prob {
    /// Item `i`'s size summed over dimensions, each normalised by `scale`.
    pub fn normalized_size(&self, i: usize) -> f64 {
        self.s(i)
            .iter()
            .zip(&self.scale)
            .map(|(&x, s)| x as f64 / s)
            .sum()
    }

    /// Sorts item indices by normalised size, largest first (ties: lower index).
    pub fn sort_largest_first(&self, items: &mut [usize]) {
        items.sort_by(|&a, &b| {
            self.normalized_size(b)
                .total_cmp(&self.normalized_size(a))
                .then(a.cmp(&b))
        });
    }

    pub fn new(inst: &Instance) -> Self {
        let d = inst.dims();
        let n = inst.items.len();
        let nt = inst.bin_types.len();
        let mut size = Vec::with_capacity(n * d);
        for it in &inst.items {
            size.extend_from_slice(&it.size);
        }
        let types = inst
            .bin_types
            .iter()
            .map(|t| TypeInfo {
                cap: t.capacity.clone(),
                cost: t.cost.0,
                max: t.max_count.unwrap_or(u64::MAX),
            })
            .collect::<Vec<_>>();
        let allow = if inst.items.iter().any(|i| i.allowed_types.is_some()) {
            let mut a = vec![false; n * nt];
            for (i, it) in inst.items.iter().enumerate() {
                match &it.allowed_types {
                    None => a[i * nt..(i + 1) * nt].iter_mut().for_each(|x| *x = true),
                    Some(v) => v.iter().for_each(|&t| a[i * nt + t] = true),
                }
            }
            Some(a)
        } else {
            None
        };
        let mut scale = vec![1.0f64; d];
        for (k, s) in scale.iter_mut().enumerate() {
            let m = types.iter().map(|t| t.cap[k]).max().unwrap_or(1).max(1);
            *s = m as f64;
        }
        Prob {
            d,
            n,
            size,
            types,
            open: inst
                .open_bins
                .iter()
                .map(|o| (o.bin_type, o.used.clone()))
                .collect(),
            allow,
            scale,
        }
    }

    #[inline]
    pub fn s(&self, i: usize) -> &[u64] {
        &self.size[i * self.d..(i + 1) * self.d]
    }

    #[inline]
    pub fn allowed(&self, i: usize, t: usize) -> bool {
        match &self.allow {
            None => true,
            Some(a) => a[i * self.types.len() + t],
        }
    }

    /// Classic uniform bin packing (one type, no restrictions, no open bins).
    pub fn uniform(&self) -> bool {
        self.types.len() == 1
            && self.open.is_empty()
            && self.allow.is_none()
            && self.types[0].max == u64::MAX
    }

    /// `true` when item `i` fits an empty bin of type `t` it is allowed in.
    pub fn fits_type(&self, i: usize, t: usize) -> bool {
        self.allowed(i, t)
            && self
                .s(i)
                .iter()
                .zip(&self.types[t].cap)
                .all(|(a, b)| a <= b)
    }
}

/// A bin in a working packing.
#[derive(Clone, Debug)]
pub(crate) struct Bin {
    pub src: BinSource,
    pub ty: usize,
    pub cost: u64,
    pub cap: Vec<u64>,
    pub load: Vec<u64>,
    /// Pre-existing use (open bins), part of `load`.
    pub base_used: bool,
    pub items: Vec<u32>,
}

impl Bin {
    pub fn new_of_type(p: &Prob, t: usize) -> Self {
        Bin {
            src: BinSource::New { bin_type: t },
            ty: t,
            cost: p.types[t].cost,
            cap: p.types[t].cap.clone(),
            load: vec![0; p.d],
            base_used: false,
            items: Vec::new(),
        }
    }

    #[inline]
    pub fn fits(&self, s: &[u64]) -> bool {
        self.load
            .iter()
            .zip(&self.cap)
            .zip(s)
            .all(|((l, c), x)| l + x <= *c)
    }

    #[inline]
    pub fn add(&mut self, i: usize, s: &[u64]) {
        for (l, x) in self.load.iter_mut().zip(s) {
            *l += x;
        }
        self.items.push(i as u32);
    }

    /// Counts towards the objective.
    pub fn used(&self) -> bool {
        self.base_used || !self.items.is_empty()
    }
}

/// A working packing.
#[derive(Clone, Debug)]
pub(crate) struct Sol {
    pub bins: Vec<Bin>,
    pub unplaced: Vec<usize>,
}

impl Sol {
    /// The open bins of the instance, empty of new items.
    pub fn with_open_bins(p: &Prob) -> Self {
        let bins = p
            .open
            .iter()
            .enumerate()
            .map(|(idx, (t, used))| Bin {
                src: BinSource::Open { index: idx },
                ty: *t,
                cost: p.types[*t].cost,
                cap: p.types[*t].cap.clone(),
                load: used.clone(),
                base_used: used.iter().any(|&u| u > 0),
                items: Vec::new(),
            })
            .collect();
        Sol {
            bins,
            unplaced: Vec::new(),
        }
    }

    /// Total cost of the used bins. [`crate::Instance::validate`] bounds
    /// `bins × max cost` below `u64::MAX`, so the sum cannot overflow; it
    /// saturates rather than wraps should a caller skip validation, so an
    /// overflowed sum can never compare as cheap.
    pub fn cost(&self) -> u64 {
        self.bins
            .iter()
            .filter(|b| b.used())
            .fold(0u64, |acc, b| acc.saturating_add(b.cost))
    }

    /// Lexicographic objective: unplaced items first, then cost.
    pub fn key(&self) -> (usize, u64) {
        (self.unplaced.len(), self.cost())
    }

    /// Drops unused new bins.
    pub fn prune(&mut self) {
        self.bins
            .retain(|b| b.used() || matches!(b.src, BinSource::Open { .. }));
    }

    /// Public form: used bins sorted by source then first item.
    pub fn to_packed(&self) -> Vec<PackedBin> {
        let mut out: Vec<PackedBin> = self
            .bins
            .iter()
            .filter(|b| b.used())
            .map(|b| {
                let mut items: Vec<usize> = b.items.iter().map(|&i| i as usize).collect();
                items.sort_unstable();
                PackedBin {
                    source: b.src,
                    bin_type: b.ty,
                    items,
                    load: b.load.clone(),
                }
            })
            .collect();
        out.sort_by(|a, b| {
            (a.source, a.items.first().copied()).cmp(&(b.source, b.items.first().copied()))
        });
        out
    }
}
