//! The annotated edition of a letter: its final text with each amendment as a numbered
//! footnote, in the manner of the *Foreign Relations of the United States* series, and a
//! source note saying where the letter is recorded.
//!
//! Footnote 1 is the source note, on the heading. The others are numbered in the order
//! their markers appear in the text. A marker goes right after the replacement (or, for a
//! deletion, after the `after` passage or before the `before` passage), past any
//! punctuation that follows it, as "agree.³".
//!
//! How a substitution is told depends on where the replacement sits in its sentence (a
//! sentence starts at the start of a line or after `.`, `!` or `?` and white space, and
//! ends before one of those or at the end of a line):
//!
//! | the replacement | the footnote |
//! | --- | --- |
//! | is the whole sentence | This sentence originally read “…” |
//! | begins it | This sentence originally began “…” |
//! | ends it | The end of this sentence originally read “…” |
//! | is inside it | This passage originally read “…” |
//!
//! followed by "The author struck through these words and substituted “…”", and the note if
//! there is one. A deletion reads "At this point the author struck through the words “…”".
//! Quotations end with a period inside the closing quotation mark unless they already end
//! with `.`, `!`, `?` or `…`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::letter::{Draft, Placement};
use crate::home::hex;

/// The formats an edition is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditionFormat {
    /// Markdown with footnotes (`[^n]`), as GitHub and pandoc render them.
    Markdown,
    /// One HTML page. The body's paragraphs become `<p>`; other Markdown is shown as written.
    Html,
}

/// Where a sent letter is recorded: what the source note says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub origin: String,
    pub index: u64,
    pub appended_at_ms: i64,
    pub letter_id: [u8; 16],
    /// The author's Ed25519 public key that the signature verified with.
    pub author_signing_key: [u8; 32],
    /// The checkpoint the entry's receipt was checked against.
    pub checkpoint_size: u64,
    pub checkpoint_root: [u8; 32],
    /// Its valid cosignatures: (cosigner, POSIX seconds).
    pub cosigned_by: Vec<(String, u64)>,
}

fn instant_ms(ms: i64) -> String {
    detente_lang::time::Instant::from_unix_seconds(ms.div_euclid(1000)).to_string()
}

fn instant_secs(secs: u64) -> String {
    detente_lang::time::Instant::from_unix_seconds(i64::try_from(secs).unwrap_or(i64::MAX))
        .to_string()
}

/// The source note (footnote 1).
pub fn source_note(content: &Draft, source: Option<&Source>) -> String {
    let Some(s) = source else {
        return format!(
            "Draft, not sent. Sending signs it with {}'s key, seals it to {} and appends it to the log of {}.",
            content.from,
            content.to,
            content.from.party()
        );
    };
    let cosigned = if s.cosigned_by.is_empty() {
        "not yet cosigned by another party's node".to_owned()
    } else {
        let list: Vec<String> = s
            .cosigned_by
            .iter()
            .map(|(who, at)| format!("{who} at {}", instant_secs(*at)))
            .collect();
        format!("cosigned by {}", list.join(" and "))
    };
    format!(
        "Source: entry {} of the log {}, appended at {}. Letter id {}, signed by {} (Ed25519 key {}) and sealed to {}. The entry is included in the log's checkpoint of size {} with root {}, {cosigned}.",
        s.index,
        s.origin,
        instant_ms(s.appended_at_ms),
        hex(&s.letter_id),
        content.from,
        BASE64.encode(s.author_signing_key),
        content.to,
        s.checkpoint_size,
        BASE64.encode(s.checkpoint_root),
    )
}

/// `text` quoted as the end of a sentence: “text.”
fn quote(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let stop = if line.ends_with(['.', '!', '?', '…']) {
        ""
    } else {
        "."
    };
    format!("“{line}{stop}”")
}

const OPENING: &[char] = &['“', '‘', '"', '\'', '(', '['];
const CLOSING: &[char] = &['”', '’', '"', '\'', ')', ']'];
/// Words after which a period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "Mr", "Mrs", "Ms", "Dr", "St", "Gen", "Sen", "Rep", "Gov", "Amb", "No", "vs", "etc", "e.g",
    "i.e", "cf",
];

/// Whether the text before `start` ends a sentence (or a line), so that `start` begins one.
fn begins_sentence(body: &str, start: usize) -> bool {
    let before = body.get(..start).unwrap_or("");
    let trimmed = before.trim_end_matches(|c: char| c == ' ' || c == '\t' || OPENING.contains(&c));
    if trimmed.is_empty() || trimmed.ends_with('\n') {
        return true;
    }
    if !before.ends_with([' ', '\t']) && !before.ends_with(OPENING) {
        return false;
    }
    let closed = trimmed.trim_end_matches(CLOSING);
    let Some(word_end) = closed.strip_suffix(['.', '!', '?']) else {
        return false;
    };
    if closed.ends_with('.') {
        let word = word_end
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap_or("");
        let initial = word.chars().count() == 1 && word.chars().all(char::is_uppercase);
        if initial || ABBREVIATIONS.contains(&word) {
            return false;
        }
    }
    true
}

/// Whether the text after `end` starts with a sentence's end (or a line's).
fn ends_sentence(body: &str, end: usize) -> bool {
    let after = body.get(end..).unwrap_or("");
    let after = after.trim_start_matches(CLOSING);
    after.is_empty() || after.starts_with(['\n', '.', '!', '?'])
}

/// Where a marker goes after `at`: past punctuation and closing quotation marks.
fn past_punctuation(body: &str, at: usize) -> usize {
    let after = body.get(at..).unwrap_or("");
    let rest = after.trim_start_matches(|c: char| ".,;:!?".contains(c) || CLOSING.contains(&c));
    at + (after.len() - rest.len())
}

/// The footnote telling one amendment, and where its marker goes.
fn amendment_note(body: &str, a: &super::letter::Amendment) -> Option<(usize, String)> {
    let placement = a.locate(body).ok()?;
    let mut text = match placement {
        Placement::Substituted { start, end } => {
            let account = match (begins_sentence(body, start), ends_sentence(body, end)) {
                (true, true) => "This sentence originally read",
                (true, false) => "This sentence originally began",
                (false, true) => "The end of this sentence originally read",
                (false, false) => "This passage originally read",
            };
            format!(
                "{account} {} The author struck through these words and substituted {}",
                quote(&a.original),
                quote(&a.replacement)
            )
        }
        Placement::DeletedAfter { .. } | Placement::DeletedBefore { .. } => format!(
            "At this point the author struck through the words {}",
            quote(&a.original)
        ),
    };
    if let Some(note) = &a.note {
        text.push(' ');
        text.push_str(note.trim());
    }
    let at = match placement {
        Placement::Substituted { end, .. } => past_punctuation(body, end),
        Placement::DeletedAfter { at } => past_punctuation(body, at),
        Placement::DeletedBefore { at } => {
            let before = body.get(..at).unwrap_or("");
            before.trim_end_matches([' ', '\t']).len()
        }
    };
    Some((at, text))
}

/// The footnotes of the body, by position: (byte offset of the marker, number, text).
/// Number 1 is the source note's, so these start at 2.
fn body_notes(content: &Draft, log_prefix: Option<&str>, annotate: bool) -> Vec<(usize, String)> {
    let body = &content.body;
    let lower = body.to_ascii_lowercase();
    let mut notes: Vec<(usize, usize, String)> = Vec::new();
    for r in &content.references {
        let (Some(party), Some(index)) = (&r.party, r.index) else {
            continue;
        };
        let needle = r.description.to_ascii_lowercase();
        if let Some(at) = lower.find(&needle) {
            let log = match log_prefix {
                Some(prefix) => format!("the log {prefix}/{party}"),
                None => format!("the log of {party}"),
            };
            let order = notes.len();
            notes.push((
                past_punctuation(body, at + needle.len()),
                order,
                format!("See entry {index} of {log}."),
            ));
        }
    }
    if annotate {
        for a in &content.amendments {
            if let Some((at, text)) = amendment_note(body, a) {
                let order = notes.len();
                notes.push((at, order, text));
            }
        }
    }
    notes.sort_by_key(|(at, order, _)| (*at, *order));
    notes.into_iter().map(|(at, _, text)| (at, text)).collect()
}

/// The edition of a letter: `content` with its heading and footnotes. Without `source` it
/// is a draft's preview; without `annotate` the amendments are left out (the clean text).
pub fn render(
    content: &Draft,
    source: Option<&Source>,
    annotate: bool,
    format: EditionFormat,
) -> String {
    let log_prefix = source.and_then(|s| s.origin.rsplit_once('/').map(|(p, _)| p.to_owned()));
    let notes = body_notes(content, log_prefix.as_deref(), annotate);
    let source_text = source_note(content, source);
    match format {
        EditionFormat::Markdown => markdown(content, &source_text, &notes),
        EditionFormat::Html => html(content, &source_text, &notes),
    }
}

fn markdown(content: &Draft, source_text: &str, notes: &[(usize, String)]) -> String {
    let mut out = format!(
        "# Letter from {} to {}[^1]\n\n- Date: {}\n- Subject: {}\n",
        content.from, content.to, content.date, content.subject
    );
    if !content.references.is_empty() {
        let list: Vec<&str> = content
            .references
            .iter()
            .map(|r| r.description.as_str())
            .collect();
        out.push_str(&format!("- References: {}\n", list.join("; ")));
    }
    out.push('\n');
    let body = &content.body;
    let mut from = 0;
    for (i, (at, _)) in notes.iter().enumerate() {
        out.push_str(body.get(from..*at).unwrap_or(""));
        out.push_str(&format!("[^{}]", i + 2));
        from = *at;
    }
    out.push_str(body.get(from..).unwrap_or(""));
    out.push_str("\n\n");
    out.push_str(&format!("[^1]: {source_text}\n"));
    for (i, (_, text)) in notes.iter().enumerate() {
        out.push_str(&format!("[^{}]: {text}\n", i + 2));
    }
    out
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn marker_html(n: usize) -> String {
    format!("<sup id=\"fnref-{n}\"><a href=\"#fn-{n}\">{n}</a></sup>")
}

/// The byte ranges of the body's paragraphs (runs of non-blank lines).
fn paragraphs(body: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut offset = 0;
    let mut last_end = 0;
    for line in body.split_inclusive('\n') {
        let content_end = offset + line.trim_end_matches('\n').len();
        if line.trim().is_empty() {
            if let Some(s) = start.take() {
                out.push((s, last_end));
            }
        } else {
            if start.is_none() {
                start = Some(offset);
            }
            last_end = content_end;
        }
        offset += line.len();
    }
    if let Some(s) = start {
        out.push((s, last_end));
    }
    out
}

fn html(content: &Draft, source_text: &str, notes: &[(usize, String)]) -> String {
    let title = format!("Letter from {} to {}", content.from, content.to);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}, {}</title>\n</head>\n<body>\n<article>\n<h1>{}{}</h1>\n<ul>\n<li>Date: {}</li>\n<li>Subject: {}</li>\n",
        escape(&title),
        escape(&content.date),
        escape(&title),
        marker_html(1),
        escape(&content.date),
        escape(&content.subject)
    );
    if !content.references.is_empty() {
        let list: Vec<String> = content
            .references
            .iter()
            .map(|r| escape(&r.description))
            .collect();
        out.push_str(&format!("<li>References: {}</li>\n", list.join("; ")));
    }
    out.push_str("</ul>\n");
    let body = &content.body;
    let ranges = paragraphs(body);
    // Each marker goes to the last paragraph starting at or before it.
    let mut placed: Vec<Vec<(usize, usize)>> = vec![Vec::new(); ranges.len()];
    for (i, (at, _)) in notes.iter().enumerate() {
        let which = ranges
            .iter()
            .rposition(|(s, _)| s <= at)
            .unwrap_or_default();
        if let (Some(list), Some((s, e))) = (placed.get_mut(which), ranges.get(which)) {
            list.push(((*at).clamp(*s, *e), i + 2));
        }
    }
    for ((s, e), markers) in ranges.iter().zip(&placed) {
        out.push_str("<p>");
        let mut from = *s;
        for (at, n) in markers {
            out.push_str(&escape(body.get(from..*at).unwrap_or("")));
            out.push_str(&marker_html(*n));
            from = *at;
        }
        out.push_str(&escape(body.get(from..*e).unwrap_or("")));
        out.push_str("</p>\n");
    }
    out.push_str("<section class=\"footnotes\">\n<ol>\n");
    let all = std::iter::once(source_text).chain(notes.iter().map(|(_, t)| t.as_str()));
    for (i, text) in all.enumerate() {
        let n = i + 1;
        out.push_str(&format!(
            "<li id=\"fn-{n}\">{} <a href=\"#fnref-{n}\">↩</a></li>\n",
            escape(text)
        ));
    }
    out.push_str("</ol>\n</section>\n</article>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::letters::letter::Amendment;
    use crate::letters::principal::PrincipalId;

    fn content(body: &str, amendments: Vec<Amendment>) -> Draft {
        let mut d = Draft::new(
            PrincipalId::parse("US/Carter").unwrap(),
            PrincipalId::parse("USSR/Brezhnev").unwrap(),
            "1977-03-04",
            "Arms",
            body,
            Vec::new(),
        )
        .unwrap();
        for a in amendments {
            d.amend(a).unwrap();
        }
        d
    }

    fn sub(original: &str, replacement: &str) -> Amendment {
        Amendment {
            original: original.into(),
            replacement: replacement.into(),
            note: None,
            after: None,
            before: None,
            occurrence: None,
        }
    }

    fn note_of(body: &str, a: Amendment) -> String {
        let d = content(body, vec![a]);
        amendment_note(&d.body, &d.amendments[0]).unwrap().1
    }

    #[test]
    fn wording_follows_the_place_in_the_sentence() {
        let body = "We met. Then we agreed on everything. I hope you will not wait.\n\nDone.";
        assert_eq!(
            note_of(body, sub("substantial consensus exists", "on everything")),
            "The end of this sentence originally read “substantial consensus exists.” The author struck through these words and substituted “on everything.”"
        );
        assert_eq!(
            note_of(body, sub("Please do", "I hope you will")),
            "This sentence originally began “Please do.” The author struck through these words and substituted “I hope you will.”"
        );
        assert_eq!(
            note_of(body, sub("We talked", "We met")),
            "This sentence originally read “We talked.” The author struck through these words and substituted “We met.”"
        );
        assert_eq!(
            note_of(body, sub("then", "we agreed")),
            "This passage originally read “then.” The author struck through these words and substituted “we agreed.”"
        );
        assert_eq!(
            note_of(body, sub("Finished!", "Done")),
            "This sentence originally read “Finished!” The author struck through these words and substituted “Done.”"
        );
        let deletion = Amendment {
            after: Some("We met.".into()),
            note: Some("The deletion is in ink.".into()),
            ..sub("Frankly.", "")
        };
        assert_eq!(
            note_of(body, deletion),
            "At this point the author struck through the words “Frankly.” The deletion is in ink."
        );
        // An abbreviation does not end a sentence.
        assert_eq!(
            note_of("I met Mr. Vance there.", sub("Smith", "Vance")),
            "This passage originally read “Smith.” The author struck through these words and substituted “Vance.”"
        );
    }

    #[test]
    fn markers_go_after_punctuation_and_are_numbered_in_order() {
        let d = content(
            "First we agree. I hope you will not.\n\nSecond.",
            vec![sub("Please do", "I hope you will"), sub("concur", "agree")],
        );
        let md = render(&d, None, true, EditionFormat::Markdown);
        assert!(
            md.contains(
                "First we agree.[^2] I hope you will[^3] not.\n\nSecond.\n\n[^1]: Draft, not sent."
            ),
            "{md}"
        );
        assert!(md.contains("[^2]: The end of this sentence originally read “concur.”"));
        let clean = render(&d, None, false, EditionFormat::Markdown);
        assert!(!clean.contains("[^2]"), "{clean}");
        let page = render(&d, None, true, EditionFormat::Html);
        assert!(
            page.contains("<p>First we agree.<sup id=\"fnref-2\"><a href=\"#fn-2\">2</a></sup> I hope you will<sup id=\"fnref-3\"><a href=\"#fn-3\">3</a></sup> not.</p>\n<p>Second.</p>"),
            "{page}"
        );
        assert!(page.contains("<li id=\"fn-3\">This sentence originally began “Please do.”"));
    }

    #[test]
    fn html_escapes_the_text() {
        let d = content("Tom & <b>Jerry</b>", vec![]);
        let page = render(&d, None, true, EditionFormat::Html);
        assert!(
            page.contains("<p>Tom &amp; &lt;b&gt;Jerry&lt;/b&gt;</p>"),
            "{page}"
        );
    }
}
