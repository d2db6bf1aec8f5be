//! A scanner for the commonest lines: items and events written plainly.
//!
//! Most facts files are millions of lines like
//! `{"kind":"item","party":"P05","id":"P05-acv-000000","category":"acv","attributes":{"variant":"hacv","active_unit":true},"from":"2013-05-28","until":"2014-08-08"}`.
//! This scanner reads such a line without serde and gives the record serde would give. It
//! recognises only a subset of JSON, and gives up (`None`) on anything else: escapes and
//! control characters in strings, decimals and exponents, large or negative-zero integers,
//! locations other than `null`, other kinds of record, unknown or repeated fields, missing
//! fields, a bad date, an empty name or id, an item that ends before it starts, text after
//! the record. The line then goes to serde_json ([`super::load`]), which reads it or
//! describes what is wrong, so every error message comes from one place.
//!
//! Names, ids and attribute sets are interned exactly as the serde visitors intern them.

use detente_lang::time::Instant;

use super::load::Interner;
use super::{AttrValue, Attributes, Event, Item, Name, Origin};

/// A record the scanner read.
#[derive(Debug)]
pub(super) enum Fast {
    Item(Item),
    Event(Event),
}

/// The record on `line` (a line with no terminator), or `None` to let serde read it.
pub(super) fn record(line: &str, interner: &mut Interner) -> Option<Fast> {
    let mut scan = Scan {
        text: line,
        bytes: line.as_bytes(),
        at: 0,
    };
    scan.space();
    scan.eat(b'{')?;
    scan.space();
    if scan.string()? != "kind" {
        return None;
    }
    scan.colon()?;
    let record = match scan.string()? {
        "item" => item(&mut scan, interner)?,
        "event" => event(&mut scan, interner)?,
        _ => return None,
    };
    scan.space();
    (scan.at == scan.bytes.len()).then_some(record)
}

fn item(scan: &mut Scan<'_>, interner: &mut Interner) -> Option<Fast> {
    let (mut party, mut id, mut category, mut from) = (None, None, None, None);
    let (mut attributes, mut until, mut location) = (None, None, false);
    while let Some(key) = scan.next_key()? {
        match key {
            "party" if party.is_none() => party = Some(scan.name(interner)?),
            "id" if id.is_none() => id = Some(scan.id(interner)?),
            "category" if category.is_none() => category = Some(scan.name(interner)?),
            "attributes" if attributes.is_none() => {
                attributes = Some(scan.attributes(interner)?);
            }
            "location" if !location => {
                location = true;
                scan.null()?;
            }
            "from" if from.is_none() => from = Some(scan.instant()?),
            "until" if until.is_none() => {
                until = Some(if scan.null().is_some() {
                    None
                } else {
                    Some(scan.instant()?)
                });
            }
            _ => return None,
        }
    }
    let (party, id, category, from) = (party?, id?, category?, from?);
    let until = until.flatten();
    if until.is_some_and(|until| until <= from) {
        return None;
    }
    let attributes = attributes
        .flatten()
        .unwrap_or_else(|| interner.no_attributes());
    Some(Fast::Item(Item {
        party,
        id,
        category,
        attributes,
        location: None,
        from,
        until,
        origin: Origin::default(),
    }))
}

fn event(scan: &mut Scan<'_>, interner: &mut Interner) -> Option<Fast> {
    let (mut party, mut id, mut event_type, mut at) = (None, None, None, None);
    let (mut attributes, mut location) = (None, false);
    while let Some(key) = scan.next_key()? {
        match key {
            "party" if party.is_none() => party = Some(scan.name(interner)?),
            "id" if id.is_none() => id = Some(scan.id(interner)?),
            "type" if event_type.is_none() => event_type = Some(scan.name(interner)?),
            "at" if at.is_none() => at = Some(scan.instant()?),
            "location" if !location => {
                location = true;
                scan.null()?;
            }
            "attributes" if attributes.is_none() => {
                attributes = Some(scan.attributes(interner)?);
            }
            _ => return None,
        }
    }
    let attributes = attributes
        .flatten()
        .unwrap_or_else(|| interner.no_attributes());
    Some(Fast::Event(Event {
        party: party?,
        id: id?,
        event_type: event_type?,
        at: at?,
        location: None,
        attributes,
        origin: Origin::default(),
    }))
}

/// A position in a line.
struct Scan<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Skips JSON whitespace.
    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// `:` between whitespace.
    fn colon(&mut self) -> Option<()> {
        self.space();
        self.eat(b':')?;
        self.space();
        Some(())
    }

    /// A string without escapes or control characters, borrowed.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let end = string_end(self.bytes, start)?;
        if self.bytes.get(end) != Some(&b'"') {
            return None;
        }
        self.at = end + 1;
        self.text.get(start..end)
    }

    /// After a member (or the record's `kind`): the key of the next one and its colon, or
    /// `None` at the end of the object.
    fn next_key(&mut self) -> Option<Option<&'a str>> {
        self.space();
        match self.peek()? {
            b'}' => {
                self.at += 1;
                Some(None)
            }
            b',' => {
                self.at += 1;
                self.space();
                let key = self.string()?;
                self.colon()?;
                Some(Some(key))
            }
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    fn null(&mut self) -> Option<()> {
        self.literal(b"null")
    }

    fn name(&mut self, interner: &mut Interner) -> Option<Name> {
        let text = self.string()?;
        (!text.is_empty()).then(|| interner.intern(text))
    }

    fn id(&mut self, interner: &mut Interner) -> Option<std::sync::Arc<str>> {
        let text = self.string()?;
        (!text.is_empty()).then(|| interner.id(text))
    }

    fn instant(&mut self) -> Option<Instant> {
        Instant::parse(self.string()?)
    }

    /// `null` (`Some(None)`) or an attribute object.
    fn attributes(&mut self, interner: &mut Interner) -> Option<Option<Attributes>> {
        if self.null().is_some() {
            return Some(None);
        }
        let start = self.at;
        if self.peek()? != b'{' {
            return None;
        }
        // If the object was seen before, written the same way, it reads the same. Its text
        // runs to the first `}`: only objects without a `}` in a string are remembered.
        let end = start + self.bytes.get(start..)?.iter().position(|&b| b == b'}')?;
        let text = self.text.get(start..=end)?;
        if let Some(set) = interner.set_by_text(text) {
            self.at = end + 1;
            return Some(Some(set));
        }
        self.at += 1;
        self.space();
        interner.pairs.clear();
        if self.peek()? == b'}' {
            self.at += 1;
        } else {
            loop {
                self.space();
                let key = self.string()?;
                self.colon()?;
                let value = self.value()?;
                let name = interner.intern(key);
                interner.pairs.push((name, value));
                self.space();
                match self.peek()? {
                    b',' => self.at += 1,
                    b'}' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        let set = interner.attributes().ok()?;
        if self.at == end + 1 {
            interner.remember_text(text, &set);
        }
        Some(Some(set))
    }

    /// An attribute value: `true`, `false`, a string or an integer.
    fn value(&mut self) -> Option<AttrValue> {
        match self.peek()? {
            b'"' => Some(AttrValue::Text(self.string()?.to_owned())),
            b't' => self.literal(b"true").map(|()| AttrValue::Bool(true)),
            b'f' => self.literal(b"false").map(|()| AttrValue::Bool(false)),
            b'-' | b'0'..=b'9' => self.integer().map(AttrValue::Int),
            _ => None,
        }
    }

    /// An integer of at most 18 digits, which fits in an `i64`; not `-0`, which serde
    /// reads as a decimal.
    fn integer(&mut self) -> Option<i64> {
        let negative = self.eat(b'-').is_some();
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        let digits = self.bytes.get(start..self.at)?;
        if digits.is_empty()
            || digits.len() > 18
            || (digits.len() > 1 && digits.first() == Some(&b'0'))
        {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = self.peek() {
            return None;
        }
        let value = digits
            .iter()
            .fold(0i64, |value, digit| value * 10 + i64::from(digit - b'0'));
        match (negative, value) {
            (false, value) => Some(value),
            (true, 0) => None,
            (true, value) => Some(-value),
        }
    }
}

/// The first quote, backslash or control character at or after `start`, eight bytes at a
/// time.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Each has its lowest high bit set in the first byte that is zero (or below 0x20); bits
    // above it may be wrong, which the lowest never is.
    let zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS;
    let mut at = start;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let w = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or_default());
        let found = zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w & HIGHS);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let rest = bytes.get(at..)?;
    rest.iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|offset| at + offset)
}
