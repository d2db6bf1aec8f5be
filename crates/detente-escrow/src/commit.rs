//! Committing to a complete item-level declaration without disclosing it.
//!
//! Each item gets a fresh 32-byte salt; its **item commitment** is
//! `SHA-256("detente-escrow/item/v1" || salt || canonical item)`. The items are ordered
//! by (region, id) and the RFC 6962 Merkle root over their commitments (each commitment
//! is one leaf, hashed as `SHA-256(0x00 || commitment)`) is published in a
//! [`Commitment`] record with the total count and, if the party chooses, the count per
//! region. The salts and items stay in the party's [`Escrow`].
//!
//! Canonical item bytes (no tag of their own; the item commitment's tag precedes them):
//!
//! ```text
//! region      name
//! id          name
//! category    name
//! attr_count  u16 BE (0..=256), then per attribute, names strictly increasing (bytewise):
//!   name      name
//!   value     u8 type: 1 text (then text), 2 integer (then i64 BE), 3 bool (then u8 0/1)
//! location    u8 0 = none, or 1 then lat i32 BE and lon i32 BE in 1e-7 degrees
//!             (lat -900000000..=900000000, lon -1800000000..=1800000000)
//! ```

use std::collections::HashSet;
use std::fmt;

use detente_ledger::Hash;
use detente_ledger::merkle::{Tree, leaf_hash};
use sha2::{Digest as _, Sha256};

use crate::codec::{
    FormatError, MAX_NAME_BYTES, MAX_TEXT_BYTES, Problem, Reader, Writer, date_problem, invalid,
    name_problem, put_str, text_problem,
};
use crate::reveal::{Reveal, RevealedItem};

/// The domain tag of an item commitment.
pub const ITEM_TAG: &str = "detente-escrow/item/v1";
/// The domain tag of a [`Commitment`] record.
pub const COMMITMENT_TAG: &str = "detente-escrow/commitment/v1";

/// The most attributes an item may have.
pub const MAX_ATTRIBUTES: usize = 256;
/// The most regions a commitment may list counts for.
pub const MAX_REGIONS: usize = 65_536;
/// The largest encoded item.
pub const MAX_ITEM_BYTES: usize = 3 * (2 + MAX_NAME_BYTES)
    + 2
    + MAX_ATTRIBUTES * (2 + MAX_NAME_BYTES + 1 + 2 + MAX_TEXT_BYTES)
    + 9;
/// The largest encoded [`Commitment`].
pub const MAX_COMMITMENT_BYTES: usize = COMMITMENT_TAG.len()
    + 2
    + MAX_NAME_BYTES
    + 10
    + 8
    + 32
    + 1
    + 4
    + MAX_REGIONS * (2 + MAX_NAME_BYTES + 8);

/// A fresh random 32-byte salt, one per item. It hides the item (without it, a guess of
/// the item could be checked against the commitment) and must never be reused.
pub type Salt = [u8; 32];

/// An attribute value. Decimals and anything else are given as text, written the same
/// way by every party (for a JSON number: its shortest round-trip form).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    /// Text, at most 1024 bytes.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// True or false.
    Bool(bool),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(s) => write!(f, "{s:?}"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// A point on the Earth in units of 1e-7 degree (about 1 cm), so that it has exactly
/// one encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Latitude in 1e-7 degrees, -900000000..=900000000.
    pub lat_e7: i32,
    /// Longitude in 1e-7 degrees, -1800000000..=1800000000.
    pub lon_e7: i32,
}

impl Location {
    /// The location nearest to `lat`, `lon` in degrees (rounded to 1e-7 degree).
    pub fn from_degrees(lat: f64, lon: f64) -> Result<Location, FormatError> {
        let field = |name: &'static str, v: f64, limit: f64| {
            if v.is_finite() && v.abs() <= limit {
                // In range, so the rounded value fits an i32 (|v| * 1e7 <= 1.8e9).
                Ok((v * 1e7).round() as i32)
            } else {
                Err(invalid(
                    "item",
                    name,
                    Problem::Invalid(format!("{v} is not between -{limit} and {limit} degrees")),
                ))
            }
        };
        Ok(Location {
            lat_e7: field("location.lat", lat, 90.0)?,
            lon_e7: field("location.lon", lon, 180.0)?,
        })
    }

    /// Latitude in degrees.
    pub fn lat(&self) -> f64 {
        f64::from(self.lat_e7) / 1e7
    }

    /// Longitude in degrees.
    pub fn lon(&self) -> f64 {
        f64::from(self.lon_e7) / 1e7
    }

    fn problem(&self) -> Option<(&'static str, Problem)> {
        if self.lat_e7.unsigned_abs() > 900_000_000 {
            return Some((
                "location.lat",
                Problem::Invalid(format!("{} is not a latitude in 1e-7 degrees", self.lat_e7)),
            ));
        }
        if self.lon_e7.unsigned_abs() > 1_800_000_000 {
            return Some((
                "location.lon",
                Problem::Invalid(format!(
                    "{} is not a longitude in 1e-7 degrees",
                    self.lon_e7
                )),
            ));
        }
        None
    }
}

/// One treaty-accountable item, as the party declares it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Item {
    /// The region it is declared in (the unit of a reveal).
    pub region: String,
    /// The party's identifier for it, unique within the declaration.
    pub id: String,
    /// Its category (e.g. `icbm_launcher`).
    pub category: String,
    /// Its attributes, sorted by name, names unique. The attribute `site` (text), if
    /// present, names the inspection site the item is at (see [`Item::site`]).
    pub attributes: Vec<(String, Value)>,
    /// Where it is, if declared.
    pub location: Option<Location>,
}

impl Item {
    /// An item with its attributes sorted by name; refuses duplicate attribute names and
    /// anything [`Item::validate`] refuses.
    pub fn new(
        region: &str,
        id: &str,
        category: &str,
        mut attributes: Vec<(String, Value)>,
        location: Option<Location>,
    ) -> Result<Item, FormatError> {
        attributes.sort_by(|a, b| a.0.cmp(&b.0));
        let item = Item {
            region: region.to_owned(),
            id: id.to_owned(),
            category: category.to_owned(),
            attributes,
            location,
        };
        item.validate()?;
        Ok(item)
    }

    /// Checks that the item has a canonical encoding: names 1..=128 bytes without
    /// control characters, text values at most 1024 bytes, at most 256 attributes with
    /// strictly increasing names, and a location on the Earth.
    pub fn validate(&self) -> Result<(), FormatError> {
        let check_name = |field: &'static str, s: &str| match name_problem(s) {
            Some(problem) => Err(invalid("item", field, problem)),
            None => Ok(()),
        };
        check_name("region", &self.region)?;
        check_name("id", &self.id)?;
        check_name("category", &self.category)?;
        attributes_valid("item", &self.attributes)?;
        if let Some((field, problem)) = self.location.as_ref().and_then(Location::problem) {
            return Err(invalid("item", field, problem));
        }
        Ok(())
    }

    /// The value of the attribute `name`, if the item has it.
    pub fn attribute(&self, name: &str) -> Option<&Value> {
        self.attributes
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .and_then(|i| self.attributes.get(i))
            .map(|(_, v)| v)
    }

    /// The inspection site the item is at: the text attribute `site` if it has one, else
    /// its own id (an item that is a site by itself, such as a silo).
    pub fn site(&self) -> &str {
        match self.attribute("site") {
            Some(Value::Text(site)) => site,
            _ => &self.id,
        }
    }

    /// The canonical bytes of a valid item (see the module documentation).
    pub fn encode(&self) -> Result<Vec<u8>, FormatError> {
        self.validate()?;
        let mut buf = Vec::with_capacity(128);
        self.write(&mut buf);
        Ok(buf)
    }

    /// Decodes canonical item bytes (nothing may follow).
    pub fn decode(bytes: &[u8]) -> Result<Item, FormatError> {
        let mut r = Reader::untagged("item", bytes, MAX_ITEM_BYTES)?;
        let item = Item::read(&mut r)?;
        r.finish()?;
        Ok(item)
    }

    /// Appends the canonical bytes, assuming the item is valid.
    pub(crate) fn write(&self, buf: &mut Vec<u8>) {
        put_str(buf, &self.region);
        put_str(buf, &self.id);
        put_str(buf, &self.category);
        write_attributes(buf, &self.attributes);
        match &self.location {
            None => buf.push(0),
            Some(loc) => {
                buf.push(1);
                buf.extend_from_slice(&loc.lat_e7.to_be_bytes());
                buf.extend_from_slice(&loc.lon_e7.to_be_bytes());
            }
        }
    }

    /// Reads one item from a record.
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Item, FormatError> {
        let region = r.name("region")?;
        let id = r.name("id")?;
        let category = r.name("category")?;
        let attributes = read_attributes(r)?;
        let location = if r.flag("location flag")? {
            let at = r.pos();
            let loc = Location {
                lat_e7: r.i32("location.lat")?,
                lon_e7: r.i32("location.lon")?,
            };
            if let Some((field, problem)) = loc.problem() {
                return Err(r.err(field, at, problem));
            }
            Some(loc)
        } else {
            None
        };
        Ok(Item {
            region,
            id,
            category,
            attributes,
            location,
        })
    }
}

/// Checks an attribute list: at most 256, names valid and strictly increasing, text
/// values at most 1024 bytes.
pub(crate) fn attributes_valid(
    record: &'static str,
    attributes: &[(String, Value)],
) -> Result<(), FormatError> {
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(invalid(
            record,
            "attributes",
            Problem::Length {
                len: attributes.len(),
                min: 0,
                max: MAX_ATTRIBUTES,
            },
        ));
    }
    let mut previous: Option<&str> = None;
    for (name, value) in attributes {
        if let Some(problem) = name_problem(name) {
            return Err(invalid(record, "attribute name", problem));
        }
        if let Some(prev) = previous
            && prev >= name.as_str()
        {
            return Err(invalid(
                record,
                "attributes",
                Problem::Invalid(format!(
                    "attribute {name:?} {} {prev:?}: names must be sorted and unique",
                    if prev == name {
                        "repeats"
                    } else {
                        "comes after"
                    }
                )),
            ));
        }
        previous = Some(name);
        if let Value::Text(t) = value
            && let Some(problem) = text_problem(t)
        {
            return Err(invalid(record, "attribute value", problem));
        }
    }
    Ok(())
}

/// Appends an attribute list: u16 BE count, then name and typed value per attribute.
pub(crate) fn write_attributes(buf: &mut Vec<u8>, attributes: &[(String, Value)]) {
    let n = u16::try_from(attributes.len()).unwrap_or(u16::MAX);
    buf.extend_from_slice(&n.to_be_bytes());
    for (name, value) in attributes {
        put_str(buf, name);
        match value {
            Value::Text(t) => {
                buf.push(1);
                put_str(buf, t);
            }
            Value::Integer(i) => {
                buf.push(2);
                buf.extend_from_slice(&i.to_be_bytes());
            }
            Value::Bool(b) => {
                buf.push(3);
                buf.push(u8::from(*b));
            }
        }
    }
}

/// Reads an attribute list written by [`write_attributes`].
pub(crate) fn read_attributes(r: &mut Reader<'_>) -> Result<Vec<(String, Value)>, FormatError> {
    let at = r.pos();
    let n = usize::from(r.u16("attribute count")?);
    if n > MAX_ATTRIBUTES {
        return Err(r.err(
            "attribute count",
            at,
            Problem::Length {
                len: n,
                min: 0,
                max: MAX_ATTRIBUTES,
            },
        ));
    }
    let mut attributes: Vec<(String, Value)> = Vec::with_capacity(n.min(r.remaining() / 4));
    for _ in 0..n {
        let at = r.pos();
        let name = r.name("attribute name")?;
        if let Some((prev, _)) = attributes.last()
            && prev.as_str() >= name.as_str()
        {
            return Err(r.err(
                "attribute name",
                at,
                Problem::Invalid(format!(
                    "{name:?} is not after {prev:?}: names must be sorted and unique"
                )),
            ));
        }
        let at = r.pos();
        let value = match r.u8("attribute type")? {
            1 => Value::Text(r.text("attribute value")?),
            2 => Value::Integer(r.i64("attribute value")?),
            3 => Value::Bool(r.flag("attribute value")?),
            other => {
                return Err(r.err(
                    "attribute type",
                    at,
                    Problem::Invalid(format!(
                        "type {other} is not 1 (text), 2 (integer) or 3 (bool)"
                    )),
                ));
            }
        };
        attributes.push((name, value));
    }
    Ok(attributes)
}

/// The item commitment `SHA-256("detente-escrow/item/v1" || salt || canonical item)` of
/// a valid item.
pub fn item_commitment(salt: &Salt, item: &Item) -> Hash {
    let mut buf = Vec::with_capacity(ITEM_TAG.len() + 32 + 128);
    item_commitment_with(&mut buf, salt, item)
}

/// [`item_commitment`] reusing a buffer.
fn item_commitment_with(buf: &mut Vec<u8>, salt: &Salt, item: &Item) -> Hash {
    buf.clear();
    buf.extend_from_slice(ITEM_TAG.as_bytes());
    buf.extend_from_slice(salt);
    item.write(buf);
    Sha256::digest(&buf[..]).into()
}

/// The Merkle leaf hash of an item: `SHA-256(0x00 || item commitment)`.
pub fn item_leaf(salt: &Salt, item: &Item) -> Hash {
    leaf_hash(&item_commitment(salt, item))
}

/// Why an escrow could not be made, or a record made from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EscrowError {
    /// An item, party or date is not valid.
    Format(FormatError),
    /// Two items have the same id.
    DuplicateId {
        /// The id.
        id: String,
    },
    /// No item is declared in the region asked for.
    UnknownRegion {
        /// The region.
        region: String,
    },
}

impl fmt::Display for EscrowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EscrowError::Format(e) => write!(f, "{e}"),
            EscrowError::DuplicateId { id } => {
                write!(f, "item id {id:?} is declared more than once")
            }
            EscrowError::UnknownRegion { region } => {
                write!(f, "no item is declared in region {region:?}")
            }
        }
    }
}

impl std::error::Error for EscrowError {}

impl From<FormatError> for EscrowError {
    fn from(e: FormatError) -> EscrowError {
        EscrowError::Format(e)
    }
}

/// The contiguous range of leaf indices one region occupies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionRange {
    /// The region.
    pub region: String,
    /// Index of its first item.
    pub start: u64,
    /// Number of its items.
    pub count: u64,
}

/// What a party keeps private: its items in (region, id) order, their salts and the
/// Merkle tree over their commitments. It produces the public [`Commitment`] and, region
/// by region, [`Reveal`]s.
#[derive(Debug, Clone)]
pub struct Escrow {
    items: Vec<Item>,
    salts: Vec<Salt>,
    tree: Tree,
    regions: Vec<RegionRange>,
}

impl Escrow {
    /// An escrow of the given items, each with its own fresh salt. Items are sorted by
    /// (region, id); an invalid item or a repeated id is refused.
    pub fn new(mut items: Vec<(Item, Salt)>) -> Result<Escrow, EscrowError> {
        for (item, _) in &items {
            item.validate()?;
        }
        items.sort_unstable_by(|(a, _), (b, _)| (&a.region, &a.id).cmp(&(&b.region, &b.id)));
        let mut ids: HashSet<&str> = HashSet::with_capacity(items.len());
        for (item, _) in &items {
            if !ids.insert(item.id.as_str()) {
                return Err(EscrowError::DuplicateId {
                    id: item.id.clone(),
                });
            }
        }
        drop(ids);
        let mut buf = Vec::with_capacity(512);
        let leaves: Vec<Hash> = items
            .iter()
            .map(|(item, salt)| leaf_hash(&item_commitment_with(&mut buf, salt, item)))
            .collect();
        let tree = Tree::from_leaf_hashes(leaves);
        let mut regions: Vec<RegionRange> = Vec::new();
        for (index, (item, _)) in items.iter().enumerate() {
            match regions.last_mut() {
                Some(last) if last.region == item.region => last.count += 1,
                _ => regions.push(RegionRange {
                    region: item.region.clone(),
                    start: index as u64,
                    count: 1,
                }),
            }
        }
        let (items, salts) = items.into_iter().unzip();
        Ok(Escrow {
            items,
            salts,
            tree,
            regions,
        })
    }

    /// An escrow whose salts are drawn from `rng` (32 bytes per item, in the order the
    /// items are given).
    pub fn with_rng(
        items: Vec<Item>,
        rng: &mut (impl rand08::RngCore + rand08::CryptoRng),
    ) -> Result<Escrow, EscrowError> {
        let salted = items
            .into_iter()
            .map(|item| {
                let mut salt = [0u8; 32];
                rng.fill_bytes(&mut salt);
                (item, salt)
            })
            .collect();
        Escrow::new(salted)
    }

    /// The items, in (region, id) order: item `i` is leaf `i`.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The salts, in the same order as the items.
    pub fn salts(&self) -> &[Salt] {
        &self.salts
    }

    /// The number of items.
    pub fn len(&self) -> u64 {
        self.items.len() as u64
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The Merkle root over the item commitments.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// The tree over the item commitments.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Each region's contiguous index range, in region order.
    pub fn regions(&self) -> &[RegionRange] {
        &self.regions
    }

    /// The public commitment. With `publish_region_counts`, it lists how many items each
    /// region holds (which discloses the distribution, but lets every reveal be checked
    /// for completeness at once).
    pub fn commitment(
        &self,
        party: &str,
        as_of: &str,
        publish_region_counts: bool,
    ) -> Result<Commitment, EscrowError> {
        let c = Commitment {
            party: party.to_owned(),
            as_of: as_of.to_owned(),
            total: self.len(),
            root: self.root(),
            region_counts: publish_region_counts.then(|| {
                self.regions
                    .iter()
                    .map(|r| (r.region.clone(), r.count))
                    .collect()
            }),
        };
        c.validate()?;
        Ok(c)
    }

    /// The reveal of every item in `region`, each with its salt and inclusion proof.
    pub fn reveal(&self, party: &str, as_of: &str, region: &str) -> Result<Reveal, EscrowError> {
        let range = self
            .regions
            .iter()
            .find(|r| r.region == region)
            .ok_or_else(|| EscrowError::UnknownRegion {
                region: region.to_owned(),
            })?;
        let size = self.len();
        let mut items = Vec::new();
        for index in range.start..range.start.saturating_add(range.count) {
            let i = usize::try_from(index).unwrap_or(usize::MAX);
            let (Some(item), Some(salt)) = (self.items.get(i), self.salts.get(i)) else {
                continue;
            };
            let proof = self
                .tree
                .inclusion_proof(index, size)
                .map_err(|e| invalid("reveal", "proof", Problem::Invalid(e.to_string())))?;
            items.push(RevealedItem {
                index,
                salt: *salt,
                item: item.clone(),
                proof,
            });
        }
        let reveal = Reveal {
            party: party.to_owned(),
            as_of: as_of.to_owned(),
            root: self.root(),
            tree_size: size,
            region: region.to_owned(),
            items,
        };
        reveal.validate()?;
        Ok(reveal)
    }
}

/// The public commitment to a declaration (a log entry).
///
/// ```text
/// tag          "detente-escrow/commitment/v1"
/// party        name
/// as_of        date
/// total        u64 BE   number of items (= Merkle tree size)
/// root         32 bytes RFC 6962 root over the item commitments
/// counts flag  u8       0 = counts per region withheld, 1 = published, then:
///   regions    u32 BE (1..=65536), per region, names strictly increasing (bytewise):
///     region   name
///     count    u64 BE (>= 1); the counts add up to total
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    /// The committing party.
    pub party: String,
    /// The date the declaration is as of, `YYYY-MM-DD`.
    pub as_of: String,
    /// The number of items.
    pub total: u64,
    /// The Merkle root over the item commitments.
    pub root: Hash,
    /// The number of items per region, in region order, if the party publishes them.
    pub region_counts: Option<Vec<(String, u64)>>,
}

impl Commitment {
    /// Checks names, date, region order and that the counts add up to the total.
    pub fn validate(&self) -> Result<(), FormatError> {
        const R: &str = "commitment";
        if let Some(p) = name_problem(&self.party) {
            return Err(invalid(R, "party", p));
        }
        if let Some(p) = date_problem(&self.as_of) {
            return Err(invalid(R, "as_of", p));
        }
        if let Some(counts) = &self.region_counts {
            if counts.is_empty() || counts.len() > MAX_REGIONS {
                return Err(invalid(
                    R,
                    "regions",
                    Problem::Length {
                        len: counts.len(),
                        min: 1,
                        max: MAX_REGIONS,
                    },
                ));
            }
            let mut sum = 0u64;
            let mut previous: Option<&str> = None;
            for (region, count) in counts {
                if let Some(p) = name_problem(region) {
                    return Err(invalid(R, "region", p));
                }
                if previous.is_some_and(|p| p >= region.as_str()) {
                    return Err(invalid(
                        R,
                        "region",
                        Problem::Invalid(format!("region {region:?} is out of order or repeated")),
                    ));
                }
                previous = Some(region);
                if *count == 0 {
                    return Err(invalid(
                        R,
                        "count",
                        Problem::Invalid(format!("region {region:?} has a count of 0")),
                    ));
                }
                sum = sum.saturating_add(*count);
            }
            if sum != self.total {
                return Err(invalid(
                    R,
                    "count",
                    Problem::Invalid(format!(
                        "region counts add up to {sum}, not the total {}",
                        self.total
                    )),
                ));
            }
        }
        Ok(())
    }

    /// The canonical bytes.
    pub fn encode(&self) -> Result<Vec<u8>, FormatError> {
        self.validate()?;
        let mut w = Writer::with_tag(COMMITMENT_TAG);
        w.str(&self.party);
        w.bytes(self.as_of.as_bytes());
        w.u64(self.total);
        w.bytes(&self.root);
        match &self.region_counts {
            None => w.u8(0),
            Some(counts) => {
                w.u8(1);
                w.count(counts.len());
                for (region, count) in counts {
                    w.str(region);
                    w.u64(*count);
                }
            }
        }
        Ok(w.finish())
    }

    /// Decodes and validates canonical bytes.
    pub fn decode(bytes: &[u8]) -> Result<Commitment, FormatError> {
        let mut r = Reader::new("commitment", COMMITMENT_TAG, bytes, MAX_COMMITMENT_BYTES)?;
        let party = r.name("party")?;
        let as_of = r.date("as_of")?;
        let total = r.u64("total")?;
        let root = r.array::<32>("root")?;
        let region_counts = if r.flag("counts flag")? {
            let at = r.pos();
            let n = r.count("regions", MAX_REGIONS, 2 + 1 + 8)?;
            if n == 0 {
                return Err(r.err(
                    "regions",
                    at,
                    Problem::Length {
                        len: 0,
                        min: 1,
                        max: MAX_REGIONS,
                    },
                ));
            }
            let mut counts: Vec<(String, u64)> = Vec::with_capacity(n);
            let mut sum = 0u64;
            for _ in 0..n {
                let at = r.pos();
                let region = r.name("region")?;
                if counts.last().is_some_and(|(prev, _)| prev >= &region) {
                    return Err(r.err(
                        "region",
                        at,
                        Problem::Invalid(format!("region {region:?} is out of order or repeated")),
                    ));
                }
                let at = r.pos();
                let count = r.u64("count")?;
                if count == 0 {
                    return Err(r.err(
                        "count",
                        at,
                        Problem::Invalid(format!("region {region:?} has a count of 0")),
                    ));
                }
                sum = sum.saturating_add(count);
                counts.push((region, count));
            }
            if sum != total {
                return Err(r.err(
                    "count",
                    r.pos(),
                    Problem::Invalid(format!(
                        "region counts add up to {sum}, not the total {total}"
                    )),
                ));
            }
            Some(counts)
        } else {
            None
        };
        r.finish()?;
        Ok(Commitment {
            party,
            as_of,
            total,
            root,
            region_counts,
        })
    }

    /// The index range `[start, start + count)` the commitment assigns to `region`, if it
    /// publishes counts: the regions before it in name order come first. A region it does
    /// not list gets an empty range at the place it would sort to.
    pub fn region_range(&self, region: &str) -> Option<(u64, u64)> {
        let counts = self.region_counts.as_ref()?;
        let mut start = 0u64;
        for (name, count) in counts {
            match name.as_str().cmp(region) {
                std::cmp::Ordering::Less => start = start.saturating_add(*count),
                std::cmp::Ordering::Equal => return Some((start, *count)),
                std::cmp::Ordering::Greater => break,
            }
        }
        Some((start, 0))
    }
}
