//! Readers for the benchmark text formats: BPPLIB "BPP" (1-D) and
//! VPSolver ".vbp" (vector). They parse from a string so that callers keep
//! control of file access.

use crate::instance::{Instance, Item, PackError};

/// The most items a `.vbp` file may expand to through its demands (the
/// largest published vector instances have a few thousand).
pub const MAX_ITEMS: u64 = 10_000_000;

fn tokens(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .flat_map(|(ln, l)| l.split_whitespace().map(move |t| (ln + 1, t)))
}

fn num(file: &str, tok: Option<(usize, &str)>, what: &str) -> Result<u64, PackError> {
    match tok {
        None => Err(PackError::Parse {
            file: file.to_string(),
            line: 0,
            message: format!("unexpected end of input, expected {what}"),
        }),
        Some((line, t)) => t.parse::<u64>().map_err(|e| PackError::Parse {
            file: file.to_string(),
            line,
            message: format!("{what}: {t:?} is not a non-negative integer ({e})"),
        }),
    }
}

/// Parses a BPPLIB BPP file: `n`, capacity, then `n` weights.
///
/// ```
/// let inst = rightsizer_pack::io::parse_bpp("x.txt", "3\n10\n5\n5\n4\n")?;
/// assert_eq!(inst.items.len(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_bpp(file: &str, text: &str) -> Result<Instance, PackError> {
    let mut t = tokens(text);
    let n = num(file, t.next(), "item count")? as usize;
    let c = num(file, t.next(), "capacity")?;
    // The count is untrusted: reserve no more than the text can hold.
    let mut w = Vec::with_capacity(n.min(text.len() / 2 + 1));
    for _ in 0..n {
        w.push(num(file, t.next(), "weight")?);
    }
    Ok(Instance::one_dim(c, &w))
}

/// Parses a VPSolver `.vbp` file: `d`, the `d` capacities, the number of
/// item lines `m`, then `m` lines of `d` sizes and a demand (copies).
///
/// ```
/// let inst = rightsizer_pack::io::parse_vbp("x.vbp", "2\n10 10\n2\n5 3 1\n4 4 2\n")?;
/// assert_eq!(inst.items.len(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_vbp(file: &str, text: &str) -> Result<Instance, PackError> {
    let mut t = tokens(text).peekable();
    let d = num(file, t.next(), "dimension count")? as usize;
    let mut cap = Vec::with_capacity(d.min(text.len() / 2 + 1));
    for _ in 0..d {
        cap.push(num(file, t.next(), "capacity")?);
    }
    let m = num(file, t.next(), "item line count")? as usize;
    let mut items = Vec::new();
    for _ in 0..m {
        let mut s = Vec::with_capacity(d);
        for _ in 0..d {
            s.push(num(file, t.next(), "size")?);
        }
        let line = t.peek().map_or(0, |x| x.0);
        let copies = num(file, t.next(), "demand")?;
        if copies > MAX_ITEMS - items.len() as u64 {
            return Err(PackError::Parse {
                file: file.to_string(),
                line,
                message: format!("demand {copies} takes the instance beyond {MAX_ITEMS} items"),
            });
        }
        for _ in 0..copies {
            items.push(Item::new(s.clone()));
        }
    }
    Ok(Instance::uniform(cap, items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_the_line() {
        let e = parse_bpp("f.txt", "2\n10\n5\nx\n").unwrap_err();
        assert!(matches!(e, PackError::Parse { line: 4, .. }), "{e:?}");
        assert!(parse_bpp("f.txt", "3\n10\n5\n").is_err());
        assert!(parse_vbp("f.vbp", "2\n10\n").is_err());
        // Untrusted counts (fuzz: `2222244245`) must not allocate up front.
        assert!(parse_bpp("f.txt", "2222244245").is_err());
        assert!(parse_vbp("f.vbp", "99999999999 1").is_err());
        let e = parse_vbp("f.vbp", "1\n10\n1\n5 99999999999\n").unwrap_err();
        assert!(e.to_string().contains("beyond"), "{e}");
    }
}
