// The demo page: controls, the paced run loop, the readouts, the side-by-side
// comparison and export/import around the wasm `Agent` and `Session`
// (wasm/src). The URL holds the whole view, e.g.
// ?task=delayed-reward&delay=5&seed=1&speed=auto&lesion=no_meta&compare=no_traces&autorun=1&ff=1&explain=thalamus
// (`ff=1`: fast-forward on; `explain`: the part of the explanation picked, its panel highlighted).

import init, { Agent, Session, trace, trace_steps } from "./pkg/tcbg.js";
import { LESIONS, TASKS, minStepsPerTrial } from "./tasks.js";
import {
  CONTEXT_COLOURS, CONTEXT_TEXT, NO_THALAMUS, TWIN_COLOUR, WINDOW, blockErrors, cortexLayout, curveOf,
  drawBasalGanglia, drawBlockErrors, drawCortex, drawCurve, drawDopamine, drawStrip, drawThalamus,
} from "./views.js";

/** Trials per second: the auto pace's slow rate (the first block, around each switch) and fast rate (between). */
const SLOW = 5;
const FAST = 30;
/** Fast-forward's rate. */
const FF = 300;
/** The fixed paces on offer, in trials per second. */
const PACES = [1, 2, 5, 10, 30, 100, 300, 1000];
/** The auto pace is slow for the first trials of the first block, the first trials after a switch and the last before one. */
const SLOW_FIRST_BLOCK = 40;
const SLOW_AFTER_SWITCH = 15;
const SLOW_BEFORE_SWITCH = 3;
/** Most steps one frame may run (a stalled tab does not catch up in one go). */
const MAX_STEPS_PER_FRAME = 20000;
const DEFAULTS = { task: "rule-switch", seed: 1, speed: "auto", delay: 2 };
/** The export file's format; its version changes when replay semantics or fields do
 * (2: the agent's core snapshot; 3: the task session's state and the events' hash, checked after the replay). */
const FORMAT = "tcbg-demo-replay";
const VERSION = 3;
/** Largest file import reads: an export is a few KB plus about 50 bytes an event. */
const MAX_IMPORT_BYTES = 1 << 20;
/** Most events a file may hold. */
const MAX_EVENTS = 10000;
/** Most steps one `Session.run` call may take. */
const RUN_CHUNK = 100000;

const $ = (id) => document.getElementById(id);
const ui = {
  task: $("task"), delay: $("delay"), delayLabel: $("delay-label"), seed: $("seed"), pace: $("pace"),
  paceValue: $("pace-value"), ff: $("ff"), run: $("run"), step: $("step"), reset: $("reset"), switch: $("switch"),
  compareWith: $("compare-with"), export: $("export"), import: $("import"), importFile: $("import-file"),
  csv: $("csv"), png: $("png"), lesions: $("lesions"), status: $("status"), urlNote: $("url-note"),
  watch: $("watch"), trace: $("trace"), explain: $("explain"),
  steps: $("r-steps"), trials: $("r-trials"), block: $("r-block"), rule: $("r-rule"), accuracy: $("r-accuracy"),
  context: $("r-context"), contextSwatch: $("r-context-swatch"), dopamine: $("r-dopamine"), value: $("r-value"),
  current: $("current-trial"), compare: $("compare"), compareTitle: $("compare-title"), compareSummary: $("compare-summary"),
  runTitle: $("run-title"),
  canvases: {
    curve: $("curve"), strip: $("strip"), curveB: $("curve-b"), stripB: $("strip-b"), errors: $("block-errors"),
    cortex: $("cortex"), thalamus: $("thalamus"), bg: $("bg"), dopamine: $("dopamine"),
  },
};

/** The brain on its task, what export needs to replay it, and the comparison run. */
const state = {
  agent: null,
  session: null,
  /** What the brain was built from: { task, delay, seed, config }. */
  origin: null,
  /** Lesion changes and manual switches, each at the agent's step count: { step, lesion, on } or { step, switch }. */
  events: [],
  /** For each manual switch in `events`, the trials finished when its block began (the next trial boundary):
   * the comparison replays it there. */
  switchTrials: [],
  /** The same task and seed with one more lesion from step 0 and the manual switches at the same trials:
   * { agent, session, lesion, switches } (`switches`: how many of `switchTrials` it has taken) or null. */
  twin: null,
  running: false,
  fastForward: false,
  /** The part of the explanation picked (its `data-part`), its panels highlighted; null for none. */
  explain: null,
  /** Whether the auto pace was slow at the last frame (fast-forward stops where a slow stretch begins). */
  wasSlow: false,
  /** Fractional steps owed to the next frame. */
  owed: 0,
  lastFrame: 0,
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

function checkedLesions() {
  return [...ui.lesions.querySelectorAll("input")].filter((c) => c.checked).map((c) => c.name);
}

function taskInfo(name) {
  return TASKS[name] ?? { watch: "", rule: (r) => `rule ${r + 1}` };
}

/** Builds the controls that come from the wasm module: tasks, lesions, paces, comparisons. */
function buildControls() {
  for (const name of Session.task_names()) ui.task.add(new Option(TASKS[name]?.label ?? name, name));
  for (const name of Agent.lesion_names()) {
    const label = document.createElement("label");
    label.title = LESIONS[name] ?? "";
    const box = Object.assign(document.createElement("input"), { type: "checkbox", name });
    const text = Object.assign(document.createElement("span"), { textContent: name });
    label.append(box, text);
    ui.lesions.append(label);
    ui.compareWith.add(new Option(`intact vs ${name}`, name));
  }
  ui.pace.add(new Option(`auto: ${SLOW}/s at switches, ${FAST}/s between`, "auto"));
  for (const p of PACES) ui.pace.add(new Option(`${p} trials/s`, String(p)));
}

/** Reads the URL parameters into the controls; anything unknown falls back to the default, with a note that stays. */
function applyUrl() {
  const p = new URLSearchParams(location.search);
  const notes = [];
  const known = new Set(["task", "delay", "seed", "speed", "lesion", "compare", "autorun", "ff", "explain"]);
  for (const key of p.keys()) if (!known.has(key)) notes.push(`unknown parameter "${key}"`);
  const task = p.get("task") ?? DEFAULTS.task;
  if (Session.task_names().includes(task)) ui.task.value = task;
  else notes.push(`unknown task "${task}" (showing ${DEFAULTS.task})`);
  if (p.has("delay")) {
    if ([...ui.delay.options].some((o) => o.value === p.get("delay"))) ui.delay.value = p.get("delay");
    else notes.push(`delay must be one of ${[...ui.delay.options].map((o) => o.value).join(", ")}`);
  }
  const seedText = p.get("seed") ?? String(DEFAULTS.seed);
  const seed = Number(seedText);
  if (/^\d+$/.test(seedText) && Number.isSafeInteger(seed)) ui.seed.value = String(seed);
  else notes.push(`seed "${seedText}" must be a whole number ≥ 0 (showing ${DEFAULTS.seed})`);
  const speed = p.get("speed") ?? DEFAULTS.speed;
  if (speed === "auto") ui.pace.value = "auto";
  else if (Number(speed) > 0 && Number.isFinite(Number(speed))) ui.pace.value = String(nearestPace(Number(speed)));
  else notes.push(`speed "${speed}" must be auto or trials per second (showing auto)`);
  for (const name of (p.get("lesion") ?? "").split(",").filter((s) => s && s !== "none")) {
    const box = ui.lesions.querySelector(`input[name="${CSS.escape(name)}"]`);
    if (box) box.checked = true;
    else notes.push(`unknown lesion "${name}"`);
  }
  const compare = p.get("compare");
  if (compare && compare !== "none") {
    if (Agent.lesion_names().includes(compare)) ui.compareWith.value = compare;
    else notes.push(`unknown lesion to compare with "${compare}"`);
  }
  const autorun = p.get("autorun");
  if (autorun !== null && autorun !== "0" && autorun !== "1") notes.push(`autorun must be 0 or 1`);
  const ff = p.get("ff");
  if (ff !== null && ff !== "0" && ff !== "1") notes.push(`ff must be 0 or 1`);
  const explain = p.get("explain");
  const parts = explainParts().map((b) => b.dataset.part);
  if (explain !== null && explain !== "none" && !parts.includes(explain)) {
    notes.push(`unknown part of the explanation "${explain}" (one of ${parts.join(", ")})`);
  }
  ui.urlNote.hidden = notes.length === 0;
  ui.urlNote.textContent = notes.length ? `Ignored in the URL: ${notes.join("; ")}.` : "";
  return { autorun: autorun !== "0", ff: ff === "1", explain: parts.includes(explain) ? explain : null };
}

function nearestPace(v) {
  return PACES.reduce((best, p) => (Math.abs(Math.log(p / v)) < Math.abs(Math.log(best / v)) ? p : best));
}

/** Whether a task takes a delay (the blank steps of delayed-reward and delayed-response). */
function hasDelay(task) {
  return task === "delayed-reward" || task === "delayed-response";
}

/** Writes the view into the URL, so the address reproduces it. */
function updateUrl() {
  const p = new URLSearchParams();
  p.set("task", ui.task.value);
  if (hasDelay(ui.task.value)) p.set("delay", ui.delay.value);
  p.set("seed", ui.seed.value);
  p.set("speed", ui.pace.value);
  const lesions = checkedLesions();
  if (lesions.length) p.set("lesion", lesions.join(","));
  if (ui.compareWith.value !== "none") p.set("compare", ui.compareWith.value);
  p.set("autorun", state.running || !state.session ? "1" : "0");
  if (state.fastForward) p.set("ff", "1");
  if (state.explain) p.set("explain", state.explain);
  history.replaceState(null, "", `?${p}`);
}

/** Puts a fully built brain in place of the current one (which is freed). */
function install({ agent, session, origin, events, switchTrials, masks0 }) {
  state.agent?.free();
  state.session?.free();
  Object.assign(state, { agent, session, origin, events, switchTrials, owed: 0, dirty: true, masks0 });
  ui.watch.textContent = taskInfo(origin.task).watch;
  ui.delayLabel.hidden = !hasDelay(origin.task);
  buildTwin();
}

function masksOf(agent) {
  return [0, 1, 2, 3].map((k) => agent.control_function(k));
}

/** The comparison run: the main run's task and seed, its lesions at step 0 and the chosen one, caught up to its trials. */
function buildTwin() {
  state.twin?.agent.free();
  state.twin?.session.free();
  state.twin = null;
  const lesion = ui.compareWith.value;
  ui.compare.hidden = lesion === "none";
  if (lesion === "none" || !state.origin) return;
  const { task, delay, seed, config } = state.origin;
  const agent = Agent.with_config(JSON.stringify(config), seed);
  const session = new Session(task, delay, seed);
  for (const e of state.events.filter((e) => e.step === 0 && e.lesion)) agent.set_lesion(e.lesion, e.on);
  agent.set_lesion(lesion, true);
  state.twin = { agent, session, lesion, switches: 0 };
  const intact = ["intact", ...Agent.lesion_names().filter((n) => agent.lesion(n) && n !== lesion)].join(" + ");
  ui.runTitle.textContent = intact === "intact" ? "intact" : `without ${lesion}: ${intact}`;
  ui.compareTitle.textContent = `with ${lesion} (same task, same seed)`;
  catchUpTwin();
}

/** The trials finished when the block a switch just requested of `session` begins: now if between
 * trials, else at the end of the current trial. */
function switchTrial(session) {
  return session.trials() + (session.switch_pending() ? 1 : 0);
}

/** Runs the comparison until it has as many trials as the main run (or its task ends), taking the main
 * run's manual switches at the same trials. A run of `k` trials' fewest steps never ends more than `k`
 * trials, so the comparison stops on the boundary of the trial it aims at, where a switch takes effect at once. */
function catchUpTwin() {
  const twin = state.twin;
  if (!twin) return;
  const target = state.session.trials();
  const min = minStepsPerTrial(state.origin.task, state.origin.delay);
  for (let guard = 0; guard < 100000 && !twin.session.done(); guard++) {
    const next = state.switchTrials[twin.switches];
    const goal = next === undefined ? target : Math.min(next, target);
    if (next !== undefined && twin.session.trials() >= next) {
      if (!twin.session.switch_pending()) twin.session.request_switch();
      twin.switches++;
      continue;
    }
    if (twin.session.trials() >= goal) break;
    twin.session.run(twin.agent, Math.min((goal - twin.session.trials()) * min, RUN_CHUNK));
  }
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
  const masks0 = masksOf(agent);
  const events = checkedLesions().map((lesion) => ({ step: 0, lesion, on: true }));
  for (const e of events) agent.set_lesion(e.lesion, true);
  setFastForward(false);
  install({
    agent, session, origin: { task, delay, seed, config: JSON.parse(agent.config_json()) }, events, switchTrials: [], masks0,
  });
  updateUrl();
  status(`New agent, seed ${seed}, on ${task}${hasDelay(task) ? ` (delay ${delay})` : ""}.`);
}

function setRunning(on) {
  state.running = on && !state.session.done();
  ui.run.textContent = state.running ? "Pause" : "Run";
  ui.run.setAttribute("aria-pressed", String(state.running));
  updateUrl();
}

function setFastForward(on) {
  state.fastForward = on;
  ui.ff.setAttribute("aria-pressed", String(on));
  ui.ff.classList.toggle("on", on);
  state.dirty = true;
  updateUrl();
}

/** Whether the auto pace is slow now: the first block, and around each switch. */
function slowStretch() {
  const { session } = state;
  if (session.done()) return false;
  const t = session.trial_in_block(), len = session.block_length();
  if (session.block() === 0) return t < SLOW_FIRST_BLOCK || t >= len - SLOW_BEFORE_SWITCH;
  return t < SLOW_AFTER_SWITCH || t >= len - SLOW_BEFORE_SWITCH;
}

/** Steps that cannot end more trials than are left before the last trials of the block (the slow stretch). */
function stepsToSlowStretch() {
  const { session, origin } = state;
  const left = session.block_length() - SLOW_BEFORE_SWITCH - session.trial_in_block();
  return Math.max(left, 1) * minStepsPerTrial(origin.task, origin.delay);
}

/** The pace now, in trials per second, and why. */
function pace() {
  const slow = slowStretch();
  if (state.fastForward) return { rate: FF, why: "fast-forward" };
  if (ui.pace.value !== "auto") return { rate: Number(ui.pace.value), why: "fixed" };
  return slow ? { rate: SLOW, why: "slow: first block or a switch" } : { rate: FAST, why: "fast: between switches" };
}

/** Steps a trial takes on average: fixed for most tasks, measured for action-sequence. */
function stepsPerTrial() {
  const { task, delay } = state.origin;
  if (task === "action-sequence") {
    const trials = state.session.trials();
    return trials > 5 ? state.agent.steps() / trials : 2;
  }
  return minStepsPerTrial(task, delay);
}

/** Runs `n` whole steps and keeps the comparison level; pauses with a note when the task ends. */
function advance(n) {
  if (n > 0) state.session.run(state.agent, n);
  catchUpTwin();
  state.dirty = true;
  if (state.session.done()) {
    setRunning(false);
    setFastForward(false);
    status(`Task finished after ${state.agent.steps()} steps. Reset, or pick another task or seed.`);
  }
}

function frame(now) {
  const dt = Math.min(Math.max(now - state.lastFrame, 0), 100) / 1000;
  state.lastFrame = now;
  if (state.running) {
    const slow = slowStretch();
    // Fast-forward in the auto pace runs to the next slow stretch (a switch).
    if (state.fastForward && ui.pace.value === "auto" && slow && !state.wasSlow) setFastForward(false);
    state.wasSlow = slow;
    state.owed += dt * pace().rate * stepsPerTrial();
    let n = Math.min(Math.floor(state.owed), MAX_STEPS_PER_FRAME);
    // At the auto pace, a fast frame stops where the next slow stretch begins.
    if (ui.pace.value === "auto" && !slow) n = Math.min(n, stepsToSlowStretch());
    state.owed = Math.min(state.owed - n, 1);
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

/** Input lines as a short text: "line 1", "lines 0+3+5". */
function linesText(lines) {
  const on = [];
  for (let j = 0; j < 16; j++) if (lines & (1 << j)) on.push(j);
  return on.length === 1 ? `line ${on[0]}` : on.length ? `lines ${on.join("+")}` : "none";
}

function contextName(c) {
  return c === NO_THALAMUS ? "none (no thalamus)" : `T${c}`;
}

/** The current trial: the last finished one's cue, choice, the correct action and the reward. */
function drawCurrentTrial() {
  const { session, origin } = state;
  const last = session.last_trial();
  if (last.length === 0) {
    ui.current.textContent = "No trial finished yet.";
    return;
  }
  const [lines, action, correct, reward, context] = last;
  const cue = origin.task === "action-sequence" ? `position ${Math.log2(lines) + 1} of 3` : linesText(lines);
  const ok = action === correct;
  ui.current.replaceChildren();
  const item = (dt, dd, cls) => {
    const div = document.createElement("div");
    const t = Object.assign(document.createElement("dt"), { textContent: dt });
    const d = Object.assign(document.createElement("dd"), { textContent: dd });
    if (cls) d.className = cls;
    div.append(t, d);
    ui.current.append(div);
    return d;
  };
  item("Trial", String(session.trials()));
  item("Cue", cue);
  item("Chose", `action ${action}`, ok ? "ok" : "wrong");
  item("Correct", `action ${correct}`);
  item("Reward", String(reward), reward ? "ok" : "wrong");
  const c = item("Control fn", contextName(context));
  if (context !== NO_THALAMUS) c.style.color = CONTEXT_TEXT[context];
}

/** What the curve shows of one run. */
function runData(session) {
  return {
    outcomes: session.outcomes(), starts: session.block_starts(), rules: session.block_rules(),
    contexts: session.trial_contexts(), planned: session.planned_trials(),
  };
}

/** Readouts and views. */
function draw() {
  const { agent, session, twin } = state;
  const task = taskInfo(session.task_name());
  const short = task.short ?? task.rule;
  const active = agent.active_context();
  const noThalamus = agent.lesion("no_thalamus");
  const main = runData(session);
  const { curve } = curveOf(main.outcomes, main.starts);
  ui.steps.textContent = String(agent.steps());
  ui.trials.textContent = String(session.trials());
  const done = session.done();
  ui.block.textContent = `${Math.min(session.block() + 1, session.blocks())} of ${session.blocks()}`;
  // Once the task is over, the rule of its last block (there is no next one).
  const rules = main.rules;
  ui.rule.textContent = done
    ? `${rules.length ? task.rule(rules[rules.length - 1]) : "–"} (task over)`
    : task.rule(session.rule());
  ui.accuracy.textContent = curve.length ? curve[curve.length - 1].toFixed(2) : "–";
  ui.context.textContent = noThalamus ? "none (no thalamus)" : `T${active}`;
  ui.contextSwatch.style.background = noThalamus ? "transparent" : CONTEXT_COLOURS[active];
  ui.dopamine.textContent = fmt(agent.dopamine());
  ui.value.textContent = fmt(agent.value());
  ui.switch.disabled = done;
  const p = pace();
  ui.paceValue.textContent = state.running ? `${p.rate} trials/s (${p.why})` : `paused (${p.rate} trials/s when running)`;
  drawCurrentTrial();

  const masks = masksOf(agent);
  const layout = cortexLayout(masks);
  const c = ui.canvases;
  const curveArgs = (d) => ({ ...d, ruleLabel: task.rule, ruleShort: short });
  drawCurve(c.curve, { ...curveArgs(main), title: twin ? ui.runTitle.textContent : undefined });
  drawStrip(c.strip, { contexts: main.contexts, starts: main.starts, planned: main.planned });
  const runs = [{ errors: blockErrors(main.outcomes, main.starts), colour: "#4d5b73", text: "#1d2330", name: "intact" }];
  if (twin) {
    const b = runData(twin.session);
    drawCurve(c.curveB, { ...curveArgs(b), title: ui.compareTitle.textContent, colour: TWIN_COLOUR });
    drawStrip(c.stripB, { contexts: b.contexts, starts: b.starts, planned: b.planned });
    const errorsB = blockErrors(b.outcomes, b.starts);
    runs.push({ errors: errorsB, colour: TWIN_COLOUR, text: "#a84300", name: twin.lesion });
    const total = (e) => e.reduce((a, x) => a + x, 0);
    ui.compareSummary.textContent = `Errors so far: ${total(runs[0].errors)} intact, ${total(errorsB)} with ` +
      `${twin.lesion}; control functions used: ${c.strip.dataset.contexts || "–"} vs ${c.stripB.dataset.contexts || "–"}.`;
  }
  drawBlockErrors(c.errors, { runs, blocks: session.blocks() });

  drawCortex(c.cortex, { rates: agent.cortical_rates(), gains: agent.cortical_gains(), layout, active, noThalamus });
  const contexts = main.contexts;
  const uses = [0, 0, 0, 0];
  for (const k of contexts) if (k < 4) uses[k]++;
  drawThalamus(c.thalamus, {
    activity: agent.thalamic_activity(), masks, layout, active, uses, used: agent.contexts_used(),
    memories: [0, 1, 2, 3].map((k) => agent.recognition_memory(k)), competence: agent.context_competence(),
    lesions: { no_thalamus: noThalamus, no_context_selection: agent.lesion("no_context_selection") },
  });
  drawBasalGanglia(c.bg, {
    actions: {
      salience: agent.action_salience().slice(0, session.actions()),
      gpi: agent.action_gpi().slice(0, session.actions()),
      selected: agent.selected_action(),
    },
    contexts: { salience: agent.context_salience(), gpi: agent.context_gpi(), selected: active },
    noThalamus,
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
  if (session.done()) return;
  if (session.switch_pending()) {
    status("A switch is already requested: the block ends when the current trial does.");
    return;
  }
  session.request_switch();
  state.events.push({ step: agent.steps(), switch: true });
  state.switchTrials.push(switchTrial(session));
  // The comparison takes it at the same trial (now, if both are between trials).
  catchUpTwin();
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

/** FNV-1a (64 bits, hex) of the events as JSON: the file records it, import checks it. */
function eventsHash(events) {
  const bytes = new TextEncoder().encode(JSON.stringify(events));
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, "0");
}

/** The task session's state, as the file records it and import must find it again. */
function sessionRecord(agent, session, events) {
  return {
    steps: agent.steps(), block: session.block(), trials: session.trials(), trial_in_block: session.trial_in_block(),
    rule: session.rule(), switch_pending: session.switch_pending(), done: session.done(), events_hash: eventsHash(events),
  };
}

/** Downloads `blob` as `name`. */
function download(blob, name) {
  const a = Object.assign(document.createElement("a"), { href: URL.createObjectURL(blob), download: name });
  a.click();
  // Released once the browser has started the download.
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

/** Saves config, seed, task, steps and events as JSON (replayed on import), the task session's
 * state (checked after the replay) and the agent's core snapshot (checked against the replayed brain). */
function exportBrain() {
  const { agent, session, origin, events } = state;
  const file = {
    format: FORMAT,
    version: VERSION,
    note: "The config, seed, task and every step and event taken, which import replays (restoring the task's " +
      "progress too); `session`, the task's state the replay must reach (step, block, trial, rule, the events' " +
      "FNV-1a hash); and `snapshot`, the agent's state in the core's snapshot format (base64): the replayed brain " +
      "must equal it bit for bit.",
    ...origin,
    steps: agent.steps(),
    events,
    session: sessionRecord(agent, session, events),
    snapshot: toBase64(agent.snapshot()),
  };
  download(new Blob([JSON.stringify(file, null, 2)], { type: "application/json" }),
    `tcbg-${origin.task}-seed${origin.seed}-step${file.steps}.json`);
  status(`Exported ${file.steps} steps and ${events.length} events (replayed on import).`);
}

/** Builds the brain a file describes by replaying it; throws on anything malformed. */
function replay(file) {
  if (file?.format !== FORMAT || file.version !== VERSION) {
    throw new Error(`not a ${FORMAT} file of version ${VERSION}`);
  }
  const { task, delay, seed, config, steps, events, snapshot, session: record } = file;
  if (!Number.isSafeInteger(steps) || steps < 0) throw new Error("steps must be a whole number ≥ 0");
  if (!Array.isArray(events)) throw new Error("events must be a list");
  if (events.length > MAX_EVENTS) throw new Error(`${events.length} events, at most ${MAX_EVENTS}`);
  if (typeof snapshot !== "string") throw new Error("snapshot must be a base64 string");
  if (typeof record !== "object" || record === null) throw new Error("the file records no task session state");
  const agent = Agent.with_config(JSON.stringify(config), seed);
  let session;
  const switchTrials = [];
  try {
    const masks0 = masksOf(agent);
    session = new Session(task, delay, seed);
    const runTo = (target) => {
      while (agent.steps() < target) {
        if (session.run(agent, Math.min(target - agent.steps(), RUN_CHUNK)) === 0) {
          throw new Error(`the task ends at step ${agent.steps()}, before step ${target}`);
        }
      }
    };
    for (const e of events) {
      const what = `event ${JSON.stringify(e)}`;
      if (!Number.isSafeInteger(e?.step) || e.step < agent.steps() || e.step > steps) {
        throw new Error(`${what}: steps must rise, up to ${steps}`);
      }
      const keys = Object.keys(e).sort().join();
      runTo(e.step);
      if (keys === "step,switch" && e.switch === true) {
        // A switch that would change nothing is no event the page records.
        if (session.done() || session.switch_pending()) throw new Error(`${what}: no switch can be requested there`);
        session.request_switch();
        switchTrials.push(switchTrial(session));
      } else if (keys === "lesion,on,step" && typeof e.on === "boolean") {
        if (agent.lesion(e.lesion) === e.on) throw new Error(`${what}: the lesion is already ${e.on ? "on" : "off"}`);
        agent.set_lesion(e.lesion, e.on);
      } else {
        throw new Error(`${what}: must be {step, switch: true} or {step, lesion, on}`);
      }
    }
    runTo(steps);
    const replayed = sessionRecord(agent, session, events);
    for (const [key, want] of Object.entries(replayed)) {
      if (record[key] !== want) {
        throw new Error(`the replayed task differs from the file's record: ${key} is ${JSON.stringify(want)}, ` +
          `the file says ${JSON.stringify(record[key])}`);
      }
    }
    if (toBase64(agent.snapshot()) !== snapshot) {
      throw new Error("the replayed brain differs from its snapshot");
    }
    return { agent, session, origin: { task, delay, seed, config }, events: events.map((e) => ({ ...e })), switchTrials, masks0 };
  } catch (e) {
    agent.free();
    session?.free();
    throw e;
  }
}

async function importBrain(fileObject) {
  // Refused before reading: the page's state is untouched.
  if (fileObject.size > MAX_IMPORT_BYTES) {
    throw new Error(`${fileObject.name} is ${(fileObject.size / 1e6).toFixed(1)} MB, over the limit of ` +
      `${MAX_IMPORT_BYTES / (1 << 20)} MB (an export is a few KB); not read`);
  }
  const file = JSON.parse(await fileObject.text());
  const brain = replay(file);
  ui.task.value = brain.origin.task;
  if (hasDelay(brain.origin.task)) ui.delay.value = String(brain.origin.delay);
  ui.seed.value = String(brain.origin.seed);
  for (const box of ui.lesions.querySelectorAll("input")) box.checked = brain.agent.lesion(box.name);
  install(brain);
  setRunning(false);
  status(`Imported ${fileObject.name}: replayed ${brain.agent.steps()} steps and ${brain.events.length} events; ` +
    "the task's state and the brain equal the file's. Paused.");
}

/** Trial by trial, both runs when comparing, as CSV. */
function curvesCsv() {
  const rows = ["run,lesions,trial,block,rule,correct,rewarded,control_function,accuracy_last10"];
  const runs = [[state.session, checkedLesions().join("+") || "none"]];
  if (state.twin) runs.push([state.twin.session, [...checkedLesions(), state.twin.lesion].join("+")]);
  runs.forEach(([session, lesions], r) => {
    const d = runData(session);
    const { curve } = curveOf(d.outcomes, d.starts);
    let block = -1;
    for (let t = 0; t < d.outcomes.length; t++) {
      while (block + 1 < d.starts.length && d.starts[block + 1] <= t) block++;
      const c = d.contexts[t];
      rows.push([r ? "compare" : "main", lesions, t + 1, block + 1, d.rules[block], d.outcomes[t] & 1,
        (d.outcomes[t] >> 1) & 1, c === NO_THALAMUS ? "none" : c, curve[t].toFixed(2)].join(","));
    }
  });
  return rows.join("\n") + "\n";
}

function fileStem() {
  const { task, seed } = state.origin;
  return `tcbg-${task}-seed${seed}${state.twin ? `-vs-${state.twin.lesion}` : ""}-trial${state.session.trials()}`;
}

function exportCsv() {
  download(new Blob([curvesCsv()], { type: "text/csv" }), `${fileStem()}.csv`);
  status("Exported the curves as CSV (one row a trial).");
}

/** The curves, strips and errors per block, stacked into one PNG. */
function exportPng() {
  draw();
  const c = ui.canvases;
  const parts = [c.curve, c.strip, ...(state.twin ? [c.curveB, c.stripB] : []), c.errors];
  const width = Math.max(...parts.map((p) => p.width));
  const out = Object.assign(document.createElement("canvas"), {
    width, height: parts.reduce((h, p) => h + p.height + 8, 8),
  });
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, out.width, out.height);
  let y = 8;
  for (const p of parts) {
    ctx.drawImage(p, 0, y);
    y += p.height + 8;
  }
  out.toBlob((blob) => {
    download(blob, `${fileStem()}.png`);
    status("Exported the curves as PNG.");
  }, "image/png");
}

function explainParts() {
  return [...ui.explain.querySelectorAll("[data-part]")];
}

/** Highlights the panels of the part picked, of the one pointed at (if any) and of the one focused. */
function showExplanation(hovered = null) {
  const lit = new Set();
  for (const b of explainParts()) {
    const picked = b.dataset.part === state.explain;
    b.setAttribute("aria-pressed", String(picked));
    if (picked || b === hovered || b === document.activeElement) b.dataset.panel.split(" ").forEach((id) => lit.add(id));
  }
  for (const b of explainParts()) {
    for (const id of b.dataset.panel.split(" ")) document.getElementById(id)?.classList.toggle("highlight", lit.has(id));
  }
}

/** Picks a part of the explanation (null: none), kept in the URL. */
function pickExplanation(part) {
  state.explain = part;
  showExplanation();
  updateUrl();
}

/** The explanation: each part highlights its panel while pointed at or focused; a click picks it
 * (its panel stays highlighted, and the URL holds it) or, picked already, unpicks it. */
function wireExplanation() {
  for (const b of explainParts()) {
    const ids = b.dataset.panel.split(" ");
    b.addEventListener("mouseenter", () => showExplanation(b));
    b.addEventListener("mouseleave", () => showExplanation());
    b.addEventListener("focus", () => showExplanation(b));
    b.addEventListener("blur", () => showExplanation());
    b.addEventListener("click", () => {
      pickExplanation(state.explain === b.dataset.part ? null : b.dataset.part);
      document.getElementById(ids[0])?.scrollIntoView({ block: "nearest", behavior: "smooth" });
    });
  }
}

/** Keyboard shortcuts: everywhere but where typing goes (text, number, select). */
function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t.closest?.("select, textarea, input:not([type=checkbox]):not([type=range])")) return;
  const action = { " ": ui.run, ".": ui.step, s: ui.switch, r: ui.reset, f: ui.ff }[e.key];
  // Space on a checkbox keeps ticking it; on a button it is run/pause, not that button's click.
  if (!action || (e.key === " " && t.matches?.("input[type=checkbox]"))) return;
  e.preventDefault();
  if (!action.disabled) action.click();
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
  ui.pace.addEventListener("change", () => {
    state.dirty = true;
    updateUrl();
  });
  ui.ff.addEventListener("click", () => setFastForward(!state.fastForward));
  ui.run.addEventListener("click", () => setRunning(!state.running));
  ui.step.addEventListener("click", guarded(() => {
    setRunning(false);
    advance(1);
  }));
  ui.switch.addEventListener("click", guarded(requestSwitch));
  ui.lesions.addEventListener("change", guarded((e) => toggleLesion(e.target)));
  ui.compareWith.addEventListener("change", guarded(() => {
    buildTwin();
    state.dirty = true;
    updateUrl();
    status(state.twin ? `Comparing with ${state.twin.lesion}: the same task and seed, caught up to trial ` +
      `${state.twin.session.trials()}.` : "Comparison off.");
  }));
  ui.export.addEventListener("click", guarded(exportBrain));
  ui.csv.addEventListener("click", guarded(exportCsv));
  ui.png.addEventListener("click", guarded(exportPng));
  ui.import.addEventListener("click", () => ui.importFile.click());
  ui.importFile.addEventListener("change", async () => {
    const f = ui.importFile.files[0];
    ui.importFile.value = "";
    if (f) await importBrain(f).catch((e) => status(`Import failed: ${e.message}`, true));
  });
  document.addEventListener("keydown", onKey);
  // A button's own Space activation comes on keyup: the shortcut has taken it.
  document.addEventListener("keyup", (e) => {
    if (e.key === " " && e.target.matches?.("button")) e.preventDefault();
  });
  window.addEventListener("resize", () => (state.dirty = true));
  wireExplanation();
}

async function main() {
  await init();
  // For the console and the end-to-end test: the wasm API itself, and the page's state.
  window.tcbg = { Agent, Session, trace, trace_steps };
  window.__tcbgPage = { state, WINDOW };
  buildControls();
  const view = applyUrl();
  wire();
  state.explain = view.explain;
  showExplanation();
  reset();
  setFastForward(view.ff);
  // As if pressed now: in the auto pace it runs on to the next slow stretch.
  state.wasSlow = slowStretch();
  setRunning(view.autorun);
  // For the end-to-end test: controls are wired (the HTML's readouts show 0 before).
  window.__tcbgReady = true;
  window.__tcbgReadyAt = performance.now();
  requestAnimationFrame((now) => {
    state.lastFrame = now;
    frame(now);
  });
  // The bit-identity check runs once the first frames are drawn.
  setTimeout(() => {
    const steps = trace_steps();
    ui.trace.innerHTML = `Bit-identity check: this browser computes <code data-testid="trace">trace ${trace(steps)}</code>
      over ${steps} reference steps; <code>cargo xtask trace</code> prints the same on the host.`;
  }, 500);
}

main().catch((e) => status(`The demo could not start: ${e.message}`, true));
