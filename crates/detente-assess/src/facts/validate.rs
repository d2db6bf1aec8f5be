//! Checking facts against the names and attribute types a treaty defines.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::{
    Area, AttrValue, Attributes, FactError, FactErrorKind, Facts, MAX_ERRORS, Name, Origin,
};
use crate::suggest::did_you_mean;

/// The names a treaty defines, against which facts are validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vocabulary {
    pub parties: Vec<String>,
    /// Category → attribute → type.
    pub categories: BTreeMap<String, BTreeMap<String, AttrType>>,
    /// Event type → attribute → type.
    pub event_types: BTreeMap<String, BTreeMap<String, AttrType>>,
    pub declarable_quantities: Vec<String>,
    /// Provision ids (a notification names the provision it answers).
    pub provisions: Vec<String>,
    pub zones: Vec<String>,
}

impl Vocabulary {
    /// The names facts may use, taken from the checked treaty.
    pub fn of_treaty(treaty: &detente_lang::model::Treaty) -> Vocabulary {
        use detente_lang::model::Type;
        let attrs = |kind: &detente_lang::model::Kind| {
            kind.attrs
                .iter()
                .map(|(n, t)| {
                    let t = match t {
                        Type::Bool => AttrType::Bool,
                        Type::Int => AttrType::Int,
                        Type::Decimal => AttrType::Decimal,
                        Type::Enum(values) => AttrType::Enum(values.clone()),
                        _ => AttrType::Text,
                    };
                    (n.clone(), t)
                })
                .collect()
        };
        Vocabulary {
            parties: treaty.parties.clone(),
            categories: treaty
                .categories
                .iter()
                .map(|k| (k.name.clone(), attrs(k)))
                .collect(),
            event_types: treaty
                .event_types
                .iter()
                .map(|k| (k.name.clone(), attrs(k)))
                .collect(),
            declarable_quantities: treaty
                .quantities
                .iter()
                .filter(|q| q.declarable)
                .map(|q| q.name.clone())
                .collect(),
            provisions: treaty.provisions.iter().map(|p| p.id.clone()).collect(),
            zones: treaty.zones.iter().map(|z| z.name.clone()).collect(),
        }
    }
}

/// The type of an attribute, in the language's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrType {
    Bool,
    Int,
    /// An int is accepted too (it widens); never the reverse.
    Decimal,
    Text,
    Enum(Vec<String>),
}

impl AttrType {
    fn accepts(&self, value: &AttrValue) -> bool {
        match (self, value) {
            (AttrType::Bool, AttrValue::Bool(_))
            | (AttrType::Int, AttrValue::Int(_))
            | (AttrType::Decimal, AttrValue::Int(_) | AttrValue::Decimal(_))
            | (AttrType::Text, AttrValue::Text(_)) => true,
            (AttrType::Enum(values), AttrValue::Text(text)) => values.iter().any(|v| v == text),
            _ => false,
        }
    }
}

/// `bool`, `int`, `decimal`, `string`, `enum(silo, road)`.
impl fmt::Display for AttrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrType::Bool => f.write_str("bool"),
            AttrType::Int => f.write_str("int"),
            AttrType::Decimal => f.write_str("decimal"),
            AttrType::Text => f.write_str("string"),
            AttrType::Enum(values) => write!(f, "enum({})", values.join(", ")),
        }
    }
}

/// At most this many names are listed in a help message.
const MAX_LISTED: usize = 8;

fn listing<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (count, name) in names.into_iter().enumerate() {
        if count == MAX_LISTED {
            out.push_str(", …");
            break;
        }
        if count > 0 {
            out.push_str(", ");
        }
        out.push('`');
        out.push_str(name);
        out.push('`');
    }
    out
}

/// Collects errors in the facts' order, up to [`MAX_ERRORS`].
struct Check<'f> {
    facts: &'f Facts,
    vocab: &'f Vocabulary,
    errors: Vec<(Origin, FactError)>,
    overflow: bool,
    /// Parties found valid.
    parties: Passed,
    /// Item categories with attribute sets found valid.
    items: Passed,
    /// Event types with attribute sets found valid.
    events: Passed,
}

/// Interned names and attribute sets that passed a check, by address, so that the millions
/// of records that repeat them are checked once per distinct allocation. Only successes
/// are remembered, so every record with an error still reports it. The facts are borrowed
/// for the whole check, so an address cannot be reused; the cache decides nothing but
/// whether to check again.
struct Passed {
    /// Direct-mapped: a key may push out another, which is then merely checked again.
    slots: Vec<Option<(usize, usize)>>,
}

impl Passed {
    const SLOTS: usize = 256;

    fn new() -> Passed {
        Passed {
            slots: vec![None; Passed::SLOTS],
        }
    }

    fn key(name: &Name, attributes: Option<&Attributes>) -> (usize, usize) {
        let name = Arc::as_ptr(name).cast::<u8>() as usize;
        let attributes = attributes.map_or(0, |a| a.as_slice().as_ptr() as usize);
        (name, attributes)
    }

    fn slot((a, b): (usize, usize)) -> usize {
        let mixed = (a ^ b.rotate_left(17)).wrapping_mul(0x9e37_79b9_7f4a_7c15_u64 as usize);
        (mixed >> 24) % Passed::SLOTS
    }

    fn contains(&self, key: (usize, usize)) -> bool {
        self.slots.get(Passed::slot(key)) == Some(&Some(key))
    }

    fn insert(&mut self, key: (usize, usize)) {
        if let Some(slot) = self.slots.get_mut(Passed::slot(key)) {
            *slot = Some(key);
        }
    }
}

impl Check<'_> {
    fn push(
        &mut self,
        origin: Origin,
        kind: FactErrorKind,
        field: String,
        message: String,
        help: Option<String>,
    ) {
        if self.errors.len() >= MAX_ERRORS {
            self.overflow = true;
            return;
        }
        self.errors.push((
            origin,
            FactError {
                kind,
                source: self.facts.source_name(origin).to_owned(),
                line: origin.line,
                column: 0,
                field: Some(field),
                message,
                help,
            },
        ));
    }

    /// Reports `name` unless it is among `known`.
    fn name<'a>(
        &mut self,
        origin: Origin,
        field: &str,
        what: &str,
        name: &str,
        known: impl Iterator<Item = &'a str> + Clone,
    ) -> bool {
        if known.clone().any(|k| k == name) {
            return true;
        }
        let help = match did_you_mean(name, known.clone()) {
            Some(suggestion) => format!("did you mean `{suggestion}`?"),
            None if known.clone().next().is_none() => format!("the treaty defines no {what}"),
            None => format!("the treaty's {what} are {}", listing(known)),
        };
        let message = format!("unknown {} `{name}`", singular(what));
        self.push(
            origin,
            FactErrorKind::UnknownName,
            field.to_owned(),
            message,
            Some(help),
        );
        false
    }

    fn party(&mut self, origin: Origin, field: &str, party: &str) {
        let parties = self.vocab.parties.iter().map(String::as_str);
        self.name(origin, field, "parties", party, parties);
    }

    /// [`Check::party`], once per distinct allocation that passes.
    fn shared_party(&mut self, origin: Origin, field: &str, party: &Name) {
        let key = Passed::key(party, None);
        if self.parties.contains(key) {
            return;
        }
        let before = self.errors.len();
        self.party(origin, field, party);
        if self.errors.len() == before && !self.overflow {
            self.parties.insert(key);
        }
    }

    fn attributes(
        &mut self,
        origin: Origin,
        owner: &str,
        schema: &BTreeMap<String, AttrType>,
        attributes: &Attributes,
    ) {
        for (name, value) in attributes.iter() {
            let field = || format!("attributes.{name}");
            let Some(expected) = schema.get(&**name) else {
                let help = match did_you_mean(name, schema.keys().map(String::as_str)) {
                    Some(suggestion) => format!("did you mean `{suggestion}`?"),
                    None if schema.is_empty() => format!("`{owner}` has no attributes"),
                    None => format!(
                        "`{owner}` has the attributes {}",
                        listing(schema.keys().map(String::as_str))
                    ),
                };
                let message = format!("unknown attribute `{name}` of `{owner}`");
                self.push(
                    origin,
                    FactErrorKind::UnknownName,
                    field(),
                    message,
                    Some(help),
                );
                continue;
            };
            if expected.accepts(value) {
                continue;
            }
            let (message, help) = match (expected, value) {
                (AttrType::Enum(values), AttrValue::Text(text)) => (
                    format!(
                        "attribute `{name}` must be one of {}, found `{text}`",
                        listing(values.iter().map(String::as_str))
                    ),
                    did_you_mean(text, values.iter().map(String::as_str))
                        .map(|suggestion| format!("did you mean `{suggestion}`?")),
                ),
                (AttrType::Enum(values), _) => (
                    format!(
                        "attribute `{name}` must be one of {}, found `{value}`",
                        listing(values.iter().map(String::as_str))
                    ),
                    Some("enum values are written as strings".to_owned()),
                ),
                _ => (
                    format!(
                        "attribute `{name}` must be {}, found `{value}`",
                        article(expected)
                    ),
                    type_help(expected, value),
                ),
            };
            self.push(origin, FactErrorKind::AttributeType, field(), message, help);
        }
    }

    fn area(&mut self, origin: Origin, field: &str, area: Option<&Area>) {
        if let Some(Area::Zone(zone)) = area {
            let zones = self.vocab.zones.iter().map(String::as_str);
            self.name(origin, &format!("{field}.zone"), "zones", zone, zones);
        }
    }
}

fn singular(plural: &str) -> &str {
    match plural {
        "parties" => "party",
        "categories" => "category",
        "event types" => "event type",
        "declarable quantities" => "quantity",
        "provisions" => "provision",
        "zones" => "zone",
        other => other,
    }
}

fn article(t: &AttrType) -> String {
    match t {
        AttrType::Int | AttrType::Enum(_) => format!("an {t}"),
        _ => format!("a {t}"),
    }
}

fn type_help(expected: &AttrType, value: &AttrValue) -> Option<String> {
    match (expected, value) {
        (AttrType::Int, AttrValue::Decimal(_)) => {
            Some("an int attribute takes whole numbers written without a decimal point".to_owned())
        }
        (AttrType::Bool, AttrValue::Text(text)) if text == "true" || text == "false" => {
            Some(format!("write `{text}` without quotes"))
        }
        (AttrType::Int | AttrType::Decimal, AttrValue::Text(text))
            if text.parse::<f64>().is_ok() =>
        {
            Some(format!("write `{text}` without quotes"))
        }
        _ => None,
    }
}

impl Facts {
    /// Checks every name against the treaty's vocabulary: parties (and observers),
    /// categories, event types, declared quantities, provisions, zones and attribute names,
    /// and attribute values against their types (an int is accepted for a decimal; an enum
    /// value must be listed). An observation's `type` must be an event type or a category,
    /// and its attributes are checked against that type's. Attributes a category defines
    /// but an item lacks are not errors here; the engine decides what a missing value means.
    ///
    /// Errors carry no column (0): the facts no longer hold the line's text. They are sorted
    /// by origin, at most [`MAX_ERRORS`] of them plus a final note if there were more.
    pub fn validate(&self, vocab: &Vocabulary) -> Vec<FactError> {
        let mut check = Check {
            facts: self,
            vocab,
            errors: Vec::new(),
            overflow: false,
            parties: Passed::new(),
            items: Passed::new(),
            events: Passed::new(),
        };
        let categories = || vocab.categories.keys().map(String::as_str);
        let event_types = || vocab.event_types.keys().map(String::as_str);

        for d in &self.declarations {
            check.party(d.origin, "party", &d.party);
            for (name, _) in &d.quantities {
                let known = vocab.declarable_quantities.iter().map(String::as_str);
                check.name(
                    d.origin,
                    &format!("quantities.{name}"),
                    "declarable quantities",
                    name,
                    known,
                );
            }
        }
        for i in &self.items {
            check.shared_party(i.origin, "party", &i.party);
            let key = Passed::key(&i.category, Some(&i.attributes));
            if check.items.contains(key) {
                continue;
            }
            let before = check.errors.len();
            if check.name(
                i.origin,
                "category",
                "categories",
                &i.category,
                categories(),
            ) && let Some(schema) = vocab.categories.get(&*i.category)
            {
                check.attributes(i.origin, &i.category, schema, &i.attributes);
            }
            if check.errors.len() == before && !check.overflow {
                check.items.insert(key);
            }
        }
        for e in &self.events {
            check.shared_party(e.origin, "party", &e.party);
            let key = Passed::key(&e.event_type, Some(&e.attributes));
            if check.events.contains(key) {
                continue;
            }
            let before = check.errors.len();
            if check.name(
                e.origin,
                "type",
                "event types",
                &e.event_type,
                event_types(),
            ) && let Some(schema) = vocab.event_types.get(&*e.event_type)
            {
                check.attributes(e.origin, &e.event_type, schema, &e.attributes);
            }
            if check.errors.len() == before && !check.overflow {
                check.events.insert(key);
            }
        }
        for n in &self.notifications {
            check.party(n.origin, "party", &n.party);
            let provisions = vocab.provisions.iter().map(String::as_str);
            check.name(
                n.origin,
                "provision",
                "provisions",
                &n.provision,
                provisions,
            );
            check.name(
                n.origin,
                "event_type",
                "event types",
                &n.event_type,
                event_types(),
            );
            check.area(n.origin, "launch_area", n.launch_area.as_ref());
            check.area(n.origin, "impact_area", n.impact_area.as_ref());
        }
        for o in &self.observations {
            check.party(o.origin, "observer", &o.observer);
            check.party(o.origin, "party", &o.party);
            observation_type(&mut check, o.origin, &o.observed_type, &o.attributes);
            if let Some(category) = &o.category {
                check.name(o.origin, "category", "categories", category, categories());
            }
        }

        let Check {
            mut errors,
            overflow,
            ..
        } = check;
        errors.sort_by_key(|(origin, _)| *origin);
        let last = errors.last().map(|(origin, _)| *origin);
        let mut errors: Vec<FactError> = errors.into_iter().map(|(_, e)| e).collect();
        if overflow && let Some(origin) = last {
            errors.push(FactError {
                kind: FactErrorKind::Limit,
                source: self.source_name(origin).to_owned(),
                line: origin.line,
                column: 0,
                field: None,
                message: format!("too many errors: only the first {MAX_ERRORS} are shown"),
                help: Some("fix these and validate again".to_owned()),
            });
        }
        errors
    }
}

fn observation_type(
    check: &mut Check<'_>,
    origin: Origin,
    observed: &Name,
    attributes: &Attributes,
) {
    let vocab = check.vocab;
    if let Some(schema) = vocab.event_types.get(&**observed) {
        check.attributes(origin, observed, schema, attributes);
        return;
    }
    if let Some(schema) = vocab.categories.get(&**observed) {
        check.attributes(origin, observed, schema, attributes);
        return;
    }
    let known = || {
        vocab
            .event_types
            .keys()
            .chain(vocab.categories.keys())
            .map(String::as_str)
    };
    let help = match did_you_mean(observed, known()) {
        Some(suggestion) => format!("did you mean `{suggestion}`?"),
        None => format!(
            "the treaty's event types and categories are {}",
            listing(known())
        ),
    };
    let message = format!("unknown event type or category `{observed}`");
    check.push(
        origin,
        FactErrorKind::UnknownName,
        "type".to_owned(),
        message,
        Some(help),
    );
}
