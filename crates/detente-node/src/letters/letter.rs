//! A letter: its drafting (a local JSON file), its content rules, and the canonical bytes
//! its author signs.
//!
//! The canonical bytes (all lengths big-endian; `s8`, `s16`, `s32` are UTF-8 strings after
//! a 1-, 2- or 4-byte length):
//!
//! ```text
//! magic           14 bytes  "detente-letter"
//! version          u8       1
//! letter_id       16 bytes  random, fixed when the letter is sent
//! from             s8       author, PARTY/NAME
//! to               s8       addressee, PARTY/NAME
//! to_sealing_key  32 bytes  the addressee's X25519 public key the letter is sealed to
//! date            10 bytes  YYYY-MM-DD (ASCII)
//! subject          s16
//! body             s32      Markdown
//! references       u8 count, then each:
//!   description    s16
//!   located        u8       0, or 1 followed by: party s8, index u64
//! amendments       u16 count, then each:
//!   original       s32      the struck passage
//!   replacement    s32      what was substituted (empty: a deletion)
//!   note           u8       0, or 1 followed by s16
//!   place          u8       0 at the replacement, 1 after an anchor, 2 before an anchor
//!   anchor         s32      only when place is 1 or 2
//!   occurrence     u32      0 if not given, else which occurrence (1-based)
//! ```
//!
//! Nothing follows. Every letter has exactly one encoding, and decoding checks the same
//! rules as drafting, so a letter that decodes is one that could have been drafted.

use serde::{Deserialize, Serialize};

use super::LetterError;
use super::principal::{PrincipalId, is_name};

/// The `format` of a draft file.
pub const DRAFT_FORMAT: &str = "detente-letter-draft/v1";
/// The domain-separation prefix of a letter's canonical bytes.
pub const LETTER_MAGIC: &[u8; 14] = b"detente-letter";
/// The only letter format version written and read.
pub const LETTER_VERSION: u8 = 1;

/// Largest body, in bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Largest subject, in bytes.
pub const MAX_SUBJECT_BYTES: usize = 1024;
/// Most references.
pub const MAX_REFERENCES: usize = 64;
/// Largest reference description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 1024;
/// Most amendments.
pub const MAX_AMENDMENTS: usize = 256;
/// Largest original, replacement or anchor passage, in bytes.
pub const MAX_PASSAGE_BYTES: usize = 16 * 1024;
/// Largest amendment note, in bytes.
pub const MAX_NOTE_BYTES: usize = 4096;
/// Largest draft file read, in bytes.
pub const MAX_DRAFT_FILE_BYTES: usize = 4 * 1024 * 1024;

/// An earlier letter the letter refers to ("your letter of February 25th"), with its log
/// entry when it is in a log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub description: String,
    /// The party whose log holds the letter referred to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    /// Its index in that log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
}

/// One change made while drafting: a passage struck through and what was put instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amendment {
    /// The struck passage.
    pub original: String,
    /// What replaced it in the final text; empty for a deletion.
    pub replacement: String,
    /// The editor's remark, printed after the footnote's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For a deletion: the passage of the final text right after which the struck words
    /// stood.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// For a deletion: the passage of the final text right before which they stood.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Which occurrence (1-based) of the replacement, or of the anchor of a deletion, is
    /// meant when it occurs more than once in the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurrence: Option<u32>,
}

/// Where an amendment sits in the final body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// The replacement occupies `start..end` of the body.
    Substituted { start: usize, end: usize },
    /// The deleted words stood right after the anchor, which ends at `at`.
    DeletedAfter { at: usize },
    /// The deleted words stood right before the anchor, which starts at `at`.
    DeletedBefore { at: usize },
}

impl Amendment {
    /// Finds the amendment's place in `body`, or says why it has none.
    pub fn locate(&self, body: &str) -> Result<Placement, String> {
        let (needle, what) = match (
            self.replacement.is_empty(),
            self.after.as_deref(),
            self.before.as_deref(),
        ) {
            (false, None, None) => (self.replacement.as_str(), "the replacement"),
            (false, _, _) => {
                return Err(
                    "`after` and `before` place a deletion; an amendment with a replacement is placed by it"
                        .into(),
                );
            }
            (true, Some(after), None) => (after, "the passage given with `after`"),
            (true, None, Some(before)) => (before, "the passage given with `before`"),
            (true, None, None) => {
                return Err(
                    "a deletion (empty replacement) needs `after` or `before`: the passage of the final text next to which the struck words stood"
                        .into(),
                );
            }
            (true, Some(_), Some(_)) => {
                return Err("give `after` or `before`, not both".into());
            }
        };
        if needle.is_empty() {
            return Err(format!("{what} is empty"));
        }
        let found: Vec<usize> = body.match_indices(needle).map(|(at, _)| at).collect();
        let count = found.len();
        let start = match (count, self.occurrence) {
            (0, _) => {
                return Err(format!(
                    "{what} `{}` does not occur in the body",
                    excerpt(needle)
                ));
            }
            (1, None) => found.first().copied(),
            (_, None) => {
                return Err(format!(
                    "{what} `{}` occurs {count} times in the body; say which with `occurrence` (1 to {count})",
                    excerpt(needle)
                ));
            }
            (_, Some(k)) => {
                let k = usize::try_from(k).unwrap_or(usize::MAX);
                if k == 0 || k > count {
                    return Err(format!(
                        "occurrence {k}: {what} `{}` occurs {count} time(s) in the body",
                        excerpt(needle)
                    ));
                }
                found.get(k - 1).copied()
            }
        };
        let start = start.ok_or_else(|| format!("{what} was not found"))?;
        let end = start + needle.len();
        Ok(match (self.replacement.is_empty(), self.after.is_some()) {
            (false, _) => Placement::Substituted { start, end },
            (true, true) => Placement::DeletedAfter { at: end },
            (true, false) => Placement::DeletedBefore { at: start },
        })
    }
}

/// The first 60 characters of a passage, for messages.
fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(60).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out.replace('\n', " ")
}

/// A letter being drafted: a local file, nothing sent. Also the content of a sent letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    /// [`DRAFT_FORMAT`].
    pub format: String,
    pub from: PrincipalId,
    pub to: PrincipalId,
    /// `YYYY-MM-DD`: the date the author gives the letter.
    pub date: String,
    pub subject: String,
    /// Markdown.
    pub body: String,
    #[serde(default)]
    pub references: Vec<Reference>,
    #[serde(default)]
    pub amendments: Vec<Amendment>,
}

/// Line ends as `\n`, and no trailing white space at the end of the text (a body read
/// from a file and the same body typed in are the same letter).
pub fn normalize_text(text: &str) -> String {
    text.replace("\r\n", "\n").trim_end().to_owned()
}

fn check_text(what: &str, text: &str, max: usize, multiline: bool) -> Result<(), String> {
    if text.len() > max {
        return Err(format!(
            "{what} is {} bytes; the limit is {max}",
            text.len()
        ));
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !(multiline && (*c == '\n' || *c == '\t')))
    {
        return Err(format!(
            "{what} contains the control character U+{:04X}{}",
            c as u32,
            if multiline { "" } else { " (it is one line)" }
        ));
    }
    Ok(())
}

/// Whether `text` is a date written `YYYY-MM-DD` that exists.
fn is_date(text: &str) -> bool {
    text.len() == 10 && detente_lang::time::Date::parse(text).is_some_and(|d| d.to_string() == text)
}

impl Draft {
    /// A new draft, checked. The body is normalized ([`normalize_text`]).
    pub fn new(
        from: PrincipalId,
        to: PrincipalId,
        date: &str,
        subject: &str,
        body: &str,
        references: Vec<Reference>,
    ) -> Result<Draft, LetterError> {
        let draft = Draft {
            format: DRAFT_FORMAT.to_owned(),
            from,
            to,
            date: date.trim().to_owned(),
            subject: subject.trim().to_owned(),
            body: normalize_text(body),
            references,
            amendments: Vec::new(),
        };
        draft.check().map_err(LetterError::Invalid)?;
        Ok(draft)
    }

    /// Reads a draft file's text; `source` names it in errors.
    pub fn from_json(text: &str, source: &str) -> Result<Draft, LetterError> {
        if text.len() > MAX_DRAFT_FILE_BYTES {
            return Err(LetterError::Invalid(format!(
                "`{source}` is {} bytes; a draft is at most {MAX_DRAFT_FILE_BYTES}",
                text.len()
            )));
        }
        let draft: Draft = serde_json::from_str(text).map_err(|e| {
            LetterError::Invalid(format!(
                "`{source}` line {}, column {}: {e}",
                e.line(),
                e.column()
            ))
        })?;
        if draft.format != DRAFT_FORMAT {
            return Err(LetterError::Invalid(format!(
                "`{source}`: format `{}` is not `{DRAFT_FORMAT}`",
                draft.format
            )));
        }
        draft
            .check()
            .map_err(|e| LetterError::Invalid(format!("`{source}`: {e}")))?;
        Ok(draft)
    }

    /// The draft file's text (pretty JSON, ending in a newline).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Records an amendment, after checking it against the body and the others.
    pub fn amend(&mut self, amendment: Amendment) -> Result<(), LetterError> {
        if self.amendments.contains(&amendment) {
            return Err(LetterError::Invalid(
                "this amendment is already recorded".into(),
            ));
        }
        self.amendments.push(amendment);
        if let Err(e) = self.check() {
            self.amendments.pop();
            return Err(LetterError::Invalid(e));
        }
        Ok(())
    }

    /// Every rule a letter's content must follow; the first broken one.
    pub fn check(&self) -> Result<(), String> {
        if self.from == self.to {
            return Err(format!("the letter is from and to {}", self.from));
        }
        if !is_date(&self.date) {
            return Err(format!(
                "date `{}` is not a date written YYYY-MM-DD",
                self.date
            ));
        }
        if self.subject.is_empty() {
            return Err("the subject is empty".into());
        }
        check_text("the subject", &self.subject, MAX_SUBJECT_BYTES, false)?;
        if self.body.trim().is_empty() {
            return Err("the body is empty".into());
        }
        check_text("the body", &self.body, MAX_BODY_BYTES, true)?;
        if self.references.len() > MAX_REFERENCES {
            return Err(format!(
                "{} references; the limit is {MAX_REFERENCES}",
                self.references.len()
            ));
        }
        for (i, r) in self.references.iter().enumerate() {
            let what = format!("reference {}", i + 1);
            if r.description.trim().is_empty() {
                return Err(format!("{what}: the description is empty"));
            }
            check_text(
                &format!("{what}'s description"),
                &r.description,
                MAX_DESCRIPTION_BYTES,
                false,
            )?;
            match (&r.party, r.index) {
                (None, None) => {}
                (Some(party), Some(_)) if is_name(party) => {}
                (Some(party), Some(_)) => {
                    return Err(format!("{what}: `{party}` is not a party name"));
                }
                _ => {
                    return Err(format!(
                        "{what}: give both `party` and `index` of the log entry, or neither"
                    ));
                }
            }
        }
        if self.amendments.len() > MAX_AMENDMENTS {
            return Err(format!(
                "{} amendments; the limit is {MAX_AMENDMENTS}",
                self.amendments.len()
            ));
        }
        for (i, a) in self.amendments.iter().enumerate() {
            let what = format!("amendment {}", i + 1);
            if a.original.is_empty() {
                return Err(format!("{what}: the original passage is empty"));
            }
            if a.original == a.replacement {
                return Err(format!("{what}: the replacement is the original passage"));
            }
            for (name, text) in [
                ("original", Some(&a.original)),
                ("replacement", Some(&a.replacement)),
                ("after", a.after.as_ref()),
                ("before", a.before.as_ref()),
            ] {
                if let Some(text) = text {
                    check_text(&format!("{what}'s {name}"), text, MAX_PASSAGE_BYTES, true)?;
                }
            }
            if let Some(note) = &a.note {
                if note.trim().is_empty() {
                    return Err(format!("{what}: the note is empty"));
                }
                check_text(&format!("{what}'s note"), note, MAX_NOTE_BYTES, false)?;
            }
            if a.occurrence == Some(0) {
                return Err(format!("{what}: occurrences count from 1"));
            }
            a.locate(&self.body).map_err(|e| format!("{what}: {e}"))?;
        }
        Ok(())
    }
}

/// A letter as sent: its content, its id and the key it is sealed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub letter_id: [u8; 16],
    /// The addressee's X25519 public key, signed with the content so that the letter cannot
    /// be re-addressed.
    pub to_sealing_key: [u8; 32],
    pub content: Draft,
}

struct Writer(Vec<u8>);

impl Writer {
    fn bytes(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn s8(&mut self, text: &str) -> Result<(), String> {
        let len = u8::try_from(text.len()).map_err(|_| format!("`{text}` is too long"))?;
        self.u8(len);
        self.bytes(text.as_bytes());
        Ok(())
    }
    fn s16(&mut self, text: &str) -> Result<(), String> {
        let len = u16::try_from(text.len()).map_err(|_| "a text is too long".to_owned())?;
        self.bytes(&len.to_be_bytes());
        self.bytes(text.as_bytes());
        Ok(())
    }
    fn s32(&mut self, text: &str) -> Result<(), String> {
        let len = u32::try_from(text.len()).map_err(|_| "a text is too long".to_owned())?;
        self.bytes(&len.to_be_bytes());
        self.bytes(text.as_bytes());
        Ok(())
    }
}

/// A cursor over bytes that names the field and offset of every problem.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, offset: 0 }
    }

    pub(crate) fn offset(&self) -> usize {
        self.offset
    }

    pub(crate) fn rest(&self) -> usize {
        self.bytes.len().saturating_sub(self.offset)
    }

    pub(crate) fn take(&mut self, field: &str, len: usize) -> Result<&'a [u8], String> {
        let rest = self.bytes.get(self.offset..).unwrap_or(&[]);
        let out = rest.get(..len).ok_or_else(|| {
            format!(
                "byte {}: {field} needs {len} bytes but only {} remain",
                self.offset,
                rest.len()
            )
        })?;
        self.offset += len;
        Ok(out)
    }

    pub(crate) fn array<const N: usize>(&mut self, field: &str) -> Result<[u8; N], String> {
        let slice = self.take(field, N)?;
        <[u8; N]>::try_from(slice).map_err(|_| format!("{field}: not {N} bytes"))
    }

    pub(crate) fn u8(&mut self, field: &str) -> Result<u8, String> {
        let [v] = self.array::<1>(field)?;
        Ok(v)
    }

    fn text(&mut self, field: &str, len: usize) -> Result<String, String> {
        let at = self.offset;
        let bytes = self.take(field, len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| format!("byte {at}: {field} is not UTF-8"))
    }

    pub(crate) fn s8(&mut self, field: &str) -> Result<String, String> {
        let len = usize::from(self.u8(field)?);
        self.text(field, len)
    }

    fn s16(&mut self, field: &str) -> Result<String, String> {
        let len = usize::from(u16::from_be_bytes(self.array(field)?));
        self.text(field, len)
    }

    fn s32(&mut self, field: &str) -> Result<String, String> {
        let len = u32::from_be_bytes(self.array(field)?);
        self.text(field, usize::try_from(len).unwrap_or(usize::MAX))
    }

    fn flag(&mut self, field: &str) -> Result<bool, String> {
        let at = self.offset;
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(format!("byte {at}: {field} is {v}, not 0 or 1")),
        }
    }
}

impl Letter {
    /// The canonical bytes (see the module documentation), after checking the content.
    pub fn encode(&self) -> Result<Vec<u8>, LetterError> {
        self.content.check().map_err(LetterError::Invalid)?;
        let c = &self.content;
        let invalid = LetterError::Invalid;
        let mut w = Writer(Vec::with_capacity(256 + c.body.len()));
        w.bytes(LETTER_MAGIC);
        w.u8(LETTER_VERSION);
        w.bytes(&self.letter_id);
        w.s8(&c.from.to_string()).map_err(invalid)?;
        w.s8(&c.to.to_string()).map_err(invalid)?;
        w.bytes(&self.to_sealing_key);
        w.bytes(c.date.as_bytes());
        w.s16(&c.subject).map_err(invalid)?;
        w.s32(&c.body).map_err(invalid)?;
        w.u8(u8::try_from(c.references.len()).unwrap_or(u8::MAX));
        for r in &c.references {
            w.s16(&r.description).map_err(invalid)?;
            match (&r.party, r.index) {
                (Some(party), Some(index)) => {
                    w.u8(1);
                    w.s8(party).map_err(invalid)?;
                    w.bytes(&index.to_be_bytes());
                }
                _ => w.u8(0),
            }
        }
        w.bytes(
            &u16::try_from(c.amendments.len())
                .unwrap_or(u16::MAX)
                .to_be_bytes(),
        );
        for a in &c.amendments {
            w.s32(&a.original).map_err(invalid)?;
            w.s32(&a.replacement).map_err(invalid)?;
            match &a.note {
                Some(note) => {
                    w.u8(1);
                    w.s16(note).map_err(invalid)?;
                }
                None => w.u8(0),
            }
            match (&a.after, &a.before) {
                (Some(anchor), None) => {
                    w.u8(1);
                    w.s32(anchor).map_err(invalid)?;
                }
                (None, Some(anchor)) => {
                    w.u8(2);
                    w.s32(anchor).map_err(invalid)?;
                }
                _ => w.u8(0),
            }
            w.bytes(&a.occurrence.unwrap_or(0).to_be_bytes());
        }
        Ok(w.0)
    }

    /// Parses canonical bytes and checks the content; the error says which field at which
    /// byte is wrong.
    pub fn decode(bytes: &[u8]) -> Result<Letter, String> {
        let mut r = Reader::new(bytes);
        if r.take("magic", LETTER_MAGIC.len())? != LETTER_MAGIC {
            return Err("byte 0: the magic is not \"detente-letter\"".into());
        }
        let version = r.u8("version")?;
        if version != LETTER_VERSION {
            return Err(format!(
                "byte 14: version {version} is not supported (only {LETTER_VERSION})"
            ));
        }
        let letter_id = r.array::<16>("letter id")?;
        let principal = |r: &mut Reader<'_>, field: &str| -> Result<PrincipalId, String> {
            let at = r.offset();
            let text = r.s8(field)?;
            PrincipalId::parse(&text).map_err(|e| format!("byte {at}: {field}: {e}"))
        };
        let from = principal(&mut r, "from")?;
        let to = principal(&mut r, "to")?;
        let to_sealing_key = r.array::<32>("to_sealing_key")?;
        let at = r.offset();
        let date = String::from_utf8(r.take("date", 10)?.to_vec())
            .map_err(|_| format!("byte {at}: the date is not UTF-8"))?;
        let subject = r.s16("subject")?;
        let body = r.s32("body")?;
        let count = r.u8("reference count")?;
        let mut references = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let description = r.s16("reference description")?;
            let (party, index) = if r.flag("reference located")? {
                let party = r.s8("reference party")?;
                let index = u64::from_be_bytes(r.array("reference index")?);
                (Some(party), Some(index))
            } else {
                (None, None)
            };
            references.push(Reference {
                description,
                party,
                index,
            });
        }
        let count = u16::from_be_bytes(r.array("amendment count")?);
        let mut amendments = Vec::with_capacity(usize::from(count).min(MAX_AMENDMENTS));
        for _ in 0..count {
            let original = r.s32("original")?;
            let replacement = r.s32("replacement")?;
            let note = if r.flag("note present")? {
                Some(r.s16("note")?)
            } else {
                None
            };
            let at = r.offset();
            let (after, before) = match r.u8("place")? {
                0 => (None, None),
                1 => (Some(r.s32("anchor")?), None),
                2 => (None, Some(r.s32("anchor")?)),
                v => return Err(format!("byte {at}: place is {v}, not 0, 1 or 2")),
            };
            let occurrence = match u32::from_be_bytes(r.array("occurrence")?) {
                0 => None,
                k => Some(k),
            };
            amendments.push(Amendment {
                original,
                replacement,
                note,
                after,
                before,
                occurrence,
            });
        }
        if r.rest() != 0 {
            return Err(format!(
                "byte {}: {} unexpected bytes after the last amendment",
                r.offset(),
                r.rest()
            ));
        }
        let content = Draft {
            format: DRAFT_FORMAT.to_owned(),
            from,
            to,
            date,
            subject,
            body,
            references,
            amendments,
        };
        content.check()?;
        Ok(Letter {
            letter_id,
            to_sealing_key,
            content,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Draft {
        Draft::new(
            PrincipalId::parse("US/Carter").unwrap(),
            PrincipalId::parse("USSR/Brezhnev").unwrap(),
            "1977-03-04",
            "Strategic arms",
            "Please do not. I hope. Please do not.\n",
            vec![Reference {
                description: "your letter of February 25th".into(),
                party: Some("USSR".into()),
                index: Some(3),
            }],
        )
        .unwrap()
    }

    #[test]
    fn amendments_are_placed_or_refused() {
        let mut d = draft();
        let replace = |original: &str, replacement: &str| Amendment {
            original: original.into(),
            replacement: replacement.into(),
            note: None,
            after: None,
            before: None,
            occurrence: None,
        };
        assert!(d.amend(replace("x", "nowhere")).is_err());
        let twice = d.amend(replace("x", "Please do not")).unwrap_err();
        assert!(twice.to_string().contains("occurs 2 times"), "{twice}");
        d.amend(Amendment {
            occurrence: Some(2),
            ..replace("x", "Please do not")
        })
        .unwrap();
        let deletion = d.amend(replace("gone", "")).unwrap_err();
        assert!(deletion.to_string().contains("`after` or `before`"));
        d.amend(Amendment {
            after: Some("I hope".into()),
            ..replace("gone", "")
        })
        .unwrap();
        assert_eq!(
            d.amendments[0].locate(&d.body),
            Ok(Placement::Substituted { start: 23, end: 36 })
        );
        assert_eq!(
            d.amendments[1].locate(&d.body),
            Ok(Placement::DeletedAfter { at: 21 })
        );
    }

    #[test]
    fn canonical_bytes_round_trip_and_are_strict() {
        let mut d = draft();
        d.amend(Amendment {
            original: "Please do".into(),
            replacement: "I hope".into(),
            note: Some("In pencil.".into()),
            after: None,
            before: None,
            occurrence: None,
        })
        .unwrap();
        let letter = Letter {
            letter_id: [7; 16],
            to_sealing_key: [9; 32],
            content: d,
        };
        let bytes = letter.encode().unwrap();
        assert_eq!(Letter::decode(&bytes).unwrap(), letter);
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(
            Letter::decode(&longer)
                .unwrap_err()
                .contains("unexpected bytes")
        );
        for cut in [0, 10, 20, bytes.len() - 1] {
            assert!(Letter::decode(&bytes[..cut]).is_err(), "{cut}");
        }
        let mut bad_version = bytes.clone();
        bad_version[14] = 2;
        assert!(
            Letter::decode(&bad_version)
                .unwrap_err()
                .contains("version 2")
        );
    }
}
