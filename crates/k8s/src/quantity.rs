//! Kubernetes quantities in resource lists, converted once.

use crate::error::{ImportError, ObjectRef};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use rightsizer_model::quantity::Quantity;
use rightsizer_model::units::{Bytes, MilliCpu};
use std::collections::BTreeMap;

/// One quantity of a resource list in every unit the importer needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceAmount {
    /// As CPU (milli-cores, rounded up like `MilliValue`).
    pub cpu: MilliCpu,
    /// As bytes (rounded up like `Value`).
    pub bytes: Bytes,
    /// As an integer count (rounded up like `Value`).
    pub whole: u64,
    /// `true` when the amount is a whole number (extended resources must be).
    pub integral: bool,
}

/// Parses one quantity.
///
/// # Errors
///
/// [`ImportError::Object`] naming `path` when the text is not a Kubernetes
/// quantity or is negative.
pub fn amount(q: &str, obj: &ObjectRef, path: &str) -> Result<ResourceAmount, ImportError> {
    amount_at(q, obj, || path.to_owned())
}

/// As [`amount`], with the path built only when there is an error (the
/// importer converts millions of quantities; formatting each path up front
/// was a measurable share of the import).
pub(crate) fn amount_at(
    q: &str,
    obj: &ObjectRef,
    path: impl FnOnce() -> String,
) -> Result<ResourceAmount, ImportError> {
    let parsed = match Quantity::parse(q.trim()) {
        Ok(p) if p.signum() >= 0 => p,
        bad => {
            return Err(ImportError::Object {
                object: obj.clone(),
                path: path(),
                message: match bad {
                    Err(e) => format!("{q:?}: {e}"),
                    Ok(_) => format!("{q:?}: negative quantity"),
                },
            })
        }
    };
    let milli = parsed.checked_milli_value().unwrap_or(i64::MAX);
    let whole = parsed.checked_value().unwrap_or(i64::MAX);
    Ok(ResourceAmount {
        cpu: MilliCpu::new(u64::try_from(milli).unwrap_or(u64::MAX)),
        bytes: Bytes::new(u64::try_from(whole).unwrap_or(u64::MAX)),
        whole: u64::try_from(whole).unwrap_or(u64::MAX),
        integral: is_integral(&parsed),
    })
}

/// Converts a resource list (`requests`, `limits`, `allocatable`, …).
///
/// # Errors
///
/// [`ImportError::Object`] with `path.<resource>` for a malformed quantity.
pub fn resource_list(
    list: &BTreeMap<String, K8sQuantity>,
    obj: &ObjectRef,
    path: &str,
) -> Result<BTreeMap<String, ResourceAmount>, ImportError> {
    list.iter()
        .map(|(k, v)| Ok((k.clone(), amount_at(&v.0, obj, || format!("{path}.{k}"))?)))
        .collect()
}

fn is_integral(q: &Quantity) -> bool {
    let (mantissa, exponent) = q.to_parts();
    if exponent >= 0 || mantissa == 0 {
        return true;
    }
    match 10i128.checked_pow(exponent.unsigned_abs()) {
        Some(p) => mantissa % p == 0,
        None => false,
    }
}
