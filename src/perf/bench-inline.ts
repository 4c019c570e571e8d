// A/B of the one-thread metric against another build of the core, in the same session.
//
// The stored-baseline gate compares figures measured at different times; on a shared machine the
// neighbours' load moves even the one-thread, CPU-time metric by up to ~30 % between sessions
// (cache and memory contention that the compute kernel does not feel). Measuring a reference
// build and the current build side by side — the same capture, alternating A B B A so drift
// cancels — compares like with like: each pair's ratio sees the same machine.
//
// Any .wasm built from assembly/ works as the reference (e.g. the merge-base's build/vnic.wasm).
// The rig lays the memory out itself (createCore's steps, on a given module), so it needs no
// change in src/core/core.ts or src/datapath/datapath.ts.

import { readFileSync } from "node:fs";
import { Core, createCore, DEFAULT_PLAN, ParamName } from "../core/core.js";
import { DEFAULT_PARAMS, arenaRecordBytes, guestBufferBytesFor, writeArenaRecord } from "../datapath/datapath.js";
import { parseCopyMode } from "../replay/copy-options.js";
import type { BenchCapture } from "./bench-frames.js";
import { BenchConfig, COALESCE_POLICIES, threadCpuNs } from "./bench-run.js";
import { bootstrapMedian, Interval } from "./bench-stats.js";

export function compileWasm(file: string): WebAssembly.Module {
  return new WebAssembly.Module(new Uint8Array(readFileSync(file)));
}

/** One core instance (of `module`) with `capture` in its arena, run inline on this thread. */
export class InlineRig {
  readonly core: Core;
  private readonly arenaBytes: number;

  /** `deterministicClock`: the core reads a clock that advances 1 µs per read instead of the
   *  real one, so that what it executes depends on the frames only (the instruction count). */
  constructor(module: WebAssembly.Module, private readonly capture: BenchCapture, opts: { deterministicClock?: boolean } = {}) {
    this.arenaBytes = capture.frames.reduce((n, f) => n + arenaRecordBytes(f.length), 0);
    let tick = 0;
    const clock = opts.deterministicClock ? () => 1e9 + tick++ : undefined;
    this.core = createCore({ ...DEFAULT_PLAN, arenaBytes: Math.max(this.arenaBytes, 8) }, "release", module, clock);
    this.core.exports.initDatapath(0x5eed); // also attach(): the region globals, arenaBase included
    let at = this.core.constant("arenaBase");
    for (const f of capture.frames) at += writeArenaRecord(this.core, at, f, 0n);
  }

  /** One inline trial: wire frames per CPU-second of this thread. */
  run(cfg: BenchConfig, loops: number, slowdownNs: number, beforeLoop?: () => void, afterLoop?: () => void): number {
    const core = this.core;
    const x = core.exports;
    x.initDatapath(0x5eed);
    const params: Record<string, number> = {
      ...DEFAULT_PARAMS, mss: 0, fixedId: 0, wireDiscard: 1,
      ...parseCopyMode(cfg.copy), slowdownNs, coalescePolicy: core.constant(COALESCE_POLICIES[cfg.coalesce]),
      // As the threaded datapath does (a build from before P_guestBufferBytes skips it below).
      guestBufferBytes: guestBufferBytesFor(DEFAULT_PLAN.ringSlots, Math.max(...this.capture.frames.map((f) => f.length)), DEFAULT_PLAN.guestRamBytes),
    };
    for (const [name, v] of Object.entries(params)) {
      if (typeof (core.exports as unknown as Record<string, unknown>)["P_" + name] !== "undefined") core.setParam(name as ParamName, v);
    }
    const v = core.view;
    v.setUint32(core.constant("ARENA_BYTES"), this.arenaBytes, true);
    v.setUint32(core.constant("ARENA_FRAMES"), this.capture.frames.length, true);
    v.setUint32(core.constant("ARENA_LOOPS"), loops, true);
    v.setBigUint64(core.constant("ARENA_LIMIT"), 0n, true);
    x.guestInit();
    const guestStep = x.guestStep as (b: number) => number;
    const deviceStep = x.deviceStep as (b: number) => number;
    beforeLoop?.();
    const c0 = threadCpuNs();
    for (;;) {
      if (guestStep(32) < 0) break;
      deviceStep(32);
    }
    const ns = threadCpuNs() - c0;
    afterLoop?.();
    return Number(core.counter("wireFrames")) / (Math.max(ns, 1) / 1e9);
  }
}

export interface AbResult {
  /** current / reference, one ratio per A-B pair. */
  ratios: number[];
  reference: number[];
  current: number[];
  interval: Interval;
}

/**
 * `pairs` interleaved pairs (A B, then B A, …) of inline trials of the reference module and the
 * current one (the current one with `slowdownNs`); the interval is a bootstrap of the median
 * pair ratio.
 */
export function abInline(reference: WebAssembly.Module, current: WebAssembly.Module, capture: BenchCapture, cfg: BenchConfig,
  loops: number, pairs: number, slowdownNs: number, level = 0.95): AbResult {
  const a = new InlineRig(reference, capture);
  const b = new InlineRig(current, capture);
  a.run(cfg, Math.max(1, loops >> 2), 0); // warm-up both
  b.run(cfg, Math.max(1, loops >> 2), slowdownNs);
  const ref: number[] = [], cur: number[] = [], ratios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    let ra: number, rb: number;
    if (i % 2 === 0) {
      ra = a.run(cfg, loops, 0);
      rb = b.run(cfg, loops, slowdownNs);
    } else {
      rb = b.run(cfg, loops, slowdownNs);
      ra = a.run(cfg, loops, 0);
    }
    ref.push(ra);
    cur.push(rb);
    ratios.push(rb / ra);
  }
  return { ratios, reference: ref, current: cur, interval: bootstrapMedian(ratios, level) };
}
