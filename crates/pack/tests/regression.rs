//! Regressions from issue 15 (hardening): each test failed before its fix.

use rightsizer_pack::{pack, BinType, Cost, Instance, Item, PackError, PackOptions};

/// Issue 15 item 3: costs near 2^63 wrapped when summed and the wrapped
/// (wrong) plan was reported "proven optimal". Now the instance is refused
/// with a typed error naming the limit, and the largest allowed cost packs
/// with an exact, unwrapped objective.
#[test]
fn costs_near_u64_max_are_refused_not_wrapped() {
    let items = || vec![Item::new(vec![6]), Item::new(vec![6]), Item::new(vec![6])];
    for cost in [u64::MAX / 2, u64::MAX / 3 + 1, i64::MAX as u64] {
        let inst = Instance {
            items: items(),
            bin_types: vec![BinType::new(vec![10], Cost(cost))],
            open_bins: vec![],
        };
        let e = pack(&inst, &PackOptions::default()).unwrap_err();
        match e {
            PackError::CostOverflow {
                bins,
                max_cost,
                limit,
            } => {
                assert_eq!((bins, max_cost), (4, cost));
                assert_eq!(limit, u64::MAX / 4);
            }
            other => panic!("expected CostOverflow, got {other:?}"),
        }
    }
    // Heterogeneous path (two types) too.
    let inst = Instance {
        items: items(),
        bin_types: vec![
            BinType::new(vec![10], Cost(i64::MAX as u64)),
            BinType::new(vec![20], Cost(5)),
        ],
        open_bins: vec![],
    };
    assert!(matches!(
        pack(&inst, &PackOptions::default()),
        Err(PackError::CostOverflow { .. })
    ));
    // At the limit the sum is exact: three bins of u64::MAX / 4.
    let limit = u64::MAX / 4;
    let inst = Instance {
        items: items(),
        bin_types: vec![BinType::new(vec![10], Cost(limit))],
        open_bins: vec![],
    };
    let r = pack(&inst, &PackOptions::default()).unwrap();
    assert_eq!(r.objective, Cost(3 * limit));
    assert_eq!(r.lower_bound, Cost(3 * limit));
    assert!(r.proven_optimal);
}
