//! Inspection reports and their reconciliation with the revealed declaration.
//!
//! An [`InspectionReport`] lists what inspectors found at one site: each item's
//! category and the attributes they observed, and its id where they could read one.
//! [`reconcile`] compares it with the revealed items declared at that site (an item's
//! site is its text attribute `site`, or its own id; see [`Item::site`]):
//!
//! * a found item with an id is matched to the declared item with that id; with no such
//!   item it is an `undeclared_item`, and any observed attribute (or the category) that
//!   differs from the declaration is an `attribute_mismatch`;
//! * a found item without an id is matched, in report order, first to an unmatched
//!   declared item of the same category whose attributes agree with everything
//!   observed, then to any unmatched item of the same category (an `attribute_mismatch`
//!   for each difference); failing both, it is an `undeclared_item`;
//! * a declared item that nothing matched is a `missing_item`.
//!
//! Only the attributes the inspectors report are compared: not observing an attribute
//! is not a mismatch.
//!
//! ```text
//! tag          "detente-escrow/inspection-report/v1"
//! inspector    name     the inspecting party
//! inspected    name     the inspected party
//! site         name
//! date         date
//! found        u32 BE count (0..=65536), each:
//!   id flag    u8       0 = no id, 1 = then id name
//!   category   name
//!   attributes as in an item (u16 BE count, names strictly increasing, typed values)
//! ```
//! Ids of found items are distinct.

use std::fmt;

use crate::codec::{FormatError, Problem, Reader, Writer, date_problem, invalid, name_problem};
use crate::commit::{Item, Value, attributes_valid, read_attributes, write_attributes};

/// The domain tag of an [`InspectionReport`] record.
pub const INSPECTION_REPORT_TAG: &str = "detente-escrow/inspection-report/v1";
/// The most found items in one report.
pub const MAX_FOUND_ITEMS: usize = 65_536;
/// The largest encoded report accepted (64 MiB).
pub const MAX_REPORT_BYTES: usize = 64 << 20;

/// One item inspectors found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundItem {
    /// Its id, if the inspectors could read one.
    pub id: Option<String>,
    /// Its category.
    pub category: String,
    /// The attributes observed, sorted by name.
    pub attributes: Vec<(String, Value)>,
}

/// What inspectors found at one site (a log entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectionReport {
    /// The inspecting party.
    pub inspector: String,
    /// The inspected party.
    pub inspected: String,
    /// The site.
    pub site: String,
    /// The date of the inspection, `YYYY-MM-DD`.
    pub date: String,
    /// What was found.
    pub found: Vec<FoundItem>,
}

impl InspectionReport {
    /// Checks that the report has a canonical encoding and distinct found ids.
    pub fn validate(&self) -> Result<(), FormatError> {
        const R: &str = "inspection-report";
        for (field, value) in [
            ("inspector", &self.inspector),
            ("inspected", &self.inspected),
            ("site", &self.site),
        ] {
            if let Some(p) = name_problem(value) {
                return Err(invalid(R, field, p));
            }
        }
        if let Some(p) = date_problem(&self.date) {
            return Err(invalid(R, "date", p));
        }
        if self.found.len() > MAX_FOUND_ITEMS {
            return Err(invalid(
                R,
                "found",
                Problem::Length {
                    len: self.found.len(),
                    min: 0,
                    max: MAX_FOUND_ITEMS,
                },
            ));
        }
        let mut ids: Vec<&str> = Vec::new();
        for f in &self.found {
            if let Some(id) = &f.id {
                if let Some(p) = name_problem(id) {
                    return Err(invalid(R, "id", p));
                }
                ids.push(id);
            }
            if let Some(p) = name_problem(&f.category) {
                return Err(invalid(R, "category", p));
            }
            attributes_valid(R, &f.attributes)?;
        }
        ids.sort_unstable();
        if let Some([_, id]) = ids.windows(2).find(|w| matches!(w, [a, b] if a == b)) {
            return Err(invalid(
                R,
                "id",
                Problem::Invalid(format!("found id {id:?} appears more than once")),
            ));
        }
        Ok(())
    }

    /// The canonical bytes.
    pub fn encode(&self) -> Result<Vec<u8>, FormatError> {
        self.validate()?;
        let mut w = Writer::with_tag(INSPECTION_REPORT_TAG);
        w.str(&self.inspector);
        w.str(&self.inspected);
        w.str(&self.site);
        w.bytes(self.date.as_bytes());
        w.count(self.found.len());
        for f in &self.found {
            match &f.id {
                None => w.u8(0),
                Some(id) => {
                    w.u8(1);
                    w.str(id);
                }
            }
            w.str(&f.category);
            write_attributes(&mut w.buf, &f.attributes);
        }
        Ok(w.finish())
    }

    /// Decodes and validates canonical bytes.
    pub fn decode(bytes: &[u8]) -> Result<InspectionReport, FormatError> {
        let mut r = Reader::new(
            "inspection-report",
            INSPECTION_REPORT_TAG,
            bytes,
            MAX_REPORT_BYTES,
        )?;
        let inspector = r.name("inspector")?;
        let inspected = r.name("inspected")?;
        let site = r.name("site")?;
        let date = r.date("date")?;
        let n = r.count("found", MAX_FOUND_ITEMS, 1 + 3 + 2)?;
        let mut found = Vec::with_capacity(n);
        let mut ids: Vec<(String, usize)> = Vec::new();
        for _ in 0..n {
            let id = if r.flag("id flag")? {
                let at = r.pos();
                let id = r.name("id")?;
                ids.push((id.clone(), at));
                Some(id)
            } else {
                None
            };
            let category = r.name("category")?;
            let attributes = read_attributes(&mut r)?;
            found.push(FoundItem {
                id,
                category,
                attributes,
            });
        }
        r.finish()?;
        ids.sort();
        if let Some([_, (id, at)]) = ids.windows(2).find(|w| matches!(w, [a, b] if a.0 == b.0)) {
            return Err(FormatError {
                record: "inspection-report",
                field: "id",
                offset: Some(*at),
                problem: Problem::Invalid(format!("found id {id:?} appears more than once")),
            });
        }
        Ok(InspectionReport {
            inspector,
            inspected,
            site,
            date,
            found,
        })
    }
}

/// One discrepancy between an inspection and the revealed declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectionFinding {
    /// `undeclared_item`: found at the site, but not declared there.
    UndeclaredItem {
        /// Its position in the report's found items.
        found: usize,
        /// Its id, if the inspectors read one.
        id: Option<String>,
        /// Its category.
        category: String,
    },
    /// `missing_item`: declared at the site, but not found.
    MissingItem {
        /// The declared id.
        id: String,
        /// The declared category.
        category: String,
    },
    /// `attribute_mismatch`: found and matched, but an observed attribute (or the
    /// category, as attribute `category`) differs from the declaration.
    AttributeMismatch {
        /// Its position in the report's found items.
        found: usize,
        /// The declared item's id.
        id: String,
        /// The attribute.
        attribute: String,
        /// The declared value (`None`: not declared).
        declared: Option<Value>,
        /// The observed value.
        observed: Value,
    },
}

impl InspectionFinding {
    /// The reason code: `undeclared_item`, `missing_item` or `attribute_mismatch`.
    pub fn code(&self) -> &'static str {
        match self {
            InspectionFinding::UndeclaredItem { .. } => "undeclared_item",
            InspectionFinding::MissingItem { .. } => "missing_item",
            InspectionFinding::AttributeMismatch { .. } => "attribute_mismatch",
        }
    }

    /// The ids involved (the evidence), if any.
    pub fn ids(&self) -> Vec<String> {
        match self {
            InspectionFinding::UndeclaredItem { id, .. } => id.iter().cloned().collect(),
            InspectionFinding::MissingItem { id, .. }
            | InspectionFinding::AttributeMismatch { id, .. } => vec![id.clone()],
        }
    }
}

impl fmt::Display for InspectionFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InspectionFinding::UndeclaredItem {
                found,
                id,
                category,
            } => match id {
                Some(id) => write!(
                    f,
                    "undeclared_item: found {category} {id:?} (report item {found}) is not declared at the site"
                ),
                None => write!(
                    f,
                    "undeclared_item: found {category} without id (report item {found}) matches no declared item at the site"
                ),
            },
            InspectionFinding::MissingItem { id, category } => write!(
                f,
                "missing_item: declared {category} {id:?} was not found at the site"
            ),
            InspectionFinding::AttributeMismatch {
                found,
                id,
                attribute,
                declared,
                observed,
            } => {
                write!(
                    f,
                    "attribute_mismatch: {id:?} (report item {found}): {attribute} declared "
                )?;
                match declared {
                    Some(v) => write!(f, "{v}")?,
                    None => write!(f, "(none)")?,
                }
                write!(f, ", observed {observed}")
            }
        }
    }
}

/// The differences between what was found and what was declared for one matched item.
fn differences(found_index: usize, found: &FoundItem, declared: &Item) -> Vec<InspectionFinding> {
    let mut out = Vec::new();
    if found.category != declared.category {
        out.push(InspectionFinding::AttributeMismatch {
            found: found_index,
            id: declared.id.clone(),
            attribute: "category".to_owned(),
            declared: Some(Value::Text(declared.category.clone())),
            observed: Value::Text(found.category.clone()),
        });
    }
    for (name, observed) in &found.attributes {
        let declared_value = declared.attribute(name);
        if declared_value != Some(observed) {
            out.push(InspectionFinding::AttributeMismatch {
                found: found_index,
                id: declared.id.clone(),
                attribute: name.clone(),
                declared: declared_value.cloned(),
                observed: observed.clone(),
            });
        }
    }
    out
}

/// Reconciles a report with the revealed items (any number; those at the report's
/// site are used). Findings come in report order, then missing items in id order.
pub fn reconcile(report: &InspectionReport, revealed: &[Item]) -> Vec<InspectionFinding> {
    let mut declared: Vec<&Item> = revealed
        .iter()
        .filter(|i| i.site() == report.site)
        .collect();
    declared.sort_by(|a, b| a.id.cmp(&b.id));
    declared.dedup_by(|a, b| a.id == b.id);
    let mut matched = vec![false; declared.len()];
    // (report position, findings) so the output follows the report's order.
    let mut per_found: Vec<Vec<InspectionFinding>> = vec![Vec::new(); report.found.len()];

    for (fi, f) in report.found.iter().enumerate() {
        let Some(id) = &f.id else { continue };
        let slot = declared.binary_search_by(|d| d.id.as_str().cmp(id)).ok();
        let target = slot.and_then(|d| Some((d, *declared.get(d)?)));
        let out = match target {
            Some((d, item)) if !matched.get(d).copied().unwrap_or(true) => {
                if let Some(m) = matched.get_mut(d) {
                    *m = true;
                }
                differences(fi, f, item)
            }
            _ => vec![InspectionFinding::UndeclaredItem {
                found: fi,
                id: Some(id.clone()),
                category: f.category.clone(),
            }],
        };
        if let Some(slot) = per_found.get_mut(fi) {
            *slot = out;
        }
    }

    let anonymous: Vec<usize> = report
        .found
        .iter()
        .enumerate()
        .filter(|(_, f)| f.id.is_none())
        .map(|(i, _)| i)
        .collect();
    let mut unplaced: Vec<usize> = Vec::new();
    for &fi in &anonymous {
        let Some(f) = report.found.get(fi) else {
            continue;
        };
        let exact = declared.iter().enumerate().position(|(d, item)| {
            !matched.get(d).copied().unwrap_or(true) && differences(fi, f, item).is_empty()
        });
        match exact.and_then(|d| matched.get_mut(d)) {
            Some(m) => *m = true,
            None => unplaced.push(fi),
        }
    }
    for fi in unplaced {
        let Some(f) = report.found.get(fi) else {
            continue;
        };
        let same_category = declared.iter().enumerate().position(|(d, item)| {
            !matched.get(d).copied().unwrap_or(true) && item.category == f.category
        });
        let out = match same_category.and_then(|d| Some((d, *declared.get(d)?))) {
            Some((d, item)) => {
                if let Some(m) = matched.get_mut(d) {
                    *m = true;
                }
                differences(fi, f, item)
            }
            None => vec![InspectionFinding::UndeclaredItem {
                found: fi,
                id: None,
                category: f.category.clone(),
            }],
        };
        if let Some(slot) = per_found.get_mut(fi) {
            *slot = out;
        }
    }

    let mut findings: Vec<InspectionFinding> = per_found.into_iter().flatten().collect();
    for (item, m) in declared.iter().zip(&matched) {
        if !m {
            findings.push(InspectionFinding::MissingItem {
                id: item.id.clone(),
                category: item.category.clone(),
            });
        }
    }
    findings
}
