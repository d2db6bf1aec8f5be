//! Charts of value and bound over time, one panel per limit or objective, as SVG: one
//! module for `detente timeline --chart`, `detente demo` and the dashboard's provision
//! pages (inlined there). No fonts are needed: plotters writes `<text>` elements the
//! browser draws.

use detente_assess::report::Timeline;
use detente_lang::time::Instant;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

/// Years since 1970 as a decimal, for the x axis.
fn year_of(at: &str) -> Option<f64> {
    Instant::parse(at).map(|t| 1970.0 + t.unix_seconds() as f64 / (365.2425 * 86_400.0))
}

/// The label of a decimal year: `1979` or `1979-07`.
fn year_label(x: f64, monthly: bool) -> String {
    let year = x.floor();
    if !monthly {
        return format!("{}", x.round());
    }
    let month = (((x - year) * 12.0).floor() as i64 + 1).clamp(1, 12);
    format!("{year:.0}-{month:02}")
}

type Series = BTreeMap<String, (Vec<(f64, f64)>, Vec<(f64, f64)>)>;

/// Renders the timeline into an SVG string.
pub fn render(timeline: &Timeline) -> Result<String, String> {
    // provision -> party -> (values, bounds)
    let mut panels: BTreeMap<String, Series> = BTreeMap::new();
    for p in &timeline.points {
        let Some(x) = year_of(&p.at) else { continue };
        let entry = panels
            .entry(p.provision.clone())
            .or_default()
            .entry(p.party.clone())
            .or_default();
        if let Some(v) = p.value {
            entry.0.push((x, v.as_f64()));
        }
        if let Some(b) = p.bound {
            entry.1.push((x, b.as_f64()));
        }
    }
    panels.retain(|_, series| series.values().any(|(v, b)| !v.is_empty() || !b.is_empty()));
    let height = 260 * u32::try_from(panels.len().max(1)).unwrap_or(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let areas = root.split_evenly((panels.len().max(1), 1));
        let x_from = year_of(&timeline.from).unwrap_or(1970.0);
        let x_to = year_of(&timeline.to)
            .unwrap_or(x_from + 1.0)
            .max(x_from + 0.1);
        // About one label a year; over a short span, labels name the month too (a label
        // of whole years only would repeat the year between two of them).
        let span = x_to - x_from;
        let monthly = span <= 12.0;
        let labels = (span.ceil() as usize + 1).clamp(3, 12);
        for (area, (provision, series)) in areas.iter().zip(panels.iter()) {
            let ys = series
                .values()
                .flat_map(|(v, b)| v.iter().chain(b.iter()).map(|(_, y)| *y));
            let (lo, hi) = ys.fold((f64::MAX, f64::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
            let pad = ((hi - lo).abs() * 0.1).max(1.0);
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{provision}: value and bound"), ("sans-serif", 18))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(60)
                .build_cartesian_2d(x_from..x_to, (lo - pad).min(0.0)..(hi + pad))
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .x_desc(if monthly { "year-month" } else { "year" })
                .x_labels(labels)
                .x_label_formatter(&|x| year_label(*x, monthly))
                .draw()
                .map_err(|e| e.to_string())?;
            for (i, (party, (values, bounds))) in series.iter().enumerate() {
                let color = PALETTE.get(i % PALETTE.len()).copied().unwrap_or(BLACK);
                chart
                    .draw_series(LineSeries::new(
                        values.iter().copied(),
                        color.stroke_width(2),
                    ))
                    .map_err(|e| e.to_string())?
                    .label(format!("{party} value"))
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                    });
                chart
                    .draw_series(LineSeries::new(
                        bounds.iter().copied(),
                        color.mix(0.5).stroke_width(1),
                    ))
                    .map_err(|e| e.to_string())?
                    .label(format!("{party} bound"))
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], color.mix(0.5))
                    });
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

pub fn write(path: &Path, timeline: &Timeline) -> Result<(), String> {
    let svg = render(timeline).map_err(|e| format!("error: cannot draw the chart: {e}"))?;
    std::fs::write(path, svg).map_err(|e| format!("error: cannot write `{}`: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::year_label;

    #[test]
    fn year_labels_name_the_month_over_short_spans() {
        assert_eq!(year_label(1979.0, true), "1979-01");
        assert_eq!(year_label(1979.5, true), "1979-07");
        assert_eq!(year_label(1979.999, true), "1979-12");
        assert_eq!(year_label(1979.5, false), "1980");
        assert_eq!(year_label(1983.2, false), "1983");
    }
}
