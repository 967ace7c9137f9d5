// The live views, drawn on canvases: cortex, thalamus, basal ganglia,
// dopamine and value, and the learning curve. Each draw function takes its
// canvas and plain data (arrays from the wasm views), and draws the whole
// view; none keeps state between frames.

/** One colour per control function / context channel (Okabe-Ito, colour-blind safe). */
export const CONTEXT_COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7"];

const INK = "#1d2330";
const MUTED = "#5b6475";
const GRID = "#e3e6eb";
const FONT = "12px system-ui, sans-serif";
/** Thalamic gain colour map stops: gain 0, 1, 2. */
const GAIN_STOPS = [[59, 44, 107], [42, 157, 143], [232, 179, 44]];
const GAIN_MAX = 2;

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
  return { ctx, w, h };
}

/** The colour of thalamic gain `g` (0 to 2). */
export function gainColour(g) {
  const t = Math.min(Math.max(g / GAIN_MAX, 0), 1) * (GAIN_STOPS.length - 1);
  const i = Math.min(Math.floor(t), GAIN_STOPS.length - 2);
  const f = t - i;
  const c = GAIN_STOPS[i].map((v, j) => Math.round(v + f * (GAIN_STOPS[i + 1][j] - v)));
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
export function drawCortex(canvas, { rates, gains, layout, active }) {
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
    ctx.fillStyle = CONTEXT_COLOURS[layout.owner[unit]];
    ctx.fillRect(x, base + 3, cw, band);
  });
  // One label per owner group, under the middle of its units.
  ctx.textAlign = "center";
  for (let k = 0; k < CONTEXT_COLOURS.length; k++) {
    const ps = layout.order.map((u, p) => (layout.owner[u] === k ? p : -1)).filter((p) => p >= 0);
    if (ps.length === 0) continue;
    const x = left + ((ps[0] + ps[ps.length - 1] + 1) / 2) * cw;
    ctx.font = k === active ? `bold ${FONT}` : FONT;
    ctx.fillStyle = k === active ? CONTEXT_COLOURS[k] : MUTED;
    ctx.fillText(`T${k}${k === active ? " (selected)" : ""}`, x, h - labels / 2);
  }
}

/** Thalamus: activity h of each control function, and each one's gain mask over cortex. */
export function drawThalamus(canvas, { activity, masks, layout, active }) {
  const { ctx, w, h } = prepare(canvas);
  const k = masks.length, top = 6, rowH = (h - top - 6) / k;
  const hW = Math.min(150, w * 0.28), maskL = hW + 16, maskW = w - maskL - 6;
  const scale = Math.max(1, ...activity.map(Math.abs));
  const zero = 34 + (hW - 34) / 2;
  for (let i = 0; i < k; i++) {
    const y = top + i * rowH, cy = y + rowH / 2;
    ctx.textAlign = "left";
    ctx.fillStyle = CONTEXT_COLOURS[i];
    ctx.font = `bold ${FONT}`;
    ctx.fillText(`T${i}`, 4, cy);
    ctx.font = FONT;
    // h as a bar around zero.
    ctx.fillStyle = GRID;
    ctx.fillRect(34, cy - 1, hW - 34, 2);
    const bw = (activity[i] / scale) * ((hW - 34) / 2);
    ctx.fillStyle = CONTEXT_COLOURS[i];
    ctx.globalAlpha = i === active ? 1 : 0.55;
    ctx.fillRect(Math.min(zero, zero + bw), cy - rowH * 0.28, Math.abs(bw), rowH * 0.56);
    ctx.globalAlpha = 1;
    ctx.fillStyle = MUTED;
    ctx.fillRect(zero, cy - rowH * 0.35, 1, rowH * 0.7);
    // The mask, units in the cortex view's order.
    const cw = maskW / layout.order.length;
    layout.order.forEach((unit, p) => {
      ctx.fillStyle = gainColour(masks[i][unit]);
      ctx.fillRect(maskL + p * cw, y + 3, Math.ceil(cw), rowH - 6);
    });
    if (i === active) {
      ctx.strokeStyle = CONTEXT_COLOURS[i];
      ctx.lineWidth = 3;
      ctx.strokeRect(maskL - 2, y + 1, maskW + 4, rowH - 2);
    }
  }
}

/** Basal ganglia: for each channel a salience bar up and a GPi bar down; the selected one marked. */
export function drawBasalGanglia(canvas, { actions, contexts }) {
  const { ctx, w, h } = prepare(canvas);
  const groups = [
    { title: "action channels", ...actions, colour: () => "#4d5b73", name: (i) => `action ${i}` },
    { title: "context channels", ...contexts, colour: (i) => CONTEXT_COLOURS[i], name: (i) => `T${i}` },
  ];
  const top = 18, bottom = 18, mid = top + (h - top - bottom) * 0.5;
  const up = mid - top - 4, down = h - bottom - mid - 4;
  const salMax = 1.5;
  const gpiMax = Math.max(1, ...groups.flatMap((g) => Array.from(g.gpi)));
  const axis = 78;
  const total = groups.reduce((n, g) => n + g.salience.length, 0) + 1;
  const slot = (w - axis - 10) / total;
  let x = axis;
  groups.forEach((g, gi) => {
    const n = g.salience.length;
    ctx.textAlign = "center";
    ctx.fillStyle = INK;
    ctx.fillText(g.title, x + (n * slot) / 2, 8);
    for (let i = 0; i < n; i++) {
      const cx = x + i * slot + slot / 2, bw = Math.min(slot * 0.5, 46);
      const selected = i === g.selected;
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
      ctx.fillStyle = selected ? INK : MUTED;
      ctx.font = selected ? `bold ${FONT}` : FONT;
      ctx.fillText(g.name(i), cx, h - 8);
      ctx.font = FONT;
    }
    x += n * slot + (gi === 0 ? slot : 0);
  });
  ctx.fillStyle = MUTED;
  ctx.fillRect(axis - 6, mid, w - axis - 4, 1);
  ctx.textAlign = "right";
  ctx.fillText("salience ↑", axis - 10, mid - up / 2);
  ctx.fillText("GPi ↓", axis - 10, mid + down / 2);
}

/** Dopamine and value over the last steps, with a zero line. */
export function drawDopamine(canvas, { dopamine, value, steps }) {
  const { ctx, w, h } = prepare(canvas);
  const left = 34, right = 8, top = 16, bottom = 16;
  const span = Math.max(1.2, ...Array.from(dopamine, Math.abs), ...Array.from(value, Math.abs));
  const y = (v) => top + (1 - (v + span) / (2 * span)) * (h - top - bottom);
  const cap = 300;
  const x = (i, n) => left + ((i + cap - n) / (cap - 1)) * (w - left - right);
  ctx.fillStyle = MUTED;
  ctx.textAlign = "right";
  for (let v = -Math.floor(span); v <= span; v++) {
    ctx.fillRect(left, y(v), w - left - right, v === 0 ? 1.5 : 1);
    ctx.fillText(String(v), left - 6, y(v));
  }
  const line = (data, colour, width) => {
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.beginPath();
    data.forEach((v, i) => (i ? ctx.lineTo(x(i, data.length), y(v)) : ctx.moveTo(x(i, data.length), y(v))));
    ctx.stroke();
  };
  line(value, "#0072b2", 2);
  line(dopamine, "#d55e00", 1.5);
  ctx.textAlign = "left";
  ctx.fillStyle = "#d55e00";
  ctx.fillText("dopamine δ", left + 4, 7);
  ctx.fillStyle = "#0072b2";
  ctx.fillText("value V", left + 90, 7);
  ctx.fillStyle = MUTED;
  ctx.textAlign = "right";
  ctx.fillText(`step ${steps}`, w - right, h - 6);
}

/** Accuracy within each block over its last (up to) 10 trials, and where the block first reached 9 of 10. */
export function blockCurves(outcomes, starts) {
  const curve = new Float32Array(outcomes.length);
  const criterion = [];
  starts.forEach((start, b) => {
    const end = b + 1 < starts.length ? starts[b + 1] : outcomes.length;
    let reached = false;
    for (let t = start; t < end; t++) {
      const from = Math.max(start, t - 9);
      let correct = 0;
      for (let u = from; u <= t; u++) correct += outcomes[u] & 1;
      curve[t] = correct / (t - from + 1);
      if (!reached && t - start >= 9 && correct >= 9) {
        reached = true;
        criterion.push(t);
      }
    }
  });
  return { curve, criterion };
}

/** The learning curve over the whole task, blocks shaded by their hidden rule. */
export function drawCurve(canvas, { outcomes, starts, rules, planned, ruleLabel }) {
  const { ctx, w, h } = prepare(canvas);
  const left = 34, right = 64, top = 20, ticks = 16, bottom = 22;
  const plotB = h - bottom - ticks;
  const n = Math.max(planned, outcomes.length, 1);
  const x = (t) => left + (t / n) * (w - left - right);
  const y = (v) => top + (1 - v) * (plotB - top);
  const { curve, criterion } = blockCurves(outcomes, starts);
  // Blocks: shading by rule, a boundary line, the rule's label.
  starts.forEach((start, b) => {
    const end = b + 1 < starts.length ? starts[b + 1] : outcomes.length;
    ctx.fillStyle = rules[b] % 2 === 0 ? "#e8f1fa" : "#fbf0e0";
    ctx.fillRect(x(start), top, x(end) - x(start), plotB - top);
    ctx.fillStyle = "#8a93a3";
    ctx.fillRect(x(start), top - 4, 1, plotB - top + 4);
    ctx.textAlign = "left";
    ctx.fillStyle = MUTED;
    if (x(end) - x(start) > 30) ctx.fillText(ruleLabel(rules[b]), x(start) + 4, top - 9);
  });
  // Axes and the criterion.
  ctx.textAlign = "right";
  ctx.fillStyle = MUTED;
  for (const v of [0, 0.5, 1]) {
    ctx.fillStyle = GRID;
    ctx.fillRect(left, y(v), w - left - right, 1);
    ctx.fillStyle = MUTED;
    ctx.fillText(v.toFixed(1), left - 6, y(v));
  }
  ctx.strokeStyle = "#b3261e";
  ctx.setLineDash([6, 4]);
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(left, y(0.9));
  ctx.lineTo(w - right + 2, y(0.9));
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = "#b3261e";
  ctx.textAlign = "left";
  ctx.fillText("criterion", w - right + 6, y(0.9) - 7);
  ctx.fillText("9 of 10", w - right + 6, y(0.9) + 7);
  // The curve, broken at block boundaries.
  ctx.strokeStyle = INK;
  ctx.lineWidth = 2;
  ctx.beginPath();
  const first = new Set(starts);
  for (let t = 0; t < curve.length; t++) {
    const px = x(t + 0.5), py = y(curve[t]);
    if (first.has(t)) ctx.moveTo(px, py);
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
  ctx.fillStyle = MUTED;
  ctx.textAlign = "center";
  ctx.fillText(`trial ${outcomes.length} of ${n}`, left + (w - left - right) / 2, h - 7);
}
