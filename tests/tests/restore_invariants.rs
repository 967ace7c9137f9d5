//! `restore` accepts only states the step can produce (issue 19).
//!
//! A property test: valid snapshots of agents run a few hundred steps on
//! several tasks and seeds (fixed point and `f32`) get ONE state variable of
//! [`STATE`] changed at one element, to a value of its unit (in range, at
//! the range's ends, just outside, NaN and infinities for `f32`, extreme
//! integers, another element's value), and their checksum fixed. Then
//! either `restore` refuses it naming a field, or the restored agent runs
//! 1,000 steps (cues, rewards, trial marks, now and then a lesion toggled or
//! another action count) with `check_ranges` holding after every one and
//! every action within the action count, and its own snapshot restores to
//! it.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::OnceLock;

use proptest::prelude::*;
use tcbg::rng::Rng;
use tcbg::snapshot::{crc32, RestoreError, SnapshotNum, CRC_LEN, HEADER_LEN, SEED_LEN};
use tcbg::state::{StateVar, Unit, STATE};
use tcbg::tasks::{observation, Schedule, Task, TaskKind};
use tcbg::{Agent, Config, Fx, Lesions};

type Default<N> = Agent<N, 8, 48, 4, 4>;

/// Forged snapshots refused and accepted (and then run), over all tests.
static REFUSED: AtomicUsize = AtomicUsize::new(0);
static ACCEPTED: AtomicUsize = AtomicUsize::new(0);

/// The tasks the base snapshots come from (with their action counts).
fn tasks() -> Vec<TaskKind> {
    vec![
        TaskKind::RuleSwitch,
        TaskKind::CuedRuleSwitch,
        TaskKind::CueContext,
        TaskKind::ReversalBandit,
        TaskKind::DelayedReward { delay: 2 },
        TaskKind::NewRuleTransfer,
        TaskKind::multi_rule(4, 4, 3).expect("a valid multi-rule task"),
    ]
}

/// Snapshots of a default agent running `kind` (seed `seed`), a lesion
/// toggled on the way for odd seeds: after `steps` steps, after 5, and
/// (if one comes) in the middle of a recall test.
fn base<N: SnapshotNum>(kind: TaskKind, seed: u64, steps: usize) -> Vec<Vec<u8>> {
    let mut agent = Default::<N>::new(Config::default(), seed).unwrap();
    agent.set_action_count(kind.actions()).unwrap();
    let mut task = Task::new(kind, Schedule::default(), seed);
    let mut reward = N::ZERO;
    let mut out = Vec::new();
    let snap = |agent: &Default<N>, out: &mut Vec<Vec<u8>>| {
        let mut buf = vec![0u8; Default::<N>::SNAPSHOT_LEN];
        agent.snapshot(&mut buf).unwrap();
        out.push(buf);
    };
    let mut in_recall = false;
    for t in 0..4 * steps {
        let Some(inp) = task.next_input() else { break };
        if inp.trial_start {
            agent.mark_trial_start();
        }
        if seed % 2 == 1 && t == steps / 2 {
            agent.set_lesions(Lesions {
                no_meta: seed % 4 == 1,
                no_traces: seed % 4 == 3,
                ..Lesions::NONE
            });
        }
        let a = agent.step(&observation::<N, 8>(inp.lines), reward);
        reward = if task.act(a).0 { N::ONE } else { N::ZERO };
        if t == 5 || t + 1 == steps {
            snap(&agent, &mut out);
        }
        let cc = &agent.contexts;
        if !in_recall && (cc.recall_context as usize) < 4 && (1..6).contains(&cc.recall_outcomes) {
            in_recall = true;
            snap(&agent, &mut out);
        }
        if t + 1 >= steps && in_recall {
            break;
        }
    }
    out
}

/// The base snapshots of each number type, built once: every task, 2 seeds,
/// 200 to 700 steps.
fn bases<N: SnapshotNum>() -> &'static [Vec<u8>] {
    static FX: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    static F32: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    let build = || {
        let mut out = Vec::new();
        for (i, kind) in tasks().into_iter().enumerate() {
            for seed in [i as u64 * 2 + 1, i as u64 * 2 + 2] {
                out.extend(base::<N>(kind, seed, 200 + 71 * (seed as usize % 8)));
            }
        }
        if std::env::var_os("TCBG_SHOW").is_some() {
            eprintln!("{}: {} base snapshots", N::NAME, out.len());
        }
        out
    };
    if N::BYTES == 2 {
        FX.get_or_init(build)
    } else {
        F32.get_or_init(build)
    }
}

/// Offset of the state variable `v` (of [`STATE`]) in a default snapshot.
fn offset(v: &StateVar, number_bytes: usize) -> usize {
    let mut at = HEADER_LEN + tcbg::snapshot::CONFIG_LEN + SEED_LEN;
    for w in STATE.iter() {
        if w.path == v.path {
            return at;
        }
        at += w.count(8, 48, 4, 4) * w.unit.bytes(number_bytes);
    }
    unreachable!()
}

/// Raw values of interest for a Q3.12 number: 0, the ends of the common
/// ranges (±1, ±2, ±4, ±8 and the ones just beside them), the extremes.
fn fx_values() -> Vec<i16> {
    let mut v = vec![0, 1, -1, i16::MIN, i16::MAX, i16::MIN + 1, i16::MAX - 1];
    for q in [4096i16, 8192, 16384, 409, 1229, 2048] {
        for d in [-1, 0, 1] {
            v.push(q + d);
            v.push(-q + d);
        }
    }
    v
}

/// Values of interest for an `f32` number.
fn f32_values() -> Vec<f32> {
    let mut v = vec![
        f32::NAN,
        -f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        0.0,
        -0.0,
        f32::MIN_POSITIVE,
        1e-45,
        -1e-45,
        f32::MAX,
        f32::MIN,
    ];
    for q in [1.0f32, 2.0, 4.0, 8.0, 0.1, 0.3, 0.5, 96.0, 16.0] {
        for x in [q, -q] {
            v.push(x);
            v.push(f32::from_bits(x.to_bits() + 1));
            v.push(f32::from_bits(x.to_bits() - 1));
        }
    }
    v
}

/// How the changed value is chosen: `kind` picks the family, `r` the value
/// within it.
#[derive(Clone, Copy, Debug)]
struct Change {
    base: usize,
    var: usize,
    element: u32,
    kind: u8,
    r: u64,
}

fn change() -> impl Strategy<Value = Change> {
    (
        any::<usize>(),
        0..STATE.len(),
        any::<u32>(),
        any::<u8>(),
        any::<u64>(),
    )
        .prop_map(|(base, var, element, kind, r)| Change {
            base,
            var,
            element,
            kind,
            r,
        })
}

/// The bytes of the new value of one element whose present bytes are `now`
/// (and whose variable's other elements are `all`).
fn new_value<N: SnapshotNum>(unit: Unit, now: &[u8], all: &[u8], c: &Change) -> Vec<u8> {
    let r = c.r;
    let width = now.len();
    let other = || {
        let n = all.len() / width;
        let i = (r as usize >> 8) % n;
        all[i * width..(i + 1) * width].to_vec()
    };
    match unit {
        Unit::Num if N::BYTES == 2 => {
            let cur = i16::from_le_bytes([now[0], now[1]]);
            let v = match c.kind % 5 {
                0 => r as i16,
                1 => {
                    let vs = fx_values();
                    vs[r as usize % vs.len()]
                }
                2 => cur.wrapping_add((r % 5) as i16 - 2),
                3 => return other(),
                _ => (r as i16) % 8192, // within ±2
            };
            v.to_le_bytes().to_vec()
        }
        Unit::Num => {
            let cur = f32::from_le_bytes(now.try_into().unwrap());
            let v = match c.kind % 6 {
                0 => f32::from_bits(r as u32),
                1 => {
                    let vs = f32_values();
                    vs[r as usize % vs.len()]
                }
                2 => f32::from_bits(cur.to_bits().wrapping_add((r % 5) as u32).wrapping_sub(2)),
                3 => return other(),
                4 => (r % 20_001) as f32 / 1000.0 - 10.0,
                _ => cur * ((r % 7) as f32 - 3.0) * 0.5,
            };
            v.to_le_bytes().to_vec()
        }
        Unit::U8 | Unit::Bool | Unit::Lesions => {
            let v = match c.kind % 3 {
                0 => r as u8,
                1 => (r % 12) as u8,
                _ => {
                    [0u8, 1, 2, 3, 4, 5, 7, 8, 15, 16, 31, 32, 127, 128, 254, 255][r as usize % 16]
                }
            };
            vec![v]
        }
        Unit::U16 => {
            let v = match c.kind % 3 {
                0 => r as u16,
                1 => (r % 20) as u16,
                _ => [0u16, 1, 15, 16, 255, 256, 0x7fff, 0x8000, 0xfffe, 0xffff][r as usize % 10],
            };
            v.to_le_bytes().to_vec()
        }
        Unit::U32 => {
            let v = match c.kind % 3 {
                0 => r as u32,
                1 => (r % 20) as u32,
                _ => [
                    0u32,
                    1,
                    3,
                    15,
                    16,
                    0x7fff_ffff,
                    0x8000_0000,
                    u32::MAX - 1,
                    u32::MAX,
                ][r as usize % 9],
            };
            v.to_le_bytes().to_vec()
        }
        Unit::U64 => {
            let v = match c.kind % 4 {
                0 => r,
                1 => r % 256,
                2 => return other(),
                _ => [0u64, 1, 0xff, 0x100, 1 << 63, u64::MAX][r as usize % 6],
            };
            v.to_le_bytes().to_vec()
        }
        Unit::Rng => {
            let mut v = now.to_vec();
            let i = (r as usize) % 16;
            v[i] = (r >> 8) as u8;
            if c.kind.is_multiple_of(4) {
                v.fill(0);
            }
            v
        }
    }
}

/// The forged snapshot of `c` (its checksum fixed) and the variable changed.
fn forge<N: SnapshotNum>(c: &Change) -> (Vec<u8>, &'static str, u32) {
    let bases = bases::<N>();
    let mut bytes = bases[c.base % bases.len()].clone();
    let v = &STATE[c.var];
    let width = v.unit.bytes(N::BYTES);
    let count = v.count(8, 48, 4, 4);
    let element = c.element % count as u32;
    let start = offset(v, N::BYTES);
    let all = bytes[start..start + count * width].to_vec();
    let at = start + element as usize * width;
    let new = new_value::<N>(v.unit, &bytes[at..at + width], &all, c);
    bytes[at..at + width].copy_from_slice(&new);
    let body = bytes.len() - CRC_LEN;
    let crc = crc32(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());
    (bytes, v.path, element)
}

/// Restores the forged snapshot of `c`: a refusal must name a field; an
/// accepted agent must keep its ranges for 1,000 steps and snapshot to
/// bytes that restore to it.
fn check<N: SnapshotNum>(c: &Change) -> Result<(), TestCaseError> {
    let (bytes, path, element) = forge::<N>(c);
    let what = format!("{} {path}[{element}]", N::NAME);
    let mut agent = match Default::<N>::restore(&bytes) {
        Ok(a) => a,
        Err(RestoreError::Invalid { field })
        | Err(RestoreError::Range(tcbg::RangeViolation { field, .. })) => {
            prop_assert!(!field.is_empty(), "{what}: refused without a name");
            if std::env::var_os("TCBG_SHOW").is_some() {
                eprintln!("{what}: refused: {field}");
            }
            REFUSED.fetch_add(1, Relaxed);
            return Ok(());
        }
        Err(e) => return Err(TestCaseError::fail(format!("{what}: refused as {e:?}"))),
    };
    prop_assert_eq!(agent.check_ranges(), Ok(()), "{}: restored", &what);
    ACCEPTED.fetch_add(1, Relaxed);
    let mut rng = Rng::seed(c.r ^ 0x1_9e57);
    let mut count = (agent.snapshot_action_count()).max(1);
    let mut reward = N::ZERO;
    for t in 0..1000u32 {
        if rng.below(4) == 0 {
            agent.mark_trial_start();
        }
        // Now and then a lesion toggled or another action count, as a host may.
        if rng.below(250) == 0 {
            let b = rng.next() as u8;
            agent.set_lesions(Lesions::from_mask(agent.lesions().bits() ^ b));
        }
        if rng.below(400) == 0 {
            count = 1 + rng.below(4) as usize;
            agent.set_action_count(count).unwrap();
        }
        // Mostly one-hot cues of the first lines, sometimes blank or any.
        let lines = match rng.below(8) {
            0 => 0,
            1 => (rng.next() & 0xff) as u16,
            _ => 1 << rng.below(4),
        };
        let a = agent.step(&observation::<N, 8>(lines), reward);
        prop_assert!(
            a < count,
            "{}: step {}: action {} outside {}",
            &what,
            t,
            a,
            count
        );
        if let Err(v) = agent.check_ranges() {
            return Err(TestCaseError::fail(format!("{what}: after step {t}: {v}")));
        }
        reward = match rng.below(3) {
            0 => N::ONE,
            1 => N::ZERO,
            _ => -N::ONE,
        };
    }
    let mut again = vec![0u8; Default::<N>::SNAPSHOT_LEN];
    agent.snapshot(&mut again).unwrap();
    match Default::<N>::restore(&again) {
        Ok(b) => prop_assert!(
            b == agent,
            "{}: its own snapshot restores to another agent",
            &what
        ),
        Err(e) => {
            return Err(TestCaseError::fail(format!(
                "{what}: its own snapshot is refused: {e}"
            )))
        }
    }
    Ok(())
}

/// The action count of an agent (its mask's length).
trait ActionCount {
    fn snapshot_action_count(&self) -> usize;
}

impl<N: SnapshotNum> ActionCount for Default<N> {
    fn snapshot_action_count(&self) -> usize {
        let mut buf = vec![0u8; Default::<N>::SNAPSHOT_LEN];
        self.snapshot(&mut buf).unwrap();
        let v = STATE.iter().find(|v| v.path == "action_mask").unwrap();
        let at = offset(v, N::BYTES);
        let mask = u32::from_le_bytes(buf[at..at + 4].try_into().unwrap());
        (32 - mask.leading_zeros()) as usize
    }
}

proptest! {
    // 3,000 cases of each number type (some 10 s in the test profile on
    // one core); `TCBG_FORGE_CASES` asks for more.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("TCBG_FORGE_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(3000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn fx_one_changed_field_is_refused_or_harmless(c in change()) {
        check::<Fx>(&c)?;
    }

    #[test]
    fn f32_one_changed_field_is_refused_or_harmless(c in change()) {
        check::<f32>(&c)?;
    }
}

/// Every state variable is reached by the cases above often enough: the
/// same checks, every variable in turn, a few values each.
#[test]
fn every_variable_in_turn() {
    let mut rng = Rng::seed(19);
    for var in 0..STATE.len() {
        for n in 0..6u8 {
            let c = Change {
                base: rng.next() as usize,
                var,
                element: rng.next(),
                kind: n,
                r: (rng.next() as u64) << 32 | rng.next() as u64,
            };
            if let Err(e) = check::<Fx>(&c) {
                panic!("{c:?}: {e}");
            }
            if let Err(e) = check::<f32>(&c) {
                panic!("{c:?}: {e}");
            }
        }
    }
    let (r, a) = (REFUSED.load(Relaxed), ACCEPTED.load(Relaxed));
    eprintln!("forged snapshots so far: {r} refused, {a} accepted and run 1,000 steps");
    assert!(r > 0 && a > 0);
}
