//! `detente gen`: a deterministic generator of CFE-scale facts and a CFE-like treaty, for
//! the benchmark of `docs/benchmarks.md` (run by `bench/run.sh`).
//!
//! It writes three files into `--out`:
//!
//! - `facts.jsonl`: item records (each item a run of successive records of one id over
//!   non-overlapping `[from, until)` intervals, as attribute changes would give) and events;
//! - `cfe.treaty`: a treaty over the same vocabulary with per-party ceilings on counts of
//!   five categories and on a yearly sum over events;
//! - `gen.json`: the parameters and the timeline the benchmark uses.
//!
//! The same arguments give the same bytes on every machine: the only randomness is a
//! seeded splitmix64 below, and no clock is read. Ceilings are chosen from the generated
//! holdings themselves (a monthly series per party and quantity is computed while the facts
//! are written), so that some parties exceed some ceilings in some months, whatever the
//! scale.

use crate::Exit;
use clap::Args;
use detente_lang::time::Date;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct GenArgs {
    /// The folder to write `cfe.treaty`, `facts.jsonl` and `gen.json` into (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Parties, named P01, P02, …
    #[arg(long, default_value_t = 30)]
    parties: u32,
    /// Distinct items (item ids).
    #[arg(long, default_value_t = 200_000)]
    items: u64,
    /// Item records over all items (each item gets at least one).
    #[arg(long, default_value_t = 2_000_000)]
    records: u64,
    /// Events.
    #[arg(long, default_value_t = 200_000)]
    events: u64,
    /// Years covered from 1991-01-01 (the monthly timeline has 12 points a year).
    #[arg(long, default_value_t = 30)]
    years: u32,
    /// The seed of the generator.
    #[arg(long, default_value_t = 1990)]
    seed: u64,
}

/// The first day of the period and of the treaty in force.
const START: (i32, u8, u8) = (1991, 1, 1);

/// splitmix64 (Steele, Lea and Flood 2014): small, fast and good enough for test data.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0), by multiply-shift.
    fn below(&mut self, n: u64) -> u64 {
        let wide = u128::from(self.next_u64()) * u128::from(n);
        u64::try_from(wide >> 64).unwrap_or(0)
    }

    /// Uniform in `0..n` for signed spans.
    fn below_i(&mut self, n: i64) -> i64 {
        i64::try_from(self.below(u64::try_from(n.max(0)).unwrap_or(0))).unwrap_or(0)
    }

    /// True with probability `num / den`.
    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// An index drawn with the given cumulative weights.
    fn pick(&mut self, cumulative: &[u64]) -> usize {
        let total = cumulative.last().copied().unwrap_or(0);
        let r = self.below(total);
        cumulative.partition_point(|&c| c <= r)
    }
}

/// The item categories: name, short id prefix, weight among items.
const CATEGORIES: [(&str, &str, u64); 5] = [
    ("battle_tank", "tank", 30),
    ("acv", "acv", 38),
    ("artillery", "arty", 17),
    ("combat_aircraft", "acft", 11),
    ("attack_helicopter", "heli", 4),
];
const TANK_MODELS: [&str; 10] = [
    "t55",
    "t62",
    "t64",
    "t72",
    "t80",
    "m60",
    "m1",
    "leopard1",
    "leopard2",
    "challenger",
];
const ACV_TYPES: [&str; 3] = ["apc", "aifv", "hacv"];
const CALIBERS: [i64; 7] = [82, 100, 122, 130, 152, 155, 203];
const ROLES: [&str; 5] = [
    "fighter",
    "ground_attack",
    "bomber",
    "reconnaissance",
    "trainer",
];

/// The limits: provision id, title, article, quantity name, quantity definition.
/// `bench/duckdb_queries.py` mirrors these definitions in SQL.
const LIMITS: [(&str, &str, &str, &str, &str); 7] = [
    (
        "tanks",
        "Battle tanks",
        "IV.1(A)",
        "battle_tanks",
        "count(battle_tank)",
    ),
    (
        "tanks-active",
        "Battle tanks in active units",
        "IV.1(A) and XII",
        "active_battle_tanks",
        "count(battle_tank where active_unit)",
    ),
    (
        "acv",
        "Armoured combat vehicles",
        "IV.1(B)",
        "armoured_combat_vehicles",
        "count(acv)",
    ),
    (
        "artillery",
        "Artillery of 100 mm calibre and above",
        "IV.1(C)",
        "artillery_pieces",
        "count(artillery where caliber_mm >= 100)",
    ),
    (
        "aircraft",
        "Combat aircraft, primary trainers excepted",
        "IV.1(D)",
        "combat_aircraft_count",
        "count(combat_aircraft where role in (fighter, ground_attack, bomber, reconnaissance))",
    ),
    (
        "helicopters",
        "Attack helicopters",
        "IV.1(E)",
        "attack_helicopters",
        "count(attack_helicopter)",
    ),
    (
        "exports",
        "Equipment exported in a calendar year",
        "synthetic",
        "exported_units",
        "sum(equipment_export.units per year)",
    ),
];
/// The index of the event limit in [`LIMITS`]; the others count items.
const EXPORTS: usize = 6;

/// Monthly series per party and limit, kept as per-point deltas while the facts are
/// written, then summed.
#[derive(Debug)]
struct Series {
    /// Point instants (unix seconds), ascending.
    points: Vec<i64>,
    /// The calendar year of each point.
    years: Vec<i32>,
    /// `[party][limit][point]`, flattened.
    deltas: Vec<i64>,
}

impl Series {
    fn slot(&mut self, party: usize, limit: usize, point: usize) -> Option<&mut i64> {
        let n = self.points.len();
        if point >= n {
            return None;
        }
        self.deltas
            .get_mut((party * LIMITS.len() + limit) * n + point)
    }

    /// The first point at or after `t`: the first point whose assessment sees `t`.
    fn point_at_or_after(&self, t: i64) -> usize {
        self.points.partition_point(|&p| p < t)
    }

    /// An item of `limit` exists over `[from, until)`.
    fn add_item(&mut self, party: usize, limit: usize, from: i64, until: Option<i64>) {
        let k = self.point_at_or_after(from);
        if let Some(d) = self.slot(party, limit, k) {
            *d += 1;
        }
        if let Some(u) = until {
            let k = self.point_at_or_after(u);
            if let Some(d) = self.slot(party, limit, k) {
                *d -= 1;
            }
        }
    }

    /// An event of `units` at `at`, counted `per year`: from the calendar year's start
    /// through the instant.
    fn add_event(&mut self, party: usize, at: i64, year: i32, units: i64) {
        let k = self.point_at_or_after(at);
        if self.years.get(k) == Some(&year)
            && let Some(d) = self.slot(party, EXPORTS, k)
        {
            *d += units;
        }
    }

    /// The values at every point of one party and limit.
    fn values(&self, party: usize, limit: usize) -> Vec<i64> {
        let n = self.points.len();
        let start = (party * LIMITS.len() + limit) * n;
        let deltas = self.deltas.get(start..start + n).unwrap_or(&[]);
        let mut out = Vec::with_capacity(n);
        let mut running = 0i64;
        let mut year = None;
        for (d, y) in deltas.iter().zip(&self.years) {
            // Yearly sums start again each January; counts of items run on.
            if limit == EXPORTS && year != Some(*y) {
                running = 0;
            }
            year = Some(*y);
            running += d;
            out.push(running);
        }
        out
    }
}

/// What [`generate`] wrote, for the summary (and the tests).
#[derive(Debug)]
struct Generated {
    /// The monthly values per party and limit (the tests compare the engine's with them).
    #[cfg_attr(not(test), allow(dead_code))]
    series: Series,
    item_records: u64,
    bytes: u64,
    pairs_violating: usize,
    violating_points: usize,
    points: usize,
    timeline: (Date, Date),
}

pub fn run(args: &GenArgs) -> Result<u8, Exit> {
    let g = generate(args)?;
    let parties = usize::try_from(args.parties).unwrap_or(0);
    println!(
        "wrote {}: {} parties, {} items, {} item records, {} events ({} bytes)",
        args.out.join("facts.jsonl").display(),
        args.parties,
        args.items,
        g.item_records,
        args.events,
        g.bytes
    );
    println!(
        "wrote {}: {} limits over {} parties; {} (party, limit) pairs exceed their ceiling in {} of {} monthly points",
        args.out.join("cfe.treaty").display(),
        LIMITS.len(),
        args.parties,
        g.pairs_violating,
        g.violating_points,
        g.points * parties * LIMITS.len()
    );
    println!(
        "wrote {}; timeline: --from {} --to {} --every \"1 month\" ({} points)",
        args.out.join("gen.json").display(),
        g.timeline.0,
        g.timeline.1,
        g.points
    );
    Ok(crate::EXIT_OK)
}

fn generate(args: &GenArgs) -> Result<Generated, Exit> {
    if !(2..=999).contains(&args.parties) {
        return Err(Exit::invalid(
            "error: `--parties` must be between 2 and 999",
        ));
    }
    if args.items == 0 || args.records < args.items {
        return Err(Exit::invalid(
            "error: `--records` must be at least `--items` (every item has a record), and `--items` at least 1",
        ));
    }
    if args.records.saturating_add(args.events) > detente_assess::facts::MAX_RECORDS {
        return Err(Exit::invalid(format!(
            "error: {} records is over the loader's limit of {}",
            args.records.saturating_add(args.events),
            detente_assess::facts::MAX_RECORDS
        )));
    }
    if !(1..=200).contains(&args.years) {
        return Err(Exit::invalid("error: `--years` must be between 1 and 200"));
    }
    std::fs::create_dir_all(&args.out).map_err(|e| {
        Exit::invalid(format!(
            "error: cannot create `{}`: {e}",
            args.out.display()
        ))
    })?;
    let start = Date::new(START.0, START.1, START.2)
        .ok_or_else(|| Exit::internal("error: internal error: bad start date"))?;
    let months = i64::from(args.years) * 12;
    let mut points = Vec::new();
    let mut years = Vec::new();
    for k in 0..months {
        let d = start
            .add_months(k)
            .ok_or_else(|| Exit::internal("error: internal error: date out of range"))?;
        points.push(d.start().unix_seconds());
        years.push(d.year());
    }
    let parties = usize::try_from(args.parties).unwrap_or(0);
    let n = points.len();
    let mut series = Series {
        points,
        years,
        deltas: vec![0; parties * LIMITS.len() * n],
    };
    let names: Vec<String> = (1..=args.parties)
        .map(|p| {
            if args.parties < 100 {
                format!("P{p:02}")
            } else {
                format!("P{p:03}")
            }
        })
        .collect();

    let facts_path = args.out.join("facts.jsonl");
    let file = std::fs::File::create(&facts_path).map_err(|e| write_error(&facts_path, &e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut rng = Rng(args.seed);
    let item_records = write_items(args, &names, start, &mut rng, &mut series, &mut out)
        .map_err(|e| write_error(&facts_path, &e))?;
    write_events(args, &names, start, &mut rng, &mut series, &mut out)
        .map_err(|e| write_error(&facts_path, &e))?;
    out.flush().map_err(|e| write_error(&facts_path, &e))?;
    drop(out);
    let bytes = std::fs::metadata(&facts_path).map_or(0, |m| m.len());

    // Ceilings from the holdings: about a quarter of (party, limit) pairs get a ceiling at
    // their series' 70th percentile (exceeded in roughly 30% of the months); the others get
    // one above their peak.
    let mut treaty = String::new();
    let mut pairs_violating = 0usize;
    let mut violating_points = 0usize;
    let end = start
        .add_months(months)
        .ok_or_else(|| Exit::internal("error: internal error: date out of range"))?;
    let last = start
        .add_months(months - 1)
        .ok_or_else(|| Exit::internal("error: internal error: date out of range"))?;
    let _ = writeln!(
        treaty,
        "// A CFE-like treaty, generated by `detente gen --parties {} --items {} --records {} --events {} --years {} --seed {}`",
        args.parties, args.items, args.records, args.events, args.years, args.seed
    );
    treaty.push_str(
        "// for the benchmark of docs/benchmarks.md. The categories and articles echo the Treaty on\n\
         // Conventional Armed Forces in Europe (Paris, 19 November 1990); the parties, holdings and\n\
         // ceilings are synthetic. Each ceiling is chosen from the party's generated holdings, so\n\
         // some parties exceed some ceilings in some months.\n",
    );
    let _ = writeln!(
        treaty,
        "treaty cfe_bench \"Conventional armed forces in Europe (generated, CFE scale)\" {{"
    );
    let _ = writeln!(treaty, "  parties {}", names.join(", "));
    let _ = writeln!(treaty, "  signed 1990-11-19");
    let _ = writeln!(treaty, "  in_force {start}");
    treaty.push('\n');
    let _ = writeln!(
        treaty,
        "  category battle_tank {{\n    model: enum({}),\n    active_unit: bool\n  }}",
        TANK_MODELS.join(", ")
    );
    let _ = writeln!(
        treaty,
        "  category acv {{ variant: enum({}), active_unit: bool }}",
        ACV_TYPES.join(", ")
    );
    treaty.push_str("  category artillery { caliber_mm: int, active_unit: bool }\n");
    let _ = writeln!(
        treaty,
        "  category combat_aircraft {{ role: enum({}) }}",
        ROLES.join(", ")
    );
    treaty.push_str("  category attack_helicopter { specialized: bool }\n");
    treaty.push_str("  event equipment_export { units: int }\n\n");
    for (_, _, _, quantity, definition) in LIMITS {
        let _ = writeln!(treaty, "  quantity {quantity} = {definition}");
    }
    for (l, (id, title, article, quantity, _)) in LIMITS.iter().enumerate() {
        treaty.push('\n');
        let _ = writeln!(treaty, "  limit {id} \"{title}\" article \"{article}\" {{");
        for (p, name) in names.iter().enumerate() {
            let mut values = series.values(p, l);
            let bound = if (p + l) % 4 == 0 {
                let mut sorted = values.clone();
                sorted.sort_unstable();
                let index = (sorted.len().saturating_sub(1)) * 7 / 10;
                sorted.get(index).copied().unwrap_or(0)
            } else {
                let peak = values.iter().copied().max().unwrap_or(0);
                peak + peak / 20 + 1
            };
            values.retain(|v| *v > bound);
            if !values.is_empty() {
                pairs_violating += 1;
                violating_points += values.len();
            }
            let _ = writeln!(treaty, "    {quantity} <= {bound} for {name}");
        }
        treaty.push_str("  }\n");
    }
    treaty.push_str("}\n");
    let treaty_path = args.out.join("cfe.treaty");
    std::fs::write(&treaty_path, &treaty).map_err(|e| write_error(&treaty_path, &e))?;

    let meta = serde_json::json!({
        "generator": "detente gen",
        "seed": args.seed,
        "parties": names,
        "items": args.items,
        "item_records": item_records,
        "events": args.events,
        "years": args.years,
        "period": {"from": start.to_string(), "until": end.to_string()},
        "timeline": {"from": start.to_string(), "to": last.to_string(), "every": "1 month", "points": n},
        "limits": LIMITS.iter().map(|(id, _, _, q, def)| serde_json::json!({"provision": id, "quantity": q, "definition": def})).collect::<Vec<_>>(),
        "facts_bytes": bytes,
        "timeline_violations": {"pairs": pairs_violating, "points": violating_points},
    });
    let meta_path = args.out.join("gen.json");
    let meta_text = serde_json::to_string_pretty(&meta)
        .map_err(|e| Exit::internal(format!("error: internal error: {e}")))?;
    std::fs::write(&meta_path, meta_text + "\n").map_err(|e| write_error(&meta_path, &e))?;

    Ok(Generated {
        series,
        item_records,
        bytes,
        pairs_violating,
        violating_points,
        points: n,
        timeline: (start, last),
    })
}

fn write_error(path: &Path, e: &std::io::Error) -> Exit {
    Exit::invalid(format!("error: cannot write `{}`: {e}", path.display()))
}

/// Cumulative party weights: the first parties hold the most (1/k-like, as in CFE, where
/// one party held about a third of the equipment).
fn party_weights(parties: usize) -> Vec<u64> {
    let mut cumulative = Vec::with_capacity(parties);
    let mut total = 0u64;
    for p in 0..parties {
        total += 1000 + 29_000 / (u64::try_from(p).unwrap_or(0) + 1);
        cumulative.push(total);
    }
    cumulative
}

/// Writes the item records; returns how many.
fn write_items(
    args: &GenArgs,
    names: &[String],
    start: Date,
    rng: &mut Rng,
    series: &mut Series,
    out: &mut impl std::io::Write,
) -> std::io::Result<u64> {
    let parties = party_weights(names.len());
    let mut categories = Vec::new();
    let mut total = 0;
    for (_, _, w) in CATEGORIES {
        total += w;
        categories.push(total);
    }
    let start_day = start.days_since_epoch();
    let end_day = start
        .add_months(i64::from(args.years) * 12)
        .map_or(start_day, Date::days_since_epoch);
    let span = end_day - start_day;
    // Records per item: `base` each, the remainder one more for the first items; then the
    // two items of each pair trade a random number of records, so counts vary (1 to
    // 2·base−1 at the default scale) and the total stays exact.
    let base = args.records / args.items;
    let remainder = args.records % args.items;
    let count_of = |i: u64| base + u64::from(i < remainder);
    let mut serial = vec![0u64; names.len() * CATEGORIES.len()];
    let mut written = 0u64;
    let mut line = String::with_capacity(256);
    let mut i = 0u64;
    while i < args.items {
        let mut counts = [count_of(i), 0];
        if i + 1 < args.items {
            counts[1] = count_of(i + 1);
            let room = counts[0].min(counts[1]).saturating_sub(1);
            let d = rng.below(room + 1);
            if rng.chance(1, 2) {
                counts[0] += d;
                counts[1] -= d;
            } else {
                counts[0] -= d;
                counts[1] += d;
            }
        }
        for (j, &c) in counts.iter().enumerate() {
            if i + (j as u64) >= args.items {
                break;
            }
            let p = rng.pick(&parties);
            let k = rng.pick(&categories);
            let (Some(party), Some((category, prefix, _))) = (names.get(p), CATEGORIES.get(k))
            else {
                continue;
            };
            let n = serial
                .get_mut(p * CATEGORIES.len() + k)
                .map_or(0, |s| std::mem::replace(s, *s + 1));
            let id = format!("{party}-{prefix}-{n:06}");
            written += write_item(
                &mut line,
                rng,
                series,
                out,
                (p, party),
                (k, category),
                &id,
                c,
                (start_day, span, end_day),
            )?;
        }
        i += 2;
    }
    Ok(written)
}

/// Writes the `count` records of one item; returns `count`.
#[allow(clippy::too_many_arguments)]
fn write_item(
    line: &mut String,
    rng: &mut Rng,
    series: &mut Series,
    out: &mut impl std::io::Write,
    (p, party): (usize, &str),
    (k, category): (usize, &str),
    id: &str,
    count: u64,
    (start_day, span, end_day): (i64, i64, i64),
) -> std::io::Result<u64> {
    // The item exists from a day between five years before the period and a year before
    // its end, for two to thirty-seven years (longer when it has many records).
    let c = i64::try_from(count).unwrap_or(1).max(1);
    let first = start_day - 5 * 365 + rng.below_i(span + 4 * 365);
    let length = (730 + rng.below_i(35 * 365)).max(3 * c);
    let last = first + length;
    let open = last >= end_day && rng.chance(2, 3);
    // Attributes fixed for the item, and one that changes from record to record.
    let model = TANK_MODELS
        .get(rng.below(TANK_MODELS.len() as u64) as usize)
        .copied()
        .unwrap_or("t72");
    let variant = ACV_TYPES
        .get(rng.below(ACV_TYPES.len() as u64) as usize)
        .copied()
        .unwrap_or("apc");
    let caliber = CALIBERS
        .get(rng.below(CALIBERS.len() as u64) as usize)
        .copied()
        .unwrap_or(152);
    let role = ROLES
        .get(rng.below(ROLES.len() as u64) as usize)
        .copied()
        .unwrap_or("fighter");
    let specialized = rng.chance(3, 4);
    let segment = length / c;
    let mut bounds = Vec::with_capacity(usize::try_from(c).unwrap_or(0) + 1);
    bounds.push(first);
    for b in 1..c {
        let jitter = rng.below_i(2 * (segment / 3) + 1) - segment / 3;
        bounds.push(first + b * length / c + jitter);
    }
    bounds.push(last);
    for pair in bounds.windows(2) {
        let &[from, next] = pair else { continue };
        let is_last = next == last;
        // A record ends where the next begins, or (one in ten) some days earlier: the item
        // was out of the count for a while (in transit, under repair).
        let until = if is_last {
            (!open).then_some(last)
        } else if rng.chance(1, 10) {
            Some((next - 1 - rng.below_i(segment / 4)).max(from + 1))
        } else {
            Some(next)
        };
        let active = rng.chance(3, 4);
        line.clear();
        let _ = write!(
            line,
            "{{\"kind\":\"item\",\"party\":\"{party}\",\"id\":\"{id}\",\"category\":\"{category}\",\"attributes\":"
        );
        let _ = match k {
            0 => write!(line, "{{\"model\":\"{model}\",\"active_unit\":{active}}}"),
            1 => write!(
                line,
                "{{\"variant\":\"{variant}\",\"active_unit\":{active}}}"
            ),
            2 => write!(
                line,
                "{{\"caliber_mm\":{caliber},\"active_unit\":{active}}}"
            ),
            3 => write!(line, "{{\"role\":\"{role}\"}}"),
            _ => write!(line, "{{\"specialized\":{specialized}}}"),
        };
        let _ = write!(line, ",\"from\":\"{}\"", day(from));
        if let Some(u) = until {
            let _ = write!(line, ",\"until\":\"{}\"", day(u));
        }
        line.push_str("}\n");
        out.write_all(line.as_bytes())?;
        // The limits this record counts towards (mirrors LIMITS).
        let from_s = from * 86_400;
        let until_s = until.map(|u| u * 86_400);
        let limits: &[usize] = match k {
            0 if active => &[0, 1],
            0 => &[0],
            1 => &[2],
            2 if caliber >= 100 => &[3],
            3 if role != "trainer" => &[4],
            4 => &[5],
            _ => &[],
        };
        for &l in limits {
            series.add_item(p, l, from_s, until_s);
        }
    }
    Ok(count)
}

fn write_events(
    args: &GenArgs,
    names: &[String],
    start: Date,
    rng: &mut Rng,
    series: &mut Series,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let parties = party_weights(names.len());
    let from = start.start().unix_seconds();
    let until = start
        .add_months(i64::from(args.years) * 12)
        .map_or(from, |d| d.start().unix_seconds());
    let mut line = String::with_capacity(160);
    for e in 0..args.events {
        let p = rng.pick(&parties);
        let Some(party) = names.get(p) else { continue };
        let at = from + rng.below_i(until - from);
        let units = 1 + rng.below_i(40);
        let instant = detente_lang::time::Instant::from_unix_seconds(at);
        line.clear();
        let _ = writeln!(
            line,
            "{{\"kind\":\"event\",\"party\":\"{party}\",\"id\":\"{party}-export-{e:07}\",\"type\":\"equipment_export\",\"at\":\"{instant}\",\"attributes\":{{\"units\":{units}}}}}"
        );
        out.write_all(line.as_bytes())?;
        series.add_event(p, at, instant.date().year(), units);
    }
    Ok(())
}

/// A day number as a date.
fn day(days: i64) -> String {
    Date::from_days_since_epoch(days).map_or_else(String::new, |d| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let mut a = Rng(7);
        let mut b = Rng(7);
        for _ in 0..1000 {
            let x = a.below(10);
            assert_eq!(x, b.below(10));
            assert!(x < 10);
        }
        assert_eq!(Rng(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn small_generation_loads_and_matches_its_own_series() {
        let dir = tempfile::tempdir().unwrap();
        let args = GenArgs {
            out: dir.path().to_path_buf(),
            parties: 3,
            items: 200,
            records: 2000,
            events: 300,
            years: 3,
            seed: 5,
        };
        let generated = generate(&args).unwrap();
        let facts = std::fs::read_to_string(dir.path().join("facts.jsonl")).unwrap();
        assert_eq!(facts.lines().count(), 2300);
        let (loaded, errors) = detente_assess::facts::load_str("facts.jsonl", &facts);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(loaded.items.len(), 2000);
        assert_eq!(loaded.events.len(), 300);
        let source = std::fs::read_to_string(dir.path().join("cfe.treaty")).unwrap();
        let checked = detente_lang::check_source(&source);
        assert!(
            checked.diagnostics.iter().all(|d| !d.is_error()),
            "{:?}",
            checked.diagnostics
        );
        let treaty = checked.treaty.unwrap();
        let errors = loaded.validate(&detente_assess::facts::Vocabulary::of_treaty(&treaty));
        assert!(errors.is_empty(), "{errors:?}");
        // The engine's monthly values are the generator's own series, and some exceed
        // their ceiling.
        assert!(generated.pairs_violating > 0);
        let engine = detente_assess::engine::Engine::new(
            &treaty,
            &loaded,
            std::collections::BTreeMap::new(),
            &detente_assess::engine::Options::default(),
            detente_assess::engine::Provenance::default(),
        )
        .unwrap();
        let (from, to) = generated.timeline;
        let timeline = engine.timeline(
            from.start(),
            to.start(),
            detente_lang::time::Duration::new(1, detente_lang::time::TimeUnit::Month),
        );
        assert_eq!(timeline.points.len(), 36 * 3 * LIMITS.len());
        let mut violations = 0;
        for (p, party) in ["P01", "P02", "P03"].iter().enumerate() {
            for (l, limit) in LIMITS.iter().enumerate() {
                let expected = generated.series.values(p, l);
                let got: Vec<i64> = timeline
                    .points
                    .iter()
                    .filter(|x| x.party == *party && x.provision == limit.0)
                    .map(|x| match x.value {
                        Some(detente_assess::report::Num::Int(v)) => v,
                        other => panic!("{party} {}: {other:?}", limit.0),
                    })
                    .collect();
                assert_eq!(got, expected, "{party} {}", limit.0);
                violations += timeline
                    .points
                    .iter()
                    .filter(|x| {
                        x.party == *party
                            && x.provision == limit.0
                            && x.status == detente_assess::report::Status::Violation
                    })
                    .count();
            }
        }
        assert_eq!(violations, generated.violating_points);
        // The same arguments give the same bytes.
        let again = tempfile::tempdir().unwrap();
        generate(&GenArgs {
            out: again.path().to_path_buf(),
            ..args
        })
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(again.path().join("facts.jsonl")).unwrap(),
            facts
        );
    }
}
