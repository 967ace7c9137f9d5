//! The host's side of `cargo xtask bench` (docs/PERFORMANCE.md explains the
//! method): the agent's `size_of`, the MACs per step as the core counts them
//! ([`tcbg::cost`]), steps per second of the reference trace loop (best
//! window of [`WINDOW_S`]) and the same timing in JavaScript for the wasm
//! build, and the bench's [`Report`]: one printed table with the project's
//! targets (PASS / MISS) and its JSON, written part by part. The command
//! keeps what runs elsewhere: the firmware in QEMU, node and Chromium.

use std::fmt::Write as _;
use std::time::Instant;

use serde_json::{json, Value};
use tcbg::snapshot::trace;
use tcbg::{cost, Agent, Config, Fx, DEFAULT_A, DEFAULT_C, DEFAULT_K, DEFAULT_S};

/// Steps per call of the trace loop when timing (host and wasm alike).
pub const CHUNK: u32 = 5_000;
/// Timing windows: the rate reported is the best window's, so a burst of
/// other work on a shared machine does not count against the code.
pub const WINDOW_S: f64 = 0.25;

/// Rounded to `d` decimals, for the JSON.
pub fn round(x: f64, d: i32) -> f64 {
    let p = 10f64.powi(d);
    (x * p).round() / p
}

/// `12,345` for a count.
pub fn group(v: f64) -> String {
    let digits = (v.round() as i64).unsigned_abs().to_string();
    let groups: Vec<&[u8]> = digits.as_bytes().rchunks(3).rev().collect();
    let sign = if v.round() < 0.0 { "-" } else { "" };
    sign.to_string() + &String::from_utf8_lossy(&groups.join(&b","[..]))
}

/// Instructions per step: (board key, number type, count).
pub type Counts = Vec<(&'static str, &'static str, f64)>;

/// Steps per second, fixed and f32, and the hashes of one chunk.
pub struct Speed {
    pub fixed: f64,
    pub f32: f64,
    pub hash_fixed: String,
    pub hash_f32: String,
}

/// The bench's printed table (`t`) and its JSON (`v`), written part by part.
pub struct Report {
    pub t: String,
    pub v: Value,
}

impl Report {
    /// The table's title; `steps` agent steps are counted on each board.
    pub fn new(steps: u32) -> Report {
        Report {
            t: String::from("\n==== tcbg bench ====\n"),
            v: json!({ "steps": steps, "agent_bytes": {}, "agent_configs": {} }),
        }
    }

    /// `size_of` the agent for three configs; the default's fixed-point bytes.
    pub fn agent_state(&mut self) -> f64 {
        fn sizes<const S: usize, const C: usize, const K: usize, const A: usize>() -> [usize; 6] {
            let f = std::mem::size_of::<Agent<Fx, S, C, K, A>>();
            [S, C, K, A, f, std::mem::size_of::<Agent<f32, S, C, K, A>>()]
        }
        let agents = [
            (
                "default",
                sizes::<DEFAULT_S, DEFAULT_C, DEFAULT_K, DEFAULT_A>(),
            ),
            ("tiny", sizes::<4, 16, 2, 2>()),
            ("large", sizes::<16, 128, 8, 8>()),
        ];
        self.t +=
            "\nAgent state (size_of, bytes)\n  config                                fixed      f32\n";
        for (name, [s, c, k, a, fixed, f32]) in agents {
            let label = format!("{name} (S={s} C={c} K={k} A={a})");
            eprintln!("{label}: {fixed} B fixed, {f32} B f32");
            let _ = writeln!(self.t, "  {label:<34} {fixed:>8} {f32:>8}");
            self.v["agent_bytes"][name] = json!(fixed);
            self.v["agent_bytes"][format!("{name}_f32")] = json!(f32);
            self.v["agent_configs"][name] = json!({ "S": s, "C": c, "K": k, "A": a });
        }
        agents[0].1[4] as f64
    }

    /// The MACs of a step as the core counts them, phase by phase; the total.
    pub fn multiply_accumulates(&mut self, steps: u32) -> f64 {
        let t = &mut self.t;
        let config = Config::default();
        let act = cost::reference_activity(steps);
        let (s, c, k, a) = (DEFAULT_S, DEFAULT_C, DEFAULT_K, DEFAULT_A);
        let phases = cost::phases(s, c, k, a, config.winners > 0.0, &act);
        let per_step = |n: u64| n as f64 / act.steps as f64;
        let macs = per_step(phases.iter().map(|p| p.macs).sum());
        let dense = per_step(phases.iter().filter(|p| p.dense).map(|p| p.macs).sum());
        eprintln!("MACs per step: {macs:.1} ({dense:.0} dense)");
        let _ = writeln!(
            t,
            "\nMultiply-accumulates per step (default config, S={s} C={c} K={k} A={a}, GPR at its steady state;\n\
             sparse terms averaged over the first {} steps of the reference trace on the host)",
            act.steps
        );
        for p in &phases {
            let _ = writeln!(
                t,
                "  {:<42} {:<34} {:>8.1}",
                p.name,
                p.formula,
                per_step(p.macs)
            );
        }
        let _ = writeln!(t, "  {:<42} {:<34} {:>8.1}", "total", "", macs);
        let _ = writeln!(
            t,
            "  (dense {dense:.0}, sparse {:.1}; learning on {:.0}% of steps, {:.1} traces nonzero, \
             {:.1} cortical units active)",
            macs - dense,
            100.0 * per_step(act.learning_steps),
            per_step(act.elig_nonzero),
            per_step(act.active_units)
        );
        let phases_json: Vec<Value> = phases
            .iter()
            .map(|p| {
                json!({ "phase": p.name, "formula": p.formula, "macs": round(per_step(p.macs), 1),
                        "measured_average": !p.dense })
            })
            .collect();
        self.v["macs_per_step"] = json!({ "total": round(macs, 1), "dense": dense,
            "averaged_over_steps": act.steps, "phases": phases_json });
        macs
    }

    /// Steps per second of the reference trace loop on the host.
    pub fn host_speed(&mut self, seconds: f64, cpu: &str) -> Speed {
        if cfg!(debug_assertions) {
            eprintln!("warning: a dev build (--dev): host timings are of unoptimised code");
        }
        let (fixed, hash_fixed) = time_trace::<Fx>(seconds);
        eprintln!("host fixed: {fixed:.0} steps/s");
        let (f32, hash_f32) = time_trace::<f32>(seconds);
        eprintln!("host f32: {f32:.0} steps/s");
        self.v["host"] = json!({
            "cpu": cpu, "fixed_steps_per_s": fixed.round(), "f32_steps_per_s": f32.round(),
            "fixed_over_f32": round(fixed / f32, 3), "trace_fixed": hash_fixed,
            "trace_f32": hash_f32, "chunk_steps": CHUNK,
        });
        Speed {
            fixed,
            f32,
            hash_fixed,
            hash_f32,
        }
    }

    /// The steps-per-second table of the host (`h`) and the wasm runtimes
    /// (key, name, speed); the slower runtime's wasm / native ratio.
    pub fn speed_table(
        &mut self,
        h: &Speed,
        speeds: &[(&'static str, &'static str, Speed)],
        cpu: &str,
        seconds: f64,
    ) -> Option<(f64, &'static str)> {
        let (t, v) = (&mut self.t, &mut self.v);
        let mut wasm: Option<(f64, &'static str)> = None;
        let _ = writeln!(
            t,
            "\nSteps per second (reference trace loop, one thread, best {WINDOW_S} s window of {:.0} s each)",
            seconds
        );
        let _ = writeln!(
            t,
            "  {:<26} {:>12} {:>12} {:>13}",
            "", "fixed", "f32", "fixed / f32"
        );
        let row = |t: &mut String, name: &str, sp: &Speed| {
            let (f, x, r) = (group(sp.fixed), group(sp.f32), sp.fixed / sp.f32);
            let _ = writeln!(t, "  {name:<26} {f:>12} {x:>12} {r:>13.2}");
        };
        let host = cpu.chars().take(24).collect::<String>();
        row(t, &format!("host ({host})"), h);
        for (key, name, sp) in speeds {
            let (rf, r32) = (sp.fixed / h.fixed, sp.f32 / h.f32);
            row(t, name, sp);
            let _ = writeln!(t, "  {:<26} {rf:>12.2} {r32:>12.2}   (wasm / native)", "");
            v["wasm"][key]["fixed_over_native"] = json!(round(rf, 3));
            v["wasm"][key]["f32_over_native"] = json!(round(r32, 3));
            if wasm.is_none_or(|(w, _)| rf < w) {
                wasm = Some((rf, *key));
            }
        }
        if let Some((w, runtime)) = wasm {
            v["wasm_over_native"] = json!(round(w, 3));
            v["wasm_over_native_runtime"] = json!(runtime);
        }
        wasm
    }

    /// The project's targets, PASS or MISS, from the instruction `counts`,
    /// the MACs per step, the agent's bytes and the wasm / native ratio.
    pub fn targets(&mut self, counts: &Counts, macs: f64, bytes: f64, wasm: Option<(f64, &str)>) {
        let count =
            |key: &str, n: &str| counts.iter().find(|c| c.0 == key && c.1 == n).map(|c| c.2);
        let (m0f, m0s) = (count("m0", "fixed"), count("m0", "f32"));
        let (r0, m4f, size) = (
            m0f.zip(m0s).map(|(f, s)| s / f),
            count("m4", "fixed").map(|c| c / macs),
            Some(bytes),
        );
        let x = |v: Option<f64>, unit: &str, d: usize| v.map(|v| format!("{v:.d$}{unit}"));
        let slower = |(w, n)| format!("{w:.2} (slower of node and Chromium: {n})");
        // What, limit (its text is the bound), the value and as shown.
        let targets = [
            (
                "Cortex-M0 instructions per step, fixed, learning on",
                "<= 25,000",
                m0f,
                m0f.map(group),
            ),
            (
                "M0 f32 (soft-float) / fixed instructions per step",
                ">= 5x",
                r0,
                x(r0, "x", 1),
            ),
            (
                "Cortex-M4F instructions per MAC, fixed",
                "<= 3",
                m4f,
                x(m4f, "", 2),
            ),
            (
                "agent state, default config (fixed)",
                "<= 6144 B",
                size,
                x(size, " B", 0),
            ),
            (
                "WebAssembly / native steps per second",
                ">= 0.5",
                wasm.map(|w| w.0),
                wasm.map(slower),
            ),
        ];
        let _ = writeln!(self.t, "\nTargets (default config)");
        let mut tj = Vec::new();
        for (what, limit, value, shown) in targets {
            let bound: f64 = limit[3..]
                .trim_end_matches(['x', 'B', ' '])
                .replace(',', "")
                .parse()
                .unwrap();
            let pass = value.map(|x| {
                if limit.starts_with("<=") {
                    x <= bound
                } else {
                    x >= bound
                }
            });
            let verdict = pass.map_or("-", |p| if p { "PASS" } else { "MISS" });
            let shown = shown.unwrap_or("not measured".into());
            let _ = writeln!(self.t, "  {verdict:<5} {what:<54} {limit:<10} {shown}");
            tj.push(json!({ "what": what, "limit": limit, "value": value, "pass": pass }));
        }
        self.v["targets"] = json!(tj);
    }

    /// The table and the JSON, closed with the machine (`cpu`, its cores)
    /// and the bench's `elapsed` seconds.
    pub fn finish(self, cpu: &str, elapsed: f64) -> (String, Value) {
        let Report { mut t, mut v } = self;
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let _ = writeln!(t, "\nmachine: {cpu}; bench took {elapsed:.0} s");
        v["machine"] = json!({ "cpu": cpu, "cores": cores });
        v["elapsed_s"] = json!(elapsed);
        (t, v)
    }
}

/// The CPU's model name (`/proc/cpuinfo`), or the architecture.
pub fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info.lines().find_map(|l| {
        Some(
            l.strip_prefix("model name")?
                .split_once(':')?
                .1
                .trim()
                .to_string(),
        )
    });
    model.unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// Calls of the reference trace loop `trace::<N>(CHUNK)` for `seconds`
/// (after one warm-up call), in windows of at least [`WINDOW_S`]: the best
/// window's steps per second, and the chunk's hash.
pub fn time_trace<N: tcbg::Kernels>(seconds: f64) -> (f64, String) {
    let hash = std::hint::black_box(trace::<N>(std::hint::black_box(CHUNK)));
    let start = Instant::now();
    let mut best = 0.0f64;
    while start.elapsed().as_secs_f64() < seconds {
        let (w, mut steps) = (Instant::now(), 0u64);
        while w.elapsed().as_secs_f64() < WINDOW_S {
            std::hint::black_box(trace::<N>(std::hint::black_box(CHUNK)));
            steps += CHUNK as u64;
        }
        best = best.max(steps as f64 / w.elapsed().as_secs_f64());
    }
    (best, format!("{hash:08x}"))
}

/// The same timing in JavaScript, shared by node and Chromium: `m` is the
/// wasm-bindgen module (initialised), the result a JSON string.
pub fn js_timing(seconds: f64) -> String {
    format!(
        r#"
const timing = (m) => {{
  const out = {{}};
  for (const number of ["fixed", "f32"]) {{
    const hash = m.bench_steps({CHUNK}, number);
    let best = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < {ms}) {{
      const w = performance.now();
      let steps = 0;
      let t = w;
      while (t - w < {window}) {{
        m.bench_steps({CHUNK}, number);
        steps += {CHUNK};
        t = performance.now();
      }}
      best = Math.max(best, steps / ((t - w) / 1000));
    }}
    out[number] = {{ steps_per_s: best, hash }};
  }}
  return JSON.stringify(out);
}};
"#,
        ms = seconds * 1000.0,
        window = WINDOW_S * 1000.0
    )
}

/// What [`js_timing`] returned in `runtime`, its trace hashes checked
/// against the host's.
pub fn parse_speed(text: &str, runtime: &str) -> Result<Speed, String> {
    let v: Value =
        serde_json::from_str(text.trim()).map_err(|e| format!("{runtime}: {e}: {text}"))?;
    let rate = |n: &str| {
        v[n]["steps_per_s"]
            .as_f64()
            .ok_or(format!("{runtime}: no {n} rate in {text}"))
    };
    let hash = |n: &str| v[n]["hash"].as_str().unwrap_or_default().to_string();
    let s = Speed {
        fixed: rate("fixed")?,
        f32: rate("f32")?,
        hash_fixed: hash("fixed"),
        hash_f32: hash("f32"),
    };
    let (hf, h32) = (
        format!("{:08x}", trace::<Fx>(CHUNK)),
        format!("{:08x}", trace::<f32>(CHUNK)),
    );
    if s.hash_fixed != hf || s.hash_f32 != h32 {
        let (a, b) = (&s.hash_fixed, &s.hash_f32);
        return Err(format!(
            "{runtime}: trace hashes {a} / {b} differ from the host's {hf} / {h32}"
        ));
    }
    eprintln!(
        "{runtime}: fixed {:.0} steps/s, f32 {:.0} steps/s",
        s.fixed, s.f32
    );
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_group_by_thousands() {
        assert_eq!(
            (group(73183.4), group(999.0), group(1e6), group(-1234.0)),
            (
                "73,183".into(),
                "999".into(),
                "1,000,000".into(),
                "-1,234".into()
            )
        );
        assert_eq!((round(1.23456, 2), round(2.5, 0)), (1.23, 3.0));
    }
}
