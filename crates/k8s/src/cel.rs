//! The common subset of DRA CEL device selectors: comparisons (`==`, `!=`,
//! `<`, `<=`, `>`, `>=`) and `in` on `device.attributes["domain"].name`,
//! `device.capacity["domain"].name` and `device.driver`; `&&`, `||`, `!`,
//! parentheses; `quantity("…")` with `.compareTo(…)`; string, integer, bool
//! and list literals. Anything else is [`Selector::Unsupported`] — never a
//! silent match or mismatch.

use rightsizer_model::quantity::Quantity;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// An attribute value of a device.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AttrValue {
    /// `string`.
    Str(String),
    /// `int`.
    Int(i64),
    /// `bool`.
    Bool(bool),
    /// `version` (semver, compared numerically by major.minor.patch).
    Version(String),
}

/// What a selector sees of a device.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeviceView {
    /// The driver (`device.driver`).
    pub driver: String,
    /// Attributes by qualified name (`gpu.nvidia.com/productName`); an
    /// unqualified name belongs to the driver's domain.
    pub attributes: BTreeMap<String, AttrValue>,
    /// Capacities by qualified name.
    pub capacity: BTreeMap<String, Quantity>,
}

/// The outcome of evaluating a selector.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Selector {
    /// The device matches.
    Match,
    /// The device does not match.
    NoMatch,
    /// The expression is outside the supported subset (or errs, as CEL does
    /// on a missing attribute); the reason says where.
    Unsupported(String),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Op(&'static str),
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let b: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let st = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(b[st..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let st = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let t: String = b[st..i].iter().collect();
            out.push(Tok::Int(
                t.parse().map_err(|_| format!("integer {t} out of range"))?,
            ));
        } else if c == '"' || c == '\'' {
            let q = c;
            i += 1;
            let mut t = String::new();
            while i < b.len() && b[i] != q {
                if b[i] == '\\' {
                    return Err("escape sequences in strings".into());
                }
                t.push(b[i]);
                i += 1;
            }
            if i == b.len() {
                return Err("unterminated string".into());
            }
            i += 1;
            out.push(Tok::Str(t));
        } else {
            let two: String = b[i..(i + 2).min(b.len())].iter().collect();
            let op = ["==", "!=", "<=", ">=", "&&", "||"]
                .into_iter()
                .find(|o| *o == two);
            if let Some(o) = op {
                out.push(Tok::Op(o));
                i += 2;
            } else {
                let o = match c {
                    '<' => "<",
                    '>' => ">",
                    '!' => "!",
                    '(' => "(",
                    ')' => ")",
                    '[' => "[",
                    ']' => "]",
                    '.' => ".",
                    ',' => ",",
                    other => return Err(format!("character {other:?}")),
                };
                out.push(Tok::Op(o));
                i += 1;
            }
        }
    }
    Ok(out)
}

#[derive(Clone, Debug, PartialEq)]
enum Val {
    Str(String),
    Int(i64),
    Bool(bool),
    Version(String),
    Quantity(Quantity),
    List(Vec<Val>),
    /// A CEL runtime error (e.g. a missing attribute); absorbed by `&&`/`||`
    /// like CEL does, otherwise the selector's result.
    Error(String),
}

struct P<'a> {
    t: &'a [Tok],
    i: usize,
    dev: &'a DeviceView,
}

type R = Result<Val, String>;

fn version_key(v: &str) -> Vec<u64> {
    v.split(['.', '-', '+'])
        .take(3)
        .map(|p| p.parse().unwrap_or(0))
        .collect()
}

fn compare(a: &Val, b: &Val) -> Result<Ordering, String> {
    match (a, b) {
        (Val::Int(x), Val::Int(y)) => Ok(x.cmp(y)),
        (Val::Str(x), Val::Str(y)) => Ok(x.cmp(y)),
        (Val::Version(x), Val::Version(y)) => Ok(version_key(x).cmp(&version_key(y))),
        (Val::Quantity(x), Val::Quantity(y)) => Ok(x.cmp_amount(y)),
        _ => Err(format!("comparing {a:?} with {b:?}")),
    }
}

/// `||` (`absorbing = true`) or `&&` (`absorbing = false`) with CEL's
/// error absorption. A parse error (not an evaluation error) still
/// propagates, because the token position is lost otherwise.
fn logic(a: R, b: R, absorbing: bool) -> R {
    let as_bool = |r: &R| match r {
        Ok(Val::Bool(x)) => Some(*x),
        _ => None,
    };
    if as_bool(&a) == Some(absorbing) || as_bool(&b) == Some(absorbing) {
        return Ok(Val::Bool(absorbing));
    }
    for v in [&a, &b] {
        if let Ok(Val::Error(e)) = v {
            return Ok(Val::Error(e.clone()));
        }
    }
    let x = P::bool_of(a?)?;
    let y = P::bool_of(b?)?;
    Ok(Val::Bool(if absorbing { x || y } else { x && y }))
}

impl P<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }
    fn eat(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, op: &str) -> Result<(), String> {
        if self.eat(op) {
            Ok(())
        } else {
            Err(format!("expected {op:?} at token {}", self.i))
        }
    }
    fn bool_of(v: Val) -> Result<bool, String> {
        match v {
            Val::Bool(b) => Ok(b),
            other => Err(format!("{other:?} is not a bool")),
        }
    }
    fn or(&mut self) -> R {
        // CEL's commutative logic: `true || error` is true, `error || true` too.
        let mut v = self.and();
        while self.eat("||") {
            let r = self.and();
            v = logic(v, r, true);
        }
        v
    }
    fn and(&mut self) -> R {
        // `false && error` is false, `error && false` too.
        let mut v = self.cmp();
        while self.eat("&&") {
            let r = self.cmp();
            v = logic(v, r, false);
        }
        v
    }
    fn cmp(&mut self) -> R {
        let a = self.unary()?;
        let op = match self.peek() {
            Some(Tok::Op(o)) if ["==", "!=", "<", "<=", ">", ">="].contains(o) => *o,
            Some(Tok::Ident(k)) if k == "in" => "in",
            _ => return Ok(a),
        };
        self.i += 1;
        let b = self.unary()?;
        for v in [&a, &b] {
            if let Val::Error(e) = v {
                return Ok(Val::Error(e.clone()));
            }
        }
        Ok(Val::Bool(match op {
            "in" => match b {
                Val::List(l) => l.contains(&a),
                other => return Err(format!("`in` needs a list, got {other:?}")),
            },
            "==" => compare(&a, &b)
                .map(|o| o == Ordering::Equal)
                .or_else(|_| match (&a, &b) {
                    (Val::Bool(x), Val::Bool(y)) => Ok(x == y),
                    _ => Err(format!("comparing {a:?} with {b:?}")),
                })?,
            "!=" => compare(&a, &b)
                .map(|o| o != Ordering::Equal)
                .or_else(|_| match (&a, &b) {
                    (Val::Bool(x), Val::Bool(y)) => Ok(x != y),
                    _ => Err(format!("comparing {a:?} with {b:?}")),
                })?,
            "<" => compare(&a, &b)? == Ordering::Less,
            "<=" => compare(&a, &b)? != Ordering::Greater,
            ">" => compare(&a, &b)? == Ordering::Greater,
            _ => compare(&a, &b)? != Ordering::Less,
        }))
    }
    fn unary(&mut self) -> R {
        if self.eat("!") {
            return match self.unary()? {
                Val::Error(e) => Ok(Val::Error(e)),
                v => Ok(Val::Bool(!Self::bool_of(v)?)),
            };
        }
        let mut v = self.primary()?;
        // Method calls: `.compareTo(x)`.
        while matches!(self.peek(), Some(Tok::Op("."))) {
            self.i += 1;
            let Some(Tok::Ident(m)) = self.peek().cloned() else {
                return Err("expected a method name".into());
            };
            self.i += 1;
            self.expect("(")?;
            let arg = self.or()?;
            self.expect(")")?;
            v = match (m.as_str(), &v, &arg) {
                (_, Val::Error(e), _) | (_, _, Val::Error(e)) => Val::Error(e.clone()),
                ("compareTo", Val::Quantity(a), Val::Quantity(b)) => {
                    Val::Int(match a.cmp_amount(b) {
                        Ordering::Less => -1,
                        Ordering::Equal => 0,
                        Ordering::Greater => 1,
                    })
                }
                _ => return Err(format!("method {m} on {v:?}")),
            };
        }
        Ok(v)
    }
    fn primary(&mut self) -> R {
        let tok = self.peek().cloned().ok_or("unexpected end")?;
        self.i += 1;
        match tok {
            Tok::Str(s) => Ok(Val::Str(s)),
            Tok::Int(n) => Ok(Val::Int(n)),
            Tok::Op("(") => {
                let v = self.or()?;
                self.expect(")")?;
                Ok(v)
            }
            Tok::Op("-") => Err("negative literals".into()),
            Tok::Op("[") => {
                let mut l = Vec::new();
                if !self.eat("]") {
                    loop {
                        l.push(self.or()?);
                        if self.eat("]") {
                            break;
                        }
                        self.expect(",")?;
                    }
                }
                Ok(Val::List(l))
            }
            Tok::Ident(id) if id == "true" || id == "false" => Ok(Val::Bool(id == "true")),
            Tok::Ident(id) if id == "quantity" => {
                self.expect("(")?;
                let Some(Tok::Str(s)) = self.peek().cloned() else {
                    return Err("quantity() needs a string literal".into());
                };
                self.i += 1;
                self.expect(")")?;
                Quantity::parse(&s)
                    .map(Val::Quantity)
                    .map_err(|e| format!("quantity({s:?}): {e}"))
            }
            Tok::Ident(id) if id == "device" => self.device(),
            other => Err(format!("{other:?}")),
        }
    }
    fn device(&mut self) -> R {
        self.expect(".")?;
        let Some(Tok::Ident(field)) = self.peek().cloned() else {
            return Err("expected a device field".into());
        };
        self.i += 1;
        match field.as_str() {
            "driver" => Ok(Val::Str(self.dev.driver.clone())),
            "attributes" | "capacity" => {
                self.expect("[")?;
                let Some(Tok::Str(domain)) = self.peek().cloned() else {
                    return Err("expected a domain string".into());
                };
                self.i += 1;
                self.expect("]")?;
                self.expect(".")?;
                let Some(Tok::Ident(name)) = self.peek().cloned() else {
                    return Err("expected an attribute name".into());
                };
                self.i += 1;
                let key = format!("{domain}/{name}");
                let short = (domain == self.dev.driver).then(|| name.clone());
                if field == "attributes" {
                    let v = self
                        .dev
                        .attributes
                        .get(&key)
                        .or_else(|| short.as_ref().and_then(|s| self.dev.attributes.get(s)));
                    match v {
                        Some(AttrValue::Str(s)) => Ok(Val::Str(s.clone())),
                        Some(AttrValue::Int(n)) => Ok(Val::Int(*n)),
                        Some(AttrValue::Bool(b)) => Ok(Val::Bool(*b)),
                        Some(AttrValue::Version(v)) => Ok(Val::Version(v.clone())),
                        // CEL: a missing key is a runtime error, which aborts allocation.
                        None => Ok(Val::Error(format!("no attribute {key} on the device"))),
                    }
                } else {
                    let v = self
                        .dev
                        .capacity
                        .get(&key)
                        .or_else(|| short.as_ref().and_then(|s| self.dev.capacity.get(s)));
                    v.cloned()
                        .map(Val::Quantity)
                        .ok_or_else(|| format!("no capacity {key} on the device"))
                }
            }
            other => Err(format!("device.{other}")),
        }
    }
}

/// Evaluates `expr` on `device`.
///
/// ```
/// use rightsizer_k8s::cel::{evaluate, AttrValue, DeviceView, Selector};
/// let mut d = DeviceView { driver: "gpu.nvidia.com".into(), ..Default::default() };
/// d.attributes.insert("gpu.nvidia.com/productName".into(), AttrValue::Str("H100".into()));
/// d.capacity.insert("gpu.nvidia.com/memory".into(), "80Gi".parse().unwrap());
/// let e = r#"device.driver == "gpu.nvidia.com" && device.attributes["gpu.nvidia.com"].productName in ["H100", "H200"]
///            && device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("40Gi")) >= 0"#;
/// assert_eq!(evaluate(e, &d), Selector::Match);
/// assert!(matches!(evaluate("device.attributes.exists(x, true)", &d), Selector::Unsupported(_)));
/// ```
pub fn evaluate(expr: &str, device: &DeviceView) -> Selector {
    let toks = match lex(expr) {
        Ok(t) => t,
        Err(e) => return Selector::Unsupported(format!("unsupported selector: {e}")),
    };
    let mut p = P {
        t: &toks,
        i: 0,
        dev: device,
    };
    match p.or() {
        Ok(Val::Bool(b)) if p.i == toks.len() => {
            if b {
                Selector::Match
            } else {
                Selector::NoMatch
            }
        }
        Ok(v) if p.i == toks.len() => {
            Selector::Unsupported(format!("unsupported selector: result {v:?} is not a bool"))
        }
        Ok(_) => Selector::Unsupported(format!(
            "unsupported selector: trailing input at token {}",
            p.i
        )),
        Err(e) => Selector::Unsupported(format!("unsupported selector: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev() -> DeviceView {
        let mut d = DeviceView {
            driver: "gpu.example.com".into(),
            ..Default::default()
        };
        d.attributes.insert(
            "gpu.example.com/model".into(),
            AttrValue::Str("LATEST-GPU-MODEL".into()),
        );
        d.attributes
            .insert("gpu.example.com/index".into(), AttrValue::Int(3));
        d.attributes.insert(
            "gpu.example.com/driverVersion".into(),
            AttrValue::Version("550.54.15".into()),
        );
        d.capacity
            .insert("gpu.example.com/memory".into(), "40Gi".parse().unwrap());
        d
    }

    #[test]
    fn subset() {
        let d = dev();
        let t = |e: &str| evaluate(e, &d);
        assert_eq!(t(r#"device.driver == "gpu.example.com""#), Selector::Match);
        assert_eq!(
            t(r#"device.driver != "gpu.example.com""#),
            Selector::NoMatch
        );
        assert_eq!(
            t(
                r#"device.attributes["gpu.example.com"].index > 2 && !(device.attributes["gpu.example.com"].index >= 4)"#
            ),
            Selector::Match
        );
        assert_eq!(
            t(
                r#"device.attributes["gpu.example.com"].model == 'X' || device.attributes["gpu.example.com"].index in [1, 3]"#
            ),
            Selector::Match
        );
        assert_eq!(
            t(r#"device.capacity["gpu.example.com"].memory.compareTo(quantity("80Gi")) < 0"#),
            Selector::Match
        );
        assert_eq!(
            t(
                r#"device.attributes["gpu.example.com"].driverVersion >= device.attributes["gpu.example.com"].driverVersion"#
            ),
            Selector::Match
        );
        // Error absorption, as in CEL: the missing attribute does not matter.
        assert_eq!(
            t(r#"device.driver == "other" && device.attributes["other"].x == 1"#),
            Selector::NoMatch
        );
        assert_eq!(
            t(r#"device.attributes["other"].x == 1 || device.driver == "gpu.example.com""#),
            Selector::Match
        );
        for e in [
            r#"device.attributes["gpu.example.com"].model.startsWith("L")"#,
            r#"has(device.attributes["x"].y)"#,
            r#"device.attributes["other.com"].missing == 1"#,
            "1 + 2 == 3",
            r#"device.driver"#,
        ] {
            assert!(matches!(t(e), Selector::Unsupported(_)), "{e}");
        }
    }
}
