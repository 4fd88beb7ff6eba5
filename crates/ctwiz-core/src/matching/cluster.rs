//! Review clusters: records joined by possible-duplicate pairs, grouped together so a
//! reviewer settles one person's records at once instead of pair by pair.

use std::collections::BTreeMap;

/// Groups the records named by `pairs` into connected clusters (each pair joins its two
/// records). Every record named by some pair is in exactly one cluster; a cluster's
/// records are sorted, and clusters are ordered by their smallest record.
pub fn clusters<T: Ord + Copy>(pairs: &[(T, T)]) -> Vec<Vec<T>> {
    let mut index: BTreeMap<T, usize> = BTreeMap::new();
    for &(a, b) in pairs {
        for x in [a, b] {
            let n = index.len();
            index.entry(x).or_insert(n);
        }
    }
    let mut parent: Vec<usize> = (0..index.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for &(a, b) in pairs {
        let (ra, rb) = (root(&mut parent, index[&a]), root(&mut parent, index[&b]));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut groups: BTreeMap<usize, Vec<T>> = BTreeMap::new();
    // BTreeMap iteration is in record order, so each group comes out sorted.
    for (&x, &i) in &index {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(x);
    }
    let mut out: Vec<Vec<T>> = groups.into_values().collect();
    out.sort_by_key(|g| g[0]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn chains_join_and_strangers_stay_apart() {
        let c = clusters(&[(5, 3), (3, 9), (1, 2), (9, 5)]);
        assert_eq!(c, vec![vec![1, 2], vec![3, 5, 9]]);
        assert!(clusters::<u32>(&[]).is_empty());
    }

    proptest! {
        /// The clusters partition the records the pairs name, and both records of every
        /// pair are in the same cluster.
        #[test]
        fn clusters_partition_the_paired_records(pairs in prop::collection::vec((0u32..40, 0u32..40), 0..60)) {
            let c = clusters(&pairs);
            let named: BTreeSet<u32> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
            let mut seen = BTreeSet::new();
            for g in &c {
                prop_assert!(!g.is_empty());
                for x in g {
                    prop_assert!(seen.insert(*x), "record {} in two clusters", x);
                }
            }
            prop_assert_eq!(&seen, &named);
            for (a, b) in &pairs {
                prop_assert!(c.iter().any(|g| g.contains(a) && g.contains(b)));
            }
            // Minimal: a cluster does not fall apart into two unconnected groups.
            for g in &c {
                let inside: Vec<(u32, u32)> = pairs.iter().copied().filter(|(a, _)| g.contains(a)).collect();
                prop_assert_eq!(clusters(&inside).len(), 1);
            }
        }
    }
}
