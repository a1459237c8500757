//! The bench's plot: mean detection delay against the order's age at the event (log–log),
//! one panel per shape and rate, the ladder, the learned schedule and the bound as lines.
//! One SVG for installs (age since delivery), one for activations (age since install).
//!
//! Each line is the mean delay of the events in log-spaced age bins (4 per decade), drawn at
//! the bin's geometric centre; a bin with fewer than [`MIN_EVENTS`] events is left out, so a
//! line does not jump on one order.

use std::error::Error;
use std::path::Path;

use plotters::prelude::*;

/// Age bins per decade.
const BINS_PER_DECADE: f64 = 4.0;
/// Fewest events a bin needs to be drawn.
const MIN_EVENTS: usize = 5;

/// One panel: its title and named lines of (age, mean delay) in seconds.
pub struct Panel {
    pub title: String,
    pub lines: Vec<(String, Vec<(f64, f64)>)>,
}

/// The mean of `points`' delays per log-spaced age bin, as (bin centre, mean).
pub fn curve(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut bins: std::collections::BTreeMap<i64, (f64, usize)> = Default::default();
    for &(age, delay) in points {
        let key = (age.max(1.0).log10() * BINS_PER_DECADE).floor() as i64;
        let bin = bins.entry(key).or_default();
        bin.0 += delay;
        bin.1 += 1;
    }
    bins.into_iter()
        .filter(|(_, (_, n))| *n >= MIN_EVENTS)
        .map(|(k, (sum, n))| {
            let centre = 10f64.powf((k as f64 + 0.5) / BINS_PER_DECADE);
            (centre, sum / n as f64)
        })
        .collect()
}

/// A duration label for a log axis tick.
fn label(secs: &f64) -> String {
    match *secs {
        s if s >= 86_400.0 => format!("{:.0}d", s / 86_400.0),
        s if s >= 3_600.0 => format!("{:.0}h", s / 3_600.0),
        s if s >= 60.0 => format!("{:.0}m", s / 60.0),
        s => format!("{s:.0}s"),
    }
}

/// Round durations for the ticks of both axes: a coarse set, and a fine one for an axis the
/// coarse set would leave with fewer than three ticks.
const COARSE: [f64; 10] = [
    1.0,
    10.0,
    60.0,
    600.0,
    3_600.0,
    21_600.0,
    86_400.0,
    259_200.0,
    864_000.0,
    2_592_000.0,
];
const FINE: [f64; 16] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1_200.0, 1_800.0, 3_600.0, 7_200.0,
    21_600.0, 43_200.0,
];

/// The ticks within `r`.
fn ticks(r: &std::ops::Range<f64>) -> Vec<f64> {
    let within =
        |set: &[f64]| -> Vec<f64> { set.iter().copied().filter(|t| r.contains(t)).collect() };
    let coarse = within(&COARSE);
    if coarse.len() >= 3 {
        coarse
    } else {
        within(&FINE)
    }
}

/// The smallest and largest of `values`, widened a little, at least 1 s.
fn range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return 1.0..10.0;
    }
    (lo / 1.5).max(1.0)..(hi * 1.5).max(10.0)
}

/// Draws `panels` (shapes as rows, rates as columns: `columns` per row) into `path`.
pub fn draw(
    path: &Path,
    title: &str,
    panels: &[Panel],
    columns: usize,
) -> Result<(), Box<dyn Error>> {
    let rows = panels.len().div_ceil(columns.max(1));
    let size = (560 * columns as u32, 380 * rows as u32 + 40);
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 20))?;
    for (area, panel) in root.split_evenly((rows, columns.max(1))).iter().zip(panels) {
        let points = || panel.lines.iter().flat_map(|(_, l)| l.iter());
        let x = range(points().map(|p| p.0));
        let y = range(points().map(|p| p.1));
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(34)
            .y_label_area_size(50)
            .build_cartesian_2d(
                x.clone().log_scale().with_key_points(ticks(&x)),
                y.clone().log_scale().with_key_points(ticks(&y)),
            )?;
        chart
            .configure_mesh()
            .x_desc("age at the event")
            .y_desc("mean detection delay")
            .x_label_formatter(&label)
            .y_label_formatter(&label)
            .draw()?;
        for (i, (name, line)) in panel.lines.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let style = color.stroke_width(2);
            chart
                .draw_series(LineSeries::new(line.iter().copied(), style))?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], style));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
