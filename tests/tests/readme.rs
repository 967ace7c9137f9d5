//! Every figure the README states, checked against the code: the agent's
//! sizes, the snapshot's length, the reference trace and its hashes, the
//! board's RAM, and each cell of the results table against a fresh
//! evaluation (the same seeds and settings as `cargo xtask eval`). Any other
//! number in the README's prose fails the test, so a figure cannot be added
//! there without being checked here (figures that cannot be checked, such as
//! instruction counts and throughput, belong in docs/PERFORMANCE.md).

use std::collections::BTreeSet;

use tcbg::snapshot::{trace, TRACE_SEED, TRACE_STEPS};
use tcbg::{DefaultAgent, Fx, DEFAULT_A, DEFAULT_C, DEFAULT_K, DEFAULT_S};
use tcbg_tests::eval::{evaluate, find, Variant};
use tcbg_tests::stats::Summary;
use tcbg_tests::thresholds::fmt;
use tcbg_tests::{bayes, task_kind, Number};

const README: &str = include_str!("../../README.md");
/// The seeds of `cargo xtask eval` (its default `--seeds 20`).
const SEEDS: std::ops::Range<u64> = 0..20;

/// `1,234` for a count.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The README without its fenced code blocks (examples, not claims).
fn prose() -> String {
    README
        .split("```")
        .step_by(2)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every number standing alone in `text`: a run of digits with `,` grouping
/// and `.` decimals, not part of a word (`M0`, `f32`, `Q3.12`, a hash).
fn numbers(text: &str) -> Vec<String> {
    let c: Vec<char> = text.chars().collect();
    let word = |i: usize| c.get(i).is_some_and(|x| x.is_alphanumeric() || *x == '_');
    let (mut out, mut i) = (Vec::new(), 0);
    while i < c.len() {
        if !word(i) {
            i += 1;
            continue;
        }
        let start = i;
        while word(i)
            || (matches!(c.get(i), Some('.' | ','))
                && c.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            i += 1;
        }
        let token: String = c[start..i].iter().collect();
        if token
            .chars()
            .all(|x| x.is_ascii_digit() || x == '.' || x == ',')
        {
            out.push(token);
        }
    }
    out
}

fn cell(s: &Summary) -> String {
    format!("{} [{}, {}]", fmt(s.median), fmt(s.p10), fmt(s.p90))
}

#[test]
fn every_figure_in_the_readme_is_checked() {
    let text = prose();
    let mut checked: BTreeSet<String> = BTreeSet::new();
    let mut states = |figure: String, context: &str| {
        assert!(
            text.contains(context),
            "the README no longer says `{context}`"
        );
        checked.insert(figure);
    };

    let (s, c, k, a) = (DEFAULT_S, DEFAULT_C, DEFAULT_K, DEFAULT_A);
    states(
        s.to_string(),
        &format!("{s} inputs, {c} cortical units, {k} control functions and {a} actions"),
    );
    for n in [c, k, a] {
        states(n.to_string(), "cortical units");
    }
    let bytes = core::mem::size_of::<DefaultAgent>();
    states(grouped(bytes), &format!("takes\n{} bytes", grouped(bytes)));
    // The budget is the one tests/tests/properties.rs enforces.
    assert!(include_str!("properties.rs").contains("assert!(n <= 6144"));
    assert!(bytes <= 6144);
    states("6,144".into(), "within a budget of 6,144");
    let len = DefaultAgent::SNAPSHOT_LEN;
    states(
        grouped(len),
        &format!("`DefaultAgent::SNAPSHOT_LEN` ({})", grouped(len)),
    );
    let memory = include_str!("../../boards/microbit/memory.x");
    assert!(memory
        .lines()
        .any(|l| l.trim_start().starts_with("RAM") && l.contains("LENGTH = 16K")));
    states("16".into(), "Cortex-M0 with 16 KB of RAM");
    states(
        TRACE_SEED.to_string(),
        &format!("(seed {TRACE_SEED},\n{}", grouped(TRACE_STEPS as usize)),
    );
    states(grouped(TRACE_STEPS as usize), "steps) and prints");
    let fixed = format!("trace {:08x}", trace::<Fx>(TRACE_STEPS));
    let oracle = format!("trace {:08x}", trace::<f32>(TRACE_STEPS));
    assert!(
        text.contains(&format!("prints `{fixed}` (`--f32`: `{oracle}`)")),
        "{fixed}, {oracle}"
    );

    // The results table against a fresh evaluation.
    let (first, last) = (SEEDS.start, SEEDS.end - 1);
    let n = SEEDS.end - SEEDS.start;
    states(
        n.to_string(),
        &format!("`cargo xtask eval`, {n} seeds ({first} to {last})"),
    );
    checked.extend([first.to_string(), last.to_string()]);
    let rows: Vec<Vec<&str>> = README
        .lines()
        .filter(|l| l.starts_with("| ") && l.split('|').count() == 7)
        .map(|l| {
            l.split('|')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|r| task_kind(r[0]).is_some())
        .collect();
    assert!(
        rows.len() >= 7,
        "the README's results table has {} rows",
        rows.len()
    );
    let tasks: Vec<_> = rows.iter().map(|r| task_kind(r[0]).unwrap()).collect();
    let mut results = evaluate(
        &tasks,
        &[Number::Fixed],
        &["none", "no_thalamus"],
        Variant::Default,
        SEEDS,
        |_| {},
    );
    results.extend(evaluate(
        &tasks,
        &[Number::F32],
        &["none"],
        Variant::Default,
        SEEDS,
        |_| {},
    ));
    let mut wrong = Vec::new();
    for r in &rows {
        let (task, metric) = (r[0], r[1].split(" (").next().unwrap());
        let summary = |number, lesion| {
            find(&results, task, number, lesion, Variant::Default)
                .and_then(|row| row.metric(metric))
                .unwrap_or_else(|| panic!("no {metric} of {task}"))
        };
        let want = [
            cell(&summary(Number::Fixed, "none")),
            fmt(summary(Number::Fixed, "no_thalamus").median),
            fmt(summary(Number::F32, "none").median),
        ];
        if let Some(ideal) = r[1].strip_prefix("reward_rate (Bayes ideal ") {
            let bayes = fmt(bayes::ideal_for(Variant::Default.schedule()).reward_rate);
            if ideal.trim_end_matches(')') != bayes {
                wrong.push(format!("{task}: Bayes ideal {bayes}"));
            }
            checked.insert(bayes);
        }
        if r[2..5] != want {
            wrong.push(format!("| {task} | {} | {} |", r[1], want.join(" | ")));
        }
        checked.extend(numbers(&want.join(" ")));
    }
    assert!(
        wrong.is_empty(),
        "the README's results differ from the evaluation; they are:\n{}",
        wrong.join("\n")
    );

    let unchecked: Vec<String> = numbers(&text)
        .into_iter()
        .filter(|x| !checked.contains(x))
        .collect();
    assert!(
        unchecked.is_empty(),
        "figures in the README that no test checks: {unchecked:?}"
    );
}

#[test]
fn the_readme_stays_short() {
    assert!(README.len() <= 8192, "README.md is {} bytes", README.len());
}
