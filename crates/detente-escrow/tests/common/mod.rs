//! Shared fixtures: a small fixed declaration with fixed salts.
#![allow(dead_code)]

use detente_escrow::commit::{Escrow, Item, Location, Salt, Value};
use sha2::{Digest as _, Sha256};

/// A fixed salt: SHA-256("detente-escrow test salt " || decimal i).
pub fn salt(i: usize) -> Salt {
    Sha256::digest(format!("detente-escrow test salt {i}").as_bytes()).into()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// Nine items in three regions (given out of order on purpose).
pub fn items() -> Vec<Item> {
    let launcher = |region: &str, id: &str, site: &str, mirv: bool, lat: f64, lon: f64| {
        Item::new(
            region,
            id,
            "icbm_launcher",
            vec![
                ("site".to_owned(), text(site)),
                ("mirv".to_owned(), Value::Bool(mirv)),
                (
                    "warheads".to_owned(),
                    Value::Integer(if mirv { 3 } else { 1 }),
                ),
            ],
            Some(Location::from_degrees(lat, lon).unwrap()),
        )
        .unwrap()
    };
    vec![
        launcher("charlie", "c-002", "site-c1", false, 51.5, 45.9),
        launcher("alpha", "a-001", "site-a1", true, 62.9, 40.6),
        launcher("alpha", "a-002", "site-a1", true, 62.9, 40.61),
        launcher("alpha", "a-003", "site-a2", false, 63.1, 41.0),
        launcher("bravo", "b-001", "site-b1", true, 51.9, 47.1),
        launcher("bravo", "b-002", "site-b2", false, 52.0, 47.5),
        Item::new(
            "bravo",
            "b-010",
            "heavy_bomber",
            vec![
                ("site".to_owned(), text("site-b2")),
                ("type".to_owned(), text("Tu-95")),
            ],
            None,
        )
        .unwrap(),
        launcher("charlie", "c-001", "site-c1", false, 51.4, 45.8),
        launcher("charlie", "c-003", "site-c2", true, 50.0, 44.0),
    ]
}

/// The fixed items, each with salt(i) for its position in `items()`.
pub fn salted() -> Vec<(Item, Salt)> {
    items()
        .into_iter()
        .enumerate()
        .map(|(i, it)| (it, salt(i)))
        .collect()
}

pub fn escrow() -> Escrow {
    Escrow::new(salted()).unwrap()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
