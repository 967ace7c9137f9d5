// The live views, drawn on canvases: the learning curve, the context strip
// and the errors per block; cortex, thalamus, basal ganglia, dopamine and
// value. Each draw function takes its canvas and plain data (arrays from the
// wasm views) and draws the whole view; none keeps state between frames.
//
// Every label goes through `label`, which records its box, colour and
// background on `canvas.textBoxes`: the end-to-end test checks that no two
// overlap and that each reaches WCAG AA contrast (4.5:1).

/** One fill colour per control function / context channel (Okabe-Ito, colour-blind safe). */
export const CONTEXT_COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7"];
/** The same hues dark enough for text on white (≥ 4.5:1). */
export const CONTEXT_TEXT = ["#0072b2", "#8a5a00", "#007a5a", "#a3467a"];
/** A trial under `no_thalamus` (no control function in force), as `Session.trial_contexts` marks it. */
export const NO_THALAMUS = 255;
const NONE_COLOUR = "#c3c8d0";
/** The second run of a comparison. */
export const TWIN_COLOUR = "#d55e00";
const TWIN_TEXT = "#a84300";

const INK = "#1d2330";
const MUTED = "#5b6475";
const GRID = "#e3e6eb";
const WHITE = "#ffffff";
const SIZE = 12;
const FONT = `${SIZE}px system-ui, sans-serif`;
/** Thalamic gain colour map stops: gain 0, 1, 2. */
const GAIN_STOPS = [[59, 44, 107], [42, 157, 143], [232, 179, 44]];
const GAIN_MAX = 2;
/** The window of the learning curve and the accuracy readout, in trials. */
export const WINDOW = 10;

/** Sizes the canvas for the device's pixel ratio; returns the context and the size in CSS pixels. */
function prepare(canvas) {
  const dpr = window.devicePixelRatio || 1;
  if (!canvas.dataset.cssHeight) canvas.dataset.cssHeight = canvas.getAttribute("height");
  const w = canvas.clientWidth;
  const h = Number(canvas.dataset.cssHeight);
  canvas.style.height = `${h}px`;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.font = FONT;
  ctx.textBaseline = "middle";
  canvas.textBoxes = [];
  return { ctx, w, h };
}

/**
 * Draws `text` at (x, y) (vertically centred) and records its box; `fit`
 * lists shorter forms tried in turn when `maxWidth` is given (none fitting:
 * nothing drawn). Returns the text drawn or null.
 */
function label(canvas, ctx, texts, x, y, { align = "left", colour = MUTED, bold = false, bg = WHITE, maxWidth } = {}) {
  ctx.font = bold ? `bold ${FONT}` : FONT;
  const forms = Array.isArray(texts) ? texts : [texts];
  const text = forms.find((t) => maxWidth === undefined || ctx.measureText(t).width <= maxWidth);
  if (text === undefined) {
    ctx.font = FONT;
    return null;
  }
  const width = ctx.measureText(text).width;
  const x0 = align === "left" ? x : align === "right" ? x - width : x - width / 2;
  ctx.textAlign = align;
  ctx.fillStyle = colour;
  ctx.fillText(text, x, y);
  ctx.font = FONT;
  canvas.textBoxes.push({ text, x0, y0: y - SIZE / 2, x1: x0 + width, y1: y + SIZE / 2, colour, bg });
  return text;
}

/** The colour of thalamic gain `g` (0 to 2). */
export function gainColour(g) {
  const t = Math.min(Math.max(g / GAIN_MAX, 0), 1) * (GAIN_STOPS.length - 1);
  const i = Math.min(Math.floor(t), GAIN_STOPS.length - 2);
  const f = t - i;
  const c = GAIN_STOPS[i].map((v, j) => Math.round(v + f * (GAIN_STOPS[i + 1][j] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** The colour of a recognition memory value `u` (0 to 1): white to deep blue. */
function memoryColour(u) {
  const t = Math.min(Math.max(u, 0), 1);
  const c = [[246, 247, 249], [11, 61, 145]].reduce((a, b) => a.map((v, j) => Math.round(v + t * (b[j] - v))));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/**
 * Cortical units ordered by the control function that owns them (the mask
 * with the largest gain on the unit), so the strip shows four groups.
 * Returns { order, owner }.
 */
export function cortexLayout(masks) {
  const n = masks[0].length;
  const owner = Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let k = 1; k < masks.length; k++) if (masks[k][i] > masks[best][i]) best = k;
    return best;
  });
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => owner[a] - owner[b] || a - b);
  return { order, owner };
}

/** Cortex: one bar per unit, height = rate, colour = gain; owner band below. */
export function drawCortex(canvas, { rates, gains, layout, active, noThalamus }) {
  const { ctx, w, h } = prepare(canvas);
  const left = 8, right = 8, top = 10, band = 8, labels = 18;
  const base = h - labels - band - 4;
  const cw = (w - left - right) / rates.length;
  ctx.fillStyle = "#f6f7f9";
  ctx.fillRect(left, top, w - left - right, base - top);
  layout.order.forEach((unit, p) => {
    const x = left + p * cw;
    const bh = Math.max(rates[unit], 0) * (base - top);
    ctx.fillStyle = gainColour(gains[unit]);
    ctx.fillRect(x + 1, base - bh, Math.max(cw - 2, 1), bh);
    ctx.fillStyle = noThalamus ? NONE_COLOUR : CONTEXT_COLOURS[layout.owner[unit]];
    ctx.fillRect(x, base + 3, cw, band);
  });
  if (noThalamus) {
    label(canvas, ctx, ["no thalamus: every gain fixed at 1, no control function selected", "no thalamus: gains fixed at 1",
      "no thalamus"], w / 2, h - labels / 2, { align: "center", colour: INK, bold: true, maxWidth: w - 8 });
    return;
  }
  // One label per owner group, under the middle of its units.
  for (let k = 0; k < CONTEXT_COLOURS.length; k++) {
    const ps = layout.order.map((u, p) => (layout.owner[u] === k ? p : -1)).filter((p) => p >= 0);
    if (ps.length === 0) continue;
    const x = left + ((ps[0] + ps[ps.length - 1] + 1) / 2) * cw;
    const room = (ps.length) * cw - 4;
    const forms = k === active ? [`T${k} (selected)`, `T${k} ✓`, `T${k}`] : [`T${k}`];
    label(canvas, ctx, forms, x, h - labels / 2,
      { align: "center", colour: k === active ? CONTEXT_TEXT[k] : MUTED, bold: k === active, maxWidth: room });
  }
}

/**
 * Thalamus: per control function its activity h, its competence, the trials
 * it has been in force, its gain mask over cortex (top half of its row) and
 * its recognition memory U of rewarded patterns (bottom half). Gains and U
 * change as it learns; under `no_thalamus` it is all switched off.
 */
export function drawThalamus(canvas, { activity, masks, memories, competence, uses, used, layout, active, lesions }) {
  const { ctx, w, h } = prepare(canvas);
  const k = masks.length, top = 18, rowH = (h - top - 4) / k;
  const narrow = w < 420;
  const nameW = 34, hW = narrow ? 40 : 56, compW = narrow ? 40 : 60;
  const hL = nameW, compL = hL + hW + 6, maskL = compL + compW + 8, maskW = w - maskL - 4;
  const off = lesions.no_thalamus;
  label(canvas, ctx, "h", hL + hW / 2, 8, { align: "center" });
  label(canvas, ctx, ["competence", "comp."], compL + compW / 2, 8, { align: "center", maxWidth: compW + 6 });
  label(canvas, ctx, ["gain mask (top), recognition memory U (bottom)", "gain (top), memory U (bottom)", "gain / U"],
    maskL + maskW / 2, 8, { align: "center", maxWidth: maskW });
  const scale = Math.max(1, ...activity.map(Math.abs));
  for (let i = 0; i < k; i++) {
    const y = top + i * rowH, cy = y + rowH / 2;
    ctx.globalAlpha = off ? 0.25 : 1;
    // h as a bar around zero.
    const zero = hL + hW / 2;
    ctx.fillStyle = GRID;
    ctx.fillRect(hL, cy - 1, hW, 2);
    const bw = (activity[i] / scale) * (hW / 2);
    ctx.fillStyle = CONTEXT_COLOURS[i];
    ctx.fillRect(Math.min(zero, zero + bw), cy - rowH * 0.25, Math.abs(bw), rowH * 0.5);
    ctx.fillStyle = MUTED;
    ctx.fillRect(zero, cy - rowH * 0.32, 1, rowH * 0.64);
    // Competence, 0 to 1.
    ctx.fillStyle = "#eef1f5";
    ctx.fillRect(compL, cy - rowH * 0.25, compW, rowH * 0.5);
    ctx.fillStyle = CONTEXT_COLOURS[i];
    ctx.fillRect(compL, cy - rowH * 0.25, compW * Math.min(Math.max(competence[i], 0), 1), rowH * 0.5);
    // Gain mask (top half) and recognition memory (bottom half), units in the cortex view's order.
    const cw = maskW / layout.order.length, half = (rowH - 6) / 2;
    layout.order.forEach((unit, p) => {
      ctx.fillStyle = gainColour(off ? 1 : masks[i][unit]);
      ctx.fillRect(maskL + p * cw, y + 3, Math.ceil(cw), half);
      ctx.fillStyle = memoryColour(memories[i][unit]);
      ctx.fillRect(maskL + p * cw, y + 3 + half, Math.ceil(cw), half);
    });
    ctx.globalAlpha = 1;
    if (i === active && !off) {
      ctx.strokeStyle = CONTEXT_COLOURS[i];
      ctx.lineWidth = 3;
      ctx.strokeRect(maskL - 2, y + 1, maskW + 4, rowH - 2);
    }
    // Name (bold once used) and the trials it held.
    label(canvas, ctx, `T${i}`, 3, cy - 6, { colour: off ? MUTED : CONTEXT_TEXT[i], bold: (used & (1 << i)) !== 0 });
    label(canvas, ctx, [`${uses[i]}`], 3, cy + 7, { colour: MUTED, maxWidth: nameW - 4 });
  }
  if (off || lesions.no_context_selection) {
    const text = off
      ? ["no_thalamus: gains fixed at 1, one shared context, nothing here is used", "no_thalamus: nothing here is used", "no_thalamus"]
      : ["no_context_selection: the basal ganglia never switch", "no_context_selection", "no switching"];
    ctx.font = `bold ${FONT}`;
    const t = text.find((s) => ctx.measureText(s).width <= w - 16) ?? text[text.length - 1];
    const tw = ctx.measureText(t).width;
    ctx.fillStyle = "rgba(255,255,255,0.92)";
    ctx.fillRect(w / 2 - tw / 2 - 8, h / 2 - 12, tw + 16, 24);
    label(canvas, ctx, t, w / 2, h / 2, { align: "center", colour: "#b3261e", bold: true });
  }
}

/** Basal ganglia: for each channel a salience bar up and a GPi bar down; the selected one marked. */
export function drawBasalGanglia(canvas, { actions, contexts, noThalamus }) {
  const { ctx, w, h } = prepare(canvas);
  const groups = [
    { title: ["action channels", "actions"], ...actions, colour: () => "#4d5b73", text: () => INK,
      name: (i) => [`action ${i}`, `a${i}`, `${i}`] },
    { title: ["context channels", "contexts"], ...contexts, colour: (i) => (noThalamus ? NONE_COLOUR : CONTEXT_COLOURS[i]),
      text: (i) => CONTEXT_TEXT[i], name: (i) => [`T${i}`] },
  ];
  const top = 18, bottom = 18, mid = top + (h - top - bottom) * 0.5;
  const up = mid - top - 4, down = h - bottom - mid - 4;
  const salMax = 1.5;
  const gpiMax = Math.max(1, ...groups.flatMap((g) => Array.from(g.gpi)));
  const axis = w < 420 ? 58 : 78;
  const total = groups.reduce((n, g) => n + g.salience.length, 0) + 1;
  const slot = (w - axis - 10) / total;
  let x = axis;
  groups.forEach((g, gi) => {
    const n = g.salience.length;
    // One form of the names for the whole group: the longest that fits every one, in bold.
    ctx.font = `bold ${FONT}`;
    const forms = g.name(0).map((_, f) => f);
    const form = forms.find((f) => [...Array(n).keys()].every((i) => ctx.measureText(g.name(i)[f]).width <= slot - 4))
      ?? forms[forms.length - 1];
    ctx.font = FONT;
    label(canvas, ctx, g.title, x + (n * slot) / 2, 8, { align: "center", colour: INK, maxWidth: n * slot + slot * 0.8 });
    for (let i = 0; i < n; i++) {
      const cx = x + i * slot + slot / 2, bw = Math.min(slot * 0.5, 46);
      const selected = i === g.selected && !(gi === 1 && noThalamus);
      ctx.fillStyle = g.colour(i);
      ctx.globalAlpha = selected ? 1 : 0.45;
      const sh = (Math.min(g.salience[i], salMax) / salMax) * up;
      ctx.fillRect(cx - bw / 2, mid - sh, bw, sh);
      ctx.globalAlpha = 1;
      const gh = (g.gpi[i] / gpiMax) * down;
      ctx.fillStyle = "#9aa3b2";
      ctx.fillRect(cx - bw / 2, mid + 1, bw, gh);
      if (selected) {
        ctx.strokeStyle = g.colour(i);
        ctx.lineWidth = 2;
        ctx.strokeRect(cx - bw / 2 - 3, top, bw + 6, h - top - bottom);
      }
      label(canvas, ctx, [g.name(i)[form]], cx, h - 8,
        { align: "center", colour: selected ? g.text(i) : MUTED, bold: selected, maxWidth: slot - 4 });
    }
    x += n * slot + (gi === 0 ? slot : 0);
  });
  ctx.fillStyle = MUTED;
  ctx.fillRect(axis - 6, mid, w - axis - 4, 1);
  label(canvas, ctx, ["salience ↑", "sal. ↑", "↑"], axis - 10, mid - up / 2, { align: "right", maxWidth: axis - 12 });
  label(canvas, ctx, ["GPi ↓", "↓"], axis - 10, mid + down / 2, { align: "right", maxWidth: axis - 12 });
}

/** Dopamine and value over the last steps, with a zero line. */
export function drawDopamine(canvas, { dopamine, value, steps }) {
  const { ctx, w, h } = prepare(canvas);
  const left = 34, right = 8, top = 18, bottom = 16;
  const span = Math.max(1.2, ...Array.from(dopamine, Math.abs), ...Array.from(value, Math.abs));
  const y = (v) => top + (1 - (v + span) / (2 * span)) * (h - top - bottom);
  const cap = 300;
  const x = (i, n) => left + ((i + cap - n) / (cap - 1)) * (w - left - right);
  for (let v = -Math.floor(span); v <= span; v++) {
    ctx.fillStyle = v === 0 ? MUTED : GRID;
    ctx.fillRect(left, y(v), w - left - right, v === 0 ? 1.5 : 1);
    label(canvas, ctx, String(v), left - 6, y(v), { align: "right" });
  }
  const line = (data, colour, width) => {
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.beginPath();
    data.forEach((v, i) => (i ? ctx.lineTo(x(i, data.length), y(v)) : ctx.moveTo(x(i, data.length), y(v))));
    ctx.stroke();
  };
  line(value, "#0072b2", 2);
  line(dopamine, TWIN_COLOUR, 1.5);
  const d = label(canvas, ctx, "dopamine δ", left + 4, 8, { colour: TWIN_TEXT, bold: true });
  const dw = d ? ctx.measureText(d).width + 20 : 0;
  label(canvas, ctx, "value V", left + 4 + dw, 8, { colour: "#0072b2", bold: true });
  label(canvas, ctx, `step ${steps}`, w - right, h - 6, { align: "right" });
}

/**
 * Accuracy over the last (up to) `WINDOW` trials, across block boundaries
 * (a switch shows as a dip as deep as its errors), and where each block
 * first reached 9 of its last 10 trials correct.
 */
export function curveOf(outcomes, starts) {
  const curve = new Float32Array(outcomes.length);
  let correct = 0;
  for (let t = 0; t < outcomes.length; t++) {
    correct += outcomes[t] & 1;
    if (t >= WINDOW) correct -= outcomes[t - WINDOW] & 1;
    curve[t] = correct / Math.min(t + 1, WINDOW);
  }
  const criterion = [];
  starts.forEach((start, b) => {
    const end = b + 1 < starts.length ? starts[b + 1] : outcomes.length;
    let inBlock = 0;
    for (let t = start; t < end; t++) {
      inBlock += outcomes[t] & 1;
      if (t - start >= WINDOW) inBlock -= outcomes[t - WINDOW] & 1;
      if (t - start >= WINDOW - 1 && inBlock >= 9) {
        criterion.push(t);
        break;
      }
    }
  });
  return { curve, criterion };
}

/** Errors (trials not correct) of each block. */
export function blockErrors(outcomes, starts) {
  return Array.from(starts, (start, b) => {
    const end = b + 1 < starts.length ? starts[b + 1] : outcomes.length;
    let errors = 0;
    for (let t = start; t < end; t++) errors += 1 - (outcomes[t] & 1);
    return errors;
  });
}

/** The horizontal layout the curve and the strip share. */
function trialAxis(w, n) {
  const left = 34, right = 64;
  return { left, right, x: (t) => left + (t / n) * (w - left - right) };
}

/** The learning curve over the whole task, blocks shaded by their hidden rule. */
export function drawCurve(canvas, { outcomes, starts, rules, planned, ruleLabel, ruleShort, title, colour = INK }) {
  const { ctx, w, h } = prepare(canvas);
  const top = title ? 32 : 20, ticks = 16, bottom = 20;
  const plotB = h - bottom - ticks;
  const n = Math.max(planned, outcomes.length, 1);
  const { left, right, x } = trialAxis(w, n);
  const y = (v) => top + (1 - v) * (plotB - top);
  const { curve, criterion } = curveOf(outcomes, starts);
  if (title) label(canvas, ctx, title, left, 8, { colour: colour === INK ? INK : TWIN_TEXT, bold: true });
  // Blocks: shading by rule, a boundary line, the rule's label where it fits.
  let lastLabelEnd = -Infinity;
  starts.forEach((start, b) => {
    const end = b + 1 < starts.length ? starts[b + 1] : outcomes.length;
    ctx.fillStyle = rules[b] % 2 === 0 ? "#e8f1fa" : "#fbf0e0";
    ctx.fillRect(x(start), top, x(end) - x(start), plotB - top);
    ctx.fillStyle = "#8a93a3";
    ctx.fillRect(x(start), top - 4, 1, plotB - top + 4);
    // The last block may use the room up to the plot's end; the others their own width.
    const limit = b + 1 < starts.length ? x(end) : w - right;
    const from = Math.max(x(start) + 3, lastLabelEnd + 6);
    const shown = label(canvas, ctx, [ruleLabel(rules[b]), ruleShort(rules[b])], from, top - 10,
      { maxWidth: limit - from - 2 });
    if (shown) lastLabelEnd = canvas.textBoxes[canvas.textBoxes.length - 1].x1;
  });
  // Axes and the criterion.
  for (const v of [0, 0.5, 1]) {
    ctx.fillStyle = GRID;
    ctx.fillRect(left, y(v), w - left - right, 1);
    label(canvas, ctx, v.toFixed(1), left - 6, y(v), { align: "right" });
  }
  ctx.strokeStyle = "#b3261e";
  ctx.setLineDash([6, 4]);
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(left, y(0.9));
  ctx.lineTo(w - right + 2, y(0.9));
  ctx.stroke();
  ctx.setLineDash([]);
  label(canvas, ctx, "criterion", w - right + 6, y(0.9) - 7, { colour: "#b3261e" });
  label(canvas, ctx, "9 of 10", w - right + 6, y(0.9) + 7, { colour: "#b3261e" });
  // The curve, one line over every block.
  ctx.strokeStyle = colour;
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (let t = 0; t < curve.length; t++) {
    const px = x(t + 0.5), py = y(curve[t]);
    if (t === 0) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
  }
  ctx.stroke();
  ctx.fillStyle = "#b3261e";
  for (const t of criterion) {
    ctx.beginPath();
    ctx.arc(x(t + 0.5), y(curve[t]), 4, 0, 2 * Math.PI);
    ctx.fill();
  }
  // One tick per trial: correct up (green), wrong down (red).
  const mid = plotB + ticks / 2 + 2;
  const tw = Math.max((w - left - right) / n - 0.5, 1);
  for (let t = 0; t < outcomes.length; t++) {
    const ok = outcomes[t] & 1;
    ctx.fillStyle = ok ? "#009e73" : "#d55e00";
    ctx.fillRect(x(t), ok ? mid - 6 : mid, tw, 6);
  }
  label(canvas, ctx, `trial ${outcomes.length} of ${n}`, left + (w - left - right) / 2, h - 7, { align: "center" });
  canvas.dataset.last = curve.length ? curve[curve.length - 1].toFixed(2) : "";
  canvas.dataset.trials = String(outcomes.length);
}

/**
 * The context strip: one cell per trial in the colour of the control
 * function in force at its choice (grey: no thalamus), aligned with the curve.
 */
export function drawStrip(canvas, { contexts, starts, planned, name }) {
  const { ctx, w, h } = prepare(canvas);
  const n = Math.max(planned, contexts.length, 1);
  const { left, right, x } = trialAxis(w, n);
  const tw = Math.max((w - left - right) / n, 1);
  ctx.fillStyle = "#f6f7f9";
  ctx.fillRect(left, 2, w - left - right, h - 4);
  const seen = new Set();
  for (let t = 0; t < contexts.length; t++) {
    const c = contexts[t];
    seen.add(c === NO_THALAMUS ? "none" : String(c));
    ctx.fillStyle = c === NO_THALAMUS ? NONE_COLOUR : CONTEXT_COLOURS[c];
    ctx.fillRect(x(t), 2, tw + 0.3, h - 4);
  }
  ctx.fillStyle = INK;
  for (const s of starts) ctx.fillRect(x(s), 0, 1, h);
  label(canvas, ctx, [name ?? "control fn", "ctx"], left - 4, h / 2, { align: "right", maxWidth: left - 4 });
  // The control functions that held trials, for the legend and the end-to-end test.
  canvas.dataset.contexts = [...seen].sort().join(",");
  canvas.dataset.trials = String(contexts.length);
  // The trials where blocks begin (the rule switches), drawn as the strip's ticks.
  canvas.dataset.starts = [...starts].join(",");
}

/** Errors per block, a bar each; a second run's bars beside them when comparing. */
export function drawBlockErrors(canvas, { runs, blocks }) {
  const { ctx, w, h } = prepare(canvas);
  const left = 34, right = 64, top = 16, bottom = 16;
  const errs = runs.map((r) => r.errors);
  const max = Math.max(5, ...errs.flat());
  const bw = (w - left - right) / Math.max(blocks, 1);
  const y = (v) => h - bottom - (v / max) * (h - top - bottom);
  ctx.fillStyle = GRID;
  ctx.fillRect(left, y(0), w - left - right, 1);
  label(canvas, ctx, "0", left - 6, y(0), { align: "right" });
  label(canvas, ctx, String(max), left - 6, y(max), { align: "right" });
  label(canvas, ctx, ["errors per block", "errors"], left, 7, { colour: INK, bold: true, maxWidth: w / 2 });
  runs.forEach((r, i) => {
    const one = (bw * 0.8) / runs.length;
    r.errors.forEach((e, b) => {
      const x0 = left + b * bw + bw * 0.1 + i * one;
      ctx.fillStyle = r.colour;
      ctx.fillRect(x0, y(e), Math.max(one - 1, 1), y(0) - y(e));
    });
  });
  let lastEnd = -Infinity;
  for (let b = 0; b < blocks; b++) {
    const cx = left + (b + 0.5) * bw;
    const t = String(b + 1);
    if (cx - ctx.measureText(t).width / 2 > lastEnd + 4) {
      label(canvas, ctx, t, cx, h - 7, { align: "center" });
      lastEnd = canvas.textBoxes[canvas.textBoxes.length - 1].x1;
    }
  }
  if (runs.length > 1) {
    runs.forEach((r, i) => label(canvas, ctx, [r.name, i ? "lesion" : "intact"], w - right + 6, top + 6 + i * 15,
      { colour: r.text, bold: true, maxWidth: right - 8 }));
  }
  canvas.dataset.errors = errs.map((e) => e.join(",")).join("|");
}
