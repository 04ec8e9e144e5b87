//! Dynamic Resource Allocation objects (`resource.k8s.io`): slices, classes,
//! claims and claim templates, read from JSON in every served version
//! (`v1`, `v1beta1/2`, and the older `v1alpha3` shape with `basic:` devices).

use crate::cel::{AttrValue, DeviceView};
use crate::error::{ObjectRef, Unsupported};
use crate::import::{DraObject, DraRequest};
use serde_json::Value;
use std::collections::BTreeMap;

fn selectors(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| {
            s.pointer("/cel/expression")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect()
}

fn request(r: &Value) -> DraRequest {
    let name = r
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    // v1: `exactly`; v1beta1 and older: fields inline.
    let ex = r.get("exactly").unwrap_or(r);
    let first: Vec<&Value> = r
        .get("firstAvailable")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let head = first.first().copied().unwrap_or(ex);
    let mode = head
        .get("allocationMode")
        .and_then(Value::as_str)
        .unwrap_or("ExactCount")
        .to_owned();
    let count = if mode == "All" {
        0
    } else {
        head.get("count").and_then(Value::as_u64).unwrap_or(1)
    };
    let capacity = head
        .pointer("/capacity/requests")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_else(BTreeMap::new);
    DraRequest {
        name,
        device_class: head
            .get("deviceClassName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        count,
        allocation_mode: mode,
        first_available: first
            .iter()
            .filter_map(|s| {
                s.get("deviceClassName")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect(),
        selectors: selectors(head.get("selectors")),
        capacity,
    }
}

fn qualify(name: &str, driver: &str) -> String {
    if name.contains('/') {
        name.to_owned()
    } else {
        format!("{driver}/{name}")
    }
}

/// What a CEL selector sees of a slice device (`v1` shape, or `basic:` of `v1alpha3`).
fn device_view(
    dev: &Value,
    driver: &str,
    obj: &ObjectRef,
    name: &str,
    unsupported: &mut Vec<Unsupported>,
) -> DeviceView {
    let body = dev.get("basic").unwrap_or(dev);
    let mut view = DeviceView {
        driver: driver.to_owned(),
        ..DeviceView::default()
    };
    for (k, a) in body
        .get("attributes")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let val = if let Some(s) = a.get("string").and_then(Value::as_str) {
            AttrValue::Str(s.to_owned())
        } else if let Some(n) = a.get("int").and_then(Value::as_i64) {
            AttrValue::Int(n)
        } else if let Some(b) = a.get("bool").and_then(Value::as_bool) {
            AttrValue::Bool(b)
        } else if let Some(s) = a.get("version").and_then(Value::as_str) {
            AttrValue::Version(s.to_owned())
        } else {
            unsupported.push(Unsupported {
                object: obj.clone(),
                field: format!("spec.devices[{name}].attributes.{k}"),
                why: "attribute type outside string/int/bool/version".into(),
            });
            continue;
        };
        view.attributes.insert(qualify(k, driver), val);
    }
    for (k, c) in body
        .get("capacity")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let text = c.get("value").unwrap_or(c);
        let q = text
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| text.to_string());
        match rightsizer_model::quantity::Quantity::parse(&q) {
            Ok(q) => {
                view.capacity.insert(qualify(k, driver), q);
            }
            Err(e) => unsupported.push(Unsupported {
                object: obj.clone(),
                field: format!("spec.devices[{name}].capacity.{k}"),
                why: format!("{q:?}: {e}"),
            }),
        }
    }
    view
}

/// Reads one DRA object; shapes it cannot read go to `unsupported`.
pub(crate) fn read(
    v: &Value,
    kind: &str,
    api: &str,
    obj: &ObjectRef,
    unsupported: &mut Vec<Unsupported>,
) -> DraObject {
    let mut d = DraObject {
        object: obj.clone(),
        api_version: api.to_owned(),
        requests: Vec::new(),
        devices: Vec::new(),
        device_views: Vec::new(),
        selectors: Vec::new(),
    };
    match kind {
        "ResourceSlice" => {
            let driver = v
                .pointer("/spec/driver")
                .and_then(Value::as_str)
                .unwrap_or("");
            for dev in v
                .pointer("/spec/devices")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(n) = dev.get("name").and_then(Value::as_str) {
                    d.devices.push(n.to_owned());
                    d.device_views
                        .push(device_view(dev, driver, obj, n, unsupported));
                }
            }
            if let Some(drv) = v.pointer("/spec/driver").and_then(Value::as_str) {
                d.selectors.push(format!("device.driver == {drv:?}"));
            }
        }
        "DeviceClass" => d.selectors = selectors(v.pointer("/spec/selectors")),
        _ => {
            let spec = if kind == "ResourceClaimTemplate" {
                v.pointer("/spec/spec")
            } else {
                v.get("spec")
            };
            let reqs = spec
                .and_then(|s| s.pointer("/devices/requests"))
                .and_then(Value::as_array);
            for r in reqs.into_iter().flatten() {
                d.requests.push(request(r));
            }
            if spec
                .and_then(|s| s.pointer("/devices/constraints"))
                .is_some_and(|c| c.as_array().is_some_and(|a| !a.is_empty()))
            {
                unsupported.push(Unsupported { object: obj.clone(), field: "spec.devices.constraints".into(), why: "matchAttribute / distinctAttribute constraints are read but not allocated by the model".into() });
            }
        }
    }
    d
}
