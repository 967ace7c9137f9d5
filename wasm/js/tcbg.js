// tcbg.js: the guarded JavaScript API of tcbg-wasm (issue 19), the module the
// page imports. `cargo xtask demo` copies it next to the generated bindings
// (`web/pkg/tcbg.js` beside `web/pkg/tcbg_wasm.js`).
//
// The Rust side checks every argument (wasm/src/check.rs), but three attacks
// happen in wasm-bindgen's generated glue before any Rust runs, because its
// objects are plain JavaScript objects holding a raw pointer (`__wbg_ptr`)
// that anyone can write: a hand-made `Object.create(Agent.prototype)` with a
// pointer outside memory traps; `free()` on one hands the forged pointer to
// the glue's release (freeing or damaging another object); a `free()` from a
// getter during a call on the same object is refused by Rust after the glue
// has cleared the pointer (the object leaks and is unusable).
//
// Here `Agent` and `Session` are wrapper classes holding the generated object
// in a private field, which no caller can read, write or forge:
// - `this` must be a wrapper made by this module (`new Agent(…)`,
//   `Agent.restore(…)`, …), not freed and not in a call: anything else (a
//   forged or wrong-class object, a proxy, a primitive) throws an `Error`
//   naming `this` before the glue runs;
// - `free()` frees the generated object once; a second `free()` or any call
//   after it throws an `Error` naming `this`;
// - while a call on an object is in progress (the Rust side may call back
//   into JavaScript: an observation's getter), that object, and an agent a
//   session is running, refuse every call, `free()` included, with an `Error`
//   naming `this` (or the argument): nothing is freed while in use, nothing
//   leaks;
// - `Session.run`'s `agent` must be a live, idle `Agent` wrapper; the wrapper
//   is unwrapped here, so the glue only ever sees genuine objects;
// - the classes and their prototypes are frozen.
// The raw pointer and the wasm exports are never handed out (`init` and
// `initSync` return nothing). Every other argument goes to the generated glue
// as it is, and the Rust side checks it.

import rawInit, {
  initSync as rawInitSync,
  Agent as RawAgent,
  Session as RawSession,
  bench_steps,
  trace,
  trace_steps,
} from "./tcbg_wasm.js";

export { bench_steps, trace, trace_steps };

/** `await init()` (or `init({ module_or_path })`): loads the wasm once. */
export default async function init(options) {
  await rawInit(options);
}

/** `initSync({ module })`: the synchronous load (node, workers). */
export function initSync(options) {
  rawInitSync(options);
}

// Intrinsics taken now, so a caller who patches them later runs no code
// inside a call. Calls loop over no arrays (a patched iterator, `push` or
// index getter on `Array.prototype` would run the caller's code mid-call).
const { apply, construct, ownKeys } = Reflect;
const { defineProperty, freeze } = Object;
const ErrorCtor = Error;

/** Objects and functions (the only values that may carry a private field). */
const isObject = (v) => (typeof v === "object" && v !== null) || typeof v === "function";

/** A token only this module holds: `new Agent(ADOPT, raw)` wraps a generated object. */
const ADOPT = freeze({});

/** Names not wrapped: the glue's internals (`__wbg_ptr`, `__destroy_into_raw`,
 * `__tcbg_lend`, `__wrap`, …) and what every class has. */
const SKIP = new Set(["constructor", "free", "length", "name", "prototype"]);
const internal = (key) => typeof key !== "string" || key.startsWith("__") || SKIP.has(key);

/** The wrapper class `name` of a generated class `Raw`: the prototype methods
 * and static functions of `Raw` (internals excepted), each checking its
 * `this`. `object` is the one parameter that is a wrapper, if any:
 * `{ method, index, name, guard }` (`guard` from an earlier class's `guard`).
 * Returns the class and its guard: `open(value, what)` (the generated object
 * behind a live, idle wrapper, else an `Error` naming `what`), `hold(value)`
 * and `release(value)` (marking it in use by a call). */
function guarded(name, Raw, object) {
  const an = /^[AEIOU]/.test(name) ? `an ${name}` : `a ${name}`;
  let guard;
  class Guarded {
    /** The generated object; `null` once freed. */
    #inner;
    /** Calls in progress that use this object. */
    #busy = 0;

    constructor(...args) {
      this.#inner = args.length === 2 && args[0] === ADOPT ? args[1] : construct(Raw, args);
    }

    /** The generated object behind `v`, which must be a live wrapper of this
     * class not in use by a call; else an `Error` naming `what`. Runs no code
     * of the caller (`#inner in v` looks at `v` itself, a proxy's too). */
    static #open(v, what) {
      if (!isObject(v) || !(#inner in v)) {
        throw new ErrorCtor(`${what} is not ${an} (made by new ${name} or a function of ${name}; ` +
          "not a forged object, a proxy or another class)");
      }
      if (v.#inner === null) throw new ErrorCtor(`${what} is a freed ${name} (free() was called on it)`);
      if (v.#busy !== 0) {
        throw new ErrorCtor(`${what} is ${an} in use by a call in progress (called back from a getter?); ` +
          "it can be used again when that call has returned");
      }
      return v.#inner;
    }

    /** Frees the generated object, once; refused while a call uses it. */
    free() {
      const inner = Guarded.#open(this, "this");
      this.#inner = null;
      inner.free();
    }

    static {
      guard = freeze({
        open: (v, what) => Guarded.#open(v, what),
        hold: (v) => void v.#busy++,
        release: (v) => void v.#busy--,
      });
      for (const key of ownKeys(Raw.prototype)) {
        if (internal(key)) continue;
        const method = Raw.prototype[key];
        const wrapped = object?.method !== key
          ? function (...args) {
            const inner = Guarded.#open(this, "this");
            this.#busy++;
            try {
              return adopt(apply(method, inner, args));
            } finally {
              this.#busy--;
            }
          }
          : function (...args) {
            const inner = Guarded.#open(this, "this");
            const { index, name: argName, guard: argGuard } = object;
            const arg = index < args.length ? args[index] : undefined;
            args[index] = argGuard.open(arg, argName);
            this.#busy++;
            argGuard.hold(arg);
            try {
              return adopt(apply(method, inner, args));
            } finally {
              this.#busy--;
              argGuard.release(arg);
            }
          };
        defineProperty(wrapped, "name", { value: key });
        defineProperty(Guarded.prototype, key, { configurable: true, writable: true, value: wrapped });
      }
      for (const key of ownKeys(Raw)) {
        if (internal(key)) continue;
        const fn = Raw[key];
        const wrapped = function (...args) {
          return adopt(apply(fn, Raw, args));
        };
        defineProperty(wrapped, "name", { value: key });
        defineProperty(Guarded, key, { configurable: true, writable: true, value: wrapped });
      }
    }
  }
  defineProperty(Guarded, "name", { value: name });
  // Other code on the page cannot swap a method for one without the checks.
  freeze(Guarded.prototype);
  freeze(Guarded);
  return { cls: Guarded, guard };
}

/** A generated object the glue returned, wrapped; anything else as it is. */
function adopt(v) {
  if (v instanceof RawAgent) return new Agent(ADOPT, v);
  if (v instanceof RawSession) return new Session(ADOPT, v);
  return v;
}

const agents = guarded("Agent", RawAgent, null);

/** `new Agent(seed)`, `Agent.with_config(json, seed)`, `Agent.restore(bytes)`,
 * `agent.step(obs, reward)`, … (wasm/src/agent.rs). */
export const Agent = agents.cls;

/** `new Session(task, delay, seed)`, `session.run(agent, steps)`, …
 * (wasm/src/session.rs). */
export const Session = guarded("Session", RawSession, {
  method: "run", index: 0, name: "agent", guard: agents.guard,
}).cls;
