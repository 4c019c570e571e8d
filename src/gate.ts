// `vnic gate`: fails a build (exit 1) when packets per second really dropped against a baseline
// file — and only then.
//
// What makes it trustworthy on a noisy, shared 2-core machine:
//   1. Normalisation: every datapath trial is paired with a measurement of the two-thread
//      calibration kernel taken right before it (bench-calibrate.ts); the gate compares
//      pps / calibration, so a slower or busier machine moves both and is not a regression.
//   2. Interleaving: trials of all gated configurations alternate (rotated order per round),
//      with the calibration kernel — the baseline-style reference work — between every two.
//   3. The same work: each configuration runs the baseline's loop count per trial.
//   4. Two metrics. "one-thread" (the stage functions inline on one thread, in CPU time) decides
//      by default: it is precise even with neighbours on the machine (±4–10 % MAD at load 5–9).
//      "threaded" (the real two-thread datapath) is reported and decides only with
//      --metrics both: on this shared 2-core machine its normalised figure moved by −49 % with
//      no code change when the load changed between the baseline and the run (a busy neighbour
//      hurts two spinning threads far more than the compute kernel), so letting it fail
//      builds would cry wolf.
//   With --against-wasm REF.wasm the gate also (or, without --baseline, only) runs an A/B in the
//   same session: the one-thread metric of REF and of the current build, in alternating pairs;
//   the interval is a bootstrap of the median pair ratio. Both sides see the same machine, so
//   neighbour load cancels (src/bench-inline.ts) — the most sensitive mode, when a reference
//   build is at hand (e.g. the merge-base's build/vnic.wasm).
//   5. A decision on an interval, not a sample: for each configuration the percentile-bootstrap
//      interval (seeded) of median(current) / median(baseline) over the trials' normalised
//      figures. A regression is declared only when the whole interval lies below
//      1 − tolerance: "we are confident it is at least tolerance slower".
//
// Outputs: a table on stdout; a markdown summary (--summary FILE, and $GITHUB_STEP_SUMMARY when
// set); github-action-benchmark's "customBiggerIsBetter" JSON (--gab FILE). `--update` measures
// and writes a new baseline instead of comparing.

import { parseArgs } from "node:util";
import { appendFileSync, readFileSync } from "node:fs";
import { writeFileSafely } from "./output-file.js";
import { projectRoot, wasmPath } from "./core.js";
import { abInline, compileWasm } from "./bench-inline.js";
import { benchCaptures } from "./bench-frames.js";
import { ConfigResult, measureMatrix } from "./bench.js";
import { envSlowdownNs, inlineLoopsFor, parseConfigId } from "./bench-run.js";
import { GitInfo, Interval, MachineInfo, Spread, bootstrapRatioOfMedians, gitInfo, machineInfo } from "./bench-stats.js";

export const BASELINE_SCHEMA = "vnic-gate-baseline/1";
export const DEFAULT_GATE_CONFIGS = ["64/adaptive/headers", "imix/adaptive/headers", "1514/adaptive/headers", "tso64k/adaptive/headers"];
export const DEFAULT_TOLERANCE_PCT = 10;

export interface BaselineConfig {
  id: string;
  loops: number;
  /** pps / calibration per trial. */
  normalized: number[];
  pps: number[];
  inlineLoops: number;
  /** One-thread wire frames per CPU-second / one-thread calibration, per trial. */
  inlineNormalized: number[];
  inlinePpsPerCpu: number[];
}

export interface Baseline {
  schema: string;
  date: string;
  machine: MachineInfo;
  git: GitInfo;
  trials: number;
  seconds: number;
  calibration: Spread;
  configs: BaselineConfig[];
}

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

/** The decision for one configuration (see the file comment). */
export function decide(current: number[], base: number[], tolerance: number, level = 0.95): { interval: Interval; verdict: Verdict } {
  const interval = bootstrapRatioOfMedians(current, base, level);
  let verdict: Verdict = "unchanged";
  if (interval.hi < 1 - tolerance) verdict = "regression";
  else if (interval.lo > 1 + tolerance) verdict = "improvement";
  else if (interval.estimate < 1 - tolerance || interval.estimate > 1 + tolerance) verdict = "inconclusive";
  return { interval, verdict };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)} %`;
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

const GATE_HELP = `Usage: vnic gate --baseline FILE [options]
       vnic gate --against-wasm REF.wasm [options]

Measures the gated configurations (interleaved trials, each normalised by a calibration kernel
measured right before it) and compares them with the baseline. Exit 1 when a configuration is
confidently slower than the baseline by more than the tolerance, 0 otherwise (2: bad usage).

Options:
  --baseline FILE     the baseline (bench/baseline.json)
  --against-wasm REF  also A/B the one-thread metric against the core build REF (.wasm), in
                      alternating pairs in this session (needs no baseline; most sensitive)
  --tolerance PCT     slowdown that counts as a regression (default ${DEFAULT_TOLERANCE_PCT})
  --level L           confidence level of the interval: 0.95 (default) or 0.99
  --trials N          trials per configuration (default: the baseline's)
  --configs LIST      comma-separated capture/coalesce/copy ids (default: the baseline's;
                      with --update: ${DEFAULT_GATE_CONFIGS.join(",")})
  --seconds S         trial length when sizing a new baseline (--update; default 0.2)
  --update            measure and write a new baseline to FILE instead of comparing
  --summary FILE      also write the markdown summary to FILE
  --gab FILE          write github-action-benchmark JSON (customBiggerIsBetter) to FILE
  --json              print the comparison as JSON
  --metrics M         which metrics can fail the gate: one-thread (default) or both
                      (the threaded one is always measured and shown)
  --max-foreign-cores C  redo a trial during which other processes used more than C cores
                      (default: keep every trial; the table shows the load either way)
  -h, --help          this text

Environment: VNIC_SLOWDOWN_NS=N adds about N ns of busy work per wire frame (to check that the
gate fails a slowed build).
`;

class GateUsage extends Error {
  code = "ERR_PARSE_ARGS_GATE";
}

export async function runGate(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      baseline: { type: "string" },
      tolerance: { type: "string" },
      level: { type: "string" },
      trials: { type: "string" },
      configs: { type: "string" },
      seconds: { type: "string" },
      update: { type: "boolean" },
      summary: { type: "string" },
      gab: { type: "string" },
      json: { type: "boolean" },
      "max-foreign-cores": { type: "string" },
      metrics: { type: "string" },
      "against-wasm": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(GATE_HELP);
    return 0;
  }
  if (!values.baseline && !values["against-wasm"]) throw new GateUsage("gate needs --baseline FILE or --against-wasm REF.wasm (see vnic gate --help)");
  if (values.update && !values.baseline) throw new GateUsage("--update needs --baseline FILE to write");
  const tolerance = (values.tolerance !== undefined ? Number(values.tolerance) : DEFAULT_TOLERANCE_PCT) / 100;
  if (!(tolerance >= 0 && tolerance < 1)) throw new GateUsage(`--tolerance takes a percentage in [0, 100), not ${values.tolerance}`);
  const level = values.level !== undefined ? Number(values.level) : 0.95;
  if (!(level > 0.5 && level < 1)) throw new GateUsage(`--level takes a confidence level such as 0.95, not ${values.level}`);
  const progress = (line: string) => process.stderr.write(`vnic gate: ${line}\n`);
  const metrics = values.metrics ?? "one-thread";
  if (metrics !== "one-thread" && metrics !== "both") throw new GateUsage(`--metrics takes one-thread or both, not ${metrics}`);
  const decides = (m: Metric) => metrics === "both" || m !== "threaded";
  const maxForeignCores = values["max-foreign-cores"] !== undefined ? Number(values["max-foreign-cores"]) : Infinity;
  if (!(maxForeignCores >= 0)) throw new GateUsage(`--max-foreign-cores takes a number of cores, not ${values["max-foreign-cores"]}`);
  const slowdownNs = envSlowdownNs();
  if (slowdownNs) progress(`VNIC_SLOWDOWN_NS=${slowdownNs}: the NIC stage does extra work per frame`);

  if (values.update && values.baseline) {
    const ids = values.configs ? values.configs.split(",") : DEFAULT_GATE_CONFIGS;
    const configs = ids.map((id) => parseOrUsage(id));
    const trials = values.trials ? Number(values.trials) : 7;
    const seconds = values.seconds ? Number(values.seconds) : 0.2;
    const { calibration, results } = await measureMatrix(configs, benchCaptures(), { trials, seconds, slowdownNs, maxForeignCores, progress });
    const baseline: Baseline = {
      schema: BASELINE_SCHEMA,
      date: new Date().toISOString(),
      machine: machineInfo(),
      git: gitInfo(projectRoot()),
      trials,
      seconds,
      calibration,
      configs: results.map((r) => ({
        id: r.id, loops: r.loops, normalized: r.trials.normalized, pps: r.trials.pps,
        inlineLoops: r.inlineLoops, inlineNormalized: r.trials.inlineNormalized, inlinePpsPerCpu: r.trials.inlinePpsPerCpu,
      })),
    };
    writeFileSafely(values.baseline, JSON.stringify(baseline, null, 2) + "\n", "--baseline");
    for (const r of results) {
      progress(`${r.id}: ${mpps(r.pps.median)} Mpps (±${(r.pps.rmad * 100).toFixed(1)} % MAD), normalised ±${(r.normalized.rmad * 100).toFixed(1)} %; ` +
        `one thread ${mpps(r.inlinePpsPerCpu.median)} Mpps per CPU-s, normalised ±${(r.inlineNormalized.rmad * 100).toFixed(1)} %`);
    }
    progress(`wrote baseline ${values.baseline}`);
    return 0;
  }

  const rows: Comparison[] = [];
  let results: ConfigResult[] = [];
  let baseline: Baseline | undefined;
  let trials = values.trials ? Number(values.trials) : 7;
  if (values.baseline) {
    try {
      baseline = JSON.parse(readFileSync(values.baseline, "utf8")) as Baseline;
    } catch (e) {
      throw new GateUsage(`cannot read baseline ${values.baseline}: ${(e as Error).message}`);
    }
    if (baseline.schema !== BASELINE_SCHEMA) throw new GateUsage(`${values.baseline} is not a vnic gate baseline (schema ${baseline.schema})`);
    const bl = baseline;
    const wanted = values.configs ? values.configs.split(",") : bl.configs.map((c) => c.id);
    const base = wanted.map((id) => {
      const b = bl.configs.find((c) => c.id === id);
      if (!b) throw new GateUsage(`configuration ${id} is not in the baseline (has ${bl.configs.map((c) => c.id).join(", ")})`);
      return b;
    });
    trials = values.trials ? Number(values.trials) : bl.trials;
    ({ results } = await measureMatrix(base.map((b) => parseOrUsage(b.id)), benchCaptures(), {
      trials, seconds: bl.seconds, slowdownNs, loops: base.map((b) => b.loops), inlineLoops: base.map((b) => b.inlineLoops), maxForeignCores, progress,
    }));
    rows.push(...compareWithBaseline(base, results, tolerance, level));
  }
  if (values["against-wasm"]) {
    let reference: WebAssembly.Module;
    try {
      reference = compileWasm(values["against-wasm"]);
    } catch (e) {
      throw new GateUsage(`cannot load reference build ${values["against-wasm"]}: ${(e as Error).message}`);
    }
    const current = compileWasm(wasmPath("release"));
    const ids = values.configs ? values.configs.split(",") : baseline ? baseline.configs.map((c) => c.id) : DEFAULT_GATE_CONFIGS;
    const captures = benchCaptures();
    for (const id of ids) {
      const cfg = parseOrUsage(id);
      const capture = captures.find((c) => c.name === cfg.capture);
      if (!capture) throw new GateUsage(`no capture named ${cfg.capture}`);
      const loops = baseline?.configs.find((c) => c.id === id)?.inlineLoops ?? inlineLoopsFor(capture, cfg, 0.15);
      const ab = abInline(reference, current, capture, cfg, loops, Math.max(trials, 5), slowdownNs, level);
      const { interval } = ab;
      let verdict: Verdict = "unchanged";
      if (interval.hi < 1 - tolerance) verdict = "regression";
      else if (interval.lo > 1 + tolerance) verdict = "improvement";
      else if (interval.estimate < 1 - tolerance || interval.estimate > 1 + tolerance) verdict = "inconclusive";
      rows.push({
        id, metric: "one-thread A/B", baseNormalized: median(ab.reference), currentNormalized: median(ab.current),
        basePps: median(ab.reference), currentPps: median(ab.current), interval, verdict, foreignCores: null,
      });
      progress(`A/B ${id}: current/reference ${(interval.estimate * 100 - 100).toFixed(1)} % [${(interval.lo * 100 - 100).toFixed(1)} %, ${(interval.hi * 100 - 100).toFixed(1)} %]`);
    }
  }
  for (const r of rows) r.decides = decides(r.metric);
  const failed = rows.filter((r) => r.verdict === "regression" && r.decides);
  const table = comparisonTable(rows, tolerance, level);
  const headline = failed.length
    ? `vnic gate: FAIL — ${failed.length} of ${rows.length} measurements regressed (${failed.map((r) => `${r.id} ${r.metric}`).join(", ")})`
    : `vnic gate: pass — no configuration is confidently more than ${(tolerance * 100).toFixed(1)} % slower than the baseline`;
  const against = values["against-wasm"] ? `; A/B against ${values["against-wasm"]}` : "";
  const summary = [`## vnic pps gate`, ``, headline, ``, table, ``,
    (baseline ? `Baseline ${values.baseline} (${baseline.date}, commit ${baseline.git.commit?.slice(0, 10) ?? "?"}); ` : "") +
    `current commit ${gitInfo(projectRoot()).commit?.slice(0, 10) ?? "?"}${against}; ` +
    `${trials} interleaved trials per configuration${slowdownNs ? `; VNIC_SLOWDOWN_NS=${slowdownNs}` : ""}.`].join("\n");
  if (values.summary) writeFileSafely(values.summary, summary + "\n", "--summary");
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, summary + "\n");
  if (values.gab) writeFileSafely(values.gab, JSON.stringify(gabJson(rows, results), null, 2) + "\n", "--gab");
  if (values.json) process.stdout.write(JSON.stringify({ pass: failed.length === 0, tolerance, level, comparisons: rows }, null, 2) + "\n");
  else process.stdout.write(table + "\n\n" + headline + "\n");
  return failed.length ? 1 : 0;
}

function compareWithBaseline(base: BaselineConfig[], results: ConfigResult[], tolerance: number, level: number): Comparison[] {
  return base.flatMap((b, i) => {
    const r = results[i];
    const threaded = decide(r.trials.normalized, b.normalized, tolerance, level);
    const inline = decide(r.trials.inlineNormalized, b.inlineNormalized, tolerance, level);
    return [
      { id: b.id, metric: "threaded" as const, baseNormalized: median(b.normalized), currentNormalized: r.normalized.median,
        basePps: median(b.pps), currentPps: r.pps.median, ...threaded, foreignCores: r.foreignCores },
      { id: b.id, metric: "one-thread" as const, baseNormalized: median(b.inlineNormalized), currentNormalized: r.inlineNormalized.median,
        basePps: median(b.inlinePpsPerCpu), currentPps: r.inlinePpsPerCpu.median, ...inline, foreignCores: r.foreignCores },
    ];
  });
}

function parseOrUsage(id: string) {
  try {
    return parseConfigId(id.trim());
  } catch (e) {
    throw new GateUsage((e as Error).message);
  }
}
