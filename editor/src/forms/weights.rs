//! Weight controls that keep a route's total at 100 (a UI convenience: the
//! model and its MR103 lint judge whatever the user ends up with).

/// Sets `weights[changed]` to `new` (clamped to 0–100) and shares the rest of
/// 100 among the other destinations in proportion to their current weights
/// (evenly when they are all 0). The result sums to 100.
pub fn rebalance(weights: &[i32], changed: usize, new: i32) -> Vec<i32> {
    let new = new.clamp(0, 100);
    let mut out = weights.to_vec();
    if changed >= out.len() {
        return out;
    }
    out[changed] = new;
    let others: Vec<usize> = (0..out.len()).filter(|&k| k != changed).collect();
    if others.is_empty() {
        return out;
    }
    let rest = i64::from(100 - new);
    let sum: i64 = others.iter().map(|&k| i64::from(weights[k].max(0))).sum();
    let mut assigned = 0i64;
    for (n, &k) in others.iter().enumerate() {
        let share = if n + 1 == others.len() {
            rest - assigned
        } else if sum > 0 {
            rest * i64::from(weights[k].max(0)) / sum
        } else {
            rest / others.len() as i64
        };
        out[k] = share as i32;
        assigned += share;
    }
    out
}

/// `n` weights summing to 100, as even as integers allow (the first get the remainder).
pub fn even(n: usize) -> Vec<i32> {
    if n == 0 {
        return Vec::new();
    }
    let base = 100 / n as i32;
    let extra = 100 - base * n as i32;
    (0..n as i32).map(|i| base + i32::from(i < extra)).collect()
}

/// Scales `weights` to sum to 100 (evenly when they sum to 0).
pub fn normalize(weights: &[i32]) -> Vec<i32> {
    let sum: i64 = weights.iter().map(|w| i64::from((*w).max(0))).sum();
    if weights.is_empty() {
        return Vec::new();
    }
    if sum == 0 {
        return even(weights.len());
    }
    let mut out: Vec<i32> = weights
        .iter()
        .map(|w| (i64::from((*w).max(0)) * 100 / sum) as i32)
        .collect();
    let short = 100 - out.iter().sum::<i32>();
    if let Some(max) = out.iter_mut().max_by_key(|w| **w) {
        *max += short;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(normalize(&[90, 20]), vec![82, 18]);
        assert_eq!(normalize(&[0, 0]), vec![50, 50]);
        assert_eq!(normalize(&[30]), vec![100]);
    }

    #[test]
    fn two_destinations_complement() {
        assert_eq!(rebalance(&[90, 10], 0, 70), vec![70, 30]);
        assert_eq!(rebalance(&[90, 10], 1, 120), vec![0, 100]);
    }

    #[test]
    fn proportional_among_others() {
        assert_eq!(rebalance(&[50, 30, 20], 0, 80), vec![80, 12, 8]);
        assert_eq!(rebalance(&[100, 0, 0], 0, 40), vec![40, 30, 30]);
        for w in [
            rebalance(&[33, 33, 34], 2, 1),
            rebalance(&[1, 2, 3, 4], 3, 55),
        ] {
            assert_eq!(w.iter().sum::<i32>(), 100);
        }
    }

    #[test]
    fn even_split() {
        assert_eq!(even(3), vec![34, 33, 33]);
        assert_eq!(even(2), vec![50, 50]);
        assert!(even(0).is_empty());
    }
}
