// `vnic gate`: fails a build (exit 1) when it is really slower, or does more work per packet,
// than a reference — and only then. (Over 400 lines: the CLI of three modes that share the
// options, the outputs and the instruction counts; the parts live in gate-*.ts.)
//
// Modes, most trustworthy first:
//   --against REV (src/perf/gate-rev.ts, src/perf/gate-ab.ts). REV's core is built in a temporary worktree
//      and measured alternately with this build in the same run on the same machine; each
//      configuration's verdict is the bootstrap interval of the median pair ratio. A slower or
//      busier machine slows both sides of every pair. What .ci/run uses, with REV = the commit
//      bench/baseline.json records (--against-baseline-commit).
//   Instruction counts (src/perf/meter.ts, src/perf/gate-ops.ts), in every mode: WebAssembly instructions
//      per packet of the metered build, exact and machine-independent, compared with the
//      reference build's and with the baseline's stored counts; > --max-ops-growth fails.
//   --baseline FILE alone: the stored time figures, each trial normalised by the calibration
//      kernel (bench-calibrate.ts) — but only on the testbed (CPU model, cores, Node) that
//      recorded them: a memory-bound datapath on another CPU does not scale like a register-only
//      kernel (an AMD EPYC baseline failed an unchanged build by 36-54 % on a Xeon: README
//      "The gate on any machine").
//      Elsewhere one "advisory: recorded on …" line, exit 0, instruction counts still decide.
//   --against-wasm REF.wasm: the older one-thread A/B against a core file.
//
// A regression is declared only when the whole interval lies below 1 − tolerance ("we are
// confident it is at least tolerance slower"). Outputs: a table on stdout (or --json, one
// object), a markdown summary (--summary FILE and $GITHUB_STEP_SUMMARY), github-action-benchmark
// JSON (--gab FILE). `--update` re-records the baseline (testbed, commit, counts, time figures).

import { parseArgs } from "node:util";
import { appendFileSync, readFileSync } from "node:fs";
import { writeFileSafely } from "../util/output-file.js";
import { projectRoot, wasmPath } from "../core/core.js";
import { abInline, compileWasm } from "./bench-inline.js";
import { benchCaptures } from "./bench-frames.js";
import { ConfigResult, measureMatrix } from "./bench.js";
import { BenchConfig, configId, envSlowdownNs, inlineLoopsFor, parseConfigId } from "./bench-run.js";
import type { BenchCapture } from "./bench-frames.js";
import { RevBuild, RevError, buildRev, resolveCommit } from "./gate-rev.js";
import { AbConfig, abMeasure } from "./gate-ab.js";
import { OPS_LOOPS, OpsCount, countOps, meteredModule } from "./gate-ops.js";
import { Comparison, Verdict, comparisonTable, configRows, gabEntries, gabJson, gateJson, headlineOf, rowsTable, verdictOf } from "./gate-report.js";
import { Interval, Spread, bootstrapRatioOfMedians, median } from "./bench-stats.js";
import { GitInfo, MachineInfo, gitInfo, machineInfo } from "../util/testbed.js";
import { UsageError } from "../cli/cli-errors.js";

export const BASELINE_SCHEMA = "vnic-gate-baseline/1";
export const DEFAULT_GATE_CONFIGS = ["64/adaptive/headers", "imix/adaptive/headers", "1514/adaptive/headers", "tso64k/adaptive/headers"];
export const DEFAULT_TOLERANCE_PCT = 5;
export const DEFAULT_MAX_OPS_GROWTH_PCT = 1;
export const DEFAULT_PAIRS = 7;

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
  /** Exact instruction counts of the metered build (src/perf/gate-ops.ts), per configuration. */
  ops?: { loops: number; configs: { id: string; wireFrames: number; instructions: string; opsPerPacket: number }[] };
}

export type { Comparison, Metric, Verdict } from "./gate-report.js";

/** The decision for one configuration (see the file comment). */
export function decide(current: number[], base: number[], tolerance: number, level = 0.95): { interval: Interval; verdict: Verdict } {
  const interval = bootstrapRatioOfMedians(current, base, level);
  let verdict: Verdict = "unchanged";
  if (interval.hi < 1 - tolerance) verdict = "regression";
  else if (interval.lo > 1 + tolerance) verdict = "improvement";
  else if (interval.estimate < 1 - tolerance || interval.estimate > 1 + tolerance) verdict = "inconclusive";
  return { interval, verdict };
}

const GATE_HELP = `Usage: vnic gate --against REV [options]
       vnic gate --baseline FILE [--against-baseline-commit] [options]
       vnic gate --baseline FILE --update

--against REV builds the core of git revision REV (a branch, HEAD~1, origin/main, a commit) in a
temporary worktree and measures it (A) and this build (B) alternately in this run, A B B A …,
one-thread and two-thread; each configuration's verdict is the bootstrap interval of the median
pair ratio B/A. Both cores are also metered: WebAssembly instructions per packet, exact and the
same on any machine. Exit 1 when a configuration is confidently more than the tolerance slower,
or does more than --max-ops-growth more instructions per packet; 0 otherwise (also "advisory");
2 on bad usage or a REV that does not exist or cannot be built.

Options:
  --against REV       same-run A/B against git revision REV (see above)
  --baseline FILE     a stored baseline (bench/baseline.json): its instruction counts are
                      compared too; its time figures only on the testbed that recorded them
                      (elsewhere one line "advisory: recorded on …", exit 0)
  --against-baseline-commit  --against the commit the baseline records (what .ci/run does);
                      when this clone lacks it (shallow), one line, then the stored comparison
  --update            re-record FILE: testbed, commit, instruction counts and time figures
  --tolerance PCT     slowdown that counts as a regression (default ${DEFAULT_TOLERANCE_PCT})
  --max-ops-growth PCT  instruction-per-packet growth that fails (default ${DEFAULT_MAX_OPS_GROWTH_PCT})
  --ops-only          compare instruction counts only (no timing; seconds)
  --metrics M         which A/B metrics can fail: one-thread (default; the two-thread one is
                      measured and shown, advisory) or both
  --pairs N           A/B pairs per configuration and metric (default ${DEFAULT_PAIRS})
  --level L           confidence level of the interval: 0.95 (default) or 0.99
  --configs LIST      comma-separated capture/coalesce/copy ids (default: the baseline's, or
                      ${DEFAULT_GATE_CONFIGS.join(",")})
  --wasm FILE         the build under test's core (default build/vnic.wasm)
  --summary FILE      also write the markdown summary to FILE ($GITHUB_STEP_SUMMARY too, when set)
  --gab FILE          write github-action-benchmark JSON (customBiggerIsBetter) to FILE
  --json              print one JSON object (verdict, per configuration ratio, interval,
                      opsPerPacket of both builds)
  --against-wasm REF  A/B the one-thread metric against a core build REF.wasm (older mode)
  --trials N, --seconds S, --max-foreign-cores C   stored-baseline time mode (see README)
  -h, --help          this text

Environment: VNIC_SLOWDOWN_NS=N adds about N ns of busy work per wire frame to the build under
test only (never to the reference), to check that the gate fails a slowed build.
`;


/** The testbed a baseline's time figures belong to. */
export function testbedOf(m: MachineInfo): string {
  return `${m.cpuModel} (${m.cores} cores, Node ${m.node})`;
}

function readBaseline(file: string): Baseline {
  let b: Baseline;
  try {
    b = JSON.parse(readFileSync(file, "utf8")) as Baseline;
  } catch (e) {
    throw new UsageError(`cannot read baseline ${file}: ${(e as Error).message}`);
  }
  if (b.schema !== BASELINE_SCHEMA) throw new UsageError(`${file} is not a vnic gate baseline (schema ${b.schema})`);
  return b;
}

function countAll(module: WebAssembly.Module, configs: BenchConfig[], captures: BenchCapture[], slowdownNs: number): OpsCount[] {
  return configs.map((cfg) => {
    const capture = captures.find((c) => c.name === cfg.capture);
    if (!capture) throw new UsageError(`no capture named ${cfg.capture}`);
    return countOps(module, capture, cfg, slowdownNs);
  });
}

async function updateBaseline(file: string, ids: string[], values: Record<string, unknown>, slowdownNs: number, maxForeignCores: number, progress: (l: string) => void): Promise<number> {
  const configs = ids.map((id) => parseOrUsage(id));
  const trials = values.trials ? Number(values.trials) : 5;
  const seconds = values.seconds ? Number(values.seconds) : 0.1;
  const captures = benchCaptures();
  const git = gitInfo(projectRoot());
  if (git.dirty) progress("warning: the worktree has uncommitted changes; the baseline records HEAD, which they are not part of");
  const counts = countAll(meteredModule(wasmPath("release")), configs, captures, 0);
  const { calibration, results } = await measureMatrix(configs, captures, { trials, seconds, slowdownNs, maxForeignCores, progress });
  const baseline: Baseline = {
    schema: BASELINE_SCHEMA, date: new Date().toISOString(), machine: machineInfo(), git, trials, seconds, calibration,
    configs: results.map((r) => ({
      id: r.id, loops: r.loops, normalized: r.trials.normalized, pps: r.trials.pps,
      inlineLoops: r.inlineLoops, inlineNormalized: r.trials.inlineNormalized, inlinePpsPerCpu: r.trials.inlinePpsPerCpu,
    })),
    ops: { loops: OPS_LOOPS, configs: counts.map((c, i) => ({ id: ids[i], wireFrames: c.wireFrames, instructions: c.instructions.toString(), opsPerPacket: c.opsPerPacket })) },
  };
  writeFileSafely(file, JSON.stringify(baseline, null, 2) + "\n", "--baseline");
  for (const [i, c] of counts.entries()) progress(`${ids[i]}: ${c.opsPerPacket.toFixed(2)} instructions per packet`);
  progress(`wrote baseline ${file} (testbed ${testbedOf(baseline.machine)}, commit ${git.commit?.slice(0, 10) ?? "?"})`);
  return 0;
}

export async function runGate(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      baseline: { type: "string" }, against: { type: "string" }, "against-baseline-commit": { type: "boolean" },
      tolerance: { type: "string" }, "max-ops-growth": { type: "string" }, "ops-only": { type: "boolean" },
      level: { type: "string" }, trials: { type: "string" }, pairs: { type: "string" }, configs: { type: "string" },
      seconds: { type: "string" }, update: { type: "boolean" }, summary: { type: "string" }, gab: { type: "string" },
      json: { type: "boolean" }, "max-foreign-cores": { type: "string" }, metrics: { type: "string" },
      "against-wasm": { type: "string" }, wasm: { type: "string" }, help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(GATE_HELP);
    return 0;
  }
  if (!values.baseline && !values["against-wasm"] && !values.against) throw new UsageError("gate needs --against REV, --baseline FILE or --against-wasm REF.wasm (see vnic gate --help)");
  if (values.update && !values.baseline) throw new UsageError("--update needs --baseline FILE to write");
  if (values["against-baseline-commit"] && !values.baseline) throw new UsageError("--against-baseline-commit needs --baseline FILE");
  const tolerance = (values.tolerance !== undefined ? Number(values.tolerance) : DEFAULT_TOLERANCE_PCT) / 100;
  if (!(tolerance >= 0 && tolerance < 1)) throw new UsageError(`--tolerance takes a percentage in [0, 100), not ${values.tolerance}`);
  const maxOpsGrowth = (values["max-ops-growth"] !== undefined ? Number(values["max-ops-growth"]) : DEFAULT_MAX_OPS_GROWTH_PCT) / 100;
  if (!(maxOpsGrowth >= 0)) throw new UsageError(`--max-ops-growth takes a percentage, not ${values["max-ops-growth"]}`);
  const level = values.level !== undefined ? Number(values.level) : 0.95;
  if (!(level > 0.5 && level < 1)) throw new UsageError(`--level takes a confidence level such as 0.95, not ${values.level}`);
  const pairs = values.pairs !== undefined ? Number(values.pairs) : DEFAULT_PAIRS;
  if (!(Number.isInteger(pairs) && pairs >= 3)) throw new UsageError(`--pairs takes a whole number ≥ 3, not ${values.pairs}`);
  const progress = (line: string) => process.stderr.write(`vnic gate: ${line}\n`);
  const metrics = values.metrics ?? "one-thread";
  if (metrics !== "one-thread" && metrics !== "both") throw new UsageError(`--metrics takes one-thread or both, not ${metrics}`);
  const maxForeignCores = values["max-foreign-cores"] !== undefined ? Number(values["max-foreign-cores"]) : Infinity;
  if (!(maxForeignCores >= 0)) throw new UsageError(`--max-foreign-cores takes a number of cores, not ${values["max-foreign-cores"]}`);
  const slowdownNs = envSlowdownNs();
  if (slowdownNs) progress(`VNIC_SLOWDOWN_NS=${slowdownNs}: the build under test's NIC stage does extra work per frame`);
  const root = projectRoot();
  const baseline = values.baseline && !values.update ? readBaseline(values.baseline) : undefined;
  const ids = (values.configs ? values.configs.split(",") : baseline ? baseline.configs.map((c) => c.id) : DEFAULT_GATE_CONFIGS).map((x) => x.trim());
  if (values.update && values.baseline) return updateBaseline(values.baseline, ids, values, slowdownNs, maxForeignCores, progress);

  const configs = ids.map((id) => parseOrUsage(id));
  const captures = benchCaptures();
  const currentWasm = values.wasm ?? wasmPath("release");
  let current: WebAssembly.Module;
  try {
    current = compileWasm(currentWasm);
  } catch (e) {
    throw new UsageError(`cannot load the build under test ${currentWasm}: ${(e as Error).message}`);
  }

  // The reference: REV, the baseline's commit, or none (stored figures only).
  let rev = values.against;
  let advisory: string | null = null;
  if (values["against-baseline-commit"] && baseline) {
    const commit = baseline.git.commit;
    if (commit && resolveCommit(root, commit)) rev = commit;
    else {
      advisory = `advisory: the baseline's commit ${commit?.slice(0, 10) ?? "(none recorded)"} is not in this clone (shallow? fetch-depth: 0), so no same-run time comparison; instruction counts compared with the stored ones`;
      progress(advisory);
    }
  }
  // The reference build: its instruction counts and the same-run A/B. Against the baseline's
  // commit (CI), a reference that cannot be built or does not run under this host is one line
  // and a fall-back to the stored counts, not a failure; an explicit --against REV is exit 2.
  const opsCurrent = countAll(meteredModule(currentWasm), configs, captures, slowdownNs);
  let reference: RevBuild | null = null;
  let opsReference: OpsCount[] | null = null;
  let ab: AbConfig[] | null = null;
  if (rev) {
    try {
      reference = await buildRev(root, rev, progress);
      progress(`reference ${rev} = ${reference.commit.slice(0, 10)}${reference.cached ? " (built before, from the cache)" : ""}`);
      opsReference = countAll(meteredModule(reference.wasm), configs, captures, 0);
      if (!values["ops-only"]) ab = await abMeasure(compileWasm(reference.wasm), current, configs, captures, { pairs, slowdownNs, level, oneThreadSeconds: 0.1, twoThreadSeconds: 0.25, progress });
    } catch (e) {
      const why = (e as Error).message.replace(/^vnic: /, "");
      if (!values["against-baseline-commit"]) throw e instanceof RevError ? e : new RevError(`--against ${rev}: its core does not run under this host (${why})`);
      advisory = `advisory: the baseline's commit ${rev.slice(0, 10)} cannot be measured here (${why}); instruction counts compared with the stored ones — re-record the baseline (vnic gate --baseline FILE --update)`;
      progress(advisory);
      reference = null;
      opsReference = null;
      ab = null;
    }
  }
  let opsStored: (number | null)[] | null = null;
  if (baseline) {
    if (!baseline.ops || baseline.ops.loops !== OPS_LOOPS) progress(`${values.baseline} has no instruction counts for this gate (re-record it: vnic gate --baseline ${values.baseline} --update)`);
    else opsStored = ids.map((id) => baseline.ops!.configs.find((c) => c.id === id)?.opsPerPacket ?? null);
  }

  // Time: the same-run A/B above when there is a reference; else the stored figures, only on
  // their own testbed.
  const oldRows: Comparison[] = [];
  let results: ConfigResult[] = [];
  if (!reference && baseline && !values["ops-only"] && !values["against-baseline-commit"]) {
    const here = machineInfo();
    if (testbedOf(here) !== testbedOf(baseline.machine)) {
      advisory = `advisory: recorded on ${testbedOf(baseline.machine)}, this is ${testbedOf(here)}: time comparison refused (times from another machine do not compare)`;
      progress(advisory);
    } else {
      const base = ids.map((id) => {
        const b = baseline.configs.find((c) => c.id === id);
        if (!b) throw new UsageError(`configuration ${id} is not in the baseline (has ${baseline.configs.map((c) => c.id).join(", ")})`);
        return b;
      });
      const trials = values.trials ? Number(values.trials) : baseline.trials;
      ({ results } = await measureMatrix(configs, captures, {
        trials, seconds: baseline.seconds, slowdownNs, loops: base.map((b) => b.loops), inlineLoops: base.map((b) => b.inlineLoops), maxForeignCores, progress,
      }));
      oldRows.push(...compareWithBaseline(base, results, tolerance, level));
      for (const r of oldRows) r.decides = r.metric !== "threaded";
    }
  }
  if (values["against-wasm"] && !values["ops-only"]) oldRows.push(...againstWasm(values["against-wasm"], current, configs, captures, baseline, slowdownNs, level, tolerance));

  const rows = configRows(ids, ab, { current: opsCurrent, reference: opsReference, stored: opsStored }, tolerance, maxOpsGrowth, metrics === "both");
  let verdict = verdictOf(rows, advisory !== null);
  const oldFailed = oldRows.filter((r) => r.verdict === "regression" && r.decides !== false);
  if (oldFailed.length) verdict = "fail";
  const headline = oldFailed.length
    ? `vnic gate: FAIL — ${oldFailed.map((r) => `${r.id} ${r.metric} ${((r.interval.estimate - 1) * 100).toFixed(1)} %`).join(", ")}`
    : headlineOf(verdict, rows, tolerance, maxOpsGrowth, advisory);
  const table = rowsTable(rows, level) + (oldRows.length ? "\n\n" + comparisonTable(oldRows, tolerance, level) : "");
  const refText = reference ? `reference ${rev} (${reference.commit.slice(0, 10)})` : "no reference build";
  const summary = [`## vnic pps gate`, ``, headline, ``, table, ``,
    `Build under test: commit ${gitInfo(root).commit?.slice(0, 10) ?? "?"}${values.wasm ? ` (core ${values.wasm})` : ""}; ${refText}; ` +
    `${pairs} A/B pairs per metric; B/A > 1 is faster; instructions per packet from the metered build (exact, any machine)` +
    `${baseline ? `; baseline ${values.baseline} (${baseline.date}, ${testbedOf(baseline.machine)}, commit ${baseline.git.commit?.slice(0, 10) ?? "?"})` : ""}` +
    `${slowdownNs ? `; VNIC_SLOWDOWN_NS=${slowdownNs} on the build under test` : ""}.`].join("\n");
  if (values.summary) writeFileSafely(values.summary, summary + "\n", "--summary");
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, summary + "\n");
  if (values.gab) writeFileSafely(values.gab, JSON.stringify([...gabEntries(rows), ...gabJson(oldRows, results)], null, 2) + "\n", "--gab");
  if (values.json) {
    const extra = { tolerance, maxOpsGrowth, level, pairs, slowdownNs, advisory, reference: reference && { rev, commit: reference.commit }, headline, comparisons: oldRows };
    process.stdout.write(JSON.stringify(gateJson(verdict, rows, extra), null, 2) + "\n");
  } else process.stdout.write(table + "\n\n" + headline + "\n");
  return verdict === "fail" ? 1 : 0;
}

/** --against-wasm: the older one-thread A/B against a given core file. */
function againstWasm(file: string, current: WebAssembly.Module, configs: BenchConfig[], captures: BenchCapture[], baseline: Baseline | undefined,
  slowdownNs: number, level: number, tolerance: number): Comparison[] {
  let reference: WebAssembly.Module;
  try {
    reference = compileWasm(file);
  } catch (e) {
    throw new UsageError(`cannot load reference build ${file}: ${(e as Error).message}`);
  }
  return configs.map((cfg) => {
    const id = configId(cfg);
    const capture = captures.find((c) => c.name === cfg.capture);
    if (!capture) throw new UsageError(`no capture named ${cfg.capture}`);
    const loops = baseline?.configs.find((c) => c.id === id)?.inlineLoops ?? inlineLoopsFor(capture, cfg, 0.15);
    const ab = abInline(reference, current, capture, cfg, loops, DEFAULT_PAIRS, slowdownNs, level);
    const { interval } = ab;
    let verdict: Verdict = "unchanged";
    if (interval.hi < 1 - tolerance) verdict = "regression";
    else if (interval.lo > 1 + tolerance) verdict = "improvement";
    else if (interval.estimate < 1 - tolerance || interval.estimate > 1 + tolerance) verdict = "inconclusive";
    return { id, metric: "one-thread A/B" as const, baseNormalized: median(ab.reference), currentNormalized: median(ab.current),
      basePps: median(ab.reference), currentPps: median(ab.current), interval, verdict, foreignCores: null };
  });
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
    throw new UsageError((e as Error).message);
  }
}
