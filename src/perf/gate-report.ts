// What `vnic gate` decides and prints for the same-run A/B and the instruction counts: one row
// per configuration, the verdict, the markdown summary and the --json object.

import type { ConfigResult } from "./bench.js";
import type { Interval } from "./bench-stats.js";
import type { AbConfig, PairedMetric } from "./gate-ab.js";
import type { OpsCount } from "./gate-ops.js";

export type GateVerdict = "pass" | "fail" | "advisory";

export interface TimeRow {
  ratio: number;
  interval: [number, number];
  regression: boolean;
  decides: boolean;
}

export interface ConfigRow {
  id: string;
  oneThread: TimeRow | null;
  twoThread: TimeRow | null;
  opsPerPacket: { current: number; reference: number | null; stored: number | null };
  /** Largest growth of current over reference / stored (0.01 = 1 %), null when nothing to compare. */
  opsGrowth: number | null;
  opsFail: boolean;
}

export function timeRow(m: PairedMetric | null, tolerance: number, decides: boolean): TimeRow | null {
  if (!m) return null;
  return { ratio: m.interval.estimate, interval: [m.interval.lo, m.interval.hi], regression: m.interval.hi < 1 - tolerance, decides };
}

export function configRows(ids: string[], ab: AbConfig[] | null, ops: { current: OpsCount[]; reference: OpsCount[] | null; stored: (number | null)[] | null },
  tolerance: number, maxOpsGrowth: number, twoThreadDecides: boolean): ConfigRow[] {
  return ids.map((id, i) => {
    const a = ab?.find((x) => x.id === id) ?? null;
    const current = ops.current[i].opsPerPacket;
    const reference = ops.reference ? ops.reference[i].opsPerPacket : null;
    const stored = ops.stored ? ops.stored[i] : null;
    const growths = [reference, stored].filter((x): x is number => x !== null && x > 0).map((x) => current / x - 1);
    const opsGrowth = growths.length ? Math.max(...growths) : null;
    return {
      id, oneThread: timeRow(a?.oneThread ?? null, tolerance, true), twoThread: timeRow(a?.twoThread ?? null, tolerance, twoThreadDecides),
      opsPerPacket: { current, reference, stored }, opsGrowth, opsFail: opsGrowth !== null && opsGrowth > maxOpsGrowth,
    };
  });
}

export function verdictOf(rows: ConfigRow[], timeRefused: boolean): GateVerdict {
  const timeFail = rows.some((r) => [r.oneThread, r.twoThread].some((t) => t && t.decides && t.regression));
  if (timeFail || rows.some((r) => r.opsFail)) return "fail";
  return timeRefused ? "advisory" : "pass";
}

const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)} %`;
const pct2 = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(2)} %`;
const ops = (x: number | null) => (x === null ? "—" : x.toFixed(1));

function timeCell(t: TimeRow | null): string {
  if (!t) return "—";
  return `${pct(t.ratio - 1)} (${pct(t.interval[0] - 1)} … ${pct(t.interval[1] - 1)})${t.regression ? (t.decides ? " **REGRESSION**" : " regression (advisory)") : ""}`;
}

export function rowsTable(rows: ConfigRow[], level: number): string {
  const lines = [
    `| configuration | one-thread B/A (${Math.round(level * 100)} % interval) | two-thread B/A (${Math.round(level * 100)} % interval) | instructions/packet current | reference build | stored | growth |`,
    `|---|---:|---:|---:|---:|---:|---:|`,
  ];
  for (const r of rows) {
    lines.push(`| ${r.id} | ${timeCell(r.oneThread)} | ${timeCell(r.twoThread)} | ${ops(r.opsPerPacket.current)} | ${ops(r.opsPerPacket.reference)} | ${ops(r.opsPerPacket.stored)} | ` +
      `${r.opsGrowth === null ? "—" : pct2(r.opsGrowth)}${r.opsFail ? " **MORE WORK**" : ""} |`);
  }
  return lines.join("\n");
}

export function headlineOf(verdict: GateVerdict, rows: ConfigRow[], tolerance: number, maxOpsGrowth: number, advisory: string | null): string {
  const fails = rows.flatMap((r) => [
    ...(r.oneThread?.regression && r.oneThread.decides ? [`${r.id} one-thread ${pct(r.oneThread.ratio - 1)}`] : []),
    ...(r.twoThread?.regression && r.twoThread.decides ? [`${r.id} two-thread ${pct(r.twoThread.ratio - 1)}`] : []),
    ...(r.opsFail ? [`${r.id} instructions/packet ${pct2(r.opsGrowth ?? 0)}`] : []),
  ]);
  if (verdict === "fail") return `vnic gate: FAIL — ${fails.join(", ")} (tolerance ${(tolerance * 100).toFixed(1)} %, instructions +${(maxOpsGrowth * 100).toFixed(1)} %)`;
  const opsNote = rows.some((r) => r.opsGrowth !== null) ? `instructions per packet within +${(maxOpsGrowth * 100).toFixed(1)} %` : "no instruction counts to compare";
  if (verdict === "advisory") return `vnic gate: ${advisory ?? "advisory"}; ${opsNote}`;
  if (!rows.some((r) => r.oneThread || r.twoThread)) return `vnic gate: pass — ${opsNote} (no time comparison asked)`;
  return `vnic gate: pass — no configuration is confidently more than ${(tolerance * 100).toFixed(1)} % slower than the reference; ${opsNote}`;
}

/** The --json object (one per run). */
export function gateJson(verdict: GateVerdict, rows: ConfigRow[], extra: Record<string, unknown>): Record<string, unknown> {
  return {
    verdict,
    ...extra,
    configs: rows.map((r) => ({
      id: r.id,
      oneThread: r.oneThread && { ratio: r.oneThread.ratio, interval: r.oneThread.interval, regression: r.oneThread.regression, decides: r.oneThread.decides },
      twoThread: r.twoThread && { ratio: r.twoThread.ratio, interval: r.twoThread.interval, regression: r.twoThread.regression, decides: r.twoThread.decides },
      opsPerPacket: r.opsPerPacket,
      opsGrowth: r.opsGrowth,
      opsFail: r.opsFail,
    })),
  };
}

/** github-action-benchmark entries (tool "customBiggerIsBetter"). */
export function gabEntries(rows: ConfigRow[]): { name: string; unit: string; value: number; range?: string }[] {
  return rows.flatMap((r) => [
    ...(r.oneThread ? [{ name: `${r.id} one-thread current/reference`, unit: "ratio", value: r.oneThread.ratio, range: `${r.oneThread.interval[0].toFixed(3)}…${r.oneThread.interval[1].toFixed(3)}` }] : []),
    ...(r.twoThread ? [{ name: `${r.id} two-thread current/reference`, unit: "ratio", value: r.twoThread.ratio, range: `${r.twoThread.interval[0].toFixed(3)}…${r.twoThread.interval[1].toFixed(3)}` }] : []),
    // Bigger is better throughout the file, so the count goes in as packets per 10^6 instructions.
    { name: `${r.id} packets per million instructions`, unit: "packets/Minstr", value: 1e6 / r.opsPerPacket.current },
  ]);
}

// The comparison against a recorded baseline (gate --baseline).

export type Verdict = "regression" | "improvement" | "unchanged" | "inconclusive";

/** "threaded": the two-thread datapath's wire pps ÷ the two-thread calibration score.
 *  "one-thread": the stage functions inline on one thread, wire frames per CPU-second ÷ the
 *  one-thread kernel's iterations per CPU-ns — precise on a busy machine, blind to handoff. */
export type Metric = "threaded" | "one-thread" | "one-thread A/B";

export interface Comparison {
  id: string;
  metric: Metric;
  baseNormalized: number;
  currentNormalized: number;
  /** Raw medians: pps (threaded) or pps per CPU-second (one-thread). */
  basePps: number;
  currentPps: number;
  interval: Interval;
  verdict: Verdict;
  /** Median CPU other processes used during the current trials (cores). */
  foreignCores: number | null;
  /** Whether this metric can fail the gate (--metrics). */
  decides?: boolean;
}

const mpps = (x: number) => `${(x / 1e6).toFixed(3)}`;

export function comparisonTable(rows: Comparison[], tolerance: number, level: number): string {
  const lines = [
    `| configuration | metric | baseline Mpps | current Mpps | normalised change | ${Math.round(level * 100)} % interval | other processes (cores) | verdict |`,
    `|---|---|---:|---:|---:|---:|---:|---|`,
  ];
  for (const r of rows) {
    const mark = (r.verdict === "regression" ? "**REGRESSION**" : r.verdict) + (r.decides === false ? " (advisory)" : "");
    lines.push(`| ${r.id} | ${r.metric} | ${mpps(r.basePps)} | ${mpps(r.currentPps)} | ${pct(r.interval.estimate - 1)} | ${pct(r.interval.lo - 1)} … ${pct(r.interval.hi - 1)} | ${r.foreignCores === null ? "n/a" : r.foreignCores.toFixed(2)} | ${mark} |`);
  }
  lines.push("", `A regression is declared when the whole interval of the normalised change (pps ÷ calibration kernel, bootstrap over interleaved trials) lies below −${(tolerance * 100).toFixed(1)} %. ` +
    `threaded: two-thread datapath, wire pps; one-thread: the same stage functions inline on one thread, wire frames per CPU-second.`);
  return lines.join("\n");
}

/** github-action-benchmark, tool "customBiggerIsBetter". */
export function gabJson(rows: Comparison[], results: ConfigResult[]): { name: string; unit: string; value: number; range: string }[] {
  const out: { name: string; unit: string; value: number; range: string }[] = [];
  for (const r of rows.filter((r) => r.metric === "one-thread A/B")) {
    out.push({ name: `${r.id} one-thread A/B current/reference`, unit: "ratio", value: r.interval.estimate, range: `${r.interval.lo.toFixed(3)}…${r.interval.hi.toFixed(3)}` });
  }
  for (const id of new Set(rows.map((r) => r.id))) {
    const res = results.find((x) => x.id === id);
    if (!res) continue;
    out.push({ name: `${id} pps`, unit: "packets/s", value: Math.round(res.pps.median), range: `± ${Math.round((res.pps.max - res.pps.min) / 2)}` });
    out.push({ name: `${id} normalised pps`, unit: "packets per calibration iteration", value: res.normalized.median, range: `± ${((res.normalized.max - res.normalized.min) / 2).toPrecision(3)}` });
    out.push({ name: `${id} one-thread pps per CPU-second`, unit: "packets/CPU-s", value: Math.round(res.inlinePpsPerCpu.median), range: `± ${Math.round((res.inlinePpsPerCpu.max - res.inlinePpsPerCpu.min) / 2)}` });
  }
  return out;
}
