//! "Did you mean …?" suggestions for unknown names.
//!
//! A candidate is suggested when it is close to the unknown name: at most two edits apart
//! (insertions, deletions, substitutions or swaps of neighbours, ignoring case), or, failing
//! that, when one name starts with the other. Short names get a smaller edit budget so that
//! `RU` does not suggest `US`. Ties are broken by content (see `compare_edit`), so the
//! answer never depends on the order of the candidates.

use std::cmp::Ordering;

/// Names longer than this (in characters) get no suggestion: they are not typos of a name.
const MAX_NAME_CHARS: usize = 128;
/// A prefix match needs at least this many characters in the shorter name.
const MIN_PREFIX_CHARS: usize = 3;

/// The help line for an unknown name: "did you mean `x`?" for the closest candidate, if
/// any is close enough.
pub fn did_you_mean_help<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    did_you_mean(name, candidates).map(|s| format!("did you mean `{s}`?"))
}

/// The candidate most likely meant by `name`, if any is close enough.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let name_chars: Vec<char> = name.chars().collect();
    if name_chars.is_empty() || name_chars.len() > MAX_NAME_CHARS {
        return None;
    }
    let name_lower: Vec<char> = name_chars.iter().flat_map(|c| c.to_lowercase()).collect();
    let budget = match name_chars.len() {
        1 => 0,
        2..=3 => 1,
        _ => 2,
    };

    let mut best_edit: Option<EditKey<'a>> = None;
    let mut best_prefix: Option<&'a str> = None;
    for candidate in candidates {
        let chars: Vec<char> = candidate.chars().collect();
        let lower: Vec<char> = chars.iter().flat_map(|c| c.to_lowercase()).collect();
        if let Some(distance) = edit_distance(&name_lower, &lower, budget) {
            let exact = edit_distance(&name_chars, &chars, usize::MAX).unwrap_or(usize::MAX);
            let key = EditKey {
                distance,
                exact,
                length_change: chars.len().abs_diff(name_chars.len()),
                candidate,
            };
            if best_edit.is_none_or(|best| compare_edit(key, best) == Ordering::Less) {
                best_edit = Some(key);
            }
        } else if is_prefix_match(&name_lower, &lower)
            && best_prefix.is_none_or(|best| shorter_first(candidate, best) == Ordering::Less)
        {
            best_prefix = Some(candidate);
        }
    }
    best_edit.map(|key| key.candidate).or(best_prefix)
}

#[derive(Clone, Copy)]
struct EditKey<'a> {
    /// Ignoring case.
    distance: usize,
    /// Counting case.
    exact: usize,
    length_change: usize,
    candidate: &'a str,
}

/// Fewest edits first; then the closest length; then, as dropping a letter is a commoner slip
/// than adding one, the longer candidate (`USR` means `USSR` rather than `US`); then
/// alphabetical order.
fn compare_edit(a: EditKey<'_>, b: EditKey<'_>) -> Ordering {
    a.distance
        .cmp(&b.distance)
        .then(a.exact.cmp(&b.exact))
        .then(a.length_change.cmp(&b.length_change))
        .then(b.candidate.len().cmp(&a.candidate.len()))
        .then_with(|| a.candidate.cmp(b.candidate))
}

fn shorter_first(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn is_prefix_match(name: &[char], candidate: &[char]) -> bool {
    let shorter = name.len().min(candidate.len());
    shorter >= MIN_PREFIX_CHARS && (candidate.starts_with(name) || name.starts_with(candidate))
}

/// The optimal-string-alignment distance between `a` and `b` (Levenshtein plus swaps of
/// adjacent characters), if it is at most `limit`.
pub fn edit_distance(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    // Three rows of the dynamic-programming table: i-2, i-1 and i.
    let width = b.len() + 1;
    let mut before: Vec<usize> = vec![0; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current: Vec<usize> = vec![0; width];
    let mut a_previous: Option<char> = None;
    let mut previous_min = 0;
    for (i, &ca) in a.iter().enumerate() {
        let mut row_min = i + 1;
        if let Some(first) = current.first_mut() {
            *first = i + 1;
        }
        let mut b_previous: Option<char> = None;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = at(&previous, j) + usize::from(ca != cb);
            let deletion = at(&previous, j + 1) + 1;
            let insertion = at(&current, j) + 1;
            let mut cell = substitution.min(deletion).min(insertion);
            if a_previous == Some(cb) && b_previous == Some(ca) && i > 0 && j > 0 {
                cell = cell.min(at(&before, j - 1) + 1);
            }
            if let Some(slot) = current.get_mut(j + 1) {
                *slot = cell;
            }
            row_min = row_min.min(cell);
            b_previous = Some(cb);
        }
        // A cell depends on the row above and, through a swap, on the row above that: once
        // both exceed the limit, every later cell does too.
        if row_min > limit && previous_min > limit {
            return None;
        }
        previous_min = row_min;
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
        a_previous = Some(ca);
    }
    let distance = at(&previous, b.len());
    (distance <= limit).then_some(distance)
}

fn at(row: &[usize], index: usize) -> usize {
    row.get(index).copied().unwrap_or(usize::MAX / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distance(a: &str, b: &str) -> Option<usize> {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        edit_distance(&a, &b, usize::MAX / 4)
    }

    #[test]
    fn distances() {
        let cases = [
            ("", "", 0),
            ("abc", "abc", 0),
            ("", "abc", 3),
            ("kitten", "sitting", 3),
            ("USSR", "USR", 1),
            ("icbm_launcher", "icbm_lanucher", 1), // a swap
            ("ab", "ba", 1),
            ("ca", "abc", 3), // optimal string alignment, not full Damerau
            ("héllo", "hello", 1),
        ];
        for (a, b, expected) in cases {
            assert_eq!(distance(a, b), Some(expected), "{a} / {b}");
            assert_eq!(distance(b, a), Some(expected), "{b} / {a}");
        }
        let a: Vec<char> = "abcdef".chars().collect();
        let b: Vec<char> = "uvwxyz".chars().collect();
        assert_eq!(edit_distance(&a, &b, 2), None);
    }

    #[test]
    fn suggestions() {
        let parties = ["US", "USSR", "RU"];
        let categories = [
            "icbm_launcher",
            "slbm_launcher",
            "heavy_bomber",
            "military_base",
        ];
        let cases: [(&str, &[&str], Option<&str>); 12] = [
            ("USR", &parties, Some("USSR")),
            ("ussr", &parties, Some("USSR")),
            ("UK", &parties, Some("US")),
            ("RU", &["US"], None),
            ("X", &parties, None),
            ("icbm_lancher", &categories, Some("icbm_launcher")),
            ("icbm_launchers", &categories, Some("icbm_launcher")),
            ("icbm", &categories, Some("icbm_launcher")),
            ("heavy", &categories, Some("heavy_bomber")),
            ("submarine", &categories, None),
            ("", &categories, None),
            ("bomber", &categories, None),
        ];
        for (name, candidates, expected) in cases {
            assert_eq!(
                did_you_mean(name, candidates.iter().copied()),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn ties_do_not_depend_on_candidate_order() {
        let forward = ["abd", "abe", "abc"];
        let backward = ["abc", "abe", "abd"];
        assert_eq!(did_you_mean("abx", forward), Some("abc"));
        assert_eq!(did_you_mean("abx", backward), Some("abc"));
        let long = "x".repeat(10_000);
        assert_eq!(did_you_mean(&long, ["x"]), None);
    }
}
