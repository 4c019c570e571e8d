// One benchmark trial: a preloaded capture through a fresh Datapath (both stage workers), with
// the configuration's coalescing policy and copy mode, and what it measured.
//
// Rates are over the guest's own run window (RunResult.elapsedSeconds: first post to last
// completion), so pool start-up is not counted. CPU time is process-wide (all threads) between
// the first and the last counter sample, divided by the descriptors completed in between — the
// workers are up by then, so their start-up is not counted either.

import { readFileSync } from "node:fs";
import { DEFAULT_PARAMS, Datapath, RunResult, arenaRecordBytes } from "../datapath/datapath.js";
import type { CounterSnapshot } from "../core/counters.js";
import { parseCopyMode } from "../replay/copy-options.js";
import { latencyFromCore, type LatencyWithBuckets } from "../report/latency.js";
import { ETHERNET_OVERHEAD } from "../report/report.js";
import { devicePerPacket } from "../workers/device-time.js";
import type { BenchCapture } from "./bench-frames.js";

export const COALESCE_POLICIES = { none: "POLICY_NONE", adaptive: "POLICY_ADAPTIVE" } as const;
export type CoalesceName = keyof typeof COALESCE_POLICIES;

export interface BenchConfig {
  capture: string;
  coalesce: CoalesceName;
  /** A --copy mode: headers, l3:10, fixed:N, full, none. */
  copy: string;
}

export const configId = (c: BenchConfig): string => `${c.capture}/${c.coalesce}/${c.copy}`;

export function parseConfigId(id: string): BenchConfig {
  const [capture, coalesce, copy] = id.split("/");
  if (!capture || !(coalesce in COALESCE_POLICIES) || !copy) throw new Error(`bad benchmark configuration id "${id}" (capture/coalesce/copy)`);
  return { capture, coalesce: coalesce as CoalesceName, copy };
}

/** One counter sample during a run (for rate-over-time and coalescing plots). */
export interface RunSample {
  t: number;
  wireFrames: number;
  wireBytes: number;
  posted: number;
  completed: number;
  interrupts: number;
  bytesCopied: number;
  bytesReferenced: number;
  cpuUs: number;
}

export interface TrialResult {
  elapsedSeconds: number;
  descriptors: number;
  wireFrames: number;
  wireBytes: number;
  /** Wire frames per second. */
  pps: number;
  /** Guest descriptors completed per second (= pps unless frames are segmented or dropped). */
  dps: number;
  wireGbps: number;
  wireGbpsWithOverhead: number;
  cpuNsPerPacket: number;
  /** The device thread's time per packet in the backend and in the NIC model (NaN if unsampled). */
  backendNsPerPacket: number;
  nicNsPerPacket: number;
  latency: LatencyWithBuckets | null;
  bytesCopied: number;
  bytesReferenced: number;
  interrupts: number;
  drops: number;
  /** CPU used by other processes during the trial, in cores (null where /proc/stat is absent):
   *  a busy neighbour on a 2-core machine distorts a two-thread datapath. */
  foreignCores: number | null;
  samples?: RunSample[];
}

/** Busy CPU time of the whole machine so far, ms (Linux /proc/stat), or null. */
export function machineBusyMs(): number | null {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return ((total - idle) * 1000) / 100; // USER_HZ = 100
  } catch {
    return null;
  }
}

export interface TrialOptions {
  loops: number;
  /** Core param slowdownNs (the gate's deliberate slowdown; 0 normally). */
  slowdownNs?: number;
  /** Keep counter samples every `sampleMs` (for the HTML report). */
  sampleMs?: number;
  /** Another build of the core (vnic gate --against REV); default build/vnic.wasm. */
  module?: WebAssembly.Module;
}

export function arenaBytesFor(capture: BenchCapture): number {
  return capture.frames.reduce((n, f) => n + arenaRecordBytes(f.length), 0);
}

/** The slowdown asked for through the environment (VNIC_SLOWDOWN_NS), 0 when unset. */
export function envSlowdownNs(): number {
  const v = process.env.VNIC_SLOWDOWN_NS;
  if (v === undefined || v === "") return 0;
  if (!/^\d+$/.test(v)) throw new Error(`VNIC_SLOWDOWN_NS must be a whole number of nanoseconds, not "${v}"`);
  return Number(v);
}

const num = (v: bigint | undefined) => Number(v ?? 0n);

function sampleOf(t: number, s: CounterSnapshot, cpuUs: number): RunSample {
  const c = s.counters;
  return {
    t,
    wireFrames: num(c.wireFrames),
    wireBytes: num(c.wireBytes),
    posted: num(c.guestPosted),
    completed: num(c.guestCompleted),
    interrupts: num(c.interrupts),
    bytesCopied: num(c.bytesCopied),
    bytesReferenced: num(c.bytesReferenced),
    cpuUs,
  };
}

// One Datapath (one shared memory, ~75 MiB) per capture, reused by every trial: allocating a
// fresh memory per trial grows the heap by gigabytes before V8 collects the old ones, and the
// collections (and page faults) then land inside trials — measured here as 5× slower trials.
// Keyed by core build too (the gate's A/B keeps one per build).
const datapaths = new Map<WebAssembly.Module | undefined, Map<BenchCapture, Datapath>>();

/** The capture's Datapath, reset for a new run with `cfg` (counters, rings, pool, wire, stop
 *  flag) — the arena keeps the capture. */
export function preparedDatapath(capture: BenchCapture, cfg: BenchConfig, loops: number, slowdownNs: number, module?: WebAssembly.Module): Datapath {
  let byCapture = datapaths.get(module);
  if (!byCapture) datapaths.set(module, (byCapture = new Map()));
  let dp = byCapture.get(capture);
  if (!dp) {
    dp = new Datapath(arenaBytesFor(capture), { module });
    for (const f of capture.frames) dp.placeFrame(f, 0n);
    byCapture.set(capture, dp);
  }
  const core = dp.core;
  core.exports.initDatapath(dp.config.pageSeed);
  Atomics.store(new Int32Array(core.memory.buffer), core.constant("STATE_STOP") >> 2, 0);
  dp.drainRequested = false;
  (dp.config as { loops: number }).loops = loops;
  // vnic replay's defaults (checksum offload on, NIC large-send limit 64 KiB), then the config.
  const params: Record<string, number> = {
    ...DEFAULT_PARAMS, mss: 0, fixedId: 0, ...parseCopyMode(cfg.copy), slowdownNs,
    coalescePolicy: core.constant(COALESCE_POLICIES[cfg.coalesce]),
    // Set here, not left to Datapath.run, so the one-thread (inline) runs use it too.
    guestBufferBytes: dp.guestBufferBytes(),
  };
  core.setParams(params);
  return dp;
}

/** CPU time of this thread so far, ns (Linux schedstat: exact, this thread only — V8's
 *  helper threads and dying workers are not counted); process CPU time elsewhere. */
export function threadCpuNs(): number {
  try {
    return Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]);
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) * 1000;
  }
}

export async function runTrial(capture: BenchCapture, cfg: BenchConfig, opts: TrialOptions): Promise<TrialResult> {
  const dp = preparedDatapath(capture, cfg, opts.loops, opts.slowdownNs ?? 0, opts.module);
  const samples: RunSample[] = [];
  const busy0 = machineBusyMs();
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const cpuNow = () => {
    const d = process.cpuUsage(cpu0);
    return d.user + d.system;
  };
  const run: RunResult = await dp.run({
    sampler: { everyMs: opts.sampleMs ?? 50, sample: (t, s) => samples.push(sampleOf(t, s, cpuNow())) },
  });
  const busy1 = machineBusyMs();
  const ownMs = cpuNow() / 1000;
  const wallMs = performance.now() - wall0;
  const foreignCores = busy0 !== null && busy1 !== null ? Math.max(0, (busy1 - busy0 - ownMs) / wallMs) : null;
  const c = run.counters.counters;
  const s = run.elapsedSeconds;
  const wireFrames = num(c.wireFrames);
  const wireBytes = num(c.wireBytes);
  const descriptors = num(c.guestCompleted);
  // CPU per packet between the first and last sample (workers running), else over the run.
  let cpuNs = cpuNow() * 1000;
  let pkts = descriptors;
  if (samples.length >= 3) {
    const a = samples[0], b = samples[samples.length - 1];
    if (b.completed > a.completed) {
      cpuNs = (b.cpuUs - a.cpuUs) * 1000;
      pkts = b.completed - a.completed;
    }
  }
  const drops = Object.values(run.counters.drops).reduce((a, v) => a + Number(v), 0);
  const split = devicePerPacket(run.device.timeSplit, num(c.deviceDescriptors));
  return {
    elapsedSeconds: s,
    descriptors,
    wireFrames,
    wireBytes,
    pps: wireFrames / s,
    dps: descriptors / s,
    wireGbps: (wireBytes * 8) / s / 1e9,
    wireGbpsWithOverhead: ((wireBytes + wireFrames * ETHERNET_OVERHEAD) * 8) / s / 1e9,
    cpuNsPerPacket: pkts > 0 ? cpuNs / pkts : Number.NaN,
    backendNsPerPacket: split?.backendNsPerPacket ?? Number.NaN,
    nicNsPerPacket: split?.nicNsPerPacket ?? Number.NaN,
    latency: latencyFromCore(dp.core),
    bytesCopied: num(c.bytesCopied),
    bytesReferenced: num(c.bytesReferenced),
    interrupts: num(c.interrupts),
    drops,
    foreignCores,
    samples: opts.sampleMs ? samples : undefined,
  };
}

/** Passes over the capture for a trial of about `seconds`, from a pilot's descriptor rate. */
export function loopsFor(capture: BenchCapture, dps: number, seconds: number): number {
  if (!(dps > 0)) return 1;
  return Math.max(1, Math.ceil((dps * seconds) / capture.frames.length));
}

/** Pilot runs (growing ×4 until one lasts ≥ 50 ms, which also warms the JIT and the caches):
 *  the loops for a trial of about `seconds`. */
export async function calibrateLoops(capture: BenchCapture, cfg: BenchConfig, seconds: number, slowdownNs = 0): Promise<number> {
  let loops = 1;
  for (let i = 0; i < 8; i++) {
    const r = await runTrial(capture, cfg, { loops, slowdownNs });
    if (r.elapsedSeconds >= 0.05 || i === 7) return loopsFor(capture, r.dps, seconds);
    loops *= r.elapsedSeconds > 0.005 ? Math.ceil(0.06 / r.elapsedSeconds) : 8;
  }
  return loops;
}

/** A trial of the same stage functions run inline on this one thread (guestStep then
 *  deviceStep, repeated): no handoff, no sleeping, no scheduler in the loop. Measured in CPU
 *  time of this process, it is almost immune to neighbours taking the other core — the gate's
 *  precise metric for per-packet work. */
export interface InlineResult {
  descriptors: number;
  wireFrames: number;
  cpuSeconds: number;
  wallSeconds: number;
  /** Wire frames per CPU-second. */
  ppsPerCpu: number;
}

export function runInline(capture: BenchCapture, cfg: BenchConfig, loops: number, slowdownNs = 0): InlineResult {
  const arena = arenaBytesFor(capture);
  const dp = preparedDatapath(capture, cfg, loops, slowdownNs);
  const core = dp.core;
  const x = core.exports;
  core.setParam("wireDiscard", 1);
  const v = core.view;
  v.setUint32(core.constant("ARENA_BYTES"), arena, true);
  v.setUint32(core.constant("ARENA_FRAMES"), capture.frames.length, true);
  v.setUint32(core.constant("ARENA_LOOPS"), loops, true);
  v.setBigUint64(core.constant("ARENA_LIMIT"), 0n, true);
  x.guestInit();
  const budget = 32;
  const guestStep = x.guestStep as (b: number) => number;
  const deviceStep = x.deviceStep as (b: number) => number;
  const cpu0 = threadCpuNs();
  const t0 = performance.now();
  for (;;) {
    if (guestStep(budget) < 0) break;
    deviceStep(budget);
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpuSeconds = (threadCpuNs() - cpu0) / 1e9;
  const wireFrames = Number(core.counter("wireFrames"));
  return { descriptors: Number(core.counter("guestCompleted")), wireFrames, cpuSeconds, wallSeconds, ppsPerCpu: wireFrames / Math.max(cpuSeconds, 1e-6) };
}

/** Loops for an inline trial of about `cpuSeconds` of CPU. */
export function inlineLoopsFor(capture: BenchCapture, cfg: BenchConfig, cpuSeconds: number, slowdownNs = 0): number {
  let loops = 1;
  for (let i = 0; i < 10; i++) {
    const r = runInline(capture, cfg, loops, slowdownNs);
    if (r.cpuSeconds >= 0.05) return Math.max(1, Math.ceil((loops * cpuSeconds) / r.cpuSeconds));
    loops *= r.cpuSeconds > 0.003 ? Math.ceil(0.06 / r.cpuSeconds) : 8;
  }
  return loops;
}
