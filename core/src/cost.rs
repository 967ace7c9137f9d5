//! What one step costs in multiply-accumulates (MACs): the count that
//! `cargo xtask bench` divides the boards' instruction counts by.
//!
//! **How the MACs are counted.** Every `Num` multiplication of the step is
//! one MAC: a dot-product term, a product, a `mul_sr`. The step's phases
//! (numbered as in [`Agent::step`](crate::Agent::step)) fall in two kinds:
//!
//! - *dense* phases cost the same every step and are counted from the sizes
//!   `S`, `C`, `K`, `A` as if every input were nonzero (the cortical drive
//!   `W_in s` is `C·S` although most inputs are 0); a GPR selection over `m`
//!   channels costs [`gpr_macs`] plus `m` for each piece its solution visits
//!   (counted over the run, [`Activity::gpr_pieces_actions`] and
//!   [`Activity::gpr_pieces_contexts`]);
//! - *sparse* phases run only on some steps or for some units (learning when
//!   dopamine is nonzero, Oja's rule on active units, memory writes): their
//!   cost is a count per event, and the events are counted over a run
//!   ([`Activity`], measured on the reference trace by [`reference_activity`]).
//!
//! [`phases`] lists every phase with its formula and its MACs over the
//! run; [`macs`] is their sum. For the default agent over the first 1,000
//! steps of the reference trace it is 3,392.7 per step (3,146 dense).

use crate::fixed::{Fx, Num};
use crate::Config;

/// How often the sparse parts of the step ran, summed over `steps` steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    /// Steps counted.
    pub steps: u64,
    /// Steps with a nonzero dopamine value (the striatum and critic learn).
    pub learning_steps: u64,
    /// Nonzero eligibility traces before the step, over learning steps.
    pub elig_nonzero: u64,
    /// Cortical units with a nonzero trace for some action, over learning steps.
    pub elig_units: u64,
    /// Steps whose afferent input's striatal total reached the stimulus threshold.
    pub stimulus_steps: u64,
    /// Active (nonzero-rate) cortical units, over all steps.
    pub active_units: u64,
    /// Nonzero striatal inputs, over all steps.
    pub striatal_inputs: u64,
    /// Writes of the recognition memory (rewarded steps, and switches into a
    /// context that is not yet competent).
    pub memory_writes: u64,
    /// Pieces visited by the GPR solutions over the action channels.
    pub gpr_pieces_actions: u64,
    /// Pieces visited by the GPR solutions over the context channels.
    pub gpr_pieces_contexts: u64,
    /// Trial outcomes that updated the context channels' belief.
    pub belief_updates: u64,
    /// Of those, outcomes with two or more distinct rules stored besides the
    /// one in force: the belief floor is shared among them
    /// (`basal_ganglia::ContextChannels::hazard_floor`, one `ln`).
    pub shared_floors: u64,
    /// Of those, outcomes the outcome memory had foretold (the trial's
    /// action was the one remembered for its pattern): its reliability
    /// learns.
    pub foretold_outcomes: u64,
    /// Updates of the consistency of outcomes: each foretold outcome that
    /// came true, and each disappointment judged noise
    /// (`basal_ganglia::ContextChannels::consistency`).
    pub consistency_updates: u64,
    /// Learning steps after an action that the function in force had
    /// chosen while the consistency of outcomes was below 1: at most the
    /// dips weighed by it
    /// (`basal_ganglia::ContextChannels::dip_weight`).
    pub weighed_dips: u64,
    /// Trials opened on a pattern whose last trial was a loss while the
    /// consistency of outcomes was below 1: at most the outcome memory's
    /// shifts from a lost choice weighed by the posterior of a change
    /// (`basal_ganglia::ContextChannels::change_posterior`).
    pub weighed_shifts: u64,
    /// Outcomes of trials of several decisions with a dip while the
    /// consistency of outcomes was below 1: the surprise weighed by the
    /// posterior of a change (`Agent`'s step 3).
    pub weighed_surprises: u64,
    /// Cortical units whose rate a step carried over from the last step
    /// (their recurrence: steps within a trial), over all steps.
    pub recurrent_units: u64,
    /// Nonzero most recent traces decayed on steps without input.
    pub recent_decays: u64,
}

/// One phase of the step: its name, its formula and its MACs over the
/// steps of an [`Activity`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Phase {
    /// The phase, numbered as in `Agent::step`.
    pub name: &'static str,
    /// How its MACs are counted.
    pub formula: &'static str,
    /// Its MACs, summed over [`Activity::steps`] steps.
    pub macs: u64,
    /// Whether it costs the same every step (else it is an average of events).
    pub dense: bool,
}

/// Number of phases [`phases`] lists.
pub const PHASES: usize = 27;

/// The dense part of a GPR selection over `m` channels: D1 and D2 (`2m`),
/// the first guess's dot product (`m`) and the GPe term of the output (`m`);
/// each piece its solution visits adds the `m` terms of one dot product
/// ([`Activity`] counts the pieces).
pub const fn gpr_macs(m: usize) -> usize {
    4 * m
}

/// Every phase of the step of an agent of sizes `s`, `c`, `k`, `a`, with
/// k-winners-take-all on or off (`kwta`), over the steps of `act`.
pub const fn phases(
    s: usize,
    c: usize,
    k: usize,
    a: usize,
    kwta: bool,
    act: &Activity,
) -> [Phase; PHASES] {
    let n = act.steps;
    let w = if kwta { 1 } else { 0 };
    let (rates, rates_oja) = if kwta {
        (
            "rates 3C, x C, striatum 2AC, Q C",
            "rates 3C, x C, eta g r 2C",
        )
    } else {
        (
            "rates 2C, x C, striatum 2AC, Q C",
            "rates 2C, x C, eta g r 2C",
        )
    };
    const fn d(name: &'static str, formula: &'static str, per_step: usize, n: u64) -> Phase {
        Phase {
            name,
            formula,
            macs: per_step as u64 * n,
            dense: true,
        }
    }
    const fn e(name: &'static str, formula: &'static str, macs: u64) -> Phase {
        Phase {
            name,
            formula,
            macs,
            dense: false,
        }
    }
    let (s64, c64) = (s as u64, c as u64);
    [
        d("1 cortical drive W_in s", "C*S", c * s, n),
        d(
            "2 value before learning",
            rates,
            (2 + w) * c + c + 2 * a * c + c,
            n,
        ),
        d("3 dopamine, surprise, hold, competence", "scalars", 10, n),
        d(
            "5 thalamic read W_rec s, traces",
            "C*S + 2C",
            c * s + 2 * c,
            n,
        ),
        d(
            "5 context evidence, GPR over K, h = M rho",
            "5K+2 + GPR(K) + KC + K",
            5 * k + 2 + gpr_macs(k) + k * c + k,
            n,
        ),
        d("5 recognition rho.rho, U rho", "C + KC", c + k * c, n),
        d("5 Hebbian M update", "C + KC", c + k * c, n),
        d(
            "6 rates, striatal input, Oja gains",
            rates_oja,
            (2 + w) * c + c + 2 * c,
            n,
        ),
        d("6 striatum drive, Q(a*)", "2AC + C", 2 * a * c + c, n),
        d(
            "7 exploration noise, GPR over A",
            "2 + A + GPR(A)",
            2 + a + gpr_macs(a),
            n,
        ),
        d("7 eligibility decay", "AC", a * c, n),
        e(
            "4 Go/NoGo + critic learning (delta != 0)",
            "4 + 5 nnz(elig)",
            4 * act.learning_steps + 5 * act.elig_nonzero,
        ),
        e(
            "4 control-function training, 1/mean gain",
            "1 + nnz(e_bar) + C + 5",
            act.learning_steps * (c64 + 6) + act.elig_units,
        ),
        e(
            "6 norm |x|^2 on stimulus steps",
            "C + 6",
            act.stimulus_steps * (c64 + 6),
        ),
        e(
            "6 Oja on active units",
            "2S per active unit",
            2 * s64 * act.active_units,
        ),
        e(
            "7 experience lr per active input",
            "3 nnz(x)",
            3 * act.striatal_inputs,
        ),
        e(
            "7 counterfactual read-out on stimulus steps",
            "2K",
            act.stimulus_steps * 2 * k as u64,
        ),
        e(
            "4 belief of the context channels per outcome",
            "K",
            k as u64 * act.belief_updates,
        ),
        e(
            "4 belief floor shared among the stored rules, per outcome with two or more",
            "1",
            act.shared_floors,
        ),
        e(
            "4 outcome memory's reliability per foretold outcome",
            "1",
            act.foretold_outcomes,
        ),
        e(
            "4 consistency of outcomes per outcome foretold right or disappointment judged noise",
            "1",
            act.consistency_updates,
        ),
        e(
            "4 a dip on a rule's choice weighed by the posterior of a change, times Go and NoGo",
            "3",
            3 * act.weighed_dips,
        ),
        e(
            "7 the outcome memory's shift from a lost choice weighed by the posterior of a change",
            "3",
            3 * act.weighed_shifts,
        ),
        e(
            "3 a lost trial of several decisions' surprise weighed by the posterior of a change",
            "4",
            4 * act.weighed_surprises,
        ),
        e(
            "5 recognition memory writes",
            "C per write",
            c64 * act.memory_writes,
        ),
        e(
            "5, 7 GPR pieces visited",
            "K or A per piece",
            k as u64 * act.gpr_pieces_contexts + a as u64 * act.gpr_pieces_actions,
        ),
        e(
            "1, 7 recurrence within a trial; recent trace decay",
            "2 per carried unit + 1 per decayed trace",
            2 * act.recurrent_units + act.recent_decays,
        ),
    ]
}

/// The MACs of every phase together, over the steps of `act` (divide by
/// `act.steps` for MACs per step).
pub const fn macs(s: usize, c: usize, k: usize, a: usize, kwta: bool, act: &Activity) -> u64 {
    let p = phases(s, c, k, a, kwta, act);
    let mut total = 0;
    let mut i = 0;
    while i < PHASES {
        total += p[i].macs;
        i += 1;
    }
    total
}

/// The [`Activity`] of the first `steps` steps of the reference trace
/// ([`crate::snapshot::trace`]: the default agent, fixed point).
pub fn reference_activity(steps: u32) -> Activity {
    let config = Config::default();
    let stimulus = Fx::from_f32(config.stimulus_threshold);
    let competent = Fx::from_f32(config.competent);
    let mut act = Activity {
        steps: u64::from(steps),
        ..Activity::default()
    };
    crate::snapshot::trace_with::<Fx>(steps, |agent, obs, reward| {
        let elig = *agent.striatum.elig();
        let nonzero = |v: &[Fx]| v.iter().filter(|x| **x != Fx::ZERO).count() as u64;
        if !agent.trial_start {
            act.recurrent_units += nonzero(agent.cortical_rates());
            if obs.iter().all(|x| *x == Fx::ZERO) {
                act.recent_decays += nonzero(&agent.striatum.recent);
            }
        }
        let switches = agent.counters().switches;
        let start = agent.trial_start;
        let trial_end = start || !agent.trials_marked;
        let foretold = agent.contexts.foretold;
        let active = agent.thalamus.active;
        let consistency = agent.contexts.consistency;
        let floor = agent.p.belief_floor;
        let m = agent.action_mask.count_ones() as usize;
        let weighed = consistency < Fx::ONE
            && agent.contexts.dip_weight(active as usize, m, floor, false) < Fx::ONE;
        let shared = agent
            .contexts
            .hazard_floor(active as usize, floor, &agent.p.ln)
            != floor;
        let open = agent.contexts.last_open;
        let several = agent.decisions > 1;
        let chosen = agent.step(obs, reward);
        // A trial opened (its pattern's entry noted) on a pattern that lost
        // last time, under noise.
        let opened = agent.contexts.last_open;
        let lost_before = opened != 0 && agent.contexts.last_lost & (1 << (opened - 1)) != 0;
        act.weighed_shifts += u64::from(consistency < Fx::ONE && opened != open && lost_before);
        let news = start || reward != Fx::ZERO || obs.iter().any(|v| *v != Fx::ZERO);
        act.belief_updates += u64::from(trial_end && news);
        let dip = agent.critic.delta < Fx::ZERO;
        act.weighed_surprises +=
            u64::from(trial_end && news && several && dip && consistency < Fx::ONE);
        act.shared_floors += u64::from(trial_end && news && shared);
        let judged = trial_end && news && foretold != 0;
        act.foretold_outcomes += u64::from(judged);
        // The consistency rises at an outcome foretold right, and falls at a
        // disappointment judged noise.
        let hit = reward >= Fx::from_f32(0.5);
        let came_true = judged && (foretold == 2) == hit;
        let noise = agent.contexts.consistency < consistency;
        act.consistency_updates += u64::from(came_true) + u64::from(noise);
        if agent.dopamine() != Fx::ZERO {
            act.learning_steps += 1;
            act.weighed_dips += u64::from(weighed);
            act.elig_nonzero += elig.iter().flatten().filter(|e| **e != Fx::ZERO).count() as u64;
            act.elig_units += (0..elig[0].len())
                .filter(|&i| elig.iter().any(|row| row[i] != Fx::ZERO))
                .count() as u64;
        }
        let rates = agent.cortical_rates();
        // A stimulus: an afferent input whose striatal input totals the threshold.
        let total = agent.striatal_input.iter().fold(Fx::ZERO, |t, x| t + *x);
        let afferent = obs.iter().any(|v| *v != Fx::ZERO);
        act.stimulus_steps += u64::from(afferent && total >= stimulus);
        act.active_units += rates.iter().filter(|r| **r != Fx::ZERO).count() as u64;
        act.striatal_inputs += agent
            .striatal_input
            .iter()
            .filter(|x| **x != Fx::ZERO)
            .count() as u64;
        act.memory_writes += u64::from(reward > Fx::ZERO);
        let gpr = crate::basal_ganglia::Gpr::<Fx>::from_config(&config);
        act.gpr_pieces_actions += gpr.diffuse(&agent.actions.salience).1 as u64;
        act.gpr_pieces_contexts += gpr.diffuse(&agent.context_channels.salience).1 as u64;
        let active = agent.active_context();
        if agent.counters().switches != switches && agent.contexts.competence[active] < competent {
            act.memory_writes += 1;
        }
        chosen
    });
    act
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DEFAULT_A, DEFAULT_C, DEFAULT_K, DEFAULT_S};

    #[test]
    fn default_agent_costs_what_the_bench_reports() {
        let act = reference_activity(1000);
        let c = Config::default();
        let kwta = c.winners > 0.0;
        let (s, cc, k, a) = (DEFAULT_S, DEFAULT_C, DEFAULT_K, DEFAULT_A);
        let total = macs(s, cc, k, a, kwta, &act);
        // 3,379.5 MACs per step, to a tenth.
        assert_eq!((total * 10 + act.steps / 2) / act.steps, 33_795);
        let dense: u64 = phases(s, cc, k, a, kwta, &act)
            .iter()
            .filter(|p| p.dense)
            .map(|p| p.macs)
            .sum();
        assert_eq!(dense, 3_146 * act.steps);
        assert_eq!(gpr_macs(4), 16);
    }
}
