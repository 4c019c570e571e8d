// `vnic bench`: the end-to-end matrix — captures × coalescing policy × copy mode — measured on
// the threaded datapath, reported as medians with their spread.
//
// How a figure is made (docs/design.md §9; this machine has 2 cores and is shared):
//   - captures are built in memory and preloaded into the arena (no file I/O in a trial);
//   - each configuration gets pilot runs first (warm-up, and the loop count for a trial of
//     about --seconds);
//   - trials are interleaved: round r runs every configuration once, in an order rotated by r,
//     so slow phases of the machine spread over all configurations instead of hitting one;
//   - right before each trial the two-thread calibration kernel is measured (bench-calibrate),
//     and the trial's packets per second divided by it gives the normalised figure the gate
//     compares;
//   - every figure is the median over trials, with min/max and a relative MAD.

import { parseArgs } from "node:util";
import { writeFileSafely } from "../util/output-file.js";
import { projectRoot } from "../core/core.js";
import { BenchCapture, benchCaptures } from "./bench-frames.js";
import { BenchConfig, COALESCE_POLICIES, CoalesceName, InlineResult, RunSample, TrialResult, calibrateLoops, configId, envSlowdownNs,
  inlineLoopsFor, runInline, runTrial } from "./bench-run.js";
import { Calibrator, calibrateCpu } from "./bench-calibrate.js";
import { Spread, median, spread } from "./bench-stats.js";
import { GitInfo, MachineInfo, gitInfo, machineInfo } from "../util/testbed.js";
import { parseCopyMode } from "../replay/copy-options.js";
import { UsageError } from "../cli/cli-errors.js";

export const BENCH_SCHEMA = "vnic-bench/1";
export const ALL_CAPTURES = ["64", "imix", "1514", "tso64k", "tso185k"];
export const ALL_COPY_MODES = ["headers", "l3:10", "full", "none"];
export const ALL_COALESCE: CoalesceName[] = ["none", "adaptive"];

export interface ConfigResult {
  id: string;
  config: BenchConfig;
  captureDescription: string;
  loops: number;
  /** Wire frames per second. */
  pps: Spread;
  /** Guest descriptors per second. */
  dps: Spread;
  wireGbps: Spread;
  wireGbpsWithOverhead: Spread;
  cpuNsPerPacket: Spread;
  /** Device thread time per packet: backend (translate, copy, LSO stage 1) and NIC model. */
  backendNsPerPacket: Spread;
  nicNsPerPacket: Spread;
  /** pps / calibration score of the trial (what the gate compares). */
  normalized: Spread;
  /** The stage functions run inline on one thread: wire frames per CPU-second. */
  inlinePpsPerCpu: Spread;
  /** inlinePpsPerCpu / single-thread calibration (kernel iterations per CPU-ns). */
  inlineNormalized: Spread;
  inlineLoops: number;
  latencyP50Us: number | null;
  latencyP99Us: number | null;
  completionsPerInterrupt: number;
  bytesCopiedPerDescriptor: number;
  bytesReferencedPerDescriptor: number;
  dropsPerTrial: number;
  /** Median CPU used by other processes during the trials (cores), null when unknown. */
  foreignCores: number | null;
  /** Raw per-trial values, in trial order. */
  trials: { pps: number[]; normalized: number[]; calibration: number[]; foreignCores: (number | null)[]; inlinePpsPerCpu: number[]; inlineNormalized: number[] };
  /** Counter samples of the last trial (for the HTML report). */
  samples?: RunSample[];
  latencyBuckets?: { lowNs: number; count: number }[];
  /** p50/p99 of that last trial (the histogram's own). */
  latencyLast?: { p50Us: number; p99Us: number };
}

export interface BenchResults {
  schema: string;
  date: string;
  machine: MachineInfo;
  git: GitInfo;
  options: { trials: number; seconds: number; slowdownNs: number; quick: boolean };
  calibration: Spread;
  results: ConfigResult[];
  wallSeconds: number;
}

export interface MatrixOptions {
  trials: number;
  seconds: number;
  slowdownNs: number;
  keepSamples?: boolean;
  /** Loops per trial for each configuration (e.g. the baseline's, so both measure the same
   *  work); when absent, pilot runs size trials to about `seconds`. */
  loops?: number[];
  /** The same for the inline (one-thread) trials; when absent, sized to ~0.15 CPU-second. */
  inlineLoops?: number[];
  /** Redo a trial during which other processes used more than this many cores (at most
   *  `trials` redos in all); Infinity (the default) keeps every trial. */
  maxForeignCores?: number;
  progress?: (line: string) => void;
}

/** Measures `configs` interleaved (see the file comment). */
export async function measureMatrix(configs: BenchConfig[], captures: BenchCapture[], o: MatrixOptions): Promise<{ calibration: Spread; results: ConfigResult[] }> {
  const byName = new Map(captures.map((c) => [c.name, c]));
  const cap = (cfg: BenchConfig) => {
    const c = byName.get(cfg.capture);
    if (!c) throw new Error(`no capture named "${cfg.capture}" (have ${[...byName.keys()].join(", ")})`);
    return c;
  };
  const calibrator = new Calibrator();
  try {
    await calibrator.warmUp();
    const loops: number[] = [];
    const inlineLoops: number[] = [];
    for (const [i, cfg] of configs.entries()) {
      const given = o.loops?.[i];
      if (given) {
        // Warm-up only (JIT, caches, page faults); the trials use the loops given.
        await runTrial(cap(cfg), cfg, { loops: Math.max(1, Math.ceil(given / 4)), slowdownNs: o.slowdownNs });
        loops.push(given);
      } else {
        loops.push(await calibrateLoops(cap(cfg), cfg, o.seconds, o.slowdownNs));
      }
      const givenInline = o.inlineLoops?.[i];
      inlineLoops.push(givenInline ?? inlineLoopsFor(cap(cfg), cfg, 0.15, o.slowdownNs));
      if (givenInline) runInline(cap(cfg), cfg, Math.max(1, Math.ceil(givenInline / 4)), o.slowdownNs);
      o.progress?.(`${given ? "warm-up" : "pilot"} ${configId(cfg)}: ${loops[loops.length - 1]} loops (inline ${inlineLoops[inlineLoops.length - 1]})`);
    }
    const trials: TrialResult[][] = configs.map(() => []);
    const inline: { r: InlineResult; cal: number }[][] = configs.map(() => []);
    const calib: number[][] = configs.map(() => []);
    const allCalib: number[] = [];
    let redos = 0;
    for (let round = 0; round < o.trials; round++) {
      for (let k = 0; k < configs.length; k++) {
        const i = (k + round) % configs.length;
        let cal = await calibrator.measure();
        const last = round === o.trials - 1;
        let r = await runTrial(cap(configs[i]), configs[i], { loops: loops[i], slowdownNs: o.slowdownNs, sampleMs: last && o.keepSamples ? 20 : undefined });
        while ((r.foreignCores ?? 0) > (o.maxForeignCores ?? Infinity) && redos < o.trials) {
          redos++;
          o.progress?.(`${configId(configs[i])}: other processes used ${r.foreignCores!.toFixed(2)} cores during the trial; measuring it again`);
          cal = await calibrator.measure();
          r = await runTrial(cap(configs[i]), configs[i], { loops: loops[i], slowdownNs: o.slowdownNs, sampleMs: last && o.keepSamples ? 20 : undefined });
        }
        trials[i].push(r);
        calib[i].push(cal.score);
        const cpuCal = calibrateCpu();
        inline[i].push({ r: runInline(cap(configs[i]), configs[i], inlineLoops[i], o.slowdownNs), cal: cpuCal });
        allCalib.push(cal.score);
      }
      o.progress?.(`round ${round + 1}/${o.trials} done`);
    }
    const results = configs.map((cfg, i) => summarize(cfg, cap(cfg), loops[i], trials[i], calib[i], inlineLoops[i], inline[i]));
    return { calibration: spread(allCalib), results };
  } finally {
    await calibrator.close();
  }
}

function summarize(cfg: BenchConfig, capture: BenchCapture, loops: number, ts: TrialResult[], calib: number[], inlineLoops: number, inl: { r: InlineResult; cal: number }[]): ConfigResult {
  const inlinePps = inl.map((t) => t.r.ppsPerCpu);
  const inlineNorm = inl.map((t) => t.r.ppsPerCpu / t.cal);
  const pick = (f: (t: TrialResult) => number) => spread(ts.map(f));
  const sum = (f: (t: TrialResult) => number) => ts.reduce((a, t) => a + f(t), 0);
  const descriptors = sum((t) => t.descriptors);
  const lat = ts.filter((t) => t.latency);
  const last = ts[ts.length - 1];
  return {
    id: configId(cfg),
    config: cfg,
    captureDescription: capture.description,
    loops,
    pps: pick((t) => t.pps),
    dps: pick((t) => t.dps),
    wireGbps: pick((t) => t.wireGbps),
    wireGbpsWithOverhead: pick((t) => t.wireGbpsWithOverhead),
    cpuNsPerPacket: pick((t) => t.cpuNsPerPacket),
    backendNsPerPacket: pick((t) => t.backendNsPerPacket),
    nicNsPerPacket: pick((t) => t.nicNsPerPacket),
    normalized: spread(ts.map((t, j) => t.pps / calib[j])),
    inlinePpsPerCpu: spread(inlinePps),
    inlineNormalized: spread(inlineNorm),
    inlineLoops,
    latencyP50Us: lat.length ? median(lat.map((t) => t.latency!.p50Us)) : null,
    latencyP99Us: lat.length ? median(lat.map((t) => t.latency!.p99Us)) : null,
    completionsPerInterrupt: descriptors / Math.max(1, sum((t) => t.interrupts)),
    bytesCopiedPerDescriptor: sum((t) => t.bytesCopied) / Math.max(1, descriptors),
    bytesReferencedPerDescriptor: sum((t) => t.bytesReferenced) / Math.max(1, descriptors),
    dropsPerTrial: sum((t) => t.drops) / ts.length,
    foreignCores: ts.every((t) => t.foreignCores !== null) ? median(ts.map((t) => t.foreignCores!)) : null,
    trials: { pps: ts.map((t) => t.pps), normalized: ts.map((t, j) => t.pps / calib[j]), calibration: calib, foreignCores: ts.map((t) => t.foreignCores), inlinePpsPerCpu: inlinePps, inlineNormalized: inlineNorm },
    samples: last.samples,
    latencyBuckets: last.latency?.buckets,
    latencyLast: last.latency ? { p50Us: last.latency.p50Us, p99Us: last.latency.p99Us } : undefined,
  };
}

export function matrixConfigs(captures: string[], coalesce: CoalesceName[], copies: string[]): BenchConfig[] {
  const out: BenchConfig[] = [];
  for (const capture of captures) for (const c of coalesce) for (const copy of copies) out.push({ capture, coalesce: c, copy });
  return out;
}

const f2 = (x: number | null, d = 2) => (x === null || !Number.isFinite(x) ? "n/a" : x.toFixed(d));
const mpps = (s: Spread) => `${f2(s.median / 1e6)} (${f2(s.min / 1e6)}–${f2(s.max / 1e6)})`;

/** The matrix as a markdown table (medians; the pps range is min–max over trials). */
export function markdownReport(b: BenchResults): string {
  const lines = [
    `## vnic bench — ${b.date}`,
    ``,
    `Machine: ${b.machine.cpuModel}, ${b.machine.cores} cores, Node ${b.machine.node}; commit ${b.git.commit?.slice(0, 10) ?? "unknown"}${b.git.dirty ? " (dirty)" : ""}; ` +
      `${b.options.trials} interleaved trials of ~${b.options.seconds} s per configuration; calibration ${f2(b.calibration.median, 3)} it/ns (±${f2(b.calibration.rmad * 100, 1)} % MAD)` +
      (b.options.slowdownNs ? `; **slowdownNs ${b.options.slowdownNs}**` : ""),
    ``,
    `| capture | coalesce | copy | Mpps (min–max) | ±MAD | Gbit/s | Gbit/s +24 B | CPU ns/pkt | backend / NIC ns/pkt | compl/intr | copied B/desc | referenced B/desc | p50 µs | p99 µs | drops/trial | other procs (cores) | 1-thread Mpps per CPU-s |`,
    `|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
  ];
  for (const r of b.results) {
    lines.push(
      `| ${r.config.capture} | ${r.config.coalesce} | ${r.config.copy} | ${mpps(r.pps)} | ${f2(r.pps.rmad * 100, 1)} % | ${f2(r.wireGbps.median)} | ${f2(r.wireGbpsWithOverhead.median)} | ` +
        `${f2(r.cpuNsPerPacket.median, 0)} | ${f2(r.backendNsPerPacket.median, 1)} / ${f2(r.nicNsPerPacket.median, 1)} | ${f2(r.completionsPerInterrupt, 1)} | ${f2(r.bytesCopiedPerDescriptor, 0)} | ${f2(r.bytesReferencedPerDescriptor, 0)} | ` +
        `${f2(r.latencyP50Us, 1)} | ${f2(r.latencyP99Us, 1)} | ${f2(r.dropsPerTrial, 0)} | ${f2(r.foreignCores, 2)} | ${f2(r.inlinePpsPerCpu.median / 1e6)} |`,
    );
  }
  lines.push("", `Mpps counts wire frames (segments for super-packets); "+24 B" adds preamble, SFD, inter-frame gap and FCS per frame. CPU is process time (all threads) per guest descriptor; "backend / NIC" splits the device thread's share of it (median of sampled steps): translation, partial copy and LSO stage 1, then the NIC model's gather, checksums and LSO stage 2. ` +
    `"1-thread Mpps per CPU-s": the same stage functions run inline on one thread (guest step, device step, repeated), wire frames per CPU-second. ` +
    `"other procs": CPU other processes used during the trials (this machine is shared).`);
  return lines.join("\n");
}

function textReport(b: BenchResults): string {
  return markdownReport(b);
}

const BENCH_HELP = `Usage: vnic bench [options]

Runs the end-to-end matrix on the threaded datapath: captures (64-byte, IMIX, 1514-byte, 64 KiB
and 185 KB TCP super-packets, built in memory) × coalescing (none, adaptive) × copy modes, with
interleaved trials and medians.

Options:
  --quick              CI size: copy mode headers only, 3 trials of ~0.15 s
  --trials N           trials per configuration (default 5)
  --seconds S          length of one trial (default 0.3)
  --captures LIST      comma-separated subset of ${ALL_CAPTURES.join(",")}
  --coalesce LIST      comma-separated subset of none,adaptive
  --copy LIST          comma-separated copy modes (default ${ALL_COPY_MODES.join(",")})
  --json               print the results as JSON
  --markdown           print a markdown table (the default text form is the same table)
  --out FILE           also write the JSON results to FILE
  --report FILE.html   write a self-contained HTML report with plots
  -h, --help           this text

Environment: VNIC_SLOWDOWN_NS=N adds about N ns of busy work per descriptor in the NIC stage
(the gate's deliberate slowdown).
`;

function listOption(v: string | undefined, all: readonly string[], name: string): string[] {
  if (v === undefined) return [...all];
  const items = v.split(",").map((s) => s.trim()).filter(Boolean);
  for (const it of items) if (!all.includes(it)) throw new Error(`${name}: unknown "${it}" (expected ${all.join(", ")})`);
  return items;
}

export async function runBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean" },
      trials: { type: "string" },
      seconds: { type: "string" },
      captures: { type: "string" },
      coalesce: { type: "string" },
      copy: { type: "string" },
      json: { type: "boolean" },
      markdown: { type: "boolean" },
      out: { type: "string" },
      report: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(BENCH_HELP);
    return 0;
  }
  const quick = values.quick ?? false;
  const trials = values.trials ? Number(values.trials) : quick ? 3 : 5;
  const seconds = values.seconds ? Number(values.seconds) : quick ? 0.15 : 0.3;
  if (!Number.isInteger(trials) || trials < 1 || trials > 1000) throw new UsageError(`--trials takes 1..1000, not ${values.trials}`);
  if (!(seconds > 0 && seconds <= 60)) throw new UsageError(`--seconds takes a number in (0, 60], not ${values.seconds}`);
  let configs: BenchConfig[];
  try {
    const copies = values.copy ? values.copy.split(",").map((s) => s.trim()) : quick ? ["headers"] : ALL_COPY_MODES;
    for (const c of copies) parseCopyMode(c);
    configs = matrixConfigs(
      listOption(values.captures, ALL_CAPTURES, "--captures"),
      listOption(values.coalesce, Object.keys(COALESCE_POLICIES), "--coalesce") as CoalesceName[],
      copies,
    );
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const slowdownNs = envSlowdownNs();
  const t0 = performance.now();
  const progress = (line: string) => process.stderr.write(`vnic bench: ${line}\n`);
  const { calibration, results } = await measureMatrix(configs, benchCaptures(), { trials, seconds, slowdownNs, keepSamples: values.report !== undefined, progress });
  const bench: BenchResults = {
    schema: BENCH_SCHEMA,
    date: new Date().toISOString(),
    machine: machineInfo(),
    git: gitInfo(projectRoot()),
    options: { trials, seconds, slowdownNs, quick },
    calibration,
    results,
    wallSeconds: (performance.now() - t0) / 1000,
  };
  const forJson = { ...bench, results: results.map(({ samples: _s, latencyBuckets: _l, latencyLast: _p, ...r }) => r) };
  if (values.out) writeFileSafely(values.out, JSON.stringify(forJson, null, 2) + "\n", "--out");
  if (values.report) {
    const { writeBenchReport } = await import("../report/report-html.js");
    writeBenchReport(values.report, bench);
    progress(`wrote ${values.report}`);
  }
  process.stdout.write((values.json ? JSON.stringify(forJson, null, 2) : values.markdown ? markdownReport(bench) : textReport(bench)) + "\n");
  return 0;
}
