// The wasm API against a hostile JavaScript caller (`cargo xtask test` runs
// this in node on the page's build): `m` is the module the page imports, the
// guard `web/pkg/tcbg.js` (wasm/js/tcbg.js) over the generated bindings.
// Every method x every argument x every kind of hostile value, each call must
// throw an `Error` (not a wasm trap) whose message names the argument, or
// succeed where the value is valid; a refused call leaves the object's state
// (its snapshot) unchanged; accepted calls are repeated on a twin, and after
// the barrage the agent steps exactly as the twin does. Then the three attacks
// on the generated glue the guard stops (a forged `this` outside memory,
// `free()` on a forged object aimed at a live one, `free()` from a getter
// during a call on the same object), each an `Error` naming `this`, every
// genuine object unharmed. `raw` (the generated bindings) and `wasm` (their
// exports) serve only to aim the forgeries at real objects' addresses, as an
// attacker who knows the heap would, and to watch the memory.
const { Agent, Session, trace, bench_steps } = m;
const fail = [];
let calls = 0;
const ZEROS = () => [0, 0, 0, 0, 0, 0, 0, 0];
const CONFIG = new Agent(1).config_json();

// Where the next object will lie: the allocator hands a freed block of the
// same size out again, so a raw object made and freed just before shows it.
const aimAt = (Raw, make) => {
  const probe = Raw === raw.Agent ? new raw.Agent(0) : new raw.Session("rule-switch", 0, 0);
  const ptr = probe.__wbg_ptr;
  probe.free();
  return [make(), ptr];
};
const PTR = {}; // the aimed addresses of A and S

// Victims the hostile values free or use, recreated as needed.
let victim = new Agent(99);
const revoked = Proxy.revocable({}, {});
revoked.revoke();
const forged = (ptr) => { const o = Object.create(Agent.prototype); o.__wbg_ptr = ptr; return o; };
const forgedSession = (ptr) => { const o = Object.create(Session.prototype); o.__wbg_ptr = ptr; return o; };
const freed = () => { const a = new Agent(3); a.free(); return a; };
const getterArray = (get) => { const a = ZEROS(); Object.defineProperty(a, 3, { get }); return a; };
let A, twinA, S, twinS; // the objects under test and their twins

// [label, factory]: fresh values per call (some have side effects).
const HOSTILE = [
  ["undefined", () => undefined], ["null", () => null], ["true", () => true], ["false", () => false],
  ["empty string", () => ""], ["string 1", () => "1"], ["lesion-string", () => "no_meta"],
  ["task-string", () => "rule-switch"], ["json", () => CONFIG], ["bad json", () => "{"],
  ["0", () => 0], ["-0", () => -0], ["1", () => 1], ["4", () => 4], ["0.5", () => 0.5], ["-1", () => -1],
  ["-3", () => -3], ["1.5", () => 1.5], ["1e300", () => 1e300], ["2**53", () => 2 ** 53], ["-2**60", () => -(2 ** 60)],
  ["NaN", () => NaN], ["Infinity", () => Infinity], ["-Infinity", () => -Infinity],
  ["BigInt", () => 10n], ["Symbol", () => Symbol("x")], ["function", () => () => 0], ["Date", () => new Date(0)],
  ["new Number(1)", () => new Number(1)], ["new String", () => new String("no_meta")], ["new Boolean", () => new Boolean(true)],
  ["{}", () => ({})], ["[]", () => []], ["[1,2,3]", () => [1, 2, 3]], ["zeros8", ZEROS],
  ["array of 9", () => [0, 0, 0, 0, 0, 0, 0, 0, 0]], ["array of strings", () => Array(8).fill("0")],
  ["array with NaN", () => { const a = ZEROS(); a[5] = NaN; return a; }], ["array with 2", () => { const a = ZEROS(); a[0] = 2; return a; }],
  ["sparse array of 8", () => new Array(8)], ["array length 2**32-1", () => { const a = []; a.length = 2 ** 32 - 1; return a; }],
  ["Float32Array(8)", () => new Float32Array(8)], ["Float64Array(8)", () => new Float64Array(8)],
  ["Float32Array(3)", () => new Float32Array(3)], ["Float32Array NaN", () => new Float32Array(8).fill(NaN)],
  ["Int32Array(8)", () => new Int32Array(8)], ["Uint8Array(10)", () => new Uint8Array(10)], ["snapshot", () => A.snapshot()],
  ["snapshot as Array", () => Array.from(A.snapshot())], ["Float32Array own length", () => { const a = new Float32Array(8); Object.defineProperty(a, "length", { get() { throw new Error("length"); } }); return a; }],
  ["Object.create(Float32Array.prototype)", () => Object.create(Float32Array.prototype)],
  ["Object.create(Uint8Array.prototype)", () => Object.create(Uint8Array.prototype)],
  ["valueOf throws", () => ({ valueOf() { throw new Error("valueOf"); } })],
  ["valueOf frees and makes", () => ({ valueOf() { victim.free(); victim = new Agent(98); return 0; } })],
  ["toString throws", () => ({ toString() { throw new Error("toString"); } })],
  ["Symbol.toPrimitive", () => ({ [Symbol.toPrimitive]() { victim.free(); victim = new Agent(97); return 0; } })],
  ["throwing proxy", () => new Proxy({}, { get() { throw new Error("trap"); }, getPrototypeOf() { throw new Error("trap"); }, has() { throw new Error("trap"); } })],
  ["array proxy throwing", () => new Proxy(ZEROS(), { get() { throw new Error("trap"); }, getPrototypeOf() { throw new Error("trap"); } })],
  ["array proxy", () => new Proxy(ZEROS(), {})],
  ["revoked proxy", () => revoked.proxy],
  ["getter throws", () => getterArray(() => { throw new Error("getter"); })],
  ["getter throws a string", () => getterArray(() => { throw "getter"; })],
  ["getter frees another", () => getterArray(() => { victim.free(); victim = new Agent(96); return 0; })],
  ["getter uses the object", () => getterArray(() => { A.step(ZEROS(), 0); S.run(A, 1); A.free(); return 0; })],
  ["getter returns NaN", () => getterArray(() => NaN)],
  ["agent", () => A], ["freed agent", freed], ["forged agent 8", () => forged(8)], ["forged agent A+8", () => forged(PTR.A + 8)],
  ["forged agent at A", () => forged(PTR.A)], ["forged agent 65536", () => forged(65536)],
  ["forged agent 2**31", () => forged(2 ** 31)], ["session", () => S], ["forged session", () => forgedSession(PTR.S + 4)],
  ["forged session at S", () => forgedSession(PTR.S)], ["proxy of agent", () => new Proxy(A, {})],
  ["object with A's pointer", () => Object.setPrototypeOf({ __wbg_ptr: PTR.A }, Agent.prototype)],
];

// Argument kinds: [needle the message must contain, labels that are valid].
const KIND = {
  seed: [/seed/, ["0", "-0", "1", "4"]],
  reward: [/reward/, ["0", "-0", "1", "0.5", "-1"]],
  obs: [/obs/, ["zeros8", "Float32Array(8)", "Float64Array(8)", "array proxy", "getter frees another",
    "Float32Array own length"]],
  count: [/action count/, ["1", "4"]],
  lesion: [/lesion/, ["lesion-string"]],
  on: [/\bon\b/, ["true", "false"]],
  k: [/control function/, ["0", "-0", "1", "4"].filter((l) => l !== "4")],
  config: [/config/, ["json"]],
  bytes: [/snapshot/, ["snapshot"]],
  task: [/task/, ["task-string"]],
  delay: [/delay/, ["0", "-0"]],
  steps: [/steps/, ["0", "-0", "1", "4"]],
  bench: [/steps/, ["1", "4"]],
  number: [/number/, []],
  agent: [/agent/i, ["agent"]],
  // The guard refuses anything but a live wrapper of the class, by name.
  this: [/\bthis\b/, []],
};
const VALID = { seed: 1, reward: 0, obs: ZEROS, count: 4, lesion: "no_meta", on: false, k: 0, config: () => CONFIG,
  bytes: () => A.snapshot(), bench: 1, number: "fixed", task: "rule-switch", delay: 0, steps: 1, agent: "AGENT" };
const valid = (kind, twin) => {
  const v = VALID[kind];
  if (v === "AGENT") return twin ? twinA : A;
  return typeof v === "function" ? v() : v;
};

// Methods: [name, this kind ("Agent", "Session", or null for static), argument kinds, call].
const AGENT_GETTERS = ["snapshot", "config_json", "seed", "steps", "switches", "cortical_rates", "cortical_gains",
  "thalamic_activity", "active_context", "dopamine", "value", "action_salience", "action_gpi", "selected_action",
  "context_salience", "context_gpi", "context_competence", "contexts_used", "mark_trial_start"];
const SESSION_GETTERS = ["switch_pending", "task_name", "done", "block", "actions", "blocks", "planned_trials", "rule",
  "trials", "accuracy", "outcomes", "block_starts", "block_rules", "trial_contexts", "last_trial", "trial_in_block",
  "block_length", "dopamine_history", "value_history", "request_switch"];
const METHODS = [
  ["free", "Agent", []], ["free", "Session", []],
  ["new Agent", null, ["seed"], (a) => new Agent(...a)],
  ["Agent.with_config", null, ["config", "seed"], (a) => Agent.with_config(...a)],
  ["Agent.restore", null, ["bytes"], (a) => Agent.restore(...a)],
  ["new Session", null, ["task", "delay", "seed"], (a) => new Session(...a)],
  ["trace", null, ["steps"], (a) => trace(...a)],
  ["bench_steps", null, ["bench", "number"], (a) => bench_steps(...a)],
  ["step", "Agent", ["obs", "reward"]], ["set_action_count", "Agent", ["count"]],
  ["set_lesion", "Agent", ["lesion", "on"]], ["lesion", "Agent", ["lesion"]], ["control_function", "Agent", ["k"]],
  ["recognition_memory", "Agent", ["k"]],
  ...AGENT_GETTERS.map((g) => [g, "Agent", []]),
  ["run", "Session", ["agent", "steps"]],
  ...SESSION_GETTERS.map((g) => [g, "Session", []]),
];

function fresh() {
  [A, PTR.A] = aimAt(raw.Agent, () => new Agent(7)); twinA = new Agent(7);
  [S, PTR.S] = aimAt(raw.Session, () => new Session("rule-switch", 0, 7)); twinS = new Session("rule-switch", 0, 7);
  S.run(A, 50); twinS.run(twinA, 50);
}
fresh();
const state = () => `${A.snapshot().join()}|${S.trials()}|${S.block()}|${S.outcomes().join()}|${S.trial_contexts().join()}|${S.last_trial().join()}`;

function attempt(what, kind, label, f, mirror) {
  calls++;
  const before = state();
  let result;
  try { result = f(); } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) fail.push(`TRAP ${what}: ${e.message}`);
    else if (!(e instanceof Error)) fail.push(`NOT AN ERROR ${what}: ${String(e)}`);
    else if (!KIND[kind][0].test(e.message)) fail.push(`MESSAGE ${what}: "${e.message}" does not name ${kind}`);
    else if (state() !== before) fail.push(`CHANGED ${what}: a refused call changed the state`);
    return;
  }
  if (!KIND[kind][1].includes(label)) fail.push(`ACCEPTED ${what} -> ${String(result)}`);
  else if (mirror) mirror();
  if (result && typeof result.free === "function" && result !== A && result !== S) result.free();
}

for (const [name, self, kinds, call] of METHODS) {
  const invoke = (thisValue, args, twin) => {
    if (!self) return call(args);
    const proto = self === "Agent" ? Agent.prototype : Session.prototype;
    return proto[name].apply(thisValue, args);
  };
  const target = (twin) => (self === "Agent" ? (twin ? twinA : A) : (twin ? twinS : S));
  kinds.forEach((kind, i) => {
    for (const [label, make] of HOSTILE) {
      const args = kinds.map((k, j) => (j === i ? make() : valid(k, false)));
      const what = `${name} arg ${i} (${kind}) = ${label}`;
      attempt(what, kind, label, () => invoke(target(false), args), () => {
        const twinArgs = kinds.map((k, j) => (j === i ? (label === "agent" ? twinA : label === "snapshot" ? twinA.snapshot() : make()) : valid(k, true)));
        invoke(target(true), twinArgs);
      });
    }
  });
  if (self) {
    // `this`: anything but a live object of the class.
    for (const [label, make] of HOSTILE) {
      if ((self === "Agent" && label === "agent") || (self === "Session" && label === "session")) continue;
      attempt(`${name} this = ${label}`, "this", label, () => invoke(make(), kinds.map((k) => valid(k, false))));
    }
  }
}

// The use after free of issue 19: a `valueOf` that frees the agent and makes
// another must not make the step run on the new agent's memory.
{
  let v = new Agent(5), w;
  calls++;
  try { v.step(ZEROS(), { valueOf() { v.free(); w = new Agent(6); return 0; } }); fail.push("ACCEPTED valueOf reward"); }
  catch (e) { if (!(e instanceof Error) || e instanceof WebAssembly.RuntimeError || !/reward/.test(e.message)) fail.push(`valueOf reward: ${e}`); }
  const clean = new Agent(6);
  if (w && w.snapshot().join() !== clean.snapshot().join()) fail.push("valueOf reward: another agent changed");
  // A throwing getter in the observation does not lock the agent.
  const u = new Agent(5);
  calls++;
  try { u.step(getterArray(() => { throw new Error("boom"); }), 0); fail.push("ACCEPTED throwing getter"); } catch (e) { if (!/obs/.test(e.message)) fail.push(`getter: ${e.message}`); }
  if (u.step(ZEROS(), 0) !== new Agent(5).step(ZEROS(), 0)) fail.push("getter: the agent steps differently after");
  u.free();
}

// A refusal: an Error (not a wasm trap) whose message matches `needle`.
const refusedWith = (what, needle, f) => {
  calls++;
  try { f(); fail.push(`ACCEPTED ${what}`); }
  catch (e) {
    if (e instanceof WebAssembly.RuntimeError) fail.push(`TRAP ${what}: ${e.message}`);
    else if (!(e instanceof Error)) fail.push(`NOT AN ERROR ${what}: ${String(e)}`);
    else if (!needle.test(e.message)) fail.push(`MESSAGE ${what}: "${e.message}" does not match ${needle}`);
  }
};
const X1 = [1, 0, 0, 0, 0, 0, 0, 0];
// A check that must hold, and must not throw.
const holds = (what, f) => {
  try { if (!f()) fail.push(what); } catch (e) { fail.push(`${what}: threw ${e}`); }
};

// Attack 3 of issue 19: a getter frees the agent being stepped. The generated
// glue cleared the object's pointer, then refused the free ("attempted to
// take ownership of Rust value while it was borrowed"): the object was gone
// for the caller, every later call "null pointer passed to rust". The guard
// refuses the free with an Error naming `this`; the step completes, the agent
// steps as its twin, frees once afterwards (its memory is handed out again)
// and a second free or a call after it is refused naming `this`.
for (let i = 0; i < 50; i++) {
  const [v, ptr] = aimAt(raw.Agent, () => new Agent(5)), twin = new Agent(5);
  let refusal = null, r = null;
  calls++;
  try { r = v.step(getterArray(() => { try { v.free(); } catch (e) { refusal = e; } return 0; }), 0); }
  catch (e) { fail.push(`attack 3: the step threw: ${e}`); }
  if (!(refusal instanceof Error) || refusal instanceof WebAssembly.RuntimeError || !/\bthis\b/.test(refusal.message)) {
    fail.push(`attack 3: a free from a getter was not refused naming this: ${refusal}`);
  }
  holds("attack 3: after a refused free the agent steps as its twin", () => r === twin.step(ZEROS(), 0)
    && v.step(X1, 1) === twin.step(X1, 1) && v.snapshot().join() === twin.snapshot().join());
  holds("attack 3: the agent frees after the call", () => v.free() === undefined);
  twin.free();
  const probe = new raw.Agent(0);
  if (probe.__wbg_ptr !== ptr) fail.push(`attack 3: the agent's memory (${ptr}) was not released by its free (next at ${probe.__wbg_ptr})`);
  probe.free();
  refusedWith("attack 3: a second free", /\bthis\b/, () => v.free());
  refusedWith("attack 3: a call after free", /\bthis\b/, () => v.steps());
}
// The same getter rethrowing the refusal, or using the agent otherwise: the
// step is refused naming obs, the agent unchanged and usable.
for (const [label, get] of [
  ["free rethrown", (v) => { v.free(); return 0; }],
  ["step", (v) => { v.step(ZEROS(), 0); return 0; }],
  ["run", (v) => { S.run(v, 1); return 0; }],
  ["read", (v) => v.steps()],
]) {
  const v = new Agent(5), twin = new Agent(5);
  const inner = [];
  refusedWith(`attack 3: a getter during step: ${label}`, /obs/, () => v.step(getterArray(() => {
    try { return get(v); } catch (e) { inner.push(e); throw e; }
  }), 0));
  if (inner.length !== 1 || !(inner[0] instanceof Error) || !/\b(this|agent)\b/.test(inner[0].message)) {
    fail.push(`attack 3: in a getter during step, ${label} was not refused naming this or agent: ${inner}`);
  }
  holds(`attack 3: after ${label} in a getter the agent steps as its twin`, () => v.step(X1, 1) === twin.step(X1, 1)
    && v.snapshot().join() === twin.snapshot().join() && v.free() === undefined);
  twin.free();
}

// Attack 1: a forged `this` whose pointer lies outside the wasm memory
// trapped ("memory access out of bounds"); now every method of both classes
// refuses it naming `this`.
for (const ptr of [2 ** 31, 2 ** 32 - 8, wasm.memory.buffer.byteLength + 8, 2 ** 53, -8]) {
  for (const [name, self, kinds] of METHODS) {
    if (!self) continue;
    const cls = self === "Agent" ? Agent : Session;
    const o = self === "Agent" ? forged(ptr) : forgedSession(ptr);
    attempt(`attack 1: ${self}.${name} on a forged ${self} at ${ptr}`, "this", "", () => cls.prototype[name].apply(o, kinds.map((k) => valid(k, false))));
  }
}

// Attack 2: free() on a forged object aimed at a live one. The glue handed
// the pointer to its release: aimed at an agent it freed it (the agent and
// then the allocator trapped), aimed a few bytes in it broke the agent's
// borrow flag or key (the agent refused every call). Now each is refused
// naming `this`, and every victim runs as its twin.
{
  const victims = [];
  for (let i = 0; i < 3; i++) {
    const [a, pa] = aimAt(raw.Agent, () => new Agent(20 + i));
    const [s, ps] = aimAt(raw.Session, () => new Session("rule-switch", 0, 20 + i));
    const ta = new Agent(20 + i), ts = new Session("rule-switch", 0, 20 + i);
    s.run(a, 30); ts.run(ta, 30);
    victims.push({ a, s, ta, ts, ptrs: [pa, ps] });
  }
  for (const { ptrs } of victims) {
    for (const p of ptrs) {
      for (const off of [0, 4, 8, 12, 16, 24, 32, 64, -8, -16, 4096]) {
        refusedWith(`attack 2: free() on a forged Agent at ${p}${off < 0 ? "" : "+"}${off}`, /\bthis\b/, () => forged(p + off).free());
        refusedWith(`attack 2: free() on a forged Session at ${p}${off < 0 ? "" : "+"}${off}`, /\bthis\b/, () => forgedSession(p + off).free());
      }
    }
  }
  for (const [i, { a, s, ta, ts }] of victims.entries()) {
    holds(`attack 2: victim ${i} runs as its twin after the forged frees`, () => a.step(X1, 1) === ta.step(X1, 1)
      && s.run(a, 40) === ts.run(ta, 40) && a.snapshot().join() === ta.snapshot().join()
      && s.outcomes().join() === ts.outcomes().join() && s.last_trial().join() === ts.last_trial().join());
    holds(`attack 2: victim ${i} frees`, () => [a, s, ta, ts].every((o) => o.free() === undefined));
  }
  holds("attack 2: new agents step alike after the forged frees", () => {
    const fresh1 = new Agent(1), fresh2 = new Agent(1);
    const same = fresh1.step(X1, 1) === fresh2.step(X1, 1);
    fresh1.free(); fresh2.free();
    return same;
  });
}

// Session.run with anything but a live, idle Agent of the guard: a fake that
// lends a genuine generated agent, or nothing, or throws; a generated agent
// itself; an Error naming agent, the session unchanged and usable.
for (const [label, fake] of [
  ["lends a freed agent", () => ({ __tcbg_lend() { const b = new raw.Agent(4); b.__tcbg_lend(); b.free(); } })],
  ["lends a raw agent", () => ({ __tcbg_lend() { new raw.Agent(4).__tcbg_lend(); } })],
  ["lends nothing", () => ({ __tcbg_lend() {} })],
  ["lend throws", () => ({ __tcbg_lend() { throw new Error("no"); } })],
  ["lend runs the session", () => ({ __tcbg_lend() { S.run(A, 1); } })],
  ["a generated agent", () => new raw.Agent(4)],
  ["a session", () => S],
]) {
  attempt(`run agent = ${label}`, "agent", label, () => S.run(fake(), 1));
}

// Intrinsics patched by the caller after the guard loaded (an iterator, an
// index getter and setter on Array.prototype that free the agent): the
// guard runs none of them mid-call, a call completes as on the twin.
{
  const v = new Agent(5), twin = new Agent(5), s = new Session("rule-switch", 0, 5), ts = new Session("rule-switch", 0, 5);
  const saved = Object.getOwnPropertyDescriptor(Array.prototype, Symbol.iterator);
  let ran = ""; // (not an array: the hooks are on Array.prototype)
  const hook = (what) => () => { ran += ` ${what}`; try { v.free(); } catch { /* refused while in use */ } };
  for (let i = 0; i < 3; i++) Object.defineProperty(Array.prototype, i, { configurable: true, get: hook(`get ${i}`), set: hook(`set ${i}`) });
  Object.defineProperty(Array.prototype, Symbol.iterator, { configurable: true, writable: true, value: function () { hook("iterator")(); return saved.value.call(this); } });
  let r1, r2;
  try { calls += 2; r1 = [v.step(new Float64Array(8), 0), s.run(v, 5), v.steps()].join(); }
  catch (e) { fail.push(`patched intrinsics: a call threw ${e}`); }
  finally {
    Object.defineProperty(Array.prototype, Symbol.iterator, saved);
    for (let i = 0; i < 3; i++) delete Array.prototype[i];
  }
  r2 = [twin.step(new Float64Array(8), 0), ts.run(twin, 5), twin.steps()].join();
  if (ran) fail.push(`patched intrinsics: the guard ran${ran}`);
  holds("patched intrinsics: the agent runs as its twin", () => r1 === r2 && v.snapshot().join() === twin.snapshot().join());
  [v, twin, s, ts].forEach((o) => o.free());
}

// The guard shows the generated classes' public API and nothing of the glue.
{
  const pub = (o) => Object.getOwnPropertyNames(o)
    .filter((k) => !k.startsWith("__") && !["constructor", "length", "name", "prototype"].includes(k)).sort().join();
  for (const [G, R] of [[Agent, raw.Agent], [Session, raw.Session]]) {
    if (pub(G.prototype) !== pub(R.prototype) || pub(G) !== pub(R)) fail.push(`API: ${G.name} differs from the generated class`);
    const tried = METHODS.filter(([, self]) => self === G.name).map(([n]) => n);
    const missing = pub(G.prototype).split(",").filter((n) => !tried.includes(n));
    if (missing.length) fail.push(`API: ${G.name} methods not tried here: ${missing}`);
  }
  for (const o of [A, S]) {
    for (const k of ["__wbg_ptr", "__tcbg_lend", "__destroy_into_raw", "__wrap"]) {
      if (k in o || k in o.constructor) fail.push(`API: ${o.constructor.name} shows ${k}`);
    }
    if (Reflect.ownKeys(o).length) fail.push(`API: ${o.constructor.name} objects have own properties`);
  }
  if (![Agent, Session, Agent.prototype, Session.prototype].every(Object.isFrozen)) fail.push("API: the classes are not frozen");
  if (Object.keys(m).sort().join() !== "Agent,Session,bench_steps,default,initSync,trace,trace_steps") fail.push(`API: exports ${Object.keys(m)}`);
  if (m.initSync() !== undefined) fail.push("API: initSync hands out the wasm exports");
}

// Afterwards the objects still work, and as their twins do.
const r1 = A.step([1, 0, 0, 0, 0, 0, 0, 0], 1), r2 = twinA.step([1, 0, 0, 0, 0, 0, 0, 0], 1);
if (r1 !== r2 || A.snapshot().join() !== twinA.snapshot().join()) fail.push("after the barrage the agent steps differently from its twin");
if (S.run(A, 20) !== twinS.run(twinA, 20) || S.outcomes().join() !== twinS.outcomes().join()
  || A.snapshot().join() !== twinA.snapshot().join() || S.trial_contexts().join() !== twinS.trial_contexts().join()
  || S.last_trial().join() !== twinS.last_trial().join()) fail.push("after the barrage the session runs differently from its twin");
A.free(); S.free();
console.log(`hostile calls ${calls}`);
if (fail.length) { console.error(fail.slice(0, 60).join("\n")); console.error(`hostile failures ${fail.length} of ${calls}`); process.exit(1); }
console.log("hostile ok");
