//! The result table, printed as Markdown so a run can be pasted into docs/benchmarks.md.

use std::fmt::Write as _;
use std::time::Duration;

use crate::measure::Summary;

/// One line of the table: a case measured against one target, or why it could not be.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// What was measured, e.g. `echo "hello", 1 caller`.
    pub case: String,
    /// Which server (and client) answered.
    pub target: String,
    /// The measurement, or the reason it failed.
    pub outcome: Result<Summary, String>,
}

const HEADINGS: [&str; 7] = [
    "case", "target", "calls", "calls/s", "p50", "p99", "CPU/call",
];

/// Renders rows as a Markdown table with aligned columns.
pub fn render(rows: &[Row]) -> String {
    let lines: Vec<[String; 7]> = rows.iter().map(cells).collect();
    let mut widths = HEADINGS.map(str::len);
    for line in &lines {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let mut push_line = |cells: &[String]| {
        text.push('|');
        for (cell, width) in cells.iter().zip(widths) {
            let _ = write!(text, " {cell:<width$} |");
        }
        text.push('\n');
    };
    push_line(&HEADINGS.map(str::to_string));
    push_line(&widths.map(|width| "-".repeat(width)));
    for line in &lines {
        push_line(line);
    }
    text
}

fn cells(row: &Row) -> [String; 7] {
    let measured = match &row.outcome {
        Ok(summary) => [
            summary.calls.to_string(),
            format!("{:.0}", summary.calls_per_second()),
            format_duration(summary.p50),
            format_duration(summary.p99),
            summary.cpu_per_call().map_or("-".into(), format_duration),
        ],
        Err(reason) => {
            let none = || "-".to_string();
            [
                format!("not measured: {reason}"),
                none(),
                none(),
                none(),
                none(),
            ]
        }
    };
    let [calls, rate, p50, p99, cpu] = measured;
    [
        row.case.clone(),
        row.target.clone(),
        calls,
        rate,
        p50,
        p99,
        cpu,
    ]
}

/// A duration in microseconds below 10 ms (with a decimal below 100 µs), in milliseconds above.
pub fn format_duration(duration: Duration) -> String {
    let micros = duration.as_secs_f64() * 1e6;
    if micros < 100.0 {
        format!("{micros:.1} µs")
    } else if micros < 10_000.0 {
        format!("{micros:.0} µs")
    } else {
        format!("{:.1} ms", micros / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_switch_units_at_ten_milliseconds() {
        assert_eq!(format_duration(Duration::from_nanos(41_640)), "41.6 µs");
        assert_eq!(format_duration(Duration::from_nanos(123_400)), "123 µs");
        assert_eq!(format_duration(Duration::from_micros(9_999)), "9999 µs");
        assert_eq!(format_duration(Duration::from_micros(12_345)), "12.3 ms");
    }

    #[test]
    fn rows_line_up_and_failures_are_shown() {
        let rows = [
            Row {
                case: "echo".into(),
                target: "raw".into(),
                outcome: Ok(Summary {
                    calls: 2000,
                    elapsed: Duration::from_secs(2),
                    p50: Duration::from_micros(90),
                    p99: Duration::from_micros(250),
                    cpu: Some(Duration::from_millis(60)),
                }),
            },
            Row {
                case: "echo".into(),
                target: "python".into(),
                outcome: Err("no venv".into()),
            },
        ];
        let expected = "\
| case | target | calls                 | calls/s | p50     | p99    | CPU/call |
| ---- | ------ | --------------------- | ------- | ------- | ------ | -------- |
| echo | raw    | 2000                  | 1000    | 90.0 µs | 250 µs | 30.0 µs  |
| echo | python | not measured: no venv | -       | -       | -      | -        |
";
        assert_eq!(render(&rows), expected);
    }
}
