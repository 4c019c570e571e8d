// The same-run A/B of `vnic gate --against REV`: the reference core (A) and the build under
// test (B) measured alternately on this machine, now — A B, B A, A B … — so that whatever the
// machine does (a slower CPU, a neighbour's load, a frequency step) lands on both sides of each
// pair, and the pair's ratio B/A cancels it.
//
// Two metrics, both paired:
//   one-thread  the stage functions inline on this thread (src/perf/bench-inline.ts), wire frames per
//               CPU-second of this thread: precise, blind to the hand-off between threads.
//   two-thread  the real datapath (guest thread + device worker, src/perf/bench-run.ts runTrial), wire
//               frames per second over the steady part of the run (the samples after the first
//               one that shows traffic: worker start-up and the ramp are not in the rate).
// Every trial is sized by a pilot to a minimum duration (never a 2-loop trial), after a warm-up
// of both builds that also lets the JIT settle.
//
// The decision is a percentile-bootstrap interval (seeded) of the MEDIAN PAIR RATIO, not a
// Wilcoxon signed-rank test: the gate needs a bound on the size of the slowdown ("confidently
// more than the tolerance slower"), which the interval gives directly in the tolerance's unit,
// while a signed-rank test answers "is there any shift" (a real 0.3 % would fail it, and with 7
// pairs its smallest two-sided p is 1/64, so it cannot even reach 99 %). The median keeps one
// disturbed pair from moving the estimate.

import { InlineRig, abInline } from "./bench-inline.js";
import type { BenchCapture } from "./bench-frames.js";
import { BenchConfig, TrialResult, configId, runTrial } from "./bench-run.js";
import { Interval, bootstrapMedian, median } from "./bench-stats.js";

export interface PairedMetric {
  /** B/A per pair. */
  ratios: number[];
  reference: number[];
  current: number[];
  interval: Interval;
  /** Passes over the capture per trial (from the pilot). */
  loops: number;
}

export interface AbConfig {
  id: string;
  oneThread: PairedMetric;
  twoThread: PairedMetric | null;
}

export interface AbOptions {
  pairs: number;
  /** VNIC_SLOWDOWN_NS: the build under test only. */
  slowdownNs: number;
  level: number;
  /** Minimum CPU-seconds of a one-thread trial. */
  oneThreadSeconds: number;
  /** Minimum seconds of a two-thread trial (0: skip the two-thread metric). */
  twoThreadSeconds: number;
  progress: (line: string) => void;
}

/** Loops for an inline trial of at least `seconds` of CPU (pilot runs growing until one lasts
 *  50 ms), measured on the slower of the two builds. */
function inlineLoops(rigs: InlineRig[], cfg: BenchConfig, seconds: number, slowdownNs: number): number {
  let loops = 1;
  for (let i = 0; i < 12; i++) {
    let cpu = 0;
    for (const [k, rig] of rigs.entries()) {
      const frames = rig.run(cfg, loops, k === 1 ? slowdownNs : 0); // frames per CPU-second
      cpu = Math.max(cpu, (rig.core.counter("wireFrames") > 0n ? Number(rig.core.counter("wireFrames")) : 1) / Math.max(frames, 1));
    }
    if (cpu >= 0.05) return Math.max(1, Math.ceil((loops * seconds) / cpu));
    loops *= cpu > 0.003 ? Math.ceil(0.06 / cpu) : 8;
  }
  return loops;
}

/** Wire frames per second over the steady part of a two-thread trial (see the file comment). */
export function steadyPps(t: TrialResult): number {
  const s = t.samples ?? [];
  const first = s.findIndex((x) => x.wireFrames > 0);
  if (first < 0 || s.length - first < 3) return t.pps;
  const a = s[first], b = s[s.length - 1];
  return b.t > a.t ? (b.wireFrames - a.wireFrames) / (b.t - a.t) : t.pps;
}

async function twoThreadLoops(capture: BenchCapture, cfg: BenchConfig, modules: WebAssembly.Module[], seconds: number, slowdownNs: number): Promise<number> {
  let loops = 1;
  for (let i = 0; i < 10; i++) {
    let longest = 0, dps = Infinity;
    for (const [k, module] of modules.entries()) {
      const r = await runTrial(capture, cfg, { loops, slowdownNs: k === 1 ? slowdownNs : 0, module });
      longest = Math.max(longest, r.elapsedSeconds);
      dps = Math.min(dps, r.dps);
    }
    if (longest >= 0.08) return Math.max(2, Math.ceil((dps * seconds) / capture.frames.length));
    loops *= longest > 0.005 ? Math.ceil(0.1 / longest) : 8;
  }
  return loops;
}

async function twoThreadPairs(capture: BenchCapture, cfg: BenchConfig, ref: WebAssembly.Module, cur: WebAssembly.Module, o: AbOptions): Promise<PairedMetric> {
  const loops = await twoThreadLoops(capture, cfg, [ref, cur], o.twoThreadSeconds, o.slowdownNs);
  const trial = async (module: WebAssembly.Module, slowdownNs: number) =>
    steadyPps(await runTrial(capture, cfg, { loops, slowdownNs, module, sampleMs: Math.max(10, Math.round((o.twoThreadSeconds * 1000) / 12)) }));
  const reference: number[] = [], current: number[] = [], ratios: number[] = [];
  for (let i = 0; i < o.pairs; i++) {
    let a: number, b: number;
    if (i % 2 === 0) {
      a = await trial(ref, 0);
      b = await trial(cur, o.slowdownNs);
    } else {
      b = await trial(cur, o.slowdownNs);
      a = await trial(ref, 0);
    }
    reference.push(a);
    current.push(b);
    ratios.push(b / a);
  }
  return { ratios, reference, current, interval: bootstrapMedian(ratios, o.level), loops };
}

/** The paired A/B of every configuration (see the file comment). */
export async function abMeasure(ref: WebAssembly.Module, cur: WebAssembly.Module, configs: BenchConfig[], captures: BenchCapture[], o: AbOptions): Promise<AbConfig[]> {
  const out: AbConfig[] = [];
  for (const cfg of configs) {
    const id = configId(cfg);
    const capture = captures.find((c) => c.name === cfg.capture);
    if (!capture) throw new Error(`vnic gate: no capture named ${cfg.capture}`);
    const loops = inlineLoops([new InlineRig(ref, capture), new InlineRig(cur, capture)], cfg, o.oneThreadSeconds, o.slowdownNs);
    const ab = abInline(ref, cur, capture, cfg, loops, o.pairs, o.slowdownNs, o.level);
    const oneThread: PairedMetric = { ratios: ab.ratios, reference: ab.reference, current: ab.current, interval: ab.interval, loops };
    const twoThread = o.twoThreadSeconds > 0 ? await twoThreadPairs(capture, cfg, ref, cur, o) : null;
    const show = (m: PairedMetric) => `${(m.interval.estimate * 100 - 100).toFixed(1)} % [${(m.interval.lo * 100 - 100).toFixed(1)}, ${(m.interval.hi * 100 - 100).toFixed(1)}]`;
    o.progress(`A/B ${id}: one-thread ${show(oneThread)} (${loops} loops, median ${(median(ab.current) / 1e6).toFixed(2)} Mpps/CPU-s)` +
      (twoThread ? `; two-thread ${show(twoThread)} (${twoThread.loops} loops)` : ""));
    out.push({ id, oneThread, twoThread });
  }
  return out;
}
