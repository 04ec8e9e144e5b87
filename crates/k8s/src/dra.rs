//! Dynamic Resource Allocation objects (`resource.k8s.io`): slices, classes,
//! claims and claim templates, read from JSON in every served version
//! (`v1`, `v1beta1/2`, and the older `v1alpha3` shape with `basic:` devices).

use crate::allocate::{
    Amount, CapacityPolicy, ClaimConstraint, ClaimRequest, CounterConsumption, DeviceCount,
    DraClaim, DraSlice, SliceDevice, SliceNodes, SubRequest,
};
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
        slice: None,
        claim: None,
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
            d.slice = Some(slice(v, driver, &d, obj, unsupported));
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
            d.claim = Some(claim(spec, obj, unsupported));
        }
    }
    d
}

fn milli(v: &Value) -> Option<Amount> {
    let text = v.get("value").unwrap_or(v);
    let q = match text {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    rightsizer_model::quantity::Quantity::parse(q.trim())
        .ok()?
        .checked_milli_value()
}

fn counters(v: Option<&Value>) -> BTreeMap<String, Amount> {
    v.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, c)| Some((k.clone(), milli(c)?)))
        .collect()
}

fn policy(p: &Value) -> CapacityPolicy {
    let mut vv: Vec<Amount> = p
        .get("validValues")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(milli)
        .collect();
    vv.sort_unstable();
    CapacityPolicy {
        default: p.get("default").and_then(milli),
        valid_values: vv,
        valid_range: p.get("validRange").and_then(|r| {
            Some((
                r.get("min").and_then(milli)?,
                r.get("max").and_then(milli),
                r.get("step").and_then(milli),
            ))
        }),
    }
}

/// A ResourceSlice for the allocator (any served version).
fn slice(
    v: &Value,
    driver: &str,
    d: &DraObject,
    obj: &ObjectRef,
    unsupported: &mut Vec<Unsupported>,
) -> DraSlice {
    let spec = v.get("spec").unwrap_or(&Value::Null);
    let nodes = if let Some(n) = spec.get("nodeName").and_then(Value::as_str) {
        SliceNodes::Node(n.to_owned())
    } else if spec.get("allNodes").and_then(Value::as_bool) == Some(true) {
        SliceNodes::AllNodes
    } else {
        SliceNodes::Selector
    };
    let mut devices = Vec::new();
    let raw: Vec<&Value> = spec
        .get("devices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|dev| dev.get("name").and_then(Value::as_str).is_some())
        .collect();
    for (dev, (name, view)) in raw.iter().zip(d.devices.iter().zip(&d.device_views)) {
        let body = dev.get("basic").unwrap_or(dev);
        let mut capacity = BTreeMap::new();
        let mut policies = BTreeMap::new();
        for (k, c) in body
            .get("capacity")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let key = qualify(k, driver);
            if let Some(m) = milli(c) {
                capacity.insert(key.clone(), m);
            }
            if let Some(p) = c.get("requestPolicy") {
                policies.insert(key, policy(p));
            }
        }
        let consumes = body
            .get("consumesCounters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|cc| CounterConsumption {
                counter_set: cc
                    .get("counterSet")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                counters: counters(cc.get("counters")),
            })
            .collect();
        if body.get("nodeName").is_some() || body.get("nodeSelector").is_some() {
            unsupported.push(Unsupported {
                object: obj.clone(),
                field: format!("spec.devices[{name}].nodeName"),
                why: "per-device node selection is not modelled; the slice's node applies".into(),
            });
        }
        devices.push(SliceDevice {
            name: name.clone(),
            view: view.clone(),
            capacity,
            policies,
            consumes,
            multiple_allocations: body
                .get("allowMultipleAllocations")
                .and_then(Value::as_bool)
                == Some(true),
        });
    }
    DraSlice {
        name: obj.name.clone(),
        driver: driver.to_owned(),
        pool: spec
            .pointer("/pool/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        generation: spec
            .pointer("/pool/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0),
        nodes,
        devices,
        shared_counters: spec
            .get("sharedCounters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| {
                Some((
                    s.get("name")?.as_str()?.to_owned(),
                    counters(s.get("counters")),
                ))
            })
            .collect(),
    }
}

fn sub_request(name: String, body: &Value) -> SubRequest {
    let count = if body.get("allocationMode").and_then(Value::as_str) == Some("All") {
        DeviceCount::All
    } else {
        DeviceCount::Exact(
            body.get("count")
                .and_then(Value::as_u64)
                .map_or(1, |c| u32::try_from(c).unwrap_or(u32::MAX)),
        )
    };
    SubRequest {
        name,
        device_class: body
            .get("deviceClassName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        selectors: selectors(body.get("selectors")),
        count,
        capacity: counters(body.pointer("/capacity/requests")),
    }
}

/// A claim (or the claim of a template) for the allocator.
fn claim(spec: Option<&Value>, obj: &ObjectRef, unsupported: &mut Vec<Unsupported>) -> DraClaim {
    let mut requests = Vec::new();
    for r in spec
        .and_then(|s| s.pointer("/devices/requests"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = r
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let alternatives = match r.get("firstAvailable").and_then(Value::as_array) {
            Some(subs) => subs
                .iter()
                .map(|s| {
                    let sub = s.get("name").and_then(Value::as_str).unwrap_or("");
                    sub_request(format!("{name}/{sub}"), s)
                })
                .collect(),
            None => vec![sub_request(name.clone(), r.get("exactly").unwrap_or(r))],
        };
        if r.pointer("/exactly/adminAccess").and_then(Value::as_bool) == Some(true)
            || r.get("adminAccess").and_then(Value::as_bool) == Some(true)
        {
            unsupported.push(Unsupported {
                object: obj.clone(),
                field: format!("spec.devices.requests[{name}].adminAccess"),
                why: "admin access (devices shared with their users) is not allocated; treated as exclusive".into(),
            });
        }
        requests.push(ClaimRequest { name, alternatives });
    }
    let list = |v: &Value| -> Vec<String> {
        v.get("requests")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect()
    };
    let constraints = spec
        .and_then(|s| s.pointer("/devices/constraints"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| {
            if let Some(a) = c.get("matchAttribute").and_then(Value::as_str) {
                Some(ClaimConstraint::MatchAttribute {
                    attribute: a.to_owned(),
                    requests: list(c),
                })
            } else if let Some(a) = c.get("distinctAttribute").and_then(Value::as_str) {
                Some(ClaimConstraint::DistinctAttribute {
                    attribute: a.to_owned(),
                    requests: list(c),
                })
            } else {
                unsupported.push(Unsupported {
                    object: obj.clone(),
                    field: "spec.devices.constraints".into(),
                    why: "a constraint with neither matchAttribute nor distinctAttribute".into(),
                });
                None
            }
        })
        .collect();
    DraClaim {
        object: obj.clone(),
        requests,
        constraints,
    }
}
