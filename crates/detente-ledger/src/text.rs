//! Small text helpers shared by the note, checkpoint and receipt parsers.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Standard base64 (RFC 4648 section 4, with padding), as every C2SP format uses.
pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Strict standard base64: padding required and non-zero trailing bits rejected, so
/// each byte string has exactly one accepted text form (a flipped bit in the text
/// cannot decode to the same bytes).
pub(crate) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}

/// Decodes base64 that must hold exactly 32 bytes (a hash or a public key).
pub(crate) fn b64_decode_32(text: &str) -> Option<[u8; 32]> {
    // 32 bytes are always 44 base64 characters; checking first bounds the work.
    if text.len() != 44 {
        return None;
    }
    b64_decode(text).and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
}

/// Lower-case hex, used in key ids (`vkey`s) and error messages.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Parses the ASCII decimal form the C2SP formats use for sizes, indexes and
/// timestamps: digits only, no sign, no leading zeros (except `0` itself), and it
/// must fit in a u64. Returns a description of the problem otherwise.
pub(crate) fn parse_decimal(s: &str) -> Result<u64, &'static str> {
    if s.is_empty() {
        return Err("is empty");
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("is not a decimal number");
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err("has a leading zero");
    }
    let mut value: u64 = 0;
    for b in s.bytes() {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or("does not fit in 64 bits")?;
    }
    Ok(value)
}

/// Why `name` is not a valid signed-note key name, if it is not.
///
/// C2SP signed-note: key names are non-empty and contain no Unicode spaces and no
/// `+` (the `+` separates the parts of a verifier key). Control characters are
/// refused too, because a signed note may not contain any.
pub(crate) fn key_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("is empty");
    }
    if name.len() > MAX_KEY_NAME_BYTES {
        return Some("is longer than 255 bytes");
    }
    if name.contains('+') {
        return Some("contains '+'");
    }
    if name.chars().any(char::is_whitespace) {
        return Some("contains a space");
    }
    if name.chars().any(char::is_control) {
        return Some("contains a control character");
    }
    None
}

/// Key names (and so log origins) are at most this long. The entry format stores the
/// origin with a length prefix and this keeps every name a node handles small.
pub(crate) const MAX_KEY_NAME_BYTES: usize = 255;

/// Index and character of the first control character other than newline, if any
/// (signed notes may contain no other control characters).
pub(crate) fn first_control_char(s: &str) -> Option<(usize, char)> {
    s.char_indices()
        .find(|&(_, c)| (c as u32) < 0x20 && c != '\n')
}

/// 1-based line number of byte offset `at` in `s`.
pub(crate) fn line_of(s: &str, at: usize) -> usize {
    s.get(..at)
        .map_or(0, |head| head.bytes().filter(|&b| b == b'\n').count())
        + 1
}
