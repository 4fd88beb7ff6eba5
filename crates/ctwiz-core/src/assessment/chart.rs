//! Small, dependency-free SVG charts for reports (shown inline in the web app and written
//! by the CLI's `--chart`).

use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Horizontal bars of percentages (0–100), one per label, with the value printed.
pub fn percent_bars(title: &str, bars: &[(String, f64)]) -> String {
    let row = 26.0;
    let left = 170.0;
    let width = 640.0;
    let plot = width - left - 60.0;
    let height = 50.0 + row * bars.len() as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{t}" font-family="sans-serif" font-size="13"><title>{t}</title><text x="10" y="22" font-size="15" font-weight="bold">{t}</text>"##,
        t = esc(title)
    );
    for tick in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let x = left + plot * tick / 100.0;
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="32" x2="{x:.1}" y2="{y2:.1}" stroke="#ddd"/><text x="{x:.1}" y="{ty:.1}" text-anchor="middle" fill="#666" font-size="11">{tick}%</text>"##,
            y2 = height - 14.0,
            ty = height - 2.0
        );
    }
    for (i, (label, pct)) in bars.iter().enumerate() {
        let y = 36.0 + row * i as f64;
        let w = plot * pct.clamp(0.0, 100.0) / 100.0;
        let color = if *pct >= 90.0 {
            "#2e7d32"
        } else if *pct >= 70.0 {
            "#f9a825"
        } else {
            "#c62828"
        };
        let _ = write!(
            s,
            r##"<text x="{lx:.1}" y="{ty:.1}" text-anchor="end">{l}</text><rect x="{left}" y="{y:.1}" width="{w:.1}" height="18" fill="{color}"/><text x="{vx:.1}" y="{ty:.1}">{pct:.1}%</text>"##,
            lx = left - 8.0,
            ty = y + 14.0,
            l = esc(label),
            vx = left + w + 6.0
        );
    }
    s.push_str("</svg>\n");
    s
}

/// A line chart of one or more series of percentages over labelled points (trend).
pub fn percent_lines(title: &str, points: &[String], series: &[(String, Vec<f64>)]) -> String {
    // The legend wraps four entries to a row below the plot.
    let legend_rows = series.len().div_ceil(4).max(1) as f64;
    let (width, left, top) = (640.0, 50.0, 40.0);
    let bottom = 40.0 + 18.0 * legend_rows;
    let height = 280.0 + bottom;
    let plot_w = width - left - 45.0; // room for the last date label
    let plot_h = height - top - bottom;
    let colors = [
        "#1565c0", "#2e7d32", "#c62828", "#6a1b9a", "#ef6c00", "#00838f", "#4e342e", "#37474f",
    ];
    let x_of = |i: usize| {
        left + if points.len() > 1 {
            plot_w * i as f64 / (points.len() - 1) as f64
        } else {
            plot_w / 2.0
        }
    };
    let y_of = |p: f64| top + plot_h * (1.0 - p.clamp(0.0, 100.0) / 100.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{t}" font-family="sans-serif" font-size="12"><title>{t}</title><text x="10" y="22" font-size="15" font-weight="bold">{t}</text>"##,
        t = esc(title)
    );
    for tick in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let y = y_of(tick);
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="end" fill="#666">{tick}%</text>"##,
            x2 = left + plot_w,
            tx = left - 6.0,
            ty = y + 4.0
        );
    }
    for (i, p) in points.iter().enumerate() {
        let _ = write!(
            s,
            r##"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" fill="#444">{l}</text>"##,
            x = x_of(i),
            y = height - bottom + 18.0,
            l = esc(p)
        );
    }
    for (k, (name, values)) in series.iter().enumerate() {
        let c = colors[k % colors.len()];
        let path: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x_of(i), y_of(*v)))
            .collect();
        let _ = write!(
            s,
            r##"<polyline fill="none" stroke="{c}" stroke-width="2" points="{}"/>"##,
            path.join(" ")
        );
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{y:.1}" width="10" height="10" fill="{c}"/><text x="{tx:.1}" y="{ty:.1}">{n}</text>"##,
            x = left + 140.0 * (k % 4) as f64,
            y = height - bottom + 30.0 + 18.0 * (k / 4) as f64,
            tx = left + 140.0 * (k % 4) as f64 + 14.0,
            ty = height - bottom + 39.0 + 18.0 * (k / 4) as f64,
            n = esc(name)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_escape_labels_and_clamp() {
        let svg = percent_bars(
            "Coverage <2y>",
            &[("4+ DTaP".into(), 91.2), ("A&B".into(), 140.0)],
        );
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("Coverage &lt;2y&gt;") && svg.contains("A&amp;B"));
        assert!(svg.contains("91.2%"));
        assert_eq!(svg.matches("<rect").count(), 2);
    }

    #[test]
    fn lines_have_one_polyline_per_series() {
        let svg = percent_lines(
            "Trend",
            &["Q1".into(), "Q2".into()],
            &[
                ("DTaP".into(), vec![80.0, 85.0]),
                ("MMR".into(), vec![90.0, 91.0]),
            ],
        );
        assert_eq!(svg.matches("<polyline").count(), 2);
    }
}
