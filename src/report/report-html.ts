// One self-contained HTML page per run or benchmark: inline SVG plots, inline CSS, no script,
// no network. Plots: rate over time (from the counter sampler), the completion-latency
// histogram (when the core records one), completions per interrupt against commands in flight
// (from the same samples: CIF = posted − completed at a sample, completions per interrupt over
// the interval before it), and bytes copied against bytes referenced.
//
// `vnic replay --report FILE.html`: the replay passes `replayReportRecorder().sampler` to
// replay(), keeps the Datapath from onStart, and calls writeReplayReport after the run.
// `vnic bench --report FILE.html`: writeBenchReport with the bench results (samples kept).

import { writeFileSafely } from "../util/output-file.js";
import type { CounterSnapshot } from "../core/counters.js";
import type { Datapath, RunSampler } from "../datapath/datapath.js";
import type { ReplayFacts } from "./report.js";
import { jsonReport } from "./report.js";
import type { BenchResults, ConfigResult } from "../perf/bench.js";
import type { RunSample } from "../perf/bench-run.js";
import { latencyFromCore, type LatencyWithBuckets } from "./latency.js";
import { RunContext, contextRows, fromFirstPost, largeSendRows } from "./replay-report-context.js";

// ---------------------------------------------------------------- tiny SVG plotting

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];

export const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

interface Series {
  name: string;
  points: [number, number][];
  color?: string;
  dash?: string;
}

interface Frame {
  w: number;
  h: number;
  l: number;
  r: number;
  t: number;
  b: number;
}

const FRAME: Frame = { w: 560, h: 300, l: 64, r: 16, t: 34, b: 46 };

/** "Nice" tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** 5e7 → "50M", 2500 → "2.5k" (axis labels). */
function siLabel(v: number): string {
  const a = Math.abs(v);
  for (const [d, u] of [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]] as const) if (a >= d) return `${Math.round((v / d) * 100) / 100}${u}`;
  return fmt(v);
}

/** 100 → "100", 1000 → "1k", 1e5 → "100k" (µs tick labels). */
function usLabel(v: number): string {
  if (v >= 1e6) return `${Math.round(v / 1e5) / 10}M`;
  if (v >= 1e3) return `${Math.round(v / 100) / 10}k`;
  return fmt(v);
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-2)) return v.toExponential(1);
  return String(Math.round(v * 1000) / 1000);
}

function axes(f: Frame, title: string, xLabel: string, yLabel: string, xs: number[], ys: number[], sx: (x: number) => number, sy: (y: number) => number, xTickLabel = fmt): string {
  const parts: string[] = [];
  parts.push(`<text x="${f.w / 2}" y="18" text-anchor="middle" class="title">${esc(title)}</text>`);
  parts.push(`<rect x="${f.l}" y="${f.t}" width="${f.w - f.l - f.r}" height="${f.h - f.t - f.b}" class="plot"/>`);
  for (const y of ys) {
    const py = sy(y);
    parts.push(`<line x1="${f.l}" x2="${f.w - f.r}" y1="${py}" y2="${py}" class="grid"/><text x="${f.l - 6}" y="${py + 4}" text-anchor="end" class="tick">${esc(fmt(y))}</text>`);
  }
  for (const x of xs) {
    const px = sx(x);
    parts.push(`<line x1="${px}" x2="${px}" y1="${f.h - f.b}" y2="${f.h - f.b + 4}" class="axis"/><text x="${px}" y="${f.h - f.b + 16}" text-anchor="middle" class="tick">${esc(xTickLabel(x))}</text>`);
  }
  parts.push(`<text x="${(f.l + f.w - f.r) / 2}" y="${f.h - 8}" text-anchor="middle" class="label">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${(f.t + f.h - f.b) / 2}) rotate(-90)" text-anchor="middle" class="label">${esc(yLabel)}</text>`);
  return parts.join("");
}

/** Legend in the right margin (the frame leaves LEGEND_W for it): a line swatch with the
 *  series' colour and dash, so the lines can be told apart without covering the data. */
const LEGEND_W = 140;
function legend(f: Frame, series: Series[]): string {
  const x = f.w - LEGEND_W + 8;
  return series
    .map((s, i) => {
      const y = f.t + 8 + i * 14;
      const color = s.color ?? PALETTE[i % PALETTE.length];
      return `<line x1="${x}" x2="${x + 22}" y1="${y - 3}" y2="${y - 3}" stroke="${color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>` +
        `<text x="${x + 27}" y="${y + 1}" class="legend">${esc(s.name)}</text>`;
    })
    .join("");
}

function emptyChart(title: string, why: string, f = FRAME): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${f.w}" height="${f.h}" viewBox="0 0 ${f.w} ${f.h}" role="img">` +
    `<text x="${f.w / 2}" y="18" text-anchor="middle" class="title">${esc(title)}</text>` +
    `<rect x="${f.l}" y="${f.t}" width="${f.w - f.l - f.r}" height="${f.h - f.t - f.b}" class="plot"/>` +
    `<text x="${f.w / 2}" y="${f.h / 2}" text-anchor="middle" class="note">${esc(why)}</text></svg>`;
}

/** Lines (mode "line") or dots (mode "dots") over linear axes starting at 0. */
export function xyChart(title: string, xLabel: string, yLabel: string, series: Series[], mode: "line" | "dots" = "line", frame = FRAME): string {
  const f = series.length > 1 ? { ...frame, w: frame.w + 40, r: LEGEND_W } : frame;
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (all.length === 0) return emptyChart(title, "no data", f);
  const xmax = Math.max(...all.map((p) => p[0])) || 1;
  const ymax = (Math.max(...all.map((p) => p[1])) || 1) * 1.08;
  const sx = (x: number) => f.l + (x / xmax) * (f.w - f.l - f.r);
  const sy = (y: number) => f.h - f.b - (y / ymax) * (f.h - f.t - f.b);
  const body = series
    .map((s, i) => {
      const color = s.color ?? PALETTE[i % PALETTE.length];
      const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
      if (mode === "dots") return pts.map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.6" fill="${color}" fill-opacity="0.7"/>`).join("");
      return `<polyline fill="none" stroke="${color}" stroke-width="1.6"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""} points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ")}"/>`;
    })
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${f.w}" height="${f.h}" viewBox="0 0 ${f.w} ${f.h}" role="img">` +
    axes(f, title, xLabel, yLabel, ticks(0, xmax), ticks(0, ymax), sx, sy) + body + (series.length > 1 ? legend(f, series) : "") + `</svg>`;
}

interface Bar {
  label: string;
  /** Stacked segments (value, color, name). */
  parts: { value: number; color: string; name: string }[];
  whisker?: [number, number];
}

/** Horizontal bars (stacked when a bar has several parts), with optional min–max whiskers. */
export function barChart(title: string, xLabel: string, bars: Bar[], w = 1120, tick: (v: number) => string = siLabel): string {
  if (bars.length === 0) return emptyChart(title, "no data");
  const rowH = 18;
  const f: Frame = { w, h: FRAME.t + bars.length * rowH + FRAME.b + 10, l: 220, r: 30, t: 40, b: 40 };
  const xmax = Math.max(...bars.map((b) => Math.max(b.parts.reduce((a, p) => a + p.value, 0), b.whisker?.[1] ?? 0))) * 1.05 || 1;
  const sx = (x: number) => f.l + (x / xmax) * (f.w - f.l - f.r);
  const parts: string[] = [];
  parts.push(`<text x="${f.w / 2}" y="18" text-anchor="middle" class="title">${esc(title)}</text>`);
  for (const x of ticks(0, xmax, 8)) {
    const px = sx(x);
    parts.push(`<line x1="${px}" x2="${px}" y1="${f.t - 4}" y2="${f.h - f.b}" class="grid"/><text x="${px}" y="${f.h - f.b + 14}" text-anchor="middle" class="tick">${esc(tick(x))}</text>`);
  }
  bars.forEach((b, i) => {
    const y = f.t + i * rowH;
    parts.push(`<text x="${f.l - 6}" y="${y + rowH / 2 + 4}" text-anchor="end" class="tick">${esc(b.label)}</text>`);
    let acc = 0;
    for (const p of b.parts) {
      parts.push(`<rect x="${sx(acc).toFixed(1)}" y="${y + 3}" width="${Math.max(0, sx(acc + p.value) - sx(acc)).toFixed(1)}" height="${rowH - 6}" fill="${p.color}"><title>${esc(`${b.label}: ${p.name} ${fmt(p.value)}`)}</title></rect>`);
      acc += p.value;
    }
    if (b.whisker) {
      const [lo, hi] = b.whisker;
      const cy = y + rowH / 2;
      parts.push(`<line x1="${sx(lo)}" x2="${sx(hi)}" y1="${cy}" y2="${cy}" class="whisker"/><line x1="${sx(lo)}" x2="${sx(lo)}" y1="${cy - 4}" y2="${cy + 4}" class="whisker"/><line x1="${sx(hi)}" x2="${sx(hi)}" y1="${cy - 4}" y2="${cy + 4}" class="whisker"/>`);
    }
  });
  parts.push(`<text x="${(f.l + f.w - f.r) / 2}" y="${f.h - 8}" text-anchor="middle" class="label">${esc(xLabel)}</text>`);
  const names = new Map<string, string>();
  for (const b of bars) for (const p of b.parts) names.set(p.name, p.color);
  if (names.size > 1) {
    let x = f.l;
    for (const [name, color] of names) {
      parts.push(`<rect x="${x}" y="26" width="10" height="10" fill="${color}"/><text x="${x + 14}" y="35" class="legend">${esc(name)}</text>`);
      x += 24 + name.length * 6;
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${f.w}" height="${f.h}" viewBox="0 0 ${f.w} ${f.h}" role="img">${parts.join("")}</svg>`;
}

/** Latency histogram: one bar per recorded bucket on a log-scaled time axis. */
export function latencyChart(title: string, lat: { buckets: { lowNs: number; count: number }[]; p50Us?: number; p99Us?: number } | null | undefined): string {
  if (!lat || lat.buckets.length === 0) return emptyChart(title, "no latency recorded by this build of the core");
  const f = FRAME;
  const lows = lat.buckets.map((b) => b.lowNs / 1000);
  const lo = Math.max(1e-3, Math.min(...lows));
  const hi = Math.max(...lows) * 1.25;
  const l0 = Math.floor(Math.log10(lo)), l1 = Math.ceil(Math.log10(hi));
  const sx = (us: number) => f.l + ((Math.log10(Math.max(us, 10 ** l0)) - l0) / Math.max(1, l1 - l0)) * (f.w - f.l - f.r);
  const total = lat.buckets.reduce((a, b) => a + b.count, 0);
  const ymax = Math.max(...lat.buckets.map((b) => b.count / total)) * 1.1;
  const sy = (y: number) => f.h - f.b - (y / ymax) * (f.h - f.t - f.b);
  const xs: number[] = [];
  for (let e = l0; e <= l1; e++) xs.push(10 ** e);
  const bars = lat.buckets.map((b) => {
    const x0 = sx(b.lowNs / 1000), x1 = Math.max(x0 + 1.5, sx((b.lowNs * 1.125) / 1000));
    return `<rect x="${x0.toFixed(1)}" y="${sy(b.count / total).toFixed(1)}" width="${(x1 - x0).toFixed(1)}" height="${(f.h - f.b - sy(b.count / total)).toFixed(1)}" fill="${PALETTE[0]}"><title>${esc(`≥ ${fmt(b.lowNs / 1000)} µs: ${b.count}`)}</title></rect>`;
  });
  const marks = ([["p50", lat.p50Us], ["p99", lat.p99Us]] as const)
    .filter(([, v]) => v !== undefined && Number.isFinite(v))
    .map(([n, v], i) => `<line x1="${sx(v!)}" x2="${sx(v!)}" y1="${f.t}" y2="${f.h - f.b}" stroke="${PALETTE[1 + i]}" stroke-dasharray="4 3"/><text x="${sx(v!) > f.w - f.r - 90 ? sx(v!) - 3 : sx(v!) + 3}" text-anchor="${sx(v!) > f.w - f.r - 90 ? "end" : "start"}" y="${f.t + 12 + i * 12}" class="legend" fill="${PALETTE[1 + i]}">${n} ${v! >= 100 ? Math.round(v!) : v!.toFixed(1)} µs</text>`)
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${f.w}" height="${f.h}" viewBox="0 0 ${f.w} ${f.h}" role="img">` +
    axes(f, title, "completion latency (µs, log scale)", "fraction of completions", xs, ticks(0, ymax), sx, sy, usLabel) + bars.join("") + marks + `</svg>`;
}

// ---------------------------------------------------------------- derived series

/** Mpps over time: Δ wire frames / Δ t between consecutive samples. */
export function rateSeries(samples: RunSample[]): [number, number][] {
  const out: [number, number][] = [];
  const dts = samples.slice(1).map((s, i) => s.t - samples[i].t).sort((a, b) => a - b);
  const typical = dts.length ? dts[dts.length >> 1] : 0;
  for (let i = 1; i < samples.length; i++) {
    const dt = samples[i].t - samples[i - 1].t;
    // The sample taken when the run ends closes a short, partial interval: not a rate.
    if (dt > 0 && dt >= typical / 2) out.push([samples[i].t, (samples[i].wireFrames - samples[i - 1].wireFrames) / dt / 1e6]);
  }
  return out;
}

/** (commands in flight at the sample, completions per interrupt over the interval before). */
export function coalescingSeries(samples: RunSample[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 1; i < samples.length; i++) {
    const dc = samples[i].completed - samples[i - 1].completed;
    const di = samples[i].interrupts - samples[i - 1].interrupts;
    if (dc > 0 && di > 0) out.push([samples[i].posted - samples[i].completed, dc / di]);
  }
  return out;
}

// ---------------------------------------------------------------- pages

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.meta{color:#555;margin-bottom:12px} .grid2{display:flex;flex-wrap:wrap;gap:12px}
svg{background:#fff;border:1px solid #e4e4e4;border-radius:4px}
svg .title{font-size:13px;font-weight:600} svg .tick{font-size:10px;fill:#444} svg .label{font-size:11px;fill:#333}
svg .legend{font-size:10px;fill:#222} svg .note{font-size:12px;fill:#888} svg .plot{fill:#fcfcfc;stroke:#bbb}
svg .grid{stroke:#eee} svg .axis{stroke:#888} svg .whisker{stroke:#222;stroke-width:1.2}
table{border-collapse:collapse;font-size:12px} td,th{border:1px solid #ddd;padding:3px 6px;text-align:right} th{background:#f4f4f4}
td.l,th.l{text-align:left} .bad{color:#b00;font-weight:600} .ok{color:#070}
`;

function page(title: string, meta: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>` +
    `<meta name="viewport" content="width=device-width,initial-scale=1"><style>${CSS}</style></head>` +
    `<body><h1>${esc(title)}</h1><div class="meta">${meta}</div>${body}</body></html>\n`;
}

function table(head: string[], rows: (string | number)[][], leftCols = 1): string {
  const cell = (v: string | number, i: number, tag: string) => `<${tag}${i < leftCols ? ' class="l"' : ""}>${esc(String(v))}</${tag}>`;
  return `<table><tr>${head.map((h, i) => cell(h, i, "th")).join("")}</tr>` +
    rows.map((r) => `<tr>${r.map((v, i) => cell(v, i, "td")).join("")}</tr>`).join("") + `</table>`;
}

export interface ReplayReportInput {
  facts: ReplayFacts;
  samples: RunSample[];
  latency: LatencyWithBuckets | null;
  /** The options, commit and machine (replay-report-context.ts); samples start at its first post. */
  context?: RunContext;
  /** Wall clock (µs since the epoch) of each sample, to put the first post at t = 0. */
  sampleWallUs?: number[];
}

export function replayReportHtml(r: ReplayReportInput): string {
  const j = jsonReport(r.facts);
  const rows: (string | number)[][] = [
    ["packets posted / completed", `${j.packets.posted} / ${j.packets.completed}`],
    ["wire frames / bytes", `${j.wire.frames} / ${j.wire.bytes}`],
    ["rate", `${(j.rate.pps / 1e6).toFixed(3)} Mpps, ${j.rate.wireGbps.toFixed(2)} Gbit/s (${j.rate.wireGbpsWithOverhead.toFixed(2)} with preamble+IFG+FCS)`],
    ["interrupts (completions each)", `${j.interrupts.delivered} (${j.interrupts.completionsPerInterrupt.toFixed(2)})`],
    ["device time per packet", j.device
      ? `backend ${j.device.backendNsPerPacket.toFixed(1)} ns (${j.device.backendMppsPerCore.toFixed(2)} Mpps per core), NIC model ${j.device.nicNsPerPacket.toFixed(1)} ns`
      : "not sampled (run too short)"],
    ["dropped", `${j.dropped.total}`],
    ["books", j.books.balanced ? "balanced" : `UNBALANCED: ${j.books.problems.join("; ")}`],
  ];
  const samples = fromFirstPost(r.samples, r.sampleWallUs ?? [], r.context?.firstPostUs);
  const lso = largeSendRows(r.facts.snapshot);
  const body = [
    `<h2>Summary</h2>`, table(["", "value"], rows, 2),
    ...(r.context ? [`<h2>Run: options, commit, machine</h2>`, table(["", "value"], contextRows(r.context), 2)] : []),
    `<h2>Large sends</h2>`,
    lso ? table(["", "count"], lso, 1) : `<p class="meta">No large sends in this run (no descriptor asked for TSO or USO).</p>`,
    `<h2>Rate and latency</h2><div class="grid2">`,
    xyChart("Rate over time", r.context?.firstPostUs !== undefined ? "time since the first post (s)" : "time since start (s)", "Mpps (wire frames)", [{ name: "wire", points: rateSeries(samples) }]),
    latencyChart("Completion latency", r.latency),
    `</div><h2>Coalescing and copying</h2><div class="grid2">`,
    xyChart("Completions per interrupt vs commands in flight", "commands in flight (at the sample)", "completions per interrupt", [{ name: "samples", points: coalescingSeries(samples) }], "dots"),
    barChart("Bytes copied into pre-translated buffers vs referenced (SG)", "bytes", [{
      label: "this run",
      parts: [
        { value: j.copy.bytesCopied, color: PALETTE[3], name: "copied" },
        { value: j.copy.bytesReferenced, color: PALETTE[0], name: "referenced" },
      ],
    }], 560),
    `</div>`,
  ].join("\n");
  return page(`vnic replay — ${r.facts.capture}`, `${esc(r.facts.capture)}, ${r.facts.framesInCapture} frames × ${r.facts.loops} loops, ${r.facts.elapsedSeconds.toFixed(3)} s; generated ${esc(new Date().toISOString())}`, body);
}

export function benchReportHtml(b: BenchResults): string {
  const byCapture = new Map<string, ConfigResult[]>();
  for (const r of b.results) byCapture.set(r.config.capture, [...(byCapture.get(r.config.capture) ?? []), r]);
  const f2 = (x: number | null, d = 2) => (x === null || !Number.isFinite(x) ? "n/a" : x.toFixed(d));
  const rows = b.results.map((r) => [
    r.config.capture, r.config.coalesce, r.config.copy, f2(r.pps.median / 1e6, 3), `${f2(r.pps.min / 1e6)}–${f2(r.pps.max / 1e6)}`,
    f2(r.wireGbps.median), f2(r.wireGbpsWithOverhead.median), f2(r.cpuNsPerPacket.median, 0),
    `${f2(r.backendNsPerPacket.median, 1)} / ${f2(r.nicNsPerPacket.median, 1)}`, f2(r.completionsPerInterrupt, 1),
    f2(r.latencyP50Us, 1), f2(r.latencyP99Us, 1), f2(r.dropsPerTrial, 0), f2(r.inlinePpsPerCpu.median / 1e6), f2(r.foreignCores, 2),
  ]);
  const coalesceColor = (c: string) => (c === "none" ? PALETTE[1] : PALETTE[0]);
  const copies = [...new Set(b.results.map((r) => r.config.copy))];
  const DASHES = ["", "6 3", "2 2", "8 3 2 3", "1 3"];
  const rateCharts = [...byCapture].map(([capture, rs]) =>
    xyChart(`Rate over time — ${capture} (last trial)`, "time since start (s)", "Mpps (wire frames)",
      rs.map((r) => ({ name: `${r.config.coalesce}/${r.config.copy}`, points: rateSeries(r.samples ?? []), color: coalesceColor(r.config.coalesce), dash: DASHES[copies.indexOf(r.config.copy) % DASHES.length] }))));
  // One histogram per capture: its adaptive/headers configuration if measured, else its first.
  const latencyPicks = [...byCapture.values()].map((rs) => rs.find((r) => r.config.coalesce === "adaptive" && r.config.copy === "headers") ?? rs[0]);
  const latencyCharts = latencyPicks.filter((r) => r.latencyBuckets?.length)
    .map((r) => latencyChart(`Completion latency — ${r.id} (last trial)`, { buckets: r.latencyBuckets!, ...r.latencyLast }));
  const coalescing = xyChart("Completions per interrupt vs commands in flight (all configurations)", "commands in flight (at the sample)", "completions per interrupt",
    ["none", "adaptive"].map((c) => ({ name: c, color: coalesceColor(c), points: b.results.filter((r) => r.config.coalesce === c).flatMap((r) => coalescingSeries(r.samples ?? [])) })), "dots");
  const body = [
    `<h2>Matrix (medians over interleaved trials)</h2>`,
    table(["capture", "coalesce", "copy", "Mpps", "min–max", "Gbit/s", "+24 B", "CPU ns/pkt", "backend / NIC ns/pkt", "compl/intr", "p50 µs", "p99 µs", "drops/trial", "1-thread Mpps/CPU-s", "other procs (cores)"], rows, 3),
    `<p class="meta">Mpps: wire frames (segments for super-packets). +24 B: with preamble, SFD, inter-frame gap and FCS. Backend / NIC: the device thread's time per packet in translation, partial copy and LSO stage 1, and in the NIC model (median of sampled steps). 1-thread: the same stage functions run inline on one thread, wire frames per CPU-second. Other procs: CPU other processes used during the trials (a shared machine).</p>`,
    `<h2>Packets per second</h2>`,
    barChart("Wire Mpps per configuration (bar: median, whisker: min–max over trials)", "Mpps", b.results.map((r) => ({
      label: r.id, parts: [{ value: r.pps.median / 1e6, color: coalesceColor(r.config.coalesce), name: `coalesce ${r.config.coalesce}` }], whisker: [r.pps.min / 1e6, r.pps.max / 1e6],
    }))),
    `<h2>Rate over time</h2><div class="grid2">${rateCharts.join("")}</div>`,
    `<h2>Latency</h2><div class="grid2">${latencyCharts.length ? latencyCharts.join("") : latencyChart("Completion latency", null)}</div>`,
    `<h2>Coalescing</h2><div class="grid2">${coalescing}</div>`,
    `<h2>Bytes copied vs referenced</h2>`,
    barChart("Share of each descriptor's bytes copied into pre-translated buffers vs referenced by scatter-gather (hover: bytes)", "% of bytes", b.results.map((r) => {
      const total = r.bytesCopiedPerDescriptor + r.bytesReferencedPerDescriptor || 1;
      return {
        label: `${r.id} (${Math.round(r.bytesCopiedPerDescriptor)} / ${Math.round(r.bytesReferencedPerDescriptor)} B)`,
        parts: [
          { value: (100 * r.bytesCopiedPerDescriptor) / total, color: PALETTE[3], name: "copied" },
          { value: (100 * r.bytesReferencedPerDescriptor) / total, color: PALETTE[0], name: "referenced" },
        ],
      };
    }), 1120),
  ].join("\n");
  const m = b.machine;
  return page("vnic bench", `${esc(m.cpuModel)}, ${m.cores} cores, Node ${esc(m.node)}; commit ${esc(b.git.commit?.slice(0, 12) ?? "unknown")}${b.git.dirty ? " (dirty)" : ""}; ` +
    `${b.options.trials} trials × ~${b.options.seconds} s per configuration; ${esc(b.date)}`, body);
}

export function writeBenchReport(file: string, b: BenchResults): void {
  writeFileSafely(file, benchReportHtml(b), "--report");
}

export function writeReplayReport(file: string, r: ReplayReportInput): void {
  writeFileSafely(file, replayReportHtml(r), "--report");
}

/**
 * What `vnic replay --report` needs: pass `sampler` in the replay options and `onStart` (or
 * call `attach(dp)` from your own onStart), then `write(file, facts)` after the run.
 */
export function replayReportRecorder(everyMs = 20) {
  const samples: RunSample[] = [];
  const sampleWallUs: number[] = [];
  let dp: Datapath | undefined;
  const cpu0 = process.cpuUsage();
  const sampler: RunSampler = {
    everyMs,
    sample: (t: number, s: CounterSnapshot) => {
      const c = s.counters;
      const n = (v: bigint | undefined) => Number(v ?? 0n);
      const cpu = process.cpuUsage(cpu0);
      sampleWallUs.push((performance.timeOrigin + performance.now()) * 1000); // the clock of RunResult's startUs
      samples.push({
        t, wireFrames: n(c.wireFrames), wireBytes: n(c.wireBytes), posted: n(c.guestPosted), completed: n(c.guestCompleted),
        interrupts: n(c.interrupts), bytesCopied: n(c.bytesCopied), bytesReferenced: n(c.bytesReferenced), cpuUs: cpu.user + cpu.system,
      });
    },
  };
  return {
    sampler,
    samples,
    attach(d: Datapath) {
      dp = d;
    },
    write(file: string, facts: ReplayFacts, context?: RunContext) {
      writeReplayReport(file, { facts, samples, sampleWallUs, context, latency: dp ? latencyFromCore(dp.core) : null });
    },
  };
}
