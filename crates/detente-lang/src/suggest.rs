//! Did-you-mean suggestions for misspelt names.

/// The candidate closest to `name` by edit distance, if it is close enough to be a likely
/// typo: at most one edit for short names, two for longer ones, or a case-insensitive match.
/// Ties go to the candidate listed first, so the result is deterministic.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let length = name.chars().count();
    let limit = if length <= 4 { 1 } else { 2 };
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        // The distance is at least the difference in length: skip the work when that alone
        // rules the candidate out (a case-insensitive match has the same length too).
        if candidate == name || candidate.chars().count().abs_diff(length) > limit {
            continue;
        }
        let distance = if candidate.eq_ignore_ascii_case(name) {
            0
        } else {
            edit_distance(name, candidate)
        };
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance over characters, with adjacent transpositions counted as one edit.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut rows = vec![0usize; (a.len() + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    for (i, slot) in rows.iter_mut().step_by(width).enumerate() {
        *slot = i;
    }
    for (j, slot) in rows.iter_mut().take(width).enumerate() {
        *slot = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let get = |k: usize| rows.get(k).copied().unwrap_or(usize::MAX / 2);
            let same = a.get(i - 1) == b.get(j - 1);
            let mut best = (get(at(i - 1, j)) + 1)
                .min(get(at(i, j - 1)) + 1)
                .min(get(at(i - 1, j - 1)) + usize::from(!same));
            if i > 1 && j > 1 && a.get(i - 1) == b.get(j - 2) && a.get(i - 2) == b.get(j - 1) {
                best = best.min(get(at(i - 2, j - 2)) + 1);
            }
            if let Some(slot) = rows.get_mut(at(i, j)) {
                *slot = best;
            }
        }
    }
    rows.get(at(a.len(), b.len())).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["icbm_launcher", "slbm_launcher", "heavy_bomber"];
        assert_eq!(did_you_mean("icbm_lanucher", names), Some("icbm_launcher"));
        assert_eq!(did_you_mean("heavy_bombers", names), Some("heavy_bomber"));
        assert_eq!(did_you_mean("warship", names), None);
        assert_eq!(did_you_mean("USR", ["US", "USSR"]), Some("US"));
        assert_eq!(did_you_mean("ussr", ["US", "USSR"]), Some("USSR"));
    }

    #[test]
    fn distance_counts_transpositions_once() {
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
