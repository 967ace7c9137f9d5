//! The Bayes-optimal observer of the reversal bandit: the "ideal" of TASKS.md.
//!
//! Two arms pay 1 with probability `p_good` (the good arm) or `p_bad`; the
//! good arm is arm 0 in block 0 and changes every `block_len` trials. The
//! observer keeps the posterior that arm 0 is good and, each trial, pulls the
//! arm more likely to be good (ties split evenly). With `p_good + p_bad = 1`
//! both arms are equally informative, so pulling the likelier arm is also the
//! Bayes-optimal policy, not only the greedy one. Two observers differ in
//! what they know about reversals:
//!
//! - [`Observer::Hazard`]: the standard change-point (HMM) filter. It knows
//!   `p_good`, `p_bad` and that the good arm reverses with probability `h`
//!   before any trial (`h = 1/block_len` matches the task's mean rate), but
//!   not when. This is the observer behind the 0.727 of TASKS.md, and the one
//!   [`ideal_reward_rate`] uses.
//! - [`Observer::KnownPeriod`]: knows that reversals happen exactly every
//!   `block_len` trials and only lacks which arm starts good; it flips its
//!   posterior at each known reversal, so after the first block it is almost
//!   never wrong (reward rate close to `p_good`). An upper bound no learner
//!   without a clock can approach.
//!
//! Both are scored like the task's `reward_rate`: expected reward per trial
//! over trials `block_len + 1 ..= trials` (the first block is excluded), and
//! `trials_to_switch` is the expected 1-based trial of the first good-arm
//! choice in blocks 2 onward (`block_len + 1` if none).
//!
//! The figures are computed, not sampled: [`bandit_ideal`] propagates the
//! whole distribution of the observer's belief trial by trial on the task's
//! actual reversal schedule. For the hazard observer the belief (log-odds) is
//! kept on a grid of spacing [`GRID_STEP`] with mass split linearly between
//! the two nearest points; for the known-period observer the belief is a sum
//! of integer multiples of two log-likelihood ratios and is tracked exactly.
//! [`bandit_monte_carlo`] simulates the same observers and agrees within its
//! sampling error (see the tests).

use std::collections::HashMap;
use std::sync::Mutex;
use tcbg::tasks::{Scale, Schedule};

/// The observer's pulls for a belief of sign `sign` (log-odds that arm 0 is
/// good): the likelier arm, or both halves on a tie.
fn choices<T: PartialOrd + Default>(sign: T) -> &'static [(usize, f64)] {
    if sign > T::default() {
        &[(0, 1.0)]
    } else if sign < T::default() {
        &[(1, 1.0)]
    } else {
        &[(0, 0.5), (1, 0.5)]
    }
}

/// What the observer knows about the reversals.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Observer {
    /// The good arm may reverse before any trial with this probability (the
    /// hazard rate); the observer does not know when reversals happen.
    Hazard(f64),
    /// Reversals happen exactly every `block_len` trials, and the observer
    /// knows it; only the starting arm is unknown.
    KnownPeriod,
}

/// Expected performance of an ideal observer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BanditIdeal {
    /// Expected reward per trial over trials `block_len + 1 ..= trials`.
    pub reward_rate: f64,
    /// Expected 1-based trial of the first good-arm choice per block, mean
    /// over blocks 2 onward.
    pub trials_to_switch: f64,
}

/// Spacing of the log-odds grid of the hazard observer.
pub const GRID_STEP: f64 = 2e-4;

/// The reward rate of the Bayes-optimal observer (see the module docs);
/// `observer` says whether it knows the reversal period or only a hazard
/// rate. Computed exactly (up to the belief grid of the hazard observer).
pub fn bayes_bandit_ideal(
    block_len: usize,
    trials: usize,
    p_good: f64,
    p_bad: f64,
    observer: Observer,
) -> f64 {
    bandit_ideal(block_len, trials, p_good, p_bad, observer).reward_rate
}

/// Probabilities `(p_good, p_bad)` of a delivered reward on the task's good
/// and bad arm, including the schedule's reward flips. They are the task's
/// exact ones (0.8 and 0.2 in units of 1/65536).
pub fn bandit_probabilities(schedule: Schedule) -> (f64, f64) {
    let pg = 52429.0 / 65536.0;
    let pb = 13107.0 / 65536.0;
    let f = schedule.flip_q16 as f64 / 65536.0;
    (
        pg * (1.0 - f) + (1.0 - pg) * f,
        pb * (1.0 - f) + (1.0 - pb) * f,
    )
}

/// Block length and trials of the reversal bandit under `schedule` (40 and
/// 800 at the default; 20 and 400 at half scale, 80 and 1600 at double).
pub fn bandit_shape(schedule: Schedule) -> (usize, usize) {
    let len = match schedule.scale {
        Scale::Half => 20,
        Scale::Normal | Scale::Rikhye => 40,
        Scale::Double => 80,
    };
    (len, 20 * len)
}

/// The ideal of the reversal bandit under `schedule`: the hazard-rate
/// observer with `h = 1/block_len`, on the task's schedule and reward
/// probabilities (flips included). Memoised per schedule.
pub fn ideal_for(schedule: Schedule) -> BanditIdeal {
    static CACHE: Mutex<Vec<(Schedule, BanditIdeal)>> = Mutex::new(Vec::new());
    if let Some((_, v)) = CACHE.lock().unwrap().iter().find(|(s, _)| *s == schedule) {
        return *v;
    }
    let (len, trials) = bandit_shape(schedule);
    let (pg, pb) = bandit_probabilities(schedule);
    let v = bandit_ideal(len, trials, pg, pb, Observer::Hazard(1.0 / len as f64));
    CACHE.lock().unwrap().push((schedule, v));
    v
}

/// `ideal_reward_rate` of a reversal-bandit result: [`ideal_for`]'s reward rate.
pub fn ideal_reward_rate(schedule: Schedule) -> f64 {
    ideal_for(schedule).reward_rate
}

/// Which arm is good at 0-based trial `t`.
fn good_arm(t: usize, block_len: usize) -> usize {
    (t / block_len) % 2
}

/// Log-likelihood ratio "arm 0 good" vs "arm 1 good" of reward `r` on arm `a`.
fn llr(a: usize, r: bool, pg: f64, pb: f64) -> f64 {
    let l = if r {
        (pg / pb).ln()
    } else {
        ((1.0 - pg) / (1.0 - pb)).ln()
    };
    if a == 0 {
        l
    } else {
        -l
    }
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn sigmoid(l: f64) -> f64 {
    1.0 / (1.0 + (-l).exp())
}

/// Belief update of the hazard observer in log-odds: the posterior, then the
/// chance `h` of a reversal before the next trial.
fn mix(l: f64, h: f64) -> f64 {
    let p = sigmoid(l);
    logit((p * (1.0 - h) + (1.0 - p) * h).clamp(1e-300, 1.0 - 1e-16))
}

/// Accumulates the two scores over the trials of a run.
struct Score {
    reward: f64,
    scored: usize,
    first_correct_sum: f64,
    blocks_scored: usize,
}

impl Score {
    fn new() -> Score {
        Score {
            reward: 0.0,
            scored: 0,
            first_correct_sum: 0.0,
            blocks_scored: 0,
        }
    }
    fn finish(self) -> BanditIdeal {
        BanditIdeal {
            reward_rate: if self.scored > 0 {
                self.reward / self.scored as f64
            } else {
                0.0
            },
            trials_to_switch: if self.blocks_scored > 0 {
                self.first_correct_sum / self.blocks_scored as f64
            } else {
                0.0
            },
        }
    }
}

/// The ideal observer's expected reward rate and trials to switch, computed
/// by propagating the distribution of its belief (see the module docs).
pub fn bandit_ideal(
    block_len: usize,
    trials: usize,
    p_good: f64,
    p_bad: f64,
    observer: Observer,
) -> BanditIdeal {
    assert!(
        block_len > 0
            && p_good > 0.0
            && p_good < 1.0
            && p_bad > 0.0
            && p_bad < 1.0
            && p_good != p_bad
    );
    match observer {
        Observer::Hazard(h) => hazard_exact(block_len, trials, p_good, p_bad, h),
        Observer::KnownPeriod => known_period_exact(block_len, trials, p_good, p_bad),
    }
}

/// Hazard observer: the belief's distribution on a log-odds grid. Two
/// layers: mass that has not yet chosen the good arm in this block, and
/// mass that has (for `trials_to_switch`).
fn hazard_exact(block_len: usize, trials: usize, pg: f64, pb: f64, h: f64) -> BanditIdeal {
    assert!(h > 0.0 && h < 0.5, "hazard must be within (0, 0.5)");
    let dx = GRID_STEP;
    let lmax = logit(1.0 - h) + 1e-9;
    let m = (lmax / dx).ceil() as i64 + 1;
    let n = (2 * m + 1) as usize;
    let idx_of = |i: usize| i as i64 - m; // grid point i <-> log-odds (i - m)·dx
                                          // Successor of point i after action a and reward r: (lower index, weight on it).
    let mut succ = vec![[(0usize, 0.0f64); 4]; n];
    for (i, s) in succ.iter_mut().enumerate() {
        let l = idx_of(i) as f64 * dx;
        for a in 0..2 {
            for r in 0..2 {
                let l2 = mix(l + llr(a, r == 1, pg, pb), h);
                let x = (l2 / dx).clamp(-(m as f64), m as f64 - 1e-9);
                let lo = x.floor();
                let w_hi = x - lo;
                s[a * 2 + r] = ((lo as i64 + m) as usize, 1.0 - w_hi);
            }
        }
    }
    let mut fresh = vec![0.0f64; n]; // not yet chosen the good arm in this block
    let mut found = vec![0.0f64; n];
    fresh[m as usize] = 1.0;
    let mut next_fresh = vec![0.0f64; n];
    let mut next_found = vec![0.0f64; n];
    let mut score = Score::new();
    let mut first_correct = 0.0;
    for t in 0..trials {
        let k = t % block_len;
        if k == 0 && t > 0 {
            // A new block: everyone has yet to find the new good arm.
            for i in 0..n {
                fresh[i] += found[i];
                found[i] = 0.0;
            }
            first_correct = 0.0;
        }
        let good = good_arm(t, block_len);
        let scored = t >= block_len;
        next_fresh.iter_mut().for_each(|v| *v = 0.0);
        next_found.iter_mut().for_each(|v| *v = 0.0);
        let mut reward = 0.0;
        for i in 0..n {
            let (mf, md) = (fresh[i], found[i]);
            if mf == 0.0 && md == 0.0 {
                continue;
            }
            let c = idx_of(i);
            for &(a, w) in choices(c) {
                let q = if a == good { pg } else { pb };
                let hit = a == good;
                // Mass choosing the good arm now leaves the fresh layer.
                if hit {
                    first_correct += mf * w * (k + 1) as f64;
                }
                for r in 0..2 {
                    let pr = if r == 1 { q } else { 1.0 - q };
                    let (lo, wl) = succ[i][a * 2 + r];
                    let into_found = md * w * pr + if hit { mf * w * pr } else { 0.0 };
                    let into_fresh = if hit { 0.0 } else { mf * w * pr };
                    if into_found != 0.0 {
                        next_found[lo] += into_found * wl;
                        if wl < 1.0 {
                            next_found[lo + 1] += into_found * (1.0 - wl);
                        }
                    }
                    if into_fresh != 0.0 {
                        next_fresh[lo] += into_fresh * wl;
                        if wl < 1.0 {
                            next_fresh[lo + 1] += into_fresh * (1.0 - wl);
                        }
                    }
                }
                reward += (mf + md) * w * q;
            }
        }
        std::mem::swap(&mut fresh, &mut next_fresh);
        std::mem::swap(&mut found, &mut next_found);
        if scored {
            score.reward += reward;
            score.scored += 1;
            if k + 1 == block_len || t + 1 == trials {
                let never: f64 = fresh.iter().sum();
                score.first_correct_sum += first_correct + never * (k + 2) as f64;
                score.blocks_scored += 1;
            }
        }
    }
    score.finish()
}

/// Known-period observer: its log-odds is `n1·ln(pg/pb) + n0·ln((1−pg)/(1−pb))`
/// for integers `n1`, `n0` (negated at each reversal), so its distribution
/// is tracked exactly; states with equal log-odds (all of them share one
/// when `pg + pb = 1`) are merged.
fn known_period_exact(block_len: usize, trials: usize, pg: f64, pb: f64) -> BanditIdeal {
    let l1 = (pg / pb).ln();
    let l0 = ((1.0 - pg) / (1.0 - pb)).ln();
    let key = |n1: i32, n0: i32| ((n1 as f64 * l1 + n0 as f64 * l0) * 1e9).round() as i64;
    // log-odds key -> (n1, n0, mass not yet on the good arm, mass that has been)
    let mut dist: HashMap<i64, (i32, i32, f64, f64)> = HashMap::new();
    dist.insert(0, (0, 0, 1.0, 0.0));
    let mut score = Score::new();
    let mut first_correct = 0.0;
    for t in 0..trials {
        let k = t % block_len;
        if k == 0 && t > 0 {
            dist = dist
                .into_values()
                .map(|(n1, n0, f, d)| (key(-n1, -n0), (-n1, -n0, f + d, 0.0)))
                .collect();
            first_correct = 0.0;
        }
        let good = good_arm(t, block_len);
        let mut d2: HashMap<i64, (i32, i32, f64, f64)> = HashMap::with_capacity(dist.len() + 2);
        let mut add = |n1: i32, n0: i32, f: f64, d: f64| {
            let e = d2.entry(key(n1, n0)).or_insert((n1, n0, 0.0, 0.0));
            e.2 += f;
            e.3 += d;
        };
        let mut reward = 0.0;
        for (&kl, &(n1, n0, fresh, found)) in dist.iter() {
            for &(a, w) in choices(kl) {
                let q = if a == good { pg } else { pb };
                let hit = a == good;
                let (f, d) = if hit {
                    first_correct += fresh * w * (k + 1) as f64;
                    (0.0, (fresh + found) * w)
                } else {
                    (fresh * w, found * w)
                };
                let s = if a == 0 { 1 } else { -1 };
                add(n1 + s, n0, f * q, d * q);
                add(n1, n0 + s, f * (1.0 - q), d * (1.0 - q));
                reward += (fresh + found) * w * q;
            }
        }
        dist = d2;
        if t >= block_len {
            score.reward += reward;
            score.scored += 1;
            if k + 1 == block_len || t + 1 == trials {
                let never: f64 = dist.values().map(|v| v.2).sum();
                score.first_correct_sum += first_correct + never * (k + 2) as f64;
                score.blocks_scored += 1;
            }
        }
    }
    score.finish()
}

/// SplitMix64, for the Monte Carlo check.
struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The same observers simulated: mean over `episodes` runs of the schedule,
/// seeded. Returns the estimate and its standard error (of the reward rate).
pub fn bandit_monte_carlo(
    block_len: usize,
    trials: usize,
    p_good: f64,
    p_bad: f64,
    observer: Observer,
    episodes: usize,
    seed: u64,
) -> (BanditIdeal, f64) {
    let mut rng = SplitMix(seed);
    let (mut sum, mut sum2, mut ttc) = (0.0, 0.0, 0.0);
    for _ in 0..episodes {
        let mut l = 0.0f64; // log-odds that arm 0 is good (now)
        let (mut reward, mut n) = (0.0, 0usize);
        let (mut first, mut ttc_sum, mut ttc_n) = (0usize, 0.0, 0usize);
        for t in 0..trials {
            let k = t % block_len;
            if k == 0 {
                first = 0;
                if t > 0 && observer == Observer::KnownPeriod {
                    l = -l;
                }
            }
            let a = if l > 1e-12 {
                0
            } else if l < -1e-12 {
                1
            } else {
                (rng.next() >> 63) as usize
            };
            let good = good_arm(t, block_len);
            let q = if a == good { p_good } else { p_bad };
            let r = rng.unit() < q;
            if a == good && first == 0 {
                first = k + 1;
            }
            l += llr(a, r, p_good, p_bad);
            if let Observer::Hazard(h) = observer {
                l = mix(l, h);
            }
            if t >= block_len {
                reward += r as u8 as f64;
                n += 1;
                if k + 1 == block_len || t + 1 == trials {
                    ttc_sum += if first > 0 { first } else { k + 2 } as f64;
                    ttc_n += 1;
                }
            }
        }
        let rate = reward / n.max(1) as f64;
        sum += rate;
        sum2 += rate * rate;
        ttc += ttc_sum / ttc_n.max(1) as f64;
    }
    let e = episodes as f64;
    let mean = sum / e;
    let se = ((sum2 / e - mean * mean).max(0.0) / e).sqrt();
    (
        BanditIdeal {
            reward_rate: mean,
            trials_to_switch: ttc / e,
        },
        se,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hazard_observer_at_the_default_is_the_tasks_ideal() {
        let v = bandit_ideal(40, 800, 0.8, 0.2, Observer::Hazard(1.0 / 40.0));
        assert!((v.reward_rate - 0.727).abs() < 0.004, "{v:?}");
    }

    #[test]
    fn exact_agrees_with_monte_carlo() {
        for &(len, trials, pg, pb) in &[
            (40usize, 800usize, 0.8, 0.2),
            (20, 400, 0.77, 0.23),
            (80, 1600, 0.8, 0.2),
        ] {
            for obs in [Observer::Hazard(1.0 / len as f64), Observer::KnownPeriod] {
                let exact = bandit_ideal(len, trials, pg, pb, obs);
                let (mc, se) = bandit_monte_carlo(len, trials, pg, pb, obs, 4000, 7);
                assert!(
                    (exact.reward_rate - mc.reward_rate).abs() < 4.0 * se + 1e-4,
                    "{len} {obs:?}: exact {exact:?} vs MC {mc:?} ± {se}"
                );
                assert!(
                    (exact.trials_to_switch - mc.trials_to_switch).abs() < 0.1,
                    "{exact:?} vs {mc:?}"
                );
            }
        }
    }

    #[test]
    fn grid_is_fine_enough() {
        // The grid's figure against a large simulation (20000 episodes).
        let fine = hazard_exact(40, 800, 0.8, 0.2, 1.0 / 40.0).reward_rate;
        let (mc, se) =
            bandit_monte_carlo(40, 800, 0.8, 0.2, Observer::Hazard(1.0 / 40.0), 20000, 11);
        assert!(
            (fine - mc.reward_rate).abs() < 4.0 * se,
            "{fine} vs {} ± {se}",
            mc.reward_rate
        );
    }

    #[test]
    fn known_period_beats_hazard_and_stays_below_p_good() {
        let h = bayes_bandit_ideal(40, 800, 0.8, 0.2, Observer::Hazard(1.0 / 40.0));
        let k = bayes_bandit_ideal(40, 800, 0.8, 0.2, Observer::KnownPeriod);
        assert!(k > h && k < 0.8 && k > 0.79, "{k} {h}");
        // Longer blocks are easier for the hazard observer.
        let h2 = bayes_bandit_ideal(80, 1600, 0.8, 0.2, Observer::Hazard(1.0 / 80.0));
        let h05 = bayes_bandit_ideal(20, 400, 0.8, 0.2, Observer::Hazard(1.0 / 20.0));
        assert!(h05 < h && h < h2, "{h05} {h} {h2}");
    }

    #[test]
    fn flips_lower_the_ideal_and_probabilities_are_the_tasks() {
        let (pg, pb) = bandit_probabilities(Schedule::default());
        assert!((pg - 0.8).abs() < 1e-4 && (pb - 0.2).abs() < 1e-4);
        let (pg, pb) = bandit_probabilities(Schedule::FLIP5);
        assert!((pg - 0.77).abs() < 1e-4 && (pb - 0.23).abs() < 1e-4);
        assert!(ideal_reward_rate(Schedule::FLIP5) < ideal_reward_rate(Schedule::default()));
        // Memoised: the same value twice.
        assert_eq!(
            ideal_reward_rate(Schedule::FLIP5),
            ideal_reward_rate(Schedule::FLIP5)
        );
    }

    #[test]
    fn uninformative_arms_give_chance() {
        // With p_good barely above p_bad the observer can do little better
        // than the mean of the two arms.
        let v = bayes_bandit_ideal(40, 800, 0.51, 0.49, Observer::Hazard(1.0 / 40.0));
        assert!(v > 0.5 && v < 0.51, "{v}");
    }
}
