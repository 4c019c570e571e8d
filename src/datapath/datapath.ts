// Builds the shared memory, places the capture in its arena, starts the two stage workers,
// drains the wire, watches the workers, and stops them. One Datapath is one run.
//
// Threads: piscina runs exactly two long-lived tasks (guest, device) on two threads that stay
// up for the run (minThreads = maxThreads = 2, idleTimeout Infinity); the shared memory and the
// compiled module travel in workerData, shared, not copied. The main thread only drains the
// wire into the capture writer (when there is one, src/datapath/wire-drain.ts) and waits.
//
// Failure: a task that throws (or a worker that dies) rejects its promise; the run then sets
// the stop flag, wakes the other stage, waits at most STOP_GRACE_MS for it, destroys the pool
// and throws a DatapathError naming the failed stage, with the counters up to that point.

import path from "node:path";
import { Piscina } from "piscina";
import { Core, CoreFlavor, DEFAULT_PLAN, createCore, projectRoot } from "../core/core.js";
import type { StageResult, StageTask, StageName } from "../workers/stage.js";
import { readCounters, CounterSnapshot } from "../core/counters.js";
import { STOP_DRAIN, STOP_NOW } from "../core/stop.js";
import type { ArenaFeeder } from "./arena-feeder.js";
import { FrameDrainer, PcapBatchWriter, PcapDrainer, type WireFrameSink } from "./wire-drain.js";
import { MAX_RECORD } from "../capture/types.js";
import { DeviceSupervisor } from "../handover/supervisor.js";
import type { HandoverOptions } from "../handover/options.js";
import type { HandoverLog } from "../handover/report.js";
import { IfaceFacts, IfacePump, WireChoice } from "../wire/iface-pump.js";
import type { OffloadMode } from "../wire/offload-mode.js";

// The capture arena's record header (assembly/guest/arena.ts), needed to size the arena before a
// core exists; tests/layout.test.ts checks it equals the core's export.
export const ARENA_RECORD_HEADER = 16;
const STOP_GRACE_MS = 1000;

const DRAIN_IDLE_MS = 1;

export interface DatapathConfig {
  guestRamBytes: number;
  ringSlots: number;
  wireBytes: number;
  pageSeed: number;
  /** Descriptors per stage step. */
  budget: number;
  flavor: CoreFlavor;
  /** Core run parameters by name (see assembly/shared/params.ts: mtu, copyMode, …). */
  params: Record<string, number>;
  /** Passes over the capture. */
  loops: number;
  /** Frames to post in all (0: no limit). */
  limit: number;
  /** The arena is a ring refilled by an ArenaFeeder (captures over --preload-limit). */
  streaming: boolean;
  /** Another build of the core to run instead of build/vnic.wasm (vnic gate --against REV). */
  module?: WebAssembly.Module;
}

/** vnic replay's run parameters (assembly/shared/params.ts): MTU 1500, checksum offload on,
 *  the NIC's large-send limit 64 KiB, the partial copy in `headers` mode. */
export const DEFAULT_PARAMS: Readonly<Record<string, number>> = { mtu: 1500, csumOffload: 1, nicMaxLso: 65536, maxSegments: 65535, copyMode: 0 };

export const DEFAULT_CONFIG: DatapathConfig = {
  ...DEFAULT_PLAN,
  pageSeed: 0x5eed,
  budget: 32,
  flavor: "release",
  params: DEFAULT_PARAMS,
  loops: 1,
  limit: 0,
  streaming: false,
};

/**
 * Most bytes the guest keeps in flight: Linux's TCP Small Queues limit, the bytes one socket
 * may have queued in the qdisc and the device (tcp_limit_output_bytes, 4 MB by default;
 * Documentation/networking/ip-sysctl.rst). It matters for large sends: a ring of 1024 × 64 KiB
 * super-packets is 64 MiB in flight, which no guest does and which no cache holds.
 */
export const IN_FLIGHT_BYTES_MAX = 4 << 20;

/** The guest buffer area for frames of at most `largest` bytes (see Datapath.guestBufferBytes). */
export function guestBufferBytesFor(ringSlots: number, largest: number, guestRamBytes: number): number {
  if (largest === 0) return 0;
  const ring = (ringSlots + 1) * (Math.ceil(largest / 64) * 64); // buffers start on a line (guest.ts)
  const want = Math.min(ring, Math.max(IN_FLIGHT_BYTES_MAX, 2 * largest));
  const pages = Math.ceil(want / 4096) * 4096;
  return pages >= guestRamBytes ? 0 : pages;
}

export type { WireFrameSink };

/** Called on the main thread every `everyMs` while the run goes on (and once at its end). */
export interface RunSampler {
  everyMs: number;
  sample: (elapsedSeconds: number, snapshot: CounterSnapshot) => void;
}

export interface RunOptions {
  /** Each wire frame to a function (tests, tools). */
  sink?: WireFrameSink;
  /** Every wire frame into a pcap file, converted by the core in batches (--out). */
  pcapOut?: PcapBatchWriter;
  /** Streaming mode: refills the arena ring from the capture, on the main thread. */
  feeder?: ArenaFeeder;
  sampler?: RunSampler;
  stages?: Partial<Record<StageName, Partial<StageTask>>>;
  /** Run the device as a succession of hand-over workers (src/handover/supervisor.ts);
   *  `firstConfig` names the configuration the run starts with, for the report. */
  handover?: { options: HandoverOptions; firstConfig: string };
  /** Every wire frame out of this Linux interface (--iface; the native pump, src/wire/iface-pump.ts). */
  iface?: string;
  /** With iface: which operations the kernel does (src/wire/offload-mode.ts; default emulate). */
  offload?: OffloadMode;
  /** With iface: --wire (auto: the fastest backend that works). */
  wire?: WireChoice;
  /** --wire-gather kernel (assembly/nic/gather.ts): frames sent as they are leave as gather lists
   *  into the shared memory, and their completions wait for the wire tail. Needs a wire
   *  consumer (iface, pcapOut or sink); not with hand-over. */
  wireGather?: WireGather;
}

export type WireGather = "nic" | "kernel";

export interface RunResult {
  elapsedSeconds: number;
  guest: StageResult;
  device: StageResult;
  counters: CounterSnapshot;
  /** With RunOptions.handover: every hand-over and restart. */
  handover?: HandoverLog;
  /** With RunOptions.iface: what the interface did with the wire frames. */
  iface?: IfaceFacts;
}

export class DatapathError extends Error {
  constructor(
    readonly stage: StageName | "host",
    readonly cause: unknown,
    readonly counters: CounterSnapshot,
  ) {
    super(`${stage} stage failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "DatapathError";
  }
}

/** Bytes an arena needs for frames of the given captured lengths. */
export function arenaRecordBytes(len: number): number {
  return ARENA_RECORD_HEADER + ((len + 7) & ~7);
}

/** Writes one capture arena record at `at` (assembly/guest/arena.ts: captured length, original
 *  length, timestamp, the bytes) and returns the bytes it takes. */
export function writeArenaRecord(core: Core, at: number, data: Uint8Array, tsNs: bigint, origLen = data.length): number {
  const view = core.view;
  view.setUint32(at, data.length, true);
  view.setUint32(at + 4, origLen, true);
  view.setBigUint64(at + 8, tsNs, true);
  core.u8.set(data, at + ARENA_RECORD_HEADER);
  return arenaRecordBytes(data.length);
}

export class Datapath {
  readonly core: Core;
  readonly config: DatapathConfig;
  /** Set once someone asked for a graceful stop (the run then ends early, books still kept). */
  drainRequested = false;
  private arenaAt = 0;
  private arenaFrames = 0;
  private maxFrameLen = 0;
  private firstTs = -1n;
  private lastTs = 0n;
  private readonly arenaBase: number;
  private readonly arenaLimit: number;

  constructor(arenaBytes: number, config: Partial<DatapathConfig> = {}) {
    this.config = { ...DEFAULT_CONFIG, ...config, params: { ...DEFAULT_CONFIG.params, ...config.params } };
    const c = this.config;
    this.core = createCore(
      { guestRamBytes: c.guestRamBytes, ringSlots: c.ringSlots, wireBytes: c.wireBytes, arenaBytes: Math.max(arenaBytes, 8) },
      c.flavor,
      c.module,
    );
    this.core.exports.initDatapath(c.pageSeed);
    this.core.setParams(c.params);
    this.arenaBase = this.core.constant("arenaBase");
    this.arenaLimit = arenaBytes;
  }

  /** Appends one frame to the capture arena (before run()). */
  placeFrame(data: Uint8Array, tsNs: bigint, origLen = data.length): void {
    const need = arenaRecordBytes(data.length);
    if (this.arenaAt + need > this.arenaLimit) throw new Error("vnic: capture arena overflow (sized too small)");
    writeArenaRecord(this.core, this.arenaBase + this.arenaAt, data, tsNs, origLen);
    this.arenaAt += need;
    this.arenaFrames++;
    if (data.length > this.maxFrameLen) this.maxFrameLen = data.length;
    if (this.firstTs < 0n) this.firstTs = tsNs;
    this.lastTs = tsNs;
  }

  /** Capture time one pass takes, plus one average gap (so loops keep the capture's rhythm). */
  private captureSpanNs(): bigint {
    if (this.arenaFrames < 2 || this.lastTs <= this.firstTs) return 0n;
    const span = this.lastTs - this.firstTs;
    return span + span / BigInt(this.arenaFrames - 1);
  }

  /**
   * Bytes of guest RAM the guest cycles its buffers through: what a full ring of the capture's
   * largest frame needs (+1 frame for the wasted tail at the wrap), but no more than
   * IN_FLIGHT_BYTES_MAX (still room for two of the largest frame), in whole pages; 0 (all of
   * guest RAM) when that is not less. Streaming, frames are not known in advance: the largest
   * is then the longest record the capture readers accept (MAX_RECORD).
   * A driver reuses the buffers it just freed, so its working set is what is in flight, not
   * all of guest RAM (assembly/guest/guest.ts).
   */
  guestBufferBytes(): number {
    const largest = this.config.streaming ? MAX_RECORD : this.maxFrameLen;
    return guestBufferBytesFor(this.config.ringSlots, largest, this.config.guestRamBytes);
  }

  /**
   * Tells the core what the arena holds: its bytes and frames, the loops and limit to replay,
   * the capture's time span. run() does it; a test or benchmark that steps the guest by hand
   * on its own thread calls it first (with the loops it wants).
   */
  armArena(loops = this.config.loops): void {
    const view = this.core.view;
    const streaming = this.config.streaming;
    view.setUint32(this.core.constant("ARENA_STREAMING"), streaming ? 1 : 0, true);
    view.setUint32(this.core.constant("ARENA_BYTES"), streaming ? this.arenaLimit : this.arenaAt, true);
    view.setUint32(this.core.constant("ARENA_FRAMES"), this.arenaFrames, true);
    view.setUint32(this.core.constant("ARENA_LOOPS"), streaming ? 1 : loops, true);
    view.setBigUint64(this.core.constant("ARENA_LIMIT"), BigInt(this.config.limit), true);
    view.setBigUint64(this.core.constant("ARENA_SPAN_NS"), this.captureSpanNs(), true);
  }

  get framesPlaced(): number {
    return this.arenaFrames;
  }

  counters(): CounterSnapshot {
    return readCounters(this.core);
  }

  /**
   * Asks a running datapath to stop. "drain": the guest posts nothing more but waits for what
   * it has in flight, so the books still balance (SIGINT, --duration). "now": both stages leave
   * their loops at once (the guest finished, or a stage failed).
   */
  requestStop(mode: "drain" | "now"): void {
    if (mode === "drain") this.drainRequested = true;
    const i32 = new Int32Array(this.core.memory.buffer);
    const stop = this.core.constant("STATE_STOP") >> 2;
    Atomics.store(i32, stop, Math.max(Atomics.load(i32, stop), mode === "now" ? STOP_NOW : STOP_DRAIN));
    for (const bell of ["STATE_GUEST_DOORBELL", "STATE_DEVICE_DOORBELL"] as const) {
      const i = this.core.constant(bell) >> 2;
      Atomics.add(i32, i, 1);
      Atomics.notify(i32, i);
    }
  }

  /**
   * Runs the capture through the datapath. With a sink, every wire frame is handed to it (in
   * order, on the main thread); without one the wire only counts.
   */
  async run(opts: RunOptions = {}): Promise<RunResult> {
    const { sink, sampler } = opts;
    const stageOptions = { ...opts.stages };
    const streaming = this.config.streaming;
    this.armArena();
    if (streaming && !opts.feeder) throw new Error("vnic: a streaming datapath needs an ArenaFeeder");
    let feedError: unknown;
    const feed = () => {
      if (!opts.feeder || feedError) return 0;
      try {
        return opts.feeder.fill();
      } catch (e) {
        // A capture that turns out corrupt half-way: post nothing more, finish what is in
        // flight, then report the capture's error.
        feedError = e;
        Atomics.store(new Int32Array(this.core.memory.buffer), this.core.constant("ARENA_EOF") >> 2, 1);
        this.requestStop("drain");
        return 0;
      }
    };
    feed();
    this.core.setParam("wireDiscard", sink || opts.pcapOut || opts.iface ? 0 : 1);
    const gather = opts.wireGather === "kernel";
    if (gather && opts.handover) throw new Error("vnic: --wire-gather kernel cannot be combined with a device hand-over (assembly/nic/gather.ts)");
    if (gather && !(sink || opts.pcapOut || opts.iface)) throw new Error("vnic: --wire-gather kernel needs a wire consumer (--iface)");
    this.core.setParam("wireGather", gather ? 1 : 0);
    // Test support: release gather-sent completions without waiting for the wire tail (what
    // the poison tests show would break).
    this.core.setParam("gatherReleaseEarly", process.env.VNIC_GATHER_RELEASE_EARLY === "1" ? 1 : 0);
    if (gather) stageOptions.device = { ...stageOptions.device, wireGather: true };
    if (this.config.params.guestBufferBytes === undefined) this.core.setParam("guestBufferBytes", this.guestBufferBytes());

    const supervisor = opts.handover
      ? new DeviceSupervisor(this.core, this.config.budget, opts.handover.options, opts.handover.firstConfig)
      : undefined;
    const poolThreads = supervisor ? 1 : 2; // supervised, the device runs on its own threads
    // Started before the stages, so a refused interface costs no threads. With --out too, the
    // capture writer follows the pump (gated), so the copy is what was sent.
    const pump = opts.iface ? new IfacePump(this.core, opts.iface, !!opts.pcapOut, opts.offload, opts.wire, opts.wireGather) : undefined;
    if (pump) stageOptions.device = { ...stageOptions.device, wirePump: true };
    const pool = new Piscina({
      filename: path.join(projectRoot(), "dist", "src", "workers", "stage.js"),
      minThreads: poolThreads,
      maxThreads: poolThreads,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      workerData: { memory: this.core.memory, module: this.core.module },
    });
    const drainer = sink ? new FrameDrainer(this.core, sink) : opts.pcapOut ? new PcapDrainer(this.core, opts.pcapOut) : undefined;
    const settled = { guest: false, device: false };
    let failure: DatapathError | undefined;
    const launch = (stage: StageName) =>
      (stage === "device" && supervisor ? supervisor.run()
        : pool.run({ stage, budget: this.config.budget, ...stageOptions[stage] } satisfies StageTask) as Promise<StageResult>)
        .then((r) => {
          settled[stage] = true;
          return r;
        })
        .catch((err: unknown) => {
          settled[stage] = true;
          failure ??= new DatapathError(stage, err, this.counters());
          this.requestStop("now");
          return undefined;
        });
    try {
      const device = launch("device");
      const guest = launch("guest").then((r) => {
        this.requestStop("now"); // the guest is done (or failed): the device has nothing left to do
        return r;
      });
      const t0 = performance.now();
      let nextSample = sampler ? t0 + sampler.everyMs : Infinity;
      while (!(settled.guest && settled.device)) {
        const moved = (drainer?.drain() ?? 0) + feed() + (pump?.poll() ?? 0);
        // The interface went away: end the run as Ctrl-C would (the pump counts the rest as gone).
        if (pump?.gone && !this.drainRequested) this.requestStop("drain");
        // Yield to the event loop either way (task results arrive there); sleep only when idle.
        await (moved === 0 ? sleep(DRAIN_IDLE_MS) : yieldTurn());
        const now = performance.now();
        if (sampler && now >= nextSample) {
          sampler.sample((now - t0) / 1000, this.counters());
          nextSample = now + sampler.everyMs;
        }
        if (failure && !(settled.guest && settled.device)) {
          await Promise.race([Promise.all([guest, device]), sleep(STOP_GRACE_MS)]);
          break;
        }
      }
      pump?.finish();
      drainer?.drain();
      sampler?.sample((performance.now() - t0) / 1000, this.counters());
      if (failure) throw failure;
      if (feedError) throw feedError;
      const [g, d] = await Promise.all([guest, device]);
      const startUs = g!.startUs;
      const endUs = g!.endUs;
      return { elapsedSeconds: (endUs - startUs) / 1e6, guest: g!, device: d!, counters: this.counters(), handover: supervisor?.log, iface: pump?.facts() };
    } finally {
      pump?.finish();
      await pool.destroy().catch(() => undefined);
    }
  }
}

function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
