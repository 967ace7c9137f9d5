//! The wasm build in node and in headless Chromium (`cargo xtask test` runs
//! this suite in both): the same trace as the host, and bad arguments from
//! JavaScript refused with an `Error` and no change of state.
//!
//! `TCBG_HOST_TRACE`, set by xtask at build time, is the host's trace hash.
//! The suite also prints a `snapshot <base64>` and a `continuation <hash>`
//! line ([`snapshot_for_the_host`]): xtask restores those bytes on the host
//! and checks that the host continues with the same hash.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Float32Array, Float64Array, Uint8Array};
use tcbg::snapshot::{trace_with, TraceHash, TRACE_STEPS};
use tcbg::{DefaultAgent, Fx, Num};
use tcbg_wasm::{trace, trace_steps, Agent, Session};
use wasm_bindgen::{JsCast, JsError, JsValue};
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

/// The message of a refused call.
fn message(e: JsError) -> String {
    JsValue::from(e)
        .dyn_into::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_default()
}

/// Asserts that `r` was refused with a message containing `needle`.
fn refused<T>(r: Result<T, JsError>, needle: &str) {
    match r {
        Ok(_) => panic!("accepted; expected an error mentioning `{needle}`"),
        Err(e) => {
            let m = message(e);
            assert!(
                m.contains(needle),
                "message `{m}` does not mention `{needle}`"
            );
        }
    }
}

fn obs(values: &[f32]) -> JsValue {
    Float32Array::from(values).into()
}

/// An agent that has already learned a little, so its state is not the initial one.
fn trained_agent() -> Agent {
    let mut agent = Agent::new(7.0).unwrap();
    let mut session = Session::new("rule-switch", 0.0, 7.0).unwrap();
    session.run(&mut agent, 150.0).unwrap();
    agent
}

#[wasm_bindgen_test]
fn trace_matches_the_host() {
    let wasm = trace(trace_steps() as f64).unwrap();
    console_log!("trace {wasm}");
    if let Some(host) = option_env!("TCBG_HOST_TRACE") {
        assert_eq!(wasm, host, "wasm trace differs from the host's");
    }
}

#[wasm_bindgen_test]
fn bad_seeds_are_refused() {
    for seed in [f64::NAN, f64::INFINITY, -1.0, 1.5, 2f64.powi(60)] {
        refused(Agent::new(seed), "seed");
        refused(Session::new("rule-switch", 0.0, seed), "seed");
    }
    assert_eq!(
        Agent::new(9_007_199_254_740_991.0).unwrap().seed(),
        9_007_199_254_740_991.0
    );
}

#[wasm_bindgen_test]
fn bad_observations_and_rewards_leave_the_agent_unchanged() {
    let mut agent = trained_agent();
    let before = agent.core().clone();
    let good = obs(&[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    let nan_array = Array::new();
    for v in [f64::NAN, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0] {
        nan_array.push(&v.into());
    }
    let string_array = Array::new();
    for _ in 0..8 {
        string_array.push(&"1".into());
    }
    let cases: Vec<(JsValue, &str)> = vec![
        (obs(&[1.0; 7]), "7 values"),
        (obs(&[1.0; 9]), "9 values"),
        (
            obs(&[0.0, f32::NAN, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            "obs[1] is NaN",
        ),
        (
            obs(&[0.0, 0.0, f32::INFINITY, 0.0, 0.0, 0.0, 0.0, 0.0]),
            "obs[2] is inf",
        ),
        (
            obs(&[0.0, 0.0, 0.0, 1.5, 0.0, 0.0, 0.0, 0.0]),
            "obs[3] is 1.5",
        ),
        (Float64Array::from(&[-2.0; 8][..]).into(), "obs[0] is -2"),
        (nan_array.into(), "obs[0] is NaN"),
        (string_array.into(), "obs[0] must be a number, got a string"),
        (JsValue::from(3.0), "got a number"),
        (JsValue::UNDEFINED, "got a undefined"),
        (JsValue::NULL, "got a null"),
        (js_sys::Object::new().into(), "got a object"),
    ];
    for (bad, needle) in cases {
        refused(agent.step(&bad, 0.0), needle);
    }
    for r in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1.01, -3.0] {
        refused(agent.step(&good, r), "reward");
    }
    assert!(agent.core() == &before, "a refused step changed the agent");
    // A good call still works, from the same state.
    let mut twin = Agent::new(7.0).unwrap();
    Session::new("rule-switch", 0.0, 7.0)
        .unwrap()
        .run(&mut twin, 150.0)
        .unwrap();
    assert_eq!(
        agent.step(&good, 1.0).unwrap(),
        twin.step(&good, 1.0).unwrap()
    );
    assert!(agent.core() == twin.core());
}

#[wasm_bindgen_test]
fn bad_lesions_indices_and_counts_leave_the_agent_unchanged() {
    let mut agent = trained_agent();
    let before = agent.core().clone();
    refused(
        agent.set_lesion("no_cortex", &true.into()),
        "unknown lesion `no_cortex`",
    );
    refused(
        agent.set_lesion("no_dopamine", &1.0.into()),
        "on must be true or false, got a number",
    );
    refused(
        agent.set_lesion("no_dopamine", &JsValue::UNDEFINED),
        "got a undefined",
    );
    refused(agent.lesion(""), "unknown lesion");
    for k in [4.0, -1.0, 0.5, f64::NAN, f64::INFINITY] {
        refused(agent.control_function(k), "control function");
    }
    for n in [0.0, 5.0, 1.5, f64::NAN] {
        refused(agent.set_action_count(n), "action count");
    }
    assert!(agent.core() == &before, "a refused call changed the agent");

    for name in Agent::lesion_names() {
        assert!(!agent.lesion(&name).unwrap());
        agent.set_lesion(&name, &true.into()).unwrap();
        assert!(agent.lesion(&name).unwrap());
        agent.set_lesion(&name, &false.into()).unwrap();
    }
    assert_eq!(agent.control_function(3.0).unwrap().len(), 48);
}

#[wasm_bindgen_test]
fn bad_sessions_and_runs_are_refused_without_change() {
    refused(
        Session::new("rule-swap", 0.0, 1.0),
        "unknown task `rule-swap`",
    );
    refused(
        Session::new("rule-switch", 2.0, 1.0),
        "must be 0 for rule-switch",
    );
    for d in [21.0, -1.0, 0.5, f64::NAN] {
        refused(Session::new("delayed-reward", d, 1.0), "delay");
    }
    assert_eq!(
        Session::new("delayed-reward", 20.0, 1.0)
            .unwrap()
            .task_name(),
        "delayed-reward"
    );

    let mut agent = trained_agent();
    let mut session = Session::new("rule-switch", 0.0, 3.0).unwrap();
    session.run(&mut agent, 30.0).unwrap();
    let (before, outcomes) = (agent.core().clone(), session.outcomes());
    for n in [f64::NAN, -1.0, 2.5, 1e9, f64::INFINITY] {
        refused(session.run(&mut agent, n), "steps");
    }
    assert!(agent.core() == &before && session.outcomes() == outcomes);
}

#[wasm_bindgen_test]
fn every_task_runs_and_rule_switch_learns() {
    let names = Session::task_names();
    assert_eq!(names.len(), 12);
    for name in &names {
        let delayed = name == "delayed-reward" || name == "delayed-response";
        let delay = if delayed { 2.0 } else { 0.0 };
        let mut agent = Agent::new(1.0).unwrap();
        let mut session = Session::new(name, delay, 1.0).unwrap();
        let mut steps = 0;
        while !session.done() {
            steps += session.run(&mut agent, 500.0).unwrap();
        }
        assert_eq!(agent.steps(), steps, "{name}");
        assert_eq!(
            session.run(&mut agent, 10.0).unwrap(),
            0,
            "a finished task takes no steps"
        );
        assert_eq!(
            session.block_starts().len() as u32,
            session.blocks(),
            "{name}"
        );
    }
    let mut agent = Agent::new(1.0).unwrap();
    let mut session = Session::new("rule-switch", 0.0, 1.0).unwrap();
    session.run(&mut agent, 200.0).unwrap();
    let accuracy = session.accuracy().unwrap();
    assert!(
        accuracy >= 0.8,
        "accuracy over the last 20 trials is {accuracy}"
    );
    assert_eq!(session.dopamine_history().len(), 200);
}

#[wasm_bindgen_test]
fn manual_switch_ends_the_block() {
    let mut agent = Agent::new(1.0).unwrap();
    let mut session = Session::new("rule-switch", 0.0, 1.0).unwrap();
    session.run(&mut agent, 10.0).unwrap();
    session.request_switch();
    assert!(!session.switch_pending());
    assert_eq!((session.block(), session.rule()), (1, 1));
    session.run(&mut agent, 1.0).unwrap();
    assert_eq!(session.block_starts(), vec![0, 10]);
    assert_eq!(session.block_rules(), vec![0, 1]);

    // Mid-trial (during the blank steps of a delay) the switch waits.
    let mut session = Session::new("delayed-reward", 3.0, 1.0).unwrap();
    session.run(&mut agent, 2.0).unwrap();
    session.request_switch();
    assert!(session.switch_pending());
    session.run(&mut agent, 3.0).unwrap();
    assert!(!session.switch_pending());
    assert_eq!(session.block(), 1);
}

#[wasm_bindgen_test]
fn config_round_trips_and_bad_configs_are_refused() {
    let agent = Agent::new(5.0).unwrap();
    let json = agent.config_json();
    let again = Agent::with_config(&json, 5.0).unwrap();
    assert!(again.core() == agent.core());
    refused(Agent::with_config("{", 5.0), "config");
    refused(
        Agent::with_config(&json.replace("\"gamma\":0.95", "\"gamma\":1.5"), 5.0),
        "gamma",
    );
    refused(
        Agent::with_config(&json.replace("\"gamma\":0.95,", ""), 5.0),
        "missing field `gamma`",
    );
}

/// The observation of step `t` of a fixed input pattern (no task needed).
fn pattern(t: u32) -> JsValue {
    let mut v = [0.0f32; 8];
    v[(t % 8) as usize] = 1.0;
    v[((t / 3) % 8) as usize] = -0.5;
    obs(&v)
}

#[wasm_bindgen_test]
fn a_restored_snapshot_continues_bit_for_bit() {
    let mut agent = trained_agent();
    let bytes = agent.snapshot();
    assert_eq!(bytes.len(), DefaultAgent::SNAPSHOT_LEN);
    let mut copy = Agent::restore(&Uint8Array::from(&bytes[..]).into()).unwrap();
    assert!(copy.core() == agent.core());
    assert_eq!(copy.steps(), 150);
    let mut reward = 0.0;
    for t in 0..300 {
        let (a, b) = (
            agent.step(&pattern(t), reward).unwrap(),
            copy.step(&pattern(t), reward).unwrap(),
        );
        assert_eq!(a, b, "action of step {t} after the restore");
        assert_eq!(
            agent.dopamine().to_bits(),
            copy.dopamine().to_bits(),
            "dopamine of step {t} after the restore"
        );
        reward = if a == t % 4 { 1.0 } else { 0.0 };
    }
    assert!(copy.core() == agent.core());
    assert_eq!(copy.snapshot(), agent.snapshot());
}

#[wasm_bindgen_test]
fn corrupted_or_truncated_snapshots_are_refused_without_change() {
    let agent = trained_agent();
    let before = agent.core().clone();
    let good = agent.snapshot();
    let n = good.len();
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = good.clone();
        f(&mut b);
        JsValue::from(Uint8Array::from(&b[..]))
    };
    let cases: Vec<(JsValue, &str)> = vec![
        (with(&|b| b.truncate(n - 1)), "truncated"),
        (with(&|b| b.truncate(10)), "truncated"),
        (with(&|b| b.clear()), "truncated"),
        (with(&|b| b.push(0)), "excess"),
        (with(&|b| b[100] ^= 0x10), "checksum"),
        (with(&|b| b[n - 1] ^= 0x01), "checksum"),
        (with(&|b| b[0] = b'X'), "magic"),
        (with(&|b| b[4] = b[4].wrapping_sub(1)), "version"),
        (
            Array::of1(&1.0.into()).into(),
            "snapshot must be a Uint8Array, got a array",
        ),
        (
            Float32Array::from(&[1.0f32; 4][..]).into(),
            "snapshot must be a Uint8Array",
        ),
        (JsValue::from("TCBG"), "got a string"),
        (JsValue::UNDEFINED, "got a undefined"),
        (JsValue::NULL, "got a null"),
    ];
    for (bad, needle) in cases {
        refused(Agent::restore(&bad), needle);
    }
    // Every single corrupted byte is caught.
    for i in (0..n).step_by(97) {
        assert!(
            Agent::restore(&with(&|b| b[i] ^= 0xA5)).is_err(),
            "byte {i} corrupted"
        );
    }
    assert!(
        agent.core() == &before,
        "a refused restore changed the agent"
    );
    assert_eq!(agent.snapshot(), good);
    assert!(Agent::restore(&with(&|_| ())).unwrap().core() == &before);
}

/// Steps of the reference trace before [`snapshot_for_the_host`]'s snapshot.
const SNAPSHOT_AT: u32 = 1000;
/// Steps of the continuation it hashes.
const CONTINUATION: u32 = 500;
// Within the reference trace, which xtask runs on the host.
const _: () = assert!(SNAPSHOT_AT + CONTINUATION <= TRACE_STEPS);

/// The reference trace's agent snapshotted just before step `at` (after the
/// trial mark of that step), and the hash of the `steps` steps from there
/// (actions and dopamine, as the trace hash). `cargo xtask test` does the same
/// on the host with the agent replaced by the restored bytes.
fn reference_continuation(at: u32, steps: u32) -> (Vec<u8>, u32) {
    let mut bytes = vec![0u8; DefaultAgent::SNAPSHOT_LEN];
    let h = tcbg::snapshot::trace_continuation::<Fx>(at, steps, &mut bytes, None);
    (bytes, h)
}

/// Standard base64 with padding (RFC 4648).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[wasm_bindgen_test]
fn snapshot_for_the_host() {
    let (bytes, hash) = reference_continuation(SNAPSHOT_AT, CONTINUATION);
    // Restored here, the snapshot continues the same way.
    let mut h = TraceHash::new();
    let mut restored = DefaultAgent::restore(&bytes).unwrap();
    let mut t = 0;
    trace_with::<Fx>(SNAPSHOT_AT + CONTINUATION, |agent, obs, reward| {
        if t == SNAPSHOT_AT {
            core::mem::swap(agent, &mut restored);
        }
        let a = agent.step(obs, reward);
        if t >= SNAPSHOT_AT {
            h.add(a as u32);
            h.add(agent.dopamine().hash_bits());
        }
        t += 1;
        a
    });
    assert_eq!(h.0, hash, "the restored agent continues differently");
    assert_eq!(base64(b"tcbg!"), "dGNiZyE=");
    console_log!("snapshot {}", base64(&bytes));
    console_log!("continuation {hash:08x}");
}

/// The page's per-trial views: a control function per finished trial (255
/// under `no_thalamus`), the last trial's correct action consistent with its
/// outcome, and the block position the page paces by.
#[wasm_bindgen_test]
fn trial_views_follow_the_outcomes() {
    for (task, delay) in [
        ("rule-switch", 0.0),
        ("delayed-reward", 3.0),
        ("multi-rule-switch-3x3x3", 0.0),
    ] {
        let mut agent = Agent::new(3.0).unwrap();
        let mut session = Session::new(task, delay, 3.0).unwrap();
        assert!(session.last_trial().is_empty());
        for _ in 0..40 {
            session.run(&mut agent, 7.0).unwrap();
            let outcomes = session.outcomes();
            assert_eq!(session.trial_contexts().len(), outcomes.len(), "{task}");
            assert!(session.trial_contexts().iter().all(|&c| c < 4), "{task}");
            if let [_, action, correct, reward, context] = session.last_trial()[..] {
                let ok = outcomes[outcomes.len() - 1] & 1 == 1;
                assert_eq!(action == correct, ok, "{task}: {:?}", session.last_trial());
                assert_eq!(reward == 1, ok, "{task}");
                assert!(context < 4);
            }
            assert!(session.trial_in_block() < session.block_length(), "{task}");
        }
    }
    let mut agent = Agent::new(3.0).unwrap();
    agent.set_lesion("no_thalamus", &JsValue::TRUE).unwrap();
    let mut session = Session::new("rule-switch", 0.0, 3.0).unwrap();
    session.run(&mut agent, 20.0).unwrap();
    assert_eq!(session.trial_contexts(), vec![255u8; 20]);
    assert!(agent.recognition_memory(4.0).is_err());
    assert_eq!(agent.recognition_memory(0.0).unwrap().len(), 48);
}
