//! The fuzz targets, shared by the libFuzzer binaries (`fuzz_targets/`),
//! the coverage-free driver of `cargo xtask fuzz --driver` and the
//! regression test `tests/tests/robust_regressions.rs`, which compiles this
//! file as a module and replays every case kept under `fuzz/regressions/`.
//!
//! A target panics (a finding) when the core panics, when `restore` accepts
//! bytes that give an agent outside its declared ranges (or out of the
//! relations `check_ranges` checks) or that do not snapshot back to the same
//! bytes, when a restored agent's own snapshot, after steps, is refused, or
//! when a step leaves a state variable outside its range or returns an
//! action outside the action count.

use std::sync::OnceLock;

use tcbg::rng::Rng;
use tcbg::snapshot::{crc32, SnapshotNum, CRC_LEN};
use tcbg::tasks::{observation, Schedule, Task, TaskKind};
use tcbg::{Agent, Config, Fx, Lesions};

type Default<N> = Agent<N, 8, 48, 4, 4>;

/// Most records one `steps` input runs (bounds the time per input).
pub const MAX_RECORDS: usize = 4000;

/// A default agent after 1500 steps of the rule-switch task with a lesion
/// toggled on the way: a realistic, learned state to corrupt.
fn trained<N: SnapshotNum>() -> Vec<u8> {
    let mut agent = Default::<N>::new(Config::default(), 11).expect("default config");
    let _ = agent.set_action_count(TaskKind::ACTIONS);
    let mut task = Task::new(TaskKind::RuleSwitch, Schedule::default(), 11);
    let mut reward = N::ZERO;
    for t in 0..1500 {
        let Some(inp) = task.next_input() else { break };
        if inp.trial_start {
            agent.mark_trial_start();
        }
        if t == 700 {
            agent.set_lesions(Lesions {
                no_meta: true,
                ..Lesions::NONE
            });
        }
        let a = agent.step(&observation::<N, 8>(inp.lines), reward);
        reward = if task.act(a).0 { N::ONE } else { N::ZERO };
    }
    let mut buf = vec![0u8; Default::<N>::SNAPSHOT_LEN];
    agent.snapshot(&mut buf).expect("buffer of SNAPSHOT_LEN");
    buf
}

/// The learned snapshot of each number type, built once.
pub fn base_snapshot<N: SnapshotNum>() -> &'static [u8] {
    static FX: OnceLock<Vec<u8>> = OnceLock::new();
    static F32: OnceLock<Vec<u8>> = OnceLock::new();
    if N::BYTES == 2 {
        FX.get_or_init(trained::<Fx>)
    } else {
        F32.get_or_init(trained::<f32>)
    }
}

/// Restores `bytes`; an accepted snapshot must be in range (its variables
/// and the relations between them, `check_ranges`), snapshot back to
/// exactly `bytes`, step within its ranges, and its own snapshot after
/// those steps must restore to it. Returns whether accepted.
pub fn check_restore<N: SnapshotNum>(bytes: &[u8]) -> bool {
    let Ok(mut agent) = Default::<N>::restore(bytes) else {
        return false;
    };
    if let Err(v) = agent.check_ranges() {
        panic!("restore accepted an agent out of range: {v}");
    }
    let mut again = vec![0u8; Default::<N>::SNAPSHOT_LEN];
    agent.snapshot(&mut again).expect("buffer of SNAPSHOT_LEN");
    assert!(
        again == bytes,
        "an accepted snapshot does not snapshot back to the same bytes"
    );
    let mut rng = Rng::seed(bytes.len() as u64 ^ 0x5eed);
    let mut reward = N::ZERO;
    for _ in 0..40 {
        let a = agent.step(&observation::<N, 8>((rng.next() & 0xff) as u16), reward);
        if let Err(v) = agent.check_ranges() {
            panic!("a restored agent left its ranges after a step: {v}");
        }
        reward = if rng.next() & 1 == 0 { N::ONE } else { N::ZERO };
        if rng.next() & 3 == 0 {
            agent.mark_trial_start();
        }
        assert!(a < 4);
    }
    agent.snapshot(&mut again).expect("buffer of SNAPSHOT_LEN");
    match Default::<N>::restore(&again) {
        Ok(back) => assert!(
            back == agent,
            "a stepped agent's snapshot restores to another"
        ),
        Err(e) => panic!("a restored agent, stepped, writes a snapshot restore refuses: {e}"),
    }
    true
}

/// `data[0..2]` (little-endian) is an offset into a learned snapshot,
/// `data[2..]` is XORed onto it from there (wrapping within the checksummed
/// bytes), and the checksum is repaired: so the fuzzer reaches the checks
/// behind the checksum. Returns whether restore accepted the result.
pub fn check_forged<N: SnapshotNum>(data: &[u8]) -> bool {
    let Some((head, patch)) = data.split_first_chunk::<2>() else {
        return false;
    };
    let mut bytes = base_snapshot::<N>().to_vec();
    let body = bytes.len() - CRC_LEN;
    let start = u16::from_le_bytes(*head) as usize % body;
    for (i, p) in patch.iter().enumerate().take(body) {
        bytes[(start + i) % body] ^= p;
    }
    let crc = crc32(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());
    check_restore::<N>(&bytes)
}

/// The `restore` target: the bytes as they are, and forged behind a repaired
/// checksum, for both number types.
pub fn restore(data: &[u8]) {
    check_restore::<Fx>(data);
    check_restore::<f32>(data);
    check_forged::<Fx>(data);
    check_forged::<f32>(data);
}

/// Runs records of `data` on a default agent. Record: `op`, `aux`, then 8
/// observation values and the reward, each `N::BYTES` raw bytes (any `i16`
/// for `Fx`; any `f32` bit pattern, NaN and infinities included). `op` bit 0
/// toggles the lesions in `aux & 31`, bit 1 marks a trial start, bit 2 sets
/// the action count to `aux >> 5` (refusals ignored), bit 3 checks a
/// snapshot round trip before the step.
pub fn run_steps<N: SnapshotNum>(data: &[u8], from: fn(&[u8]) -> N) {
    let seed = data.first().copied().unwrap_or(0) as u64;
    let mut agent = Default::<N>::new(Config::default(), seed).expect("default config");
    let mut count = 4usize;
    let w = N::BYTES;
    let rec = 2 + 9 * w;
    let mut buf = vec![0u8; Default::<N>::SNAPSHOT_LEN];
    for r in data
        .get(1..)
        .unwrap_or(&[])
        .chunks_exact(rec)
        .take(MAX_RECORDS)
    {
        let (op, aux) = (r[0], r[1]);
        if op & 1 != 0 {
            agent.set_lesions(Lesions::from_mask(agent.lesions().bits() ^ (aux & 31)));
        }
        if op & 2 != 0 {
            agent.mark_trial_start();
        }
        if op & 4 != 0 {
            let n = (aux >> 5) as usize;
            if agent.set_action_count(n).is_ok() {
                count = n;
            }
        }
        if op & 8 != 0 {
            agent.snapshot(&mut buf).expect("buffer of SNAPSHOT_LEN");
            let back = Default::<N>::restore(&buf).expect("a fresh snapshot restores");
            assert!(back == agent, "snapshot round trip changed the agent");
        }
        let vals = &r[2..];
        let obs: [N; 8] = core::array::from_fn(|j| from(&vals[j * w..(j + 1) * w]));
        let reward = from(&vals[8 * w..9 * w]);
        let a = agent.step(&obs, reward);
        assert!(a < count, "action {a} outside the action count {count}");
        if let Err(v) = agent.check_ranges() {
            panic!("after step {}: {v}", agent.counters().steps);
        }
    }
}

/// The `steps` target: the same bytes through the fixed-point agent and the
/// `f32` oracle.
pub fn steps(data: &[u8]) {
    run_steps::<Fx>(data, |b| Fx(i16::from_le_bytes([b[0], b[1]])));
    run_steps::<f32>(data, |b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
}

/// The targets by name.
/// A fuzz target: its name and the function that takes the fuzzer's bytes.
pub type Target = (&'static str, fn(&[u8]));

pub const TARGETS: [Target; 2] = [("restore", restore), ("steps", steps)];
