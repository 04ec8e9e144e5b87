//! Filters over accelerators and node types (builder style).

use crate::catalog::Catalog;
use rightsizer_model::accelerator::{AcceleratorKind, AcceleratorModel};
use rightsizer_model::node::{NodeType, Provider};
use rightsizer_model::units::Bytes;

/// Selects accelerator models. Every set criterion must hold; the default
/// filter matches everything.
///
/// ```
/// use rightsizer_catalog::{AcceleratorFilter, Catalog};
/// use rightsizer_model::accelerator::AcceleratorKind;
/// use rightsizer_model::units::Bytes;
/// let c = Catalog::builtin();
/// let f = AcceleratorFilter::new().kind(AcceleratorKind::Gpu).min_memory(Bytes::from_gib(80));
/// assert!(c.accelerators_matching(&f).all(|a| a.memory >= Bytes::from_gib(80)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AcceleratorFilter {
    /// Only this kind.
    pub kind: Option<AcceleratorKind>,
    /// Only this vendor (case-insensitive).
    pub vendor: Option<String>,
    /// At least this much device memory.
    pub min_memory: Option<Bytes>,
    /// Only models with MIG profiles.
    pub mig: bool,
    /// Only models with fractional sharing.
    pub fractional: bool,
}

impl AcceleratorFilter {
    /// Matches everything.
    pub fn new() -> Self {
        Self::default()
    }
    /// Only this kind.
    pub fn kind(mut self, kind: AcceleratorKind) -> Self {
        self.kind = Some(kind);
        self
    }
    /// Only this vendor (case-insensitive).
    pub fn vendor(mut self, vendor: impl Into<String>) -> Self {
        self.vendor = Some(vendor.into());
        self
    }
    /// At least this much device memory.
    pub fn min_memory(mut self, m: Bytes) -> Self {
        self.min_memory = Some(m);
        self
    }
    /// Only models with MIG profiles.
    pub fn mig(mut self) -> Self {
        self.mig = true;
        self
    }
    /// Only models with fractional sharing.
    pub fn fractional(mut self) -> Self {
        self.fractional = true;
        self
    }
    /// Whether `a` matches.
    pub fn matches(&self, a: &AcceleratorModel) -> bool {
        self.kind.is_none_or(|k| a.kind == k)
            && self
                .vendor
                .as_ref()
                .is_none_or(|v| a.vendor.eq_ignore_ascii_case(v))
            && self.min_memory.is_none_or(|m| a.memory >= m)
            && (!self.mig
                || a.sharing
                    .mig
                    .as_ref()
                    .is_some_and(|g| !g.profiles.is_empty()))
            && (!self.fractional || a.sharing.fractional.is_some())
    }
}

/// Selects node types. Every set criterion must hold; the default filter
/// matches everything.
///
/// ```
/// use rightsizer_catalog::{Catalog, NodeTypeFilter};
/// use rightsizer_model::node::Provider;
/// let c = Catalog::builtin();
/// let f = NodeTypeFilter::new().provider(Provider::Azure).cpu_only();
/// assert!(c.node_types_matching(&f).all(|t| t.devices.is_empty()));
/// let f = NodeTypeFilter::new().accelerator("H100-SXM");
/// assert!(c.node_types_matching(&f).count() >= 4);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeTypeFilter {
    /// Only this provider.
    pub provider: Option<Provider>,
    /// Only this region.
    pub region: Option<String>,
    /// Only types carrying this accelerator model.
    pub accelerator: Option<String>,
    /// Only types carrying an accelerator of this kind.
    pub accelerator_kind: Option<AcceleratorKind>,
    /// Only types without accelerators.
    pub cpu_only: bool,
    /// Only types with at least one accelerator.
    pub accelerated: bool,
}

impl NodeTypeFilter {
    /// Matches everything.
    pub fn new() -> Self {
        Self::default()
    }
    /// Only this provider.
    pub fn provider(mut self, p: Provider) -> Self {
        self.provider = Some(p);
        self
    }
    /// Only this region.
    pub fn region(mut self, r: impl Into<String>) -> Self {
        self.region = Some(r.into());
        self
    }
    /// Only types carrying this accelerator model.
    pub fn accelerator(mut self, model: impl Into<String>) -> Self {
        self.accelerator = Some(model.into());
        self
    }
    /// Only types carrying an accelerator of this kind.
    pub fn accelerator_kind(mut self, k: AcceleratorKind) -> Self {
        self.accelerator_kind = Some(k);
        self
    }
    /// Only types without accelerators.
    pub fn cpu_only(mut self) -> Self {
        self.cpu_only = true;
        self
    }
    /// Only types with at least one accelerator.
    pub fn accelerated(mut self) -> Self {
        self.accelerated = true;
        self
    }
    /// Whether `t` matches (`catalog` resolves device kinds).
    pub fn matches(&self, t: &NodeType, catalog: &Catalog) -> bool {
        self.provider.as_ref().is_none_or(|p| &t.provider == p)
            && self.region.as_ref().is_none_or(|r| &t.region == r)
            && self
                .accelerator
                .as_ref()
                .is_none_or(|m| t.devices.iter().any(|d| d.model.as_str() == m))
            && self.accelerator_kind.is_none_or(|k| {
                t.devices.iter().any(|d| {
                    catalog
                        .accelerator(d.model.as_str())
                        .is_some_and(|a| a.kind == k)
                })
            })
            && (!self.cpu_only || t.devices.is_empty())
            && (!self.accelerated || !t.devices.is_empty())
    }
}

impl Catalog {
    /// Accelerator models matching a filter, ordered by id.
    ///
    /// ```
    /// use rightsizer_catalog::{AcceleratorFilter, Catalog};
    /// let c = Catalog::builtin();
    /// let mig: Vec<_> = c.accelerators_matching(&AcceleratorFilter::new().mig()).map(|a| a.id.as_str()).collect();
    /// assert!(mig.contains(&"A100-40GB") && !mig.contains(&"L4"));
    /// ```
    pub fn accelerators_matching<'a>(
        &'a self,
        f: &AcceleratorFilter,
    ) -> impl Iterator<Item = &'a AcceleratorModel> + 'a {
        let f = f.clone();
        self.accelerators().filter(move |a| f.matches(a))
    }

    /// Node types matching a filter, ordered by id.
    pub fn node_types_matching<'a>(
        &'a self,
        f: &NodeTypeFilter,
    ) -> impl Iterator<Item = &'a NodeType> + 'a {
        let f = f.clone();
        self.node_types().filter(move |t| f.matches(t, self))
    }
}
