//! The reduced evaluation: every task over 12 seeds, with looser versions
//! of the thresholds of `cargo xtask eval` and each lesion contrast, so a
//! regression in the model's learning fails `cargo test`.
//!
//! The full evaluation (20 seeds, every lesion, `--robust`) is
//! `cargo xtask eval`; its table of thresholds is
//! [`tcbg_tests::thresholds::THRESHOLDS`].

use tcbg::tasks::TaskKind;
use tcbg_tests::eval::{evaluate, evaluate_specs, find, find_on, ResultRow, Spec, Variant};
use tcbg_tests::{AgentSize, Number};

const SEEDS: std::ops::Range<u64> = 1..13;

/// The median of `metric` over the runs of `task` in `number` under
/// `lesion`, on the default schedules.
fn median(rows: &[ResultRow], task: &str, number: Number, lesion: &str, metric: &str) -> f64 {
    median_in(rows, task, number, lesion, Variant::Default, metric)
}

/// The same in the `variant` of the schedules.
fn median_in(
    rows: &[ResultRow],
    task: &str,
    number: Number,
    lesion: &str,
    variant: Variant,
    metric: &str,
) -> f64 {
    find(rows, task, number, lesion, variant)
        .and_then(|r| r.metric(metric))
        .unwrap_or_else(|| panic!("no {metric} for {task} {lesion} {}", number.name()))
        .median
}

/// Every run of `tasks` (their default agent) in fixed point under each of
/// `lesions` (`"none"` for the full model), seeds [`SEEDS`].
fn fixed_rows(tasks: &[Spec], lesions: &[&str]) -> Vec<ResultRow> {
    evaluate_specs(
        tasks,
        &[Number::Fixed],
        lesions,
        Variant::Default,
        SEEDS,
        |_| {},
    )
}

/// Prints one check and keeps it if it missed.
fn report(misses: &mut Vec<String>, what: &str, value: f64, ok: bool) {
    println!("{:<52} {value:.3} {}", what, if ok { "ok" } else { "MISS" });
    if !ok {
        misses.push(format!("{what}: {value:.3}"));
    }
}

/// Every run of `tasks` in fixed point under each of `lesions`, in the
/// `variant` of their schedules, seeds [`SEEDS`].
fn variant_rows(tasks: &[TaskKind], lesions: &[&str], variant: Variant) -> Vec<ResultRow> {
    evaluate(tasks, &[Number::Fixed], lesions, variant, SEEDS, |_| {})
}

/// The default agent's spec of each task named (the larger agent is
/// `cargo xtask eval`'s).
fn default_specs(names: &[&str]) -> Vec<Spec> {
    names
        .iter()
        .map(|n| Spec::for_name(n).unwrap()[0])
        .collect()
}

/// Issue 17's "every multi-rule point" pair on `task`: a block end of at
/// least `floor`, and at least `no_thalamus`'s less `margin`.
fn block_end_pair(
    rows: &[ResultRow],
    task: &str,
    (floor, margin): (f64, f64),
    check: &mut impl FnMut(&str, f64, bool),
) {
    let fx = Number::Fixed;
    let be = median(rows, task, fx, "none", "block_end_accuracy");
    let be_nt = median(rows, task, fx, "no_thalamus", "block_end_accuracy");
    check(
        &format!("{task} block_end_accuracy >= {floor}"),
        be,
        be >= floor,
    );
    check(
        &format!("{task} block_end >= no_thalamus - {margin}"),
        be - be_nt,
        be >= be_nt - margin,
    );
}

#[test]
fn the_suite_learns_and_each_mechanism_matters() {
    let tasks: Vec<Spec> = tcbg_tests::TASK_NAMES
        .iter()
        .map(|n| Spec::from(tcbg_tests::task_kind(n).unwrap()))
        .collect();
    let mut rows = fixed_rows(&tasks, &["none", "no_thalamus", "no_traces"]);
    let oracle = [
        tcbg_tests::task_kind("rule-switch").unwrap(),
        tcbg_tests::task_kind("reversal-bandit").unwrap(),
    ];
    rows.extend(evaluate(
        &oracle,
        &[Number::F32],
        &["none"],
        Variant::Default,
        SEEDS,
        |_| {},
    ));

    let fx = Number::Fixed;
    let mut misses = Vec::new();
    let mut check = |what: &str, value: f64, ok: bool| report(&mut misses, what, value, ok);
    let rs = median(&rows, "rule-switch", fx, "none", "switch_cost");
    check(
        "rule-switch first_learning <= 35",
        median(&rows, "rule-switch", fx, "none", "first_learning"),
        median(&rows, "rule-switch", fx, "none", "first_learning") <= 35.0,
    );
    check("rule-switch switch_cost <= 2.5", rs, rs <= 2.5);
    let rs_nt = median(&rows, "rule-switch", fx, "no_thalamus", "switch_cost");
    check(
        "rule-switch no_thalamus switch_cost >= 2.5x full",
        rs_nt,
        rs_nt >= 2.5 * rs,
    );
    let crs = median(&rows, "cued-rule-switch", fx, "none", "switch_cost");
    check("cued-rule-switch switch_cost <= 0.75", crs, crs <= 0.75);
    let cc = median(&rows, "cue-context", fx, "none", "return_accuracy");
    check("cue-context return_accuracy >= 0.9", cc, cc >= 0.9);
    let bd = median(&rows, "reversal-bandit", fx, "none", "reward_rate");
    check("reversal-bandit reward_rate >= 0.64", bd, bd >= 0.64);
    let d10 = median(&rows, "delayed-reward", fx, "none", "accuracy_last100_d10");
    check("delayed-reward D=10 accuracy >= 0.9", d10, d10 >= 0.9);
    let d10_nt = median(
        &rows,
        "delayed-reward",
        fx,
        "no_traces",
        "accuracy_last100_d10",
    );
    check(
        "delayed-reward no_traces D=10 accuracy <= 0.75",
        d10_nt,
        d10_nt <= 0.75,
    );
    let gap_bd = (median(&rows, "reversal-bandit", Number::F32, "none", "reward_rate") - bd).abs();
    check(
        "|f32 - fixed| bandit reward_rate <= 0.04",
        gap_bd,
        gap_bd <= 0.04,
    );
    let gap_rs = (median(&rows, "rule-switch", Number::F32, "none", "switch_cost") - rs).abs();
    check(
        "|f32 - fixed| rule-switch switch_cost <= 0.75",
        gap_rs,
        gap_rs <= 0.75,
    );
    let se = median(&rows, "serial-reversal", fx, "none", "early");
    check("serial-reversal early <= 3.5", se, se <= 3.5);
    let se_nt = median(&rows, "serial-reversal", fx, "no_thalamus", "early");
    check(
        "serial-reversal no_thalamus early >= 4.5",
        se_nt,
        se_nt >= 4.5,
    );
    let sl = median(&rows, "serial-reversal", fx, "none", "late_over_early");
    check("serial-reversal late_over_early <= 1.4", sl, sl <= 1.4);
    let nf = median(&rows, "new-rule-transfer", fx, "none", "first_block");
    check("new-rule-transfer first_block <= 24", nf, nf <= 24.0);
    assert!(misses.is_empty(), "reduced evaluation missed: {misses:?}");
}

/// Issue 17: many rules over many actions, with looser versions of its
/// thresholds (pending in `cargo xtask eval`): the block ends within 0.03
/// of `no_thalamus`'s (0.02 there; on these seeds 4×2×6 ends 0.021 below,
/// 0.025 without the outcome memory's reliability).
#[test]
fn many_rules_are_kept_apart() {
    let specs = default_specs(&[
        "multi-rule-switch-3x3x3",
        "multi-rule-switch-4x2x3",
        "multi-rule-switch-4x2x6",
        "cue-context-rikhye",
    ]);
    let rows = fixed_rows(&specs, &["none", "no_thalamus"]);
    let fx = Number::Fixed;
    let mut misses = Vec::new();
    let mut check = |what: &str, value: f64, ok: bool| report(&mut misses, what, value, ok);
    for (task, limit) in [
        ("multi-rule-switch-3x3x3", 2.5),
        ("multi-rule-switch-4x2x3", 2.5),
    ] {
        let sc = median(&rows, task, fx, "none", "switch_cost");
        check(&format!("{task} switch_cost <= {limit}"), sc, sc <= limit);
        let sc_nt = median(&rows, task, fx, "no_thalamus", "switch_cost");
        check(
            &format!("{task} no_thalamus switch_cost >= 2x full"),
            sc_nt,
            sc_nt >= 2.0 * sc,
        );
    }
    for task in [
        "multi-rule-switch-3x3x3",
        "multi-rule-switch-4x2x3",
        "multi-rule-switch-4x2x6",
    ] {
        block_end_pair(&rows, task, (0.95, 0.03), &mut check);
    }
    // A new rule on familiar cues is learned on codes kept apart by the
    // afferents' balance over the lines met (`Cortex::meet_lines`): 14.5
    // on these seeds, 17.25 with the rows balanced over all eight lines.
    let nr = median(&rows, "multi-rule-switch-3x3x3", fx, "none", "new_rule");
    check("multi-rule-switch-3x3x3 new_rule <= 16", nr, nr <= 16.0);
    let rk = median(&rows, "cue-context-rikhye", fx, "none", "return_accuracy");
    check("cue-context-rikhye return_accuracy >= 0.9", rk, rk >= 0.9);
    assert!(misses.is_empty(), "reduced evaluation missed: {misses:?}");
}

/// Sizes the suite does not hold (issue 17: "every multi-rule point"): six
/// cues on two actions in a control function's 12 units. A new line's
/// afferents decorrelated from the lines met before, within each
/// function's units (`cortex::decorrelate`), keep the six cues' codes
/// apart enough to end every block as the lesion does.
#[test]
fn six_cues_are_kept_apart_in_a_function() {
    let specs = default_specs(&["multi-rule-switch-6x2x3", "multi-rule-switch-8x4x4"]);
    let rows = fixed_rows(&specs, &["none", "no_thalamus"]);
    let fx = Number::Fixed;
    let mut misses = Vec::new();
    let mut check = |what: &str, value: f64, ok: bool| report(&mut misses, what, value, ok);
    block_end_pair(&rows, "multi-rule-switch-6x2x3", (0.98, 0.01), &mut check);
    let task = "multi-rule-switch-8x4x4";
    let nr = median(&rows, task, fx, "none", "new_rule");
    let nr_nt = median(&rows, task, fx, "no_thalamus", "new_rule");
    check(
        &format!("{task} new_rule <= no_thalamus"),
        nr - nr_nt,
        nr <= nr_nt,
    );
    assert!(misses.is_empty(), "reduced evaluation missed: {misses:?}");
}

/// Noisy outcomes (`--robust`'s `flip5`: 5% of rewards flipped) are not
/// taken for rule changes: once outcomes have been seen not to repeat
/// (`ContextChannels::consistency`), no function predicts surer than they
/// do, and a loss on a rule's choice weighs as little
/// (`ContextChannels::dip_weight`). Without them (`eta_consistency` 0), on
/// these seeds, rule switch ended its blocks at 0.963 and 3×3×3 at 0.954
/// (with them 0.988 and 0.975).
#[test]
fn noisy_rules_are_not_left_for_one_outcome() {
    let tasks = [
        tcbg_tests::task_kind("rule-switch").unwrap(),
        tcbg_tests::task_kind("multi-rule-switch-3x3x3").unwrap(),
    ];
    let rows = variant_rows(&tasks, &["none"], Variant::Flip5);
    let flip5 = |task: &str, metric: &str| {
        median_in(&rows, task, Number::Fixed, "none", Variant::Flip5, metric)
    };
    let mut misses = Vec::new();
    let mut check = |what: &str, value: f64, ok: bool| report(&mut misses, what, value, ok);
    let be = flip5("rule-switch", "block_end_accuracy");
    check(
        "rule-switch, 5% flipped, block_end_accuracy >= 0.975",
        be,
        be >= 0.975,
    );
    let be = flip5("multi-rule-switch-3x3x3", "block_end_accuracy");
    check(
        "3x3x3, 5% flipped, block_end_accuracy >= 0.965",
        be,
        be >= 0.965,
    );
    assert!(misses.is_empty(), "reduced evaluation missed: {misses:?}");
}

/// With three rules stored, the hazard of a change is shared between the
/// two the rule in force could change to
/// (`ContextChannels::hazard_floor`): with 5% of rewards flipped, one
/// flipped loss no longer sends the model into another stored function, so
/// the blocks end as well as `no_thalamus`'s (issue 17's bound, 0.02 below
/// it), and deterministic rules still switch on one loss, predicted as sure
/// as `PREDICTION_MAX` (4×2×3's switch cost). Temporary variants, on these
/// seeds: with the floor unshared, 3×3×3 and 4×2×3 ended their blocks at
/// 0.975, against `no_thalamus`'s 1 and 0.996; with the floor shared but
/// predictions bounded at 0.98 as before, 4×2×3's switch cost was 1.944
/// (1.278 with both).
#[test]
fn a_change_is_shared_among_the_rules_stored() {
    let tasks = [
        tcbg_tests::task_kind("multi-rule-switch-3x3x3").unwrap(),
        tcbg_tests::task_kind("multi-rule-switch-4x2x3").unwrap(),
    ];
    let lesions = ["none", "no_thalamus"];
    let flipped = variant_rows(&tasks, &lesions, Variant::Flip5);
    let plain = variant_rows(&tasks, &["none"], Variant::Default);
    let mut misses = Vec::new();
    let mut check = |what: &str, value: f64, ok: bool| report(&mut misses, what, value, ok);
    for task in ["multi-rule-switch-3x3x3", "multi-rule-switch-4x2x3"] {
        let be = |lesion| {
            median_in(
                &flipped,
                task,
                Number::Fixed,
                lesion,
                Variant::Flip5,
                "block_end_accuracy",
            )
        };
        let (full, nt) = (be("none"), be("no_thalamus"));
        check(
            &format!("{task}, 5% flipped, block_end_accuracy >= no_thalamus - 0.02 ({nt:.3})"),
            full,
            full >= nt - 0.02,
        );
    }
    let sc = median(
        &plain,
        "multi-rule-switch-4x2x3",
        Number::Fixed,
        "none",
        "switch_cost",
    );
    check("4x2x3 switch_cost <= 1.6", sc, sc <= 1.6);
    assert!(misses.is_empty(), "reduced evaluation missed: {misses:?}");
}

/// Issue 17 on sizes no public point has (six cues over three actions with
/// four and five rules; eight over four): the outcome memory shifts from
/// every action lost since a pattern last paid, and its reliability is
/// learned at 0.008 (`docs/MODEL.md`, "Every loss since the pattern last
/// paid"). With the last loss alone, at 0.004, these seeds gave 6×3×4 a
/// switch cost of 3.81, 6×3×5 a block end of 0.929 and 8×4×4 0.817.
#[test]
fn many_actions_are_eliminated() {
    let names = [
        "multi-rule-switch-6x3x4",
        "multi-rule-switch-6x3x5",
        "multi-rule-switch-8x4x4",
    ];
    let tasks: Vec<_> = names
        .iter()
        .map(|n| tcbg_tests::task_kind(n).unwrap())
        .collect();
    let rows = variant_rows(&tasks, &["none"], Variant::Default);
    let at = |task: &str, metric: &str| median(&rows, task, Number::Fixed, "none", metric);
    let mut misses = Vec::new();
    let mut check = |what: &str, value: f64, ok: bool| report(&mut misses, what, value, ok);
    let sc = at("multi-rule-switch-6x3x4", "switch_cost");
    check("6x3x4 switch_cost <= 3.5", sc, sc <= 3.5);
    let be = at("multi-rule-switch-6x3x4", "block_end_accuracy");
    check("6x3x4 block_end_accuracy >= 0.95", be, be >= 0.95);
    let be = at("multi-rule-switch-6x3x5", "block_end_accuracy");
    check("6x3x5 block_end_accuracy >= 0.95", be, be >= 0.95);
    let be = at("multi-rule-switch-8x4x4", "block_end_accuracy");
    check("8x4x4 block_end_accuracy >= 0.84", be, be >= 0.84);
    assert!(misses.is_empty(), "reduced evaluation missed: {misses:?}");
}

/// Issue 18: credit over several actions and memory through a delay, with
/// looser versions of its thresholds (pending in `cargo xtask eval`).
#[test]
fn sequences_are_learned_and_memory_is_thalamic() {
    let tasks = [
        Spec::from(TaskKind::ActionSequence),
        Spec::from(TaskKind::DelayedResponse { delay: 0 }),
    ];
    let rows = fixed_rows(&tasks, &["none", "no_traces", "no_amplification"]);
    let fx = Number::Fixed;
    let mut misses = Vec::new();
    let mut check = |what: &str, value: f64, ok: bool| report(&mut misses, what, value, ok);
    let af = median(&rows, "action-sequence", fx, "none", "first_learning");
    check("action-sequence first_learning <= 35", af, af <= 35.0);
    // A changed sequence's first failing decision is judged by belief
    // ("A sequence's first decision judged", docs/MODEL.md): one error a
    // switch, the ideal's (2 on these seeds before, where surprise alone
    // moved the context channels).
    let asc = median(&rows, "action-sequence", fx, "none", "switch_cost");
    check("action-sequence switch_cost <= 1.5", asc, asc <= 1.5);
    let af_nt = median(&rows, "action-sequence", fx, "no_traces", "first_learning");
    // Pending (issue 18 asks 2x): printed, not checked.
    println!(
        "{:<52} {:.3} (pending: >= 2x)",
        "action-sequence no_traces first_learning / full",
        af_nt / af
    );
    for d in [1, 3, 6] {
        let m = format!("accuracy_last100_d{d}");
        let acc = median(&rows, "delayed-response", fx, "none", &m);
        check(
            &format!("delayed-response D={d} accuracy >= 0.9"),
            acc,
            acc >= 0.9,
        );
        // Memory on nearly every seed, not only the median one: the go step
        // keeps the held code (before, about one seed in six stayed near
        // chance at each delay; seeds 0-59 p10 0.67, 0.60, 0.53).
        let tail = find(&rows, "delayed-response", fx, "none", Variant::Default)
            .and_then(|r| r.metric(&m))
            .map(|q| q.p10)
            .unwrap_or(0.0);
        check(
            &format!("delayed-response D={d} accuracy p10 >= 0.9"),
            tail,
            tail >= 0.9,
        );
    }
    let lesioned = median(
        &rows,
        "delayed-response",
        fx,
        "no_amplification",
        "accuracy_last100_d6",
    );
    check(
        "delayed-response no_amplification D=6 accuracy <= 0.7",
        lesioned,
        lesioned <= 0.7,
    );
    let f3 = median(&rows, "delayed-response", fx, "none", "first_learning_d3");
    check("delayed-response first_learning_d3 <= 50", f3, f3 <= 50.0);
    assert!(misses.is_empty(), "reduced evaluation missed: {misses:?}");
}

/// Issue 17: the larger agent (`Agent<Fx, 16, 96, 8, 8>`) is at least as
/// good as the default on every public multi-rule point. Medians over 20
/// seeds differ between the two agents by their random streams alone (the
/// larger one draws twice the afferent weights at birth), so the check is
/// paired, seed by seed, over 1000 seeds: on no point and metric may the
/// larger agent's mean be worse than the default's by more than two
/// standard errors of the paired difference and a margin below which no
/// learner differs in practice (a quarter trial, 0.05 errors of switch
/// cost, 0.005 of accuracy). On `065b4c3`, whose afferents were balanced
/// over all 16 lines, 4×2×3's new rule fails it (0.51 trials worse, two
/// standard errors 0.40).
#[test]
fn the_larger_agent_is_as_good_on_every_public_point() {
    let seeds = 0..1000;
    let mut specs = Vec::new();
    for name in [
        "multi-rule-switch-3x3x3",
        "multi-rule-switch-4x2x3",
        "multi-rule-switch-4x2x6",
    ] {
        let kind = tcbg_tests::task_kind(name).unwrap();
        for agent in [AgentSize::Default, AgentSize::Large] {
            specs.push(Spec {
                agent,
                ..Spec::from(kind)
            });
        }
    }
    let rows = evaluate_specs(
        &specs,
        &[Number::Fixed],
        &["none"],
        Variant::Default,
        seeds,
        |_| {},
    );
    let mut misses = Vec::new();
    for spec in specs.iter().filter(|s| s.agent == AgentSize::Large) {
        let task = spec.name();
        let on = |agent| {
            find_on(&rows, task, Number::Fixed, "none", Variant::Default, agent)
                .unwrap_or_else(|| panic!("no row for {task}"))
        };
        let (default, large) = (on(AgentSize::Default), on(AgentSize::Large));
        // (metric, whether higher is better, the margin)
        for (metric, higher, margin) in [
            ("first_learning", false, 0.25),
            ("new_rule", false, 0.25),
            ("switch_cost", false, 0.05),
            ("block_end_accuracy", true, 0.005),
        ] {
            let (d, l) = (default.values(metric), large.values(metric));
            assert_eq!(d.len(), l.len());
            // The larger agent's shortfall, seed by seed (positive: worse).
            let worse: Vec<f64> = d
                .iter()
                .zip(&l)
                .map(|(d, l)| if higher { d - l } else { l - d })
                .collect();
            let n = worse.len() as f64;
            let mean = worse.iter().sum::<f64>() / n;
            let var = worse.iter().map(|w| (w - mean).powi(2)).sum::<f64>() / (n - 1.0);
            let se = (var / n).sqrt();
            let limit = (2.0 * se).max(margin);
            report(
                &mut misses,
                &format!("{task} {metric}: 16-96-8-8 worse by (limit {limit:.3})"),
                mean,
                mean <= limit,
            );
        }
    }
    assert!(misses.is_empty(), "missed: {misses:?}");
}

/// Issue 18 under noise: in a trial of several decisions, where belief is
/// silent, a loss counts toward surprise as far as it means a change of
/// rule (`docs/MODEL.md`, "A lost sequence weighed like a lost choice"),
/// and the dip at its end teaches the last decision as far as well, where
/// that decision was the function's clear choice ("The last decision's
/// dip weighed"). With 5% of rewards flipped, a flipped 0 at a correct
/// sequence's end neither leaves the sequence's control function nor
/// unlearns its last action. Means over the seeds (the medians of 12 seeds
/// sit at 1 either way): without either weight, these seeds ended their
/// blocks at 0.964 and switched at 3.23; with the surprise's alone, 0.981
/// and 2.79.
#[test]
fn a_flipped_sequence_is_not_a_new_rule() {
    let task = tcbg_tests::task_kind("action-sequence").unwrap();
    let flipped = variant_rows(&[task], &["none"], Variant::Flip5);
    let mean = |metric: &str| {
        find(
            &flipped,
            "action-sequence",
            Number::Fixed,
            "none",
            Variant::Flip5,
        )
        .and_then(|r| r.metric(metric))
        .unwrap_or_else(|| panic!("no {metric} for action-sequence"))
        .mean
    };
    let mut misses = Vec::new();
    let mut check = |what: &str, value: f64, ok: bool| report(&mut misses, what, value, ok);
    let be = mean("block_end_accuracy");
    check(
        "action-sequence, 5% flipped, mean block_end_accuracy >= 0.99",
        be,
        be >= 0.99,
    );
    let sc = mean("switch_cost");
    check(
        "action-sequence, 5% flipped, mean switch_cost <= 3",
        sc,
        sc <= 3.0,
    );
    assert!(misses.is_empty(), "reduced evaluation missed: {misses:?}");
}
