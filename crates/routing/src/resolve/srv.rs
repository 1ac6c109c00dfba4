//! RFC 2782 target selection: lowest priority first; within a priority, a weighted random order
//! ("arrange all SRV RRs (that have not been ordered yet) in any order, except that all those
//! with weight 0 are placed at the beginning of the list; compute the sum of the weights …
//! choose a uniform random number between 0 and the sum …"). Used for SRV answers and for a
//! zone's configured peers alike. The random source is injected, so tests seed it.

use rand::{Rng, RngCore};

/// Orders `items` by `(priority, weight)` as RFC 2782 does.
pub(crate) fn order<T>(mut items: Vec<T>, key: impl Fn(&T) -> (u16, u16), rng: &mut dyn RngCore) -> Vec<T> {
    items.sort_by_key(|i| key(i).0);
    let mut out = Vec::with_capacity(items.len());
    let mut rest = items.into_iter().peekable();
    while let Some(first) = rest.next() {
        let priority = key(&first).0;
        let mut group = vec![first];
        while let Some(next) = rest.next_if(|i| key(i).0 == priority) {
            group.push(next);
        }
        // Zero weights first (stable), so that they are picked only when r lands on 0.
        group.sort_by_key(|i| key(i).1 != 0);
        while !group.is_empty() {
            let total: u32 = group.iter().map(|i| u32::from(key(i).1)).sum();
            let r = rng.random_range(0..=total);
            let mut running = 0u32;
            let pick = group
                .iter()
                .position(|i| {
                    running += u32::from(key(i).1);
                    running >= r
                })
                .unwrap_or(0);
            out.push(group.remove(pick));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn priorities_are_strict_and_weights_share_the_first_place() {
        let records = vec![("c", 20, 0), ("a", 10, 60), ("b", 10, 20), ("z", 10, 0)];
        let mut rng = StdRng::seed_from_u64(7);
        let mut first = std::collections::HashMap::new();
        for _ in 0..4000 {
            let ordered = order(records.clone(), |r| (r.1, r.2), &mut rng);
            assert_eq!(ordered.last().map(|r| r.0), Some("c"));
            *first.entry(ordered.first().map(|r| r.0).unwrap_or("?")).or_insert(0) += 1;
        }
        let a = first.get("a").copied().unwrap_or(0);
        let b = first.get("b").copied().unwrap_or(0);
        // 60:20 weights: `a` first about three times as often as `b`; weight 0 almost never.
        assert!((2600..3300).contains(&a), "a first {a} times");
        assert!((700..1300).contains(&b), "b first {b} times");
        assert!(first.get("z").copied().unwrap_or(0) < 100);
    }

    #[test]
    fn all_zero_weights_keep_their_order() {
        let mut rng = StdRng::seed_from_u64(1);
        let ordered = order(vec![("x", 1, 0), ("y", 1, 0), ("w", 0, 0)], |r| (r.1, r.2), &mut rng);
        assert_eq!(ordered.iter().map(|r| r.0).collect::<Vec<_>>(), ["w", "x", "y"]);
    }
}
