// The demo page: controls, the run loop and the readouts around the wasm
// `Agent` and `Session` (wasm/src). URL parameters make a view reproducible:
// ?task=rule-switch&seed=1&speed=2&lesion=no_traces,no_meta&delay=5&autorun=1

import init, { Agent, Session, trace, trace_steps } from "./pkg/tcbg_wasm.js";
import { TASKS, LESIONS } from "./tasks.js";
import {
  CONTEXT_COLOURS, cortexLayout, drawBasalGanglia, drawCortex, drawCurve, drawDopamine, drawThalamus,
} from "./views.js";

/** Steps per animation frame the speed slider offers (fractions run a step every few frames). */
const SPEEDS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200];
const DEFAULTS = { task: "rule-switch", seed: 1, speed: 2, delay: 2 };
/** The export file's format; its version changes when replay semantics or fields do
 * (2: the agent's core snapshot as base64 in `snapshot`, checked after the replay). */
const FORMAT = "tcbg-demo-replay";
const VERSION = 2;
/** Most steps one `Session.run` call may take. */
const RUN_CHUNK = 100000;

const $ = (id) => document.getElementById(id);
const ui = {
  task: $("task"), delay: $("delay"), delayLabel: $("delay-label"), seed: $("seed"), speed: $("speed"),
  speedValue: $("speed-value"), run: $("run"), step: $("step"), reset: $("reset"), switch: $("switch"),
  export: $("export"), import: $("import"), importFile: $("import-file"), lesions: $("lesions"),
  status: $("status"), watch: $("watch"), trace: $("trace"),
  steps: $("r-steps"), trials: $("r-trials"), block: $("r-block"), rule: $("r-rule"), accuracy: $("r-accuracy"),
  context: $("r-context"), contextSwatch: $("r-context-swatch"), dopamine: $("r-dopamine"), value: $("r-value"),
  canvases: { curve: $("curve"), cortex: $("cortex"), thalamus: $("thalamus"), bg: $("bg"), dopamine: $("dopamine") },
};

/** The brain on its task, and what export needs to replay it. */
const state = {
  agent: null,
  session: null,
  /** What the brain was built from: { task, delay, seed, config }. */
  origin: null,
  /** Lesion changes and manual switches, each at the agent's step count: { step, lesion, on } or { step, switch }. */
  events: [],
  running: false,
  /** Fractional steps owed to the next frame at speeds below 1. */
  owed: 0,
  dirty: true,
};

function status(text, error = false) {
  ui.status.textContent = text;
  ui.status.classList.toggle("error", error);
}

/** Runs `f`, reporting a thrown error in the status line instead of the console. */
function guarded(f) {
  return (...args) => {
    try {
      return f(...args);
    } catch (e) {
      status(e instanceof Error ? e.message : String(e), true);
    }
  };
}

function speed() {
  return SPEEDS[Number(ui.speed.value)];
}

function nearestSpeedIndex(v) {
  let best = 0;
  SPEEDS.forEach((s, i) => {
    if (Math.abs(Math.log(s / v)) < Math.abs(Math.log(SPEEDS[best] / v))) best = i;
  });
  return best;
}

function checkedLesions() {
  return [...ui.lesions.querySelectorAll("input")].filter((c) => c.checked).map((c) => c.name);
}

/** Builds the controls that come from the wasm module: tasks and lesions. */
function buildControls() {
  for (const name of Session.task_names()) ui.task.add(new Option(name, name));
  for (const name of Agent.lesion_names()) {
    const label = document.createElement("label");
    label.title = LESIONS[name] ?? "";
    const box = Object.assign(document.createElement("input"), { type: "checkbox", name });
    const text = Object.assign(document.createElement("span"), { textContent: name });
    label.append(box, text);
    ui.lesions.append(label);
  }
}

/** Reads the URL parameters into the controls; unknown values fall back to the defaults, with a note. */
function applyUrl() {
  const p = new URLSearchParams(location.search);
  const notes = [];
  const task = p.get("task") ?? DEFAULTS.task;
  if (Session.task_names().includes(task)) ui.task.value = task;
  else notes.push(`unknown task "${task}"`);
  if (p.has("delay")) {
    if ([...ui.delay.options].some((o) => o.value === p.get("delay"))) ui.delay.value = p.get("delay");
    else notes.push(`delay must be one of ${[...ui.delay.options].map((o) => o.value).join(", ")}`);
  }
  const seed = Number(p.get("seed") ?? DEFAULTS.seed);
  if (Number.isSafeInteger(seed) && seed >= 0) ui.seed.value = String(seed);
  else notes.push(`seed must be a whole number ≥ 0`);
  const sp = Number(p.get("speed") ?? DEFAULTS.speed);
  ui.speed.value = String(nearestSpeedIndex(sp > 0 && Number.isFinite(sp) ? sp : DEFAULTS.speed));
  const lesions = (p.get("lesion") ?? "").split(",").filter((s) => s && s !== "none");
  for (const name of lesions) {
    const box = ui.lesions.querySelector(`input[name="${CSS.escape(name)}"]`);
    if (box) box.checked = true;
    else notes.push(`unknown lesion "${name}"`);
  }
  if (notes.length) status(`Ignored in the URL: ${notes.join("; ")}.`, true);
  return p.get("autorun") !== "0";
}

/** Whether a task takes a delay (the blank steps of delayed-reward and delayed-response). */
function hasDelay(task) {
  return task === "delayed-reward" || task === "delayed-response";
}

/** Writes the controls into the URL, so the address reproduces the view. */
function updateUrl() {
  const p = new URLSearchParams();
  p.set("task", ui.task.value);
  if (hasDelay(ui.task.value)) p.set("delay", ui.delay.value);
  p.set("seed", ui.seed.value);
  p.set("speed", String(speed()));
  const lesions = checkedLesions();
  if (lesions.length) p.set("lesion", lesions.join(","));
  history.replaceState(null, "", `?${p}`);
}

/** Puts a fully built brain in place of the current one (which is freed). */
function install({ agent, session, origin, events }) {
  state.agent?.free();
  state.session?.free();
  Object.assign(state, { agent, session, origin, events, owed: 0, dirty: true });
  ui.watch.textContent = TASKS[origin.task]?.watch ?? "";
  ui.delayLabel.hidden = !hasDelay(origin.task);
}

/** Resets to a new agent and task from the controls (lesions ticked are on from step 0). */
function reset() {
  const task = ui.task.value;
  const delay = hasDelay(task) ? Number(ui.delay.value) : 0;
  const seed = Number(ui.seed.value);
  const agent = new Agent(seed);
  let session;
  try {
    session = new Session(task, delay, seed);
  } catch (e) {
    agent.free();
    throw e;
  }
  const events = checkedLesions().map((lesion) => ({ step: 0, lesion, on: true }));
  for (const e of events) agent.set_lesion(e.lesion, true);
  install({ agent, session, origin: { task, delay, seed, config: JSON.parse(agent.config_json()) }, events });
  updateUrl();
  status(`New agent, seed ${seed}, on ${task}${hasDelay(task) ? ` (delay ${delay})` : ""}.`);
}

function setRunning(on) {
  state.running = on && !state.session.done();
  ui.run.textContent = state.running ? "Pause" : "Run";
  ui.run.setAttribute("aria-pressed", String(state.running));
}

/** Runs `n` whole steps; pauses with a note when the task ends. */
function advance(n) {
  if (n > 0) state.session.run(state.agent, n);
  state.dirty = true;
  if (state.session.done()) {
    setRunning(false);
    status(`Task finished after ${state.agent.steps()} steps. Reset, or pick another task or seed.`);
  }
}

function frame() {
  if (state.running) {
    state.owed += speed();
    const n = Math.floor(state.owed);
    state.owed -= n;
    guarded(advance)(n);
  }
  if (state.dirty) {
    guarded(draw)();
    state.dirty = false;
  }
  requestAnimationFrame(frame);
}

function fmt(v) {
  return (v >= 0 ? "+" : "") + v.toFixed(3);
}

/** Readouts and views. */
function draw() {
  const { agent, session } = state;
  const task = TASKS[session.task_name()];
  const active = agent.active_context();
  const acc = session.accuracy();
  ui.steps.textContent = String(agent.steps());
  ui.trials.textContent = String(session.trials());
  ui.block.textContent = `${Math.min(session.block() + 1, session.blocks())} of ${session.blocks()}`;
  ui.rule.textContent = task.rule(session.rule());
  ui.accuracy.textContent = acc === undefined ? "–" : acc.toFixed(2);
  ui.context.textContent = String(active);
  ui.contextSwatch.style.background = CONTEXT_COLOURS[active];
  ui.dopamine.textContent = fmt(agent.dopamine());
  ui.value.textContent = fmt(agent.value());
  ui.switch.disabled = session.done();

  const masks = [0, 1, 2, 3].map((k) => agent.control_function(k));
  const layout = cortexLayout(masks);
  const c = ui.canvases;
  drawCurve(c.curve, {
    outcomes: session.outcomes(), starts: session.block_starts(), rules: session.block_rules(),
    planned: session.planned_trials(), ruleLabel: task.rule,
  });
  drawCortex(c.cortex, { rates: agent.cortical_rates(), gains: agent.cortical_gains(), layout, active });
  drawThalamus(c.thalamus, { activity: agent.thalamic_activity(), masks, layout, active });
  drawBasalGanglia(c.bg, {
    actions: {
      salience: agent.action_salience().slice(0, session.actions()),
      gpi: agent.action_gpi().slice(0, session.actions()),
      selected: agent.selected_action(),
    },
    contexts: { salience: agent.context_salience(), gpi: agent.context_gpi(), selected: active },
  });
  drawDopamine(c.dopamine, { dopamine: session.dopamine_history(), value: session.value_history(), steps: agent.steps() });
}

function toggleLesion(box) {
  const { agent } = state;
  agent.set_lesion(box.name, box.checked);
  state.events.push({ step: agent.steps(), lesion: box.name, on: box.checked });
  state.dirty = true;
  updateUrl();
  status(`${box.name} ${box.checked ? "on" : "off"} from step ${agent.steps()}.`);
}

function requestSwitch() {
  const { agent, session } = state;
  session.request_switch();
  state.events.push({ step: agent.steps(), switch: true });
  state.dirty = true;
  status(session.switch_pending()
    ? "Switch requested: the block ends when the current trial does."
    : `Switched by hand at step ${agent.steps()}: block ${session.block() + 1} begins.`);
}

/** Bytes as standard base64. */
function toBase64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Saves config, seed, task, steps and events as JSON (replayed on import), and
 * the agent's core snapshot (checked against the replayed brain on import). */
function exportBrain() {
  const { agent, origin, events } = state;
  const file = {
    format: FORMAT,
    version: VERSION,
    note: "The config, seed, task and every step and event taken, which import replays (restoring the task's " +
      "progress too), and `snapshot`, the agent's state in the core's snapshot format (base64): the replayed " +
      "brain must equal it bit for bit.",
    ...origin,
    steps: agent.steps(),
    events,
    snapshot: toBase64(agent.snapshot()),
  };
  const blob = new Blob([JSON.stringify(file, null, 2)], { type: "application/json" });
  const a = Object.assign(document.createElement("a"), {
    href: URL.createObjectURL(blob),
    download: `tcbg-${origin.task}-seed${origin.seed}-step${file.steps}.json`,
  });
  a.click();
  // Released once the browser has started the download.
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  status(`Exported ${file.steps} steps and ${events.length} events (replayed on import).`);
}

/** Builds the brain a file describes by replaying it; throws on anything malformed. */
function replay(file) {
  if (file?.format !== FORMAT || file.version !== VERSION) {
    throw new Error(`not a ${FORMAT} file of version ${VERSION}`);
  }
  const { task, delay, seed, config, steps, events, snapshot } = file;
  if (!Number.isSafeInteger(steps) || steps < 0) throw new Error("steps must be a whole number ≥ 0");
  if (!Array.isArray(events)) throw new Error("events must be a list");
  if (typeof snapshot !== "string") throw new Error("snapshot must be a base64 string");
  const agent = Agent.with_config(JSON.stringify(config), seed);
  let session;
  try {
    session = new Session(task, delay, seed);
    const runTo = (target) => {
      while (agent.steps() < target) {
        if (session.run(agent, Math.min(target - agent.steps(), RUN_CHUNK)) === 0) {
          throw new Error(`the task ends at step ${agent.steps()}, before step ${target}`);
        }
      }
    };
    for (const e of events) {
      if (!Number.isSafeInteger(e?.step) || e.step < agent.steps() || e.step > steps) {
        throw new Error(`event ${JSON.stringify(e)}: steps must rise, up to ${steps}`);
      }
      runTo(e.step);
      if (e.switch === true) session.request_switch();
      else agent.set_lesion(e.lesion, e.on);
    }
    runTo(steps);
    if (toBase64(agent.snapshot()) !== snapshot) {
      throw new Error("the replayed brain differs from its snapshot");
    }
  } catch (e) {
    agent.free();
    session?.free();
    throw e;
  }
  return { agent, session, origin: { task, delay, seed, config }, events: events.map((e) => ({ ...e })) };
}

async function importBrain(fileObject) {
  const file = JSON.parse(await fileObject.text());
  const brain = replay(file);
  install(brain);
  setRunning(false);
  ui.task.value = brain.origin.task;
  if (hasDelay(brain.origin.task)) ui.delay.value = String(brain.origin.delay);
  ui.seed.value = String(brain.origin.seed);
  for (const box of ui.lesions.querySelectorAll("input")) box.checked = brain.agent.lesion(box.name);
  updateUrl();
  status(`Imported ${fileObject.name}: replayed ${brain.agent.steps()} steps and ${brain.events.length} events; ` +
    "the brain equals its snapshot. Paused.");
}

function wire() {
  // A reset keeps running or paused as it was; after a finished task it runs.
  const resetAndKeepRunning = guarded(() => {
    const run = state.running || state.session.done();
    reset();
    setRunning(run);
  });
  ui.task.addEventListener("change", resetAndKeepRunning);
  ui.delay.addEventListener("change", resetAndKeepRunning);
  ui.seed.addEventListener("change", resetAndKeepRunning);
  ui.reset.addEventListener("click", resetAndKeepRunning);
  ui.speed.addEventListener("input", () => {
    ui.speedValue.textContent = `${speed()} steps/frame`;
    updateUrl();
  });
  ui.run.addEventListener("click", () => setRunning(!state.running));
  ui.step.addEventListener("click", guarded(() => {
    setRunning(false);
    advance(1);
  }));
  ui.switch.addEventListener("click", guarded(requestSwitch));
  ui.lesions.addEventListener("change", guarded((e) => toggleLesion(e.target)));
  ui.export.addEventListener("click", guarded(exportBrain));
  ui.import.addEventListener("click", () => ui.importFile.click());
  ui.importFile.addEventListener("change", async () => {
    const f = ui.importFile.files[0];
    ui.importFile.value = "";
    if (f) await importBrain(f).catch((e) => status(`Import failed: ${e.message}`, true));
  });
  // Keyboard shortcuts, unless a control has the focus (it keeps its own keys).
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest("input, select, textarea, button")) return;
    const action = { " ": ui.run, ".": ui.step, s: ui.switch, r: ui.reset }[e.key];
    if (action) {
      e.preventDefault();
      action.click();
    }
  });
  window.addEventListener("resize", () => (state.dirty = true));
}

async function main() {
  await init();
  // For the console and the end-to-end test: the wasm API itself.
  window.tcbg = { Agent, Session, trace, trace_steps };
  buildControls();
  const autorun = applyUrl();
  ui.speedValue.textContent = `${speed()} steps/frame`;
  wire();
  reset();
  setRunning(autorun);
  // For the end-to-end test: controls are wired (the HTML's readouts show 0 before).
  window.__tcbgReady = true;
  requestAnimationFrame(frame);
  // The bit-identity check runs once the first frames are drawn.
  setTimeout(() => {
    const steps = trace_steps();
    ui.trace.innerHTML = `Bit-identity check: this browser computes <code data-testid="trace">trace ${trace(steps)}</code>
      over ${steps} reference steps; <code>cargo xtask trace</code> prints the same on the host.`;
  }, 500);
}

main().catch((e) => status(`The demo could not start: ${e.message}`, true));
