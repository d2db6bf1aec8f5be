//! Tables for people (fitting an 80-column terminal) and CSV for programs.

use comfy_table::{
    Cell, Color, ColumnConstraint, ContentArrangement, Table, Width, presets::NOTHING,
};
use detente_assess::report::{Finding, Num, Plan, Report, Status, Timeline};

fn table(color: bool) -> Table {
    let mut t = Table::new();
    t.load_style(NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(80);
    if !color {
        t.force_no_tty();
    }
    t
}

/// Keeps a column at least as wide as `widest`, so a status never wraps mid-word.
fn keep_whole(t: &mut Table, column: usize, widest: &str) {
    if let Some(c) = t.column_mut(column) {
        // Plus the one-space padding on each side.
        let width = u16::try_from(widest.len() + 2).unwrap_or(u16::MAX);
        c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(width)));
    }
}

fn num(n: Option<Num>) -> String {
    n.map_or_else(String::new, |n| n.to_string())
}

fn status_cell(status: Status, color: bool) -> Cell {
    let cell = Cell::new(status.as_str());
    if !color {
        return cell;
    }
    match status {
        Status::Compliant => cell.fg(Color::Green),
        Status::Violation => cell.fg(Color::Red),
        Status::NoData => cell.fg(Color::Yellow),
        _ => cell.fg(Color::Grey),
    }
}

/// What a person most needs to read about a finding, in a few words.
fn note(f: &Finding) -> String {
    if let Some(reason) = &f.reason {
        return reason.replace('`', "");
    }
    let mut reasons: Vec<&str> = f.violations.iter().map(|v| v.reason).collect();
    reasons.sort_unstable();
    reasons.dedup();
    // Spaces let the column wrap between words.
    let mut text = reasons.join(", ").replace('_', " ");
    if f.violations.len() > 1 {
        text = format!("{} ({})", text, f.violations.len());
    }
    if let Some(stale) = &f.stale {
        if !text.is_empty() {
            text.push_str("; ");
        }
        text.push_str(&format!("data as of {}", stale.data_as_of));
    }
    text
}

pub fn findings_table(report: &Report, color: bool) -> String {
    let mut t = table(color);
    t.set_header(vec![
        "party",
        "provision",
        "status",
        "value",
        "bound",
        "margin",
        "note",
    ]);
    for f in &report.findings {
        t.add_row(vec![
            Cell::new(&f.party),
            Cell::new(&f.provision),
            status_cell(f.status, color),
            Cell::new(num(f.value)),
            Cell::new(num(f.bound)),
            Cell::new(num(f.margin)),
            Cell::new(note(f)),
        ]);
    }
    keep_whole(&mut t, 2, "not_yet_in_force");
    let counts: Vec<String> = report
        .summary
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let mut out = format!("{t}\n{}: {}", report.at, counts.join(", "));
    if let Some(i) = &report.assumptions.interpretation {
        out.push_str(&format!(" (interpretation `{i}`)"));
    }
    out.push('\n');
    if !report.deferred.is_empty() {
        let names: Vec<&str> = report.deferred.iter().map(|d| d.title.as_str()).collect();
        out.push_str(&format!("deferred: {}\n", names.join("; ")));
    }
    out
}

/// Appends one CSV record, quoting fields that need it.
fn push_csv_row(out: &mut String, fields: &[String]) {
    let quoted: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    out.push_str(&quoted.join(","));
    out.push('\n');
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

pub fn findings_csv(report: &Report) -> String {
    let mut out = String::from(
        "at,party,provision,kind,status,value,bound,margin,effective_from,reasons,violation_ids\n",
    );
    for f in &report.findings {
        let reasons: Vec<&str> = f.violations.iter().map(|v| v.reason).collect();
        let ids: Vec<String> = f.violations.iter().flat_map(|v| v.ids.clone()).collect();
        let row = [
            report.at.clone(),
            f.party.clone(),
            f.provision.clone(),
            f.kind.to_owned(),
            f.status.as_str().to_owned(),
            num(f.value),
            num(f.bound),
            num(f.margin),
            f.effective_from.clone().unwrap_or_default(),
            reasons.join(";"),
            ids.join(";"),
        ];
        push_csv_row(&mut out, &row);
    }
    out
}

pub fn timeline_table(timeline: &Timeline, color: bool) -> String {
    let mut t = table(color);
    t.set_header(vec![
        "at",
        "party",
        "provision",
        "status",
        "value",
        "bound",
        "margin",
    ]);
    for p in &timeline.points {
        t.add_row(vec![
            Cell::new(p.at.get(..10).unwrap_or(&p.at)),
            Cell::new(&p.party),
            Cell::new(&p.provision),
            status_cell(p.status, color),
            Cell::new(num(p.value)),
            Cell::new(num(p.bound)),
            Cell::new(num(p.margin)),
        ]);
    }
    keep_whole(&mut t, 3, "not_yet_in_force");
    format!("{t}\n")
}

pub fn timeline_csv(timeline: &Timeline) -> String {
    let mut out = String::from("at,party,provision,status,value,bound,margin\n");
    for p in &timeline.points {
        let row = [
            p.at.clone(),
            p.party.clone(),
            p.provision.clone(),
            p.status.as_str().to_owned(),
            num(p.value),
            num(p.bound),
            num(p.margin),
        ];
        push_csv_row(&mut out, &row);
    }
    out
}

pub fn plan_table(plans: &[Plan], color: bool) -> String {
    let mut t = table(color);
    t.set_header(vec![
        "party",
        "provision",
        "milestone",
        "bound",
        "now",
        "owed",
        "per year",
    ]);
    for plan in plans {
        for m in &plan.milestones {
            t.add_row(vec![
                plan.party.clone(),
                m.provision.clone(),
                m.date.clone(),
                m.bound.to_string(),
                m.current_value.to_string(),
                m.reduction_owed.to_string(),
                m.per_year.to_string(),
            ]);
        }
    }
    let mut out = format!("{t}\n");
    for plan in plans {
        for (provision, reason) in &plan.unknown {
            out.push_str(&format!("{} {provision}: unknown ({reason})\n", plan.party));
        }
    }
    out
}

pub fn plan_csv(plans: &[Plan]) -> String {
    let mut out = String::from(
        "at,party,provision,kind,milestone,bound,current_value,reduction_owed,days_left,per_year\n",
    );
    for plan in plans {
        for m in &plan.milestones {
            let row = [
                plan.at.clone(),
                plan.party.clone(),
                m.provision.clone(),
                m.kind.to_owned(),
                m.date.clone(),
                m.bound.to_string(),
                m.current_value.to_string(),
                m.reduction_owed.to_string(),
                m.days_left.to_string(),
                m.per_year.to_string(),
            ];
            push_csv_row(&mut out, &row);
        }
    }
    out
}
