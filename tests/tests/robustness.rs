//! Snapshots: a restored agent continues bit for bit; every corruption and
//! truncation is refused; every refusal names its reason. Both number types.

use tcbg::rng::Rng;
use tcbg::snapshot::{
    crc32, snapshot_len, RestoreError, SnapshotError, SnapshotNum, CRC_LEN, HEADER_LEN, SEED_LEN,
};
use tcbg::state::{Unit, STATE};
use tcbg::tasks::{observation, Schedule, Task, TaskKind};
use tcbg::{Agent, Config, ConfigError, DefaultAgent, Fx, Lesions, Num, OracleAgent};

type Default<N> = Agent<N, 8, 48, 4, 4>;

/// Runs `steps` steps of a task on `agent`, toggling lesions now and then;
/// returns the action and dopamine bits of every step.
fn drive<N: SnapshotNum>(
    agent: &mut Default<N>,
    task: &mut Task,
    reward: &mut N,
    rng: &mut Rng,
    steps: usize,
) -> Vec<(usize, u32)> {
    let mut out = Vec::with_capacity(steps);
    for _ in 0..steps {
        let inp = match task.next_input() {
            Some(i) => i,
            None => {
                *task = Task::new(TaskKind::CueContext, Schedule::default(), rng.next() as u64);
                task.next_input().expect("a new task has input")
            }
        };
        if inp.trial_start {
            agent.mark_trial_start();
        }
        if rng.below(500) == 0 {
            let b = rng.next();
            agent.set_lesions(Lesions {
                no_thalamus: false,
                no_context_selection: b & 1 != 0,
                no_dopamine: false,
                no_traces: b & 2 != 0,
                no_meta: b & 4 != 0,
                no_amplification: b & 8 != 0,
            });
        }
        let a = agent.step(&observation::<N, 8>(inp.lines), *reward);
        out.push((a, agent.dopamine().hash_bits()));
        *reward = if task.act(a).0 { N::ONE } else { N::ZERO };
    }
    out
}

fn continues_bit_identically<N: SnapshotNum>() {
    let mut agent = Default::<N>::new(Config::default(), 21).unwrap();
    agent.set_action_count(2).unwrap();
    let mut task = Task::new(TaskKind::SerialReversal, Schedule::default(), 21);
    let mut rng = Rng::seed(21);
    let mut reward = N::ZERO;
    drive(&mut agent, &mut task, &mut reward, &mut rng, 1234); // mid-task, mid-block
    let mut buf = vec![0u8; Default::<N>::SNAPSHOT_LEN];
    assert_eq!(agent.snapshot(&mut buf), Ok(Default::<N>::SNAPSHOT_LEN));
    let mut restored = Default::<N>::restore(&buf).unwrap();
    assert!(restored == agent, "restored agent differs");
    let (mut task2, mut reward2, mut rng2) = (task.clone(), reward, rng.clone());
    let a = drive(&mut agent, &mut task, &mut reward, &mut rng, 6000);
    let b = drive(&mut restored, &mut task2, &mut reward2, &mut rng2, 6000);
    assert_eq!(a, b, "action and dopamine sequences diverge after restore");
    assert!(restored == agent);
    // In place, over an agent with other state, is the same.
    let mut other = Default::<N>::new(
        Config {
            gamma: 0.9,
            ..Config::default()
        },
        5,
    )
    .unwrap();
    other.restore_in_place(&buf).unwrap();
    let mut again = Default::<N>::restore(&buf).unwrap();
    assert!(other == again);
    let mut t3 = Task::new(TaskKind::RuleSwitch, Schedule::default(), 3);
    let (mut r3, mut g3) = (N::ZERO, Rng::seed(3));
    let (mut t4, mut r4, mut g4) = (t3.clone(), N::ZERO, Rng::seed(3));
    assert_eq!(
        drive(&mut other, &mut t3, &mut r3, &mut g3, 2000),
        drive(&mut again, &mut t4, &mut r4, &mut g4, 2000)
    );
}

#[test]
fn restored_agent_continues_bit_identically_fx() {
    continues_bit_identically::<Fx>();
}

#[test]
fn restored_agent_continues_bit_identically_f32() {
    continues_bit_identically::<f32>();
}

#[test]
fn snapshot_sizes() {
    assert_eq!(DefaultAgent::SNAPSHOT_LEN, 5814);
    assert_eq!(OracleAgent::SNAPSHOT_LEN, 11108);
    assert_eq!(DefaultAgent::SNAPSHOT_LEN, snapshot_len(8, 48, 4, 4, 2));
    // The const size is what the writer writes, for other sizes too.
    let a = Agent::<Fx, 3, 12, 3, 2>::new(Config::default(), 1).unwrap();
    let mut buf = vec![0u8; 2000];
    assert_eq!(
        a.snapshot(&mut buf),
        Ok(Agent::<Fx, 3, 12, 3, 2>::SNAPSHOT_LEN)
    );
    assert_eq!(
        Agent::<Fx, 3, 12, 3, 2>::restore(&buf[..Agent::<Fx, 3, 12, 3, 2>::SNAPSHOT_LEN]).unwrap(),
        a
    );
    let mut small = vec![0u8; DefaultAgent::SNAPSHOT_LEN - 1];
    let d = DefaultAgent::new(Config::default(), 1).unwrap();
    assert_eq!(
        d.snapshot(&mut small),
        Err(SnapshotError::BufferTooSmall {
            needed: DefaultAgent::SNAPSHOT_LEN,
            found: DefaultAgent::SNAPSHOT_LEN - 1
        })
    );
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926); // the IEEE check value
}

fn learned<N: SnapshotNum>(seed: u64) -> (Default<N>, Vec<u8>) {
    let mut agent = Default::<N>::new(Config::default(), seed).unwrap();
    agent.set_action_count(2).unwrap();
    let mut task = Task::new(TaskKind::CuedRuleSwitch, Schedule::default(), seed);
    let mut reward = N::ZERO;
    drive(
        &mut agent,
        &mut task,
        &mut reward,
        &mut Rng::seed(seed),
        900,
    );
    let mut buf = vec![0u8; Default::<N>::SNAPSHOT_LEN];
    agent.snapshot(&mut buf).unwrap();
    (agent, buf)
}

/// Every single-byte corruption (every position, every one of the 255 other
/// values for `Fx`; every position with 8 values for `f32`) is refused.
fn corruption_refused<N: SnapshotNum>(all_values: bool) {
    let (_, good) = learned::<N>(4);
    let xs: Vec<u8> = if all_values {
        (1..=255).collect()
    } else {
        vec![1, 2, 4, 8, 16, 32, 64, 128]
    };
    // Two threads, each every other position (the check is CPU-bound CRC work).
    let refused: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|part| {
                let (good, xs) = (&good, &xs);
                s.spawn(move || {
                    let mut bad = good.clone();
                    let mut refused = 0u64;
                    for i in (part..good.len()).step_by(2) {
                        for &x in xs {
                            bad[i] = good[i] ^ x;
                            assert!(
                                Default::<N>::restore(&bad).is_err(),
                                "byte {i} ^ {x:#04x} accepted"
                            );
                            refused += 1;
                        }
                        bad[i] = good[i];
                    }
                    refused
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(refused, (good.len() * xs.len()) as u64);
    eprintln!("{}: {refused} single-byte corruptions refused", N::NAME);
}

#[test]
fn every_single_byte_corruption_is_refused_fx() {
    corruption_refused::<Fx>(true);
}

#[test]
fn every_single_bit_corruption_is_refused_f32() {
    corruption_refused::<f32>(false);
}

fn truncation_refused<N: SnapshotNum>() {
    let (_, good) = learned::<N>(5);
    for n in 0..good.len() {
        match Default::<N>::restore(&good[..n]) {
            Err(RestoreError::Truncated { expected, found }) => {
                assert_eq!(found, n);
                assert_eq!(
                    expected,
                    if n < HEADER_LEN {
                        HEADER_LEN
                    } else {
                        good.len()
                    }
                );
            }
            other => panic!("prefix of {n} bytes: {other:?}"),
        }
    }
    let mut long = good.clone();
    for extra in [1usize, 4, 1000] {
        long.resize(good.len() + extra, 0);
        assert_eq!(
            Default::<N>::restore(&long),
            Err(RestoreError::Excess {
                expected: good.len(),
                found: good.len() + extra
            })
        );
    }
}

#[test]
fn every_truncation_is_refused() {
    truncation_refused::<Fx>();
    truncation_refused::<f32>();
}

/// Rewrites the CRC after a deliberate change, so the checks behind it run.
fn reseal(bytes: &mut [u8]) {
    let body = bytes.len() - CRC_LEN;
    let c = crc32(&bytes[..body]);
    bytes[body..].copy_from_slice(&c.to_le_bytes());
}

/// Offset of the config field `name`, from the config's declaration
/// (`f32` fields take 4 bytes, counts 1).
fn config_offset(name: &str) -> usize {
    let mut at = HEADER_LEN;
    for f in tcbg::config::FIELDS.iter() {
        if f.name == name {
            return at;
        }
        at += if f.integer { 1 } else { 4 };
    }
    panic!("no config field {name}")
}

/// Offset of the state variable `path` in a snapshot of the default sizes
/// whose numbers take `number_bytes`, from the state's declaration.
fn state_offset(path: &str, number_bytes: usize) -> usize {
    let mut at = HEADER_LEN + tcbg::snapshot::CONFIG_LEN + SEED_LEN;
    for v in STATE.iter() {
        if v.path == path {
            return at;
        }
        at += v.count(8, 48, 4, 4) * v.unit.bytes(number_bytes);
    }
    panic!("no state variable {path}")
}

#[test]
fn refusals_name_their_reason() {
    let (_, good) = learned::<Fx>(6);
    let mut b = good.clone();
    b[0] = b'X';
    assert_eq!(DefaultAgent::restore(&b), Err(RestoreError::BadMagic));
    let mut b = good.clone();
    b[4] = 2; // the format before the config gained six fields
    assert_eq!(
        DefaultAgent::restore(&b),
        Err(RestoreError::UnsupportedVersion { found: 2 })
    );
    let mut b = good.clone();
    b[4] = 3; // the format whose config still held the GPR's iterations and rate
    assert_eq!(
        DefaultAgent::restore(&b),
        Err(RestoreError::UnsupportedVersion { found: 3 })
    );
    let mut b = good.clone();
    b[4] = 4; // the format before cortical recurrence, the most recent trace and belief
    assert_eq!(
        DefaultAgent::restore(&b),
        Err(RestoreError::UnsupportedVersion { found: 4 })
    );
    let mut b = good.clone();
    b[4] = 11; // the format before a disappointment was judged on its pattern
    assert_eq!(
        DefaultAgent::restore(&b),
        Err(RestoreError::UnsupportedVersion { found: 11 })
    );
    let mut b = good.clone();
    b[4] = 12; // the format before cortex kept the lines it has met
    assert_eq!(
        DefaultAgent::restore(&b),
        Err(RestoreError::UnsupportedVersion { found: 12 })
    );
    assert_eq!(
        OracleAgent::restore(&good),
        Err(RestoreError::NumberType {
            expected: 2,
            found: 1
        })
    );
    assert_eq!(
        Agent::<Fx, 8, 48, 4, 2>::restore(&good),
        Err(RestoreError::Sizes {
            expected: [8, 48, 4, 2],
            found: [8, 48, 4, 4]
        })
    );
    let mut b = good.clone();
    b[3000] ^= 1;
    assert!(matches!(
        DefaultAgent::restore(&b),
        Err(RestoreError::Checksum { .. })
    ));

    // Behind a valid checksum: an invalid config is the ConfigError of Agent::new.
    let gamma = config_offset("gamma");
    assert_eq!(gamma, HEADER_LEN + 4 * 32 + 1); // after 32 `f32` and 1 count
    let mut b = good.clone();
    b[gamma..gamma + 4].copy_from_slice(&1.5f32.to_le_bytes());
    reseal(&mut b);
    assert!(matches!(
        DefaultAgent::restore(&b),
        Err(RestoreError::Config(ConfigError::OutOfRange {
            field: "gamma",
            ..
        }))
    ));
    // An all-zero generator.
    let rng_at = state_offset("explore_rng", 2);
    let mut b = good.clone();
    b[rng_at..rng_at + 16].fill(0);
    reseal(&mut b);
    assert_eq!(
        DefaultAgent::restore(&b),
        Err(RestoreError::Invalid {
            field: "explore_rng"
        })
    );
    // Trial flags that are not 0 or 1, and an action mask that is not 0..n.
    let flag_at = rng_at - 1;
    assert_eq!(flag_at, state_offset("trial_start", 2));
    let marked_at = state_offset("trials_marked", 2);
    for (at, field) in [(flag_at, "trial_start"), (marked_at, "trials_marked")] {
        let mut b = good.clone();
        b[at] = 2;
        reseal(&mut b);
        assert_eq!(
            DefaultAgent::restore(&b),
            Err(RestoreError::Invalid { field })
        );
    }
    let mut b = good.clone();
    b[flag_at - 4..flag_at].copy_from_slice(&0b101u32.to_le_bytes());
    reseal(&mut b);
    match DefaultAgent::restore(&b) {
        Err(RestoreError::Range(v)) => assert_eq!((v.field, v.value), ("action_mask", 5.0)),
        other => panic!("{other:?}"),
    }
    // A line beyond the agent's eight met by cortex.
    let met_at = state_offset("cortex.lines_met", 2);
    let mut b = good.clone();
    b[met_at..met_at + 8].copy_from_slice(&(1u64 << 8 | 0b11).to_le_bytes());
    reseal(&mut b);
    match DefaultAgent::restore(&b) {
        Err(RestoreError::Range(v)) => assert_eq!(v.field, "cortex.lines_met"),
        other => panic!("{other:?}"),
    }
    // A weight beyond its rail: the first Go weight (after config, seed,
    // lesions, cortex with its lines met, and thalamus) set to 7.5 > w_max.
    let go_at = HEADER_LEN
        + tcbg::snapshot::CONFIG_LEN
        + 8
        + 1
        + 2 * (8 * 48 + 3 * 48)
        + 8
        + 2 * (3 * 4 * 48 + 48 * 8 + 4 * 48 + 4 + 1)
        + 6
        + 8 * tcbg::thalamus::PATTERNS
        + 3;
    assert_eq!(go_at, state_offset("striatum.w_go", 2));
    let mut b = good.clone();
    b[go_at..go_at + 2].copy_from_slice(&Fx::from_f32(7.5).0.to_le_bytes());
    reseal(&mut b);
    match DefaultAgent::restore(&b) {
        Err(RestoreError::Range(v)) => assert_eq!((v.field, v.index), ("striatum.w_go", 0)),
        other => panic!("{other:?}"),
    }
    // Every refusal has a message.
    assert!(RestoreError::BadMagic.to_string().contains("magic"));
}

/// Every range the state's declaration gives is checked on restore: the
/// first value of each checked variable set beyond its range (NaN for
/// `f32`; for `Fx` the extreme raw values, where one lies outside; the
/// largest count) is refused, naming that variable and index.
fn declared_ranges_are_checked<N: SnapshotNum>() {
    let (_, good) = learned::<N>(9);
    let mut refused = 0;
    for v in STATE.iter().filter(|v| v.checked) {
        let at = state_offset(v.path, N::BYTES);
        let beyond: Vec<Vec<u8>> = match v.unit {
            Unit::Num if N::BYTES == 4 => vec![f32::NAN.to_le_bytes().to_vec()],
            Unit::Num => vec![
                i16::MIN.to_le_bytes().to_vec(),
                i16::MAX.to_le_bytes().to_vec(),
            ],
            Unit::U8 => vec![vec![u8::MAX]],
            Unit::U16 => vec![u16::MAX.to_le_bytes().to_vec()],
            other => panic!("{}: a range on {other:?}", v.path),
        };
        let mut any = false;
        for bytes in beyond {
            let mut b = good.clone();
            b[at..at + bytes.len()].copy_from_slice(&bytes);
            reseal(&mut b);
            match Default::<N>::restore(&b) {
                Err(RestoreError::Range(r)) => {
                    assert_eq!((r.field, r.index), (v.path, 0));
                    any = true;
                }
                // A value `Fx` cannot hold beyond this range.
                Ok(a) => assert_eq!(a.check_ranges(), Ok(()), "{}", v.path),
                Err(e) => panic!("{}: {e:?}", v.path),
            }
        }
        assert!(any || (N::BYTES == 2 && v.unit == Unit::Num), "{}", v.path);
        refused += any as usize;
    }
    eprintln!("{}: {refused} declared ranges refused", N::NAME);
    assert!(refused > 0);
}

#[test]
fn declared_ranges_are_checked_fx() {
    declared_ranges_are_checked::<Fx>();
}

#[test]
fn declared_ranges_are_checked_f32() {
    declared_ranges_are_checked::<f32>();
}

#[test]
fn a_failed_restore_leaves_a_valid_agent() {
    let (saved, good) = learned::<Fx>(7);
    let mut agent = DefaultAgent::new(Config::default(), 99).unwrap();
    let before = agent.clone();
    let mut b = good.clone();
    b[100] ^= 4;
    assert!(agent.restore_in_place(&b).is_err());
    assert!(agent == before, "a checksum error changed the agent");
    assert!(agent.restore_in_place(&good[..10]).is_err());
    assert!(agent == before);
    // A value error behind a valid checksum: a fresh agent of the snapshot's config and seed.
    let flag_at = state_offset("trial_start", 2);
    b = good.clone();
    b[flag_at] = 7;
    reseal(&mut b);
    assert!(agent.restore_in_place(&b).is_err());
    assert!(agent == DefaultAgent::new(*saved.config(), saved.seed()).unwrap());
    assert_eq!(agent.check_ranges(), Ok(()));
}

/// Corruptions behind a repaired checksum (a writer with a bug, or a
/// forger): each is refused, or restores to an agent in range that steps in
/// range and snapshots back to the same bytes.
fn forged_corruptions<N: SnapshotNum>() {
    let (_, good) = learned::<N>(8);
    let mut accepted = 0;
    let mut refused = 0;
    let mut rng = Rng::seed(8);
    for i in 0..good.len() - CRC_LEN {
        for x in [0x01u8, 0x80, 0xff, (rng.next() as u8) | 1] {
            let mut b = good.clone();
            b[i] ^= x;
            reseal(&mut b);
            match Default::<N>::restore(&b) {
                Err(_) => refused += 1,
                Ok(mut a) => {
                    accepted += 1;
                    assert_eq!(a.check_ranges(), Ok(()), "byte {i} ^ {x:#x}");
                    let mut again = vec![0u8; b.len()];
                    a.snapshot(&mut again).unwrap();
                    assert!(again == b, "byte {i} ^ {x:#x}: not canonical");
                    for t in 0..3u16 {
                        a.step(&observation::<N, 8>(1 << t), N::ONE);
                        assert_eq!(a.check_ranges(), Ok(()), "byte {i} ^ {x:#x}, step {t}");
                    }
                }
            }
        }
    }
    eprintln!(
        "{}: forged single-byte changes: {refused} refused, {accepted} accepted in range",
        N::NAME
    );
    assert!(refused > 0 && accepted > 0);
}

#[test]
fn forged_corruptions_are_refused_or_in_range_fx() {
    forged_corruptions::<Fx>();
}

#[test]
fn forged_corruptions_are_refused_or_in_range_f32() {
    forged_corruptions::<f32>();
}

/// Every state the step reaches restores, also when a config bound is no
/// multiple of 1/4096 (`Fx` rounds it, possibly up; found by fuzzing).
#[test]
fn unrepresentable_config_bounds_restore() {
    let config = Config {
        surprise_max: 2.012372,
        w_max: 0.30001,
        salience_max: 1.00007,
        m_max: 0.1,
        ..Config::default()
    };
    let mut agent = DefaultAgent::new(config, 3).unwrap();
    agent.set_action_count(2).unwrap();
    let mut buf = vec![0u8; DefaultAgent::SNAPSHOT_LEN];
    let mut rng = Rng::seed(3);
    let mut peak = 0.0f32;
    for t in 0..20_000u32 {
        // Punishing, shifting outcomes drive surprise to its bound.
        let a = agent.step(
            &observation::<Fx, 8>(1 << (t % 3)),
            if rng.below(4) == 0 { Fx::ONE } else { Fx::ZERO },
        );
        assert!(a < 2);
        assert_eq!(agent.check_ranges(), Ok(()), "step {t}");
        if t % 1000 == 999 {
            agent.snapshot(&mut buf).unwrap();
            assert!(DefaultAgent::restore(&buf).unwrap() == agent, "step {t}");
        }
        peak = peak.max(agent.contexts.surprise.to_f32());
    }
    // The run reached the surprised states it is about.
    assert!(peak > 0.0);
}

/// A board's message ([`RestoreError::fmt_float_free`]) says what the host's
/// says, with each `f32` as its IEEE bits instead of a decimal.
#[test]
fn float_free_messages_match_the_host_but_for_the_values() {
    struct FloatFree<'a>(&'a RestoreError);
    impl std::fmt::Display for FloatFree<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.0.fmt_float_free(f)
        }
    }
    let range = RestoreError::Range(tcbg::RangeViolation {
        field: "cortex.gain",
        index: 46,
        value: 7.5,
        min: 0.0,
        max: 2.0,
    });
    let board = FloatFree(&range).to_string();
    assert_eq!(
        board,
        format!(
            "snapshot value out of range: cortex.gain[46] (f32 bits {:08x})",
            7.5f32.to_bits()
        )
    );
    assert!(range.to_string().contains("7.5"), "{range}");
    let config = RestoreError::Config(ConfigError::OutOfRange {
        field: "gamma",
        value: 1.5,
        min: 0.0,
        max: 0.99,
    });
    assert!(FloatFree(&config)
        .to_string()
        .contains(&format!("{:08x}", 1.5f32.to_bits())));
    assert!(!FloatFree(&config).to_string().contains("1.5"));
    // Messages without a float are the same text on both.
    let crc = RestoreError::Checksum {
        stored: 1,
        computed: 2,
    };
    assert_eq!(FloatFree(&crc).to_string(), crc.to_string());
}

/// A snapshot whose checksum was fixed after a cross-field change the step
/// cannot make (a recall test in progress with all its outcomes in) is
/// refused, naming the field; counters restored at their largest value
/// saturate instead of overflowing.
#[test]
fn forged_recall_test_and_full_counters() {
    use tcbg::basal_ganglia::RECALL_OUTCOMES;
    let (mut agent, _) = learned::<Fx>(4);
    let cur = agent.active_context();
    agent.contexts.recall_context = cur as u8;
    agent.contexts.recall_outcomes = RECALL_OUTCOMES;
    let err = agent.check_ranges().unwrap_err();
    assert_eq!(err.field, "contexts.recall_outcomes");
    let mut buf = vec![0u8; DefaultAgent::SNAPSHOT_LEN];
    agent.snapshot(&mut buf).unwrap();
    assert!(matches!(
        DefaultAgent::restore(&buf),
        Err(RestoreError::Range(tcbg::RangeViolation {
            field: "contexts.recall_outcomes",
            ..
        }))
    ));

    let (_, mut bytes) = learned::<Fx>(5);
    for path in [
        "counters.switches",
        "counters.recognitions",
        "counters.novelties",
    ] {
        let at = state_offset(path, 2);
        bytes[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    }
    reseal(&mut bytes);
    let mut agent = DefaultAgent::restore(&bytes).unwrap();
    assert_eq!(agent.counters().switches, u32::MAX);
    let mut rng = Rng::seed(5);
    let mut switched = 0;
    let mut reward = Fx::ZERO;
    for t in 0..2_000u32 {
        // The rule reverses every 40 trials: surprise makes the basal
        // ganglia switch.
        let before = agent.active_context();
        let cue = rng.below(2) as usize;
        agent.mark_trial_start();
        let a = agent.step(&observation::<Fx, 8>(1 << cue), reward);
        let right = (a == cue) == ((t / 40) % 2 == 0);
        reward = if right { Fx::ONE } else { Fx::ZERO };
        switched += usize::from(agent.active_context() != before);
    }
    assert!(switched > 0, "no switch: the counters were not exercised");
    assert_eq!(agent.counters().switches, u32::MAX);
    assert_eq!(agent.check_ranges(), Ok(()));
}

/// Every relation the step keeps between state variables
/// (`Agent::check_ranges`) is checked on restore: a learned agent with one
/// variable set out of line with the others (each value in its own range)
/// snapshots to bytes that restore refuses, naming that variable.
#[test]
fn forged_relations_are_refused() {
    use tcbg::basal_ganglia::RECALL_OUTCOMES;
    let (agent, _) = learned::<Fx>(12);
    let active = agent.active_context();
    let other = (active + 1) % 4;
    type Forgery = (&'static str, Box<dyn Fn(&mut DefaultAgent)>);
    let forgeries: Vec<Forgery> = vec![
        (
            "context_channels.selected",
            Box::new(move |a| a.context_channels.selected = other as u8),
        ),
        (
            "thalamus.used",
            Box::new(move |a| a.thalamus.used &= !(1 << active)),
        ),
        (
            "contexts.recall_reward",
            Box::new(move |a| {
                a.contexts.recall_context = active as u8;
                a.contexts.recall_outcomes = 1;
                a.contexts.recall_reward = Fx::from_f32(4.0);
            }),
        ),
        (
            "contexts.recall_outcomes",
            Box::new(move |a| {
                a.contexts.recall_context = active as u8;
                a.contexts.recall_outcomes = RECALL_OUTCOMES;
            }),
        ),
        (
            "thalamus.shared",
            Box::new(|a| {
                a.contexts.in_place = Fx::ZERO;
                a.thalamus.share_cortex(Fx::from_f32(0.5));
            }),
        ),
        (
            "thalamus.g",
            Box::new(|a| {
                let unit = a.thalamus.mask.iter().position(|&m| m != 0).unwrap();
                a.thalamus.g[0][unit] = Fx::from_f32(0.75);
            }),
        ),
        (
            "cortex.gain",
            Box::new(|a| a.cortex.gain[5] = Fx::from_f32(0.5)),
        ),
        (
            "thalamus.pattern_next",
            Box::new(|a| {
                a.thalamus.patterns_held = 1;
                a.thalamus.pattern_next = 3;
            }),
        ),
        (
            "thalamus.patterns",
            Box::new(|a| a.thalamus.patterns[1] = a.thalamus.patterns[0]),
        ),
        (
            "thalamus.patterns",
            Box::new(|a| a.thalamus.patterns[0] = 1 << 9),
        ),
        (
            "thalamus.patterns",
            Box::new(|a| a.thalamus.patterns[2] = 0),
        ),
        (
            "thalamus.since_novel",
            Box::new(|a| {
                a.thalamus.patterns = [0; tcbg::thalamus::PATTERNS];
                a.thalamus.patterns_held = 0;
                a.thalamus.pattern_next = 0;
                a.thalamus.since_novel = 3;
            }),
        ),
        (
            "thalamus.steps_seen",
            Box::new(|a| a.thalamus.steps_seen = 17),
        ),
    ];
    let mut buf = vec![0u8; DefaultAgent::SNAPSHOT_LEN];
    for (field, forge) in forgeries {
        let mut a = agent.clone();
        forge(&mut a);
        assert_eq!(a.check_ranges().map_err(|v| v.field), Err(field));
        a.snapshot(&mut buf).unwrap();
        match DefaultAgent::restore(&buf) {
            Err(RestoreError::Range(v)) => assert_eq!(v.field, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    // Unrefused, a recall reward beyond its outcomes soon leaves its range.
    let mut a = agent.clone();
    a.contexts.recall_context = active as u8;
    a.contexts.recall_outcomes = 1;
    a.contexts.recall_reward = Fx::from_f32(4.0);
    for _ in 0..RECALL_OUTCOMES {
        a.mark_trial_start();
        a.step(&observation::<Fx, 8>(1), Fx::ONE);
    }
    assert!(a.check_ranges().is_err());
}
