//! SVG learning curves of an evaluation ([`crate::report::Report`]), with
//! plotters (SVG backend only): `cargo xtask eval --plots DIR`.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use tcbg::tasks::TaskKind;

use crate::eval::{block_starts, learning_curve, ResultRow, Variant};
use crate::report::{rows_of, Report};
use crate::stats::Summary;
use crate::thresholds::fmt;
use crate::{bayes, kinds_of, AgentSize, Number, RunLog};

/// Writes every variation's plots of `report` into `dir` (created if
/// missing); returns how many.
pub fn write_report(dir: &Path, report: &Report) -> Result<usize, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let kinds = report.plan.plotted_kinds();
    let n = report.plan.variants.iter();
    n.map(|&v| write_all(dir, &report.rows, &kinds, v)).sum()
}

/// Smoothing window of the learning curves, in trials (within a block).
pub const WINDOW: usize = 10;
const GREY: RGBColor = RGBColor(110, 110, 110);

fn color_of(lesion: &str) -> RGBColor {
    match lesion {
        "none" => RGBColor(0, 0, 0),
        "no_thalamus" => RGBColor(214, 39, 40),
        "no_context_selection" => RGBColor(31, 119, 180),
        "no_traces" => RGBColor(44, 160, 44),
        "no_dopamine" => RGBColor(255, 127, 14),
        _ => RGBColor(148, 103, 189),
    }
}

fn name_of(r: &ResultRow) -> String {
    if r.lesion == "none" {
        "full"
    } else {
        &r.lesion
    }
    .to_string()
}

/// Writes the plots of `v` (`TASK[-by-block][-VARIANT].svg`); returns how many.
pub fn write_all(
    dir: &Path,
    rows: &[ResultRow],
    tasks: &[TaskKind],
    v: Variant,
) -> Result<usize, String> {
    let suffix = if v == Variant::Default {
        String::new()
    } else {
        format!("-{}", v.name())
    };
    let tag = if v == Variant::Default {
        String::new()
    } else {
        format!(" [{}]", v.name())
    };
    let mut n = 0;
    for &task in tasks {
        let mut rs = rows_of(rows, task.name(), v);
        rs.retain(|r| r.agent == AgentSize::Default);
        if rs.is_empty() {
            continue;
        }
        let file = |stem: &str| dir.join(format!("{stem}{suffix}.svg"));
        let path = file(task.name());
        curves(&path, task, &rs, v, &tag).map_err(|e| format!("{}: {e}", path.display()))?;
        n += 1;
        let (field, label) = match task {
            TaskKind::NewRuleTransfer => (false, "trials to criterion"),
            TaskKind::SerialReversal => (true, "errors in the first 10 trials"),
            _ => continue,
        };
        let path = file(&format!("{}-by-block", task.name()));
        per_block(&path, task, &rs, field, label, &tag)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        n += 1;
    }
    Ok(n)
}

type Drawn = Result<(), Box<dyn std::error::Error>>;
/// A legend entry: label, colour, stroke width, dashed.
type Entry = (String, RGBColor, u32, bool);

/// Draws a legend in its own area, one entry per line.
fn legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[Entry]) -> Drawn
where
    DB::ErrorType: 'static,
{
    let font = ("sans-serif", 13).into_font().color(&BLACK);
    for (i, (label, color, width, dashed)) in entries.iter().enumerate() {
        let y = 20 + 20 * i as i32;
        let dashes: Vec<(i32, i32)> = if *dashed {
            vec![(8, 13), (16, 21), (24, 29), (32, 37)]
        } else {
            vec![(8, 36)]
        };
        for (a, b) in dashes {
            area.draw(&PathElement::new(
                vec![(a, y), (b, y)],
                color.stroke_width(*width),
            ))?;
        }
        area.draw(&Text::new(label.clone(), (44, y - 7), font.clone()))?;
    }
    Ok(())
}

/// Accuracy (reward rate for the bandit) by trial: the full model and each
/// lesion in fixed point, the f32 full model dashed; one panel per delay
/// for delayed reward; block boundaries as grey verticals.
fn curves(path: &Path, task: TaskKind, rs: &[&ResultRow], v: Variant, tag: &str) -> Drawn {
    let subs = kinds_of(task);
    let height = if subs.len() > 1 {
        36 + 260 * subs.len() as u32
    } else {
        440
    };
    let root = SVGBackend::new(path, (1100, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let what = if task == TaskKind::ReversalBandit {
        "reward rate"
    } else {
        "accuracy"
    };
    let seeds = rs[0].runs.len();
    let title = format!(
        "{}{tag}: {what} by trial ({WINDOW}-trial window within blocks, median of {seeds} seeds)",
        task.name()
    );
    let (top, body) = root.split_vertically(36);
    top.titled(&title, ("sans-serif", 18))?;
    let (plots_area, legend_area) = body.split_horizontally(1100 - 190);
    let mut entries: Vec<Entry> = Vec::new();
    for (si, (panel, kind)) in plots_area
        .split_evenly((subs.len(), 1))
        .iter()
        .zip(&subs)
        .enumerate()
    {
        // Lesions first, the full model on top.
        let mut lines: Vec<(&ResultRow, Vec<f64>)> = rs
            .iter()
            .filter(|r| r.number == Number::Fixed || r.lesion == "none")
            .map(|r| {
                let logs: Vec<&RunLog> = r.runs.iter().filter_map(|x| x.runs.get(si)).collect();
                (*r, learning_curve(&logs, WINDOW))
            })
            .collect();
        lines.sort_by_key(|(r, _)| (r.lesion == "none", r.number == Number::Fixed));
        let n = lines.iter().map(|(_, c)| c.len()).max().unwrap_or(0).max(1) as f64;
        let caption = if subs.len() > 1 {
            format!("{kind}")
        } else {
            String::new()
        };
        let mut chart = ChartBuilder::on(panel)
            .caption(caption, ("sans-serif", 14))
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..n, 0f64..1.05f64)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .y_labels(6)
            .x_labels(10)
            .x_label_formatter(&|x| format!("{}", x.round() as i64))
            .y_label_formatter(&|y| format!("{y:.1}"))
            .x_desc("trial")
            .y_desc(what)
            .draw()?;
        if let Some(log) = rs[0].runs.first().and_then(|x| x.runs.get(si)) {
            let style = RGBColor(170, 170, 170).stroke_width(1);
            let vertical = |b| PathElement::new(vec![(b as f64, 0.0), (b as f64, 1.05)], style);
            chart.draw_series(block_starts(log).into_iter().map(vertical))?;
        }
        let first = si == 0;
        if task == TaskKind::ReversalBandit {
            let ideal = bayes::ideal_reward_rate(v.schedule());
            let grey = RGBColor(120, 120, 120);
            let line = vec![(0.0, ideal), (n, ideal)];
            chart.draw_series(DashedLineSeries::new(line, 6, 4, grey.stroke_width(1)))?;
            if first {
                entries.push((format!("Bayes ideal {}", fmt(ideal)), grey, 1, true));
            }
        }
        for (r, c) in lines {
            let pts = c.iter().enumerate().map(|(i, y)| (i as f64 + 0.5, *y));
            let (color, width, dashed) = match (r.number, r.lesion.as_str()) {
                (Number::F32, _) => (GREY, 2, true),
                (_, "none") => (color_of("none"), 2, false),
                (_, l) => (color_of(l), 1, false),
            };
            let style = color.stroke_width(width);
            match dashed {
                true => chart.draw_series(DashedLineSeries::new(pts, 5, 3, style))?,
                false => chart.draw_series(LineSeries::new(pts, style))?,
            };
            if first {
                let label = if dashed {
                    format!("{} (f32)", name_of(r))
                } else {
                    name_of(r)
                };
                entries.push((label, color, width, dashed));
            }
        }
    }
    entries.sort_by_key(|(n, ..)| {
        (
            !n.starts_with("full"),
            n.contains("f32"),
            n.starts_with("Bayes"),
        )
    });
    legend(&legend_area, &entries)?;
    root.present()?;
    Ok(())
}

/// "The picture of learning to learn": a per-block count (`errors` in the
/// first 10 trials, or trials to criterion), median with a p10-p90 band,
/// the full model against no_meta (and no_thalamus for serial reversal),
/// fixed point.
fn per_block(
    path: &Path,
    task: TaskKind,
    rs: &[&ResultRow],
    errors: bool,
    label: &str,
    tag: &str,
) -> Drawn {
    let root = SVGBackend::new(path, (1000, 460)).into_drawing_area();
    root.fill(&WHITE)?;
    let (chart_area, legend_area) = root.split_horizontally(1000 - 150);
    let want: &[&str] = match task {
        TaskKind::SerialReversal => &["none", "no_meta", "no_thalamus"],
        _ => &["none", "no_meta"],
    };
    let count = |s: &tcbg::tasks::BlockStats| {
        f64::from(if errors {
            s.errors_first10.into()
        } else {
            s.to_criterion
        })
    };
    let stats: Vec<(&ResultRow, Vec<Summary>)> = want
        .iter()
        .filter_map(|l| {
            rs.iter()
                .find(|r| r.number == Number::Fixed && r.lesion == *l)
        })
        .map(|r| (*r, r.per_block(count)))
        .collect();
    let blocks = stats.iter().map(|(_, s)| s.len()).max().unwrap_or(1);
    let ymax = stats
        .iter()
        .flat_map(|(_, s)| s.iter().map(|x| x.p90))
        .fold(1.0f64, f64::max)
        * 1.1;
    let seeds = stats.first().map_or(0, |(r, _)| r.runs.len());
    let title = format!(
        "{}{tag}: {label} by block (median, band p10-p90, {seeds} seeds)",
        task.name()
    );
    let mut chart = ChartBuilder::on(&chart_area)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(32)
        .y_label_area_size(48)
        .build_cartesian_2d(0.5f64..blocks as f64 + 0.5, 0f64..ymax)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .x_labels(blocks.min(20))
        .x_label_formatter(&|x| format!("{}", x.round() as i64))
        .x_desc("block")
        .y_desc(label)
        .draw()?;
    let mut entries: Vec<Entry> = Vec::new();
    // The full model last, on top; the legend in the order of `want`.
    for (r, s) in stats.iter().rev() {
        let color = color_of(&r.lesion);
        let at = |b: usize| b as f64 + 1.0;
        let band = s.iter().enumerate().map(|(b, x)| (at(b), x.p90));
        let band = band.chain(s.iter().enumerate().rev().map(|(b, x)| (at(b), x.p10)));
        chart.draw_series([Polygon::new(
            band.collect::<Vec<_>>(),
            color.mix(0.12).filled(),
        )])?;
        let pts: Vec<(f64, f64)> = s
            .iter()
            .enumerate()
            .map(|(b, x)| (at(b), x.median))
            .collect();
        chart.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?;
        chart.draw_series(pts.iter().map(|p| Circle::new(*p, 3, color.filled())))?;
        entries.insert(0, (name_of(r), color, 2, false));
    }
    legend(&legend_area, &entries)?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::evaluate;

    #[test]
    fn plots_render() {
        let dir = std::env::temp_dir().join(format!("tcbg-plots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let tasks = [
            TaskKind::NewRuleTransfer,
            TaskKind::DelayedReward { delay: 0 },
        ];
        let rows = evaluate(
            &tasks,
            &Number::BOTH,
            &["none", "no_meta"],
            Variant::Default,
            0..2,
            |_| {},
        );
        let n = write_all(&dir, &rows, &tasks, Variant::Default).unwrap();
        assert_eq!(n, 3);
        let svg = std::fs::read_to_string(dir.join("new-rule-transfer-by-block.svg")).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("no_meta"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
