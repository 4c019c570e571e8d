// One replay: capture → datapath → report (and an output capture with --out).
//
// A capture up to the preload limit is read once into the arena and replayed from memory (like
// tcpreplay -K); a larger one is streamed through the arena ring in bounded memory.

import { statSync } from "node:fs";
import { CaptureInfo, CaptureStream, PcapWriter, ReadCounts, ReplayableOptions, openCaptureStream, openReplayableSource } from "../capture/index.js";
import type { CaptureFrame } from "../capture/index.js";
import { OutputError, checkOutputTarget, planOutput } from "../util/output-file.js";
import { DEFAULT_CONFIG, Datapath, DatapathConfig, RunResult, RunSampler, arenaRecordBytes } from "../datapath/datapath.js";
import { ArenaFeeder } from "../datapath/arena-feeder.js";
import { ReplayFacts } from "../report/report.js";
import { applyCoalesce, CoalesceSpec } from "./coalesce-options.js";
import { readLatency } from "../report/latency.js";
import type { PaceSpec } from "./pace-spec.js";
import type { HandoverOptions } from "../handover/options.js";
import type { OffloadMode } from "../wire/offload-mode.js";
import type { WireChoice } from "../wire/iface-pump.js";
import type { WireGather } from "../datapath/datapath.js";
import { UsageError } from "../cli/cli-errors.js";

export const DEFAULT_PRELOAD_LIMIT = 1 << 30;
/** Arena ring size for streamed replays. */
export const STREAM_ARENA_BYTES = 64 << 20;

export interface ReplayOptions {
  capture: string;
  out?: string;
  /** Refuse a capture whose last record is damaged or partial (default: replay what is whole, warn). */
  strict?: boolean;
  /** Core params by name (mtu, copyMode, …). */
  params: Record<string, number>;
  loops: number;
  limit: number;
  /** Interrupt coalescing (default: the core's default, adaptive). */
  coalesce?: CoalesceSpec;
  /** Rate control (absent: top speed). */
  pace?: PaceSpec;
  /** Stop (gracefully) after this many seconds. */
  durationSeconds?: number;
  /** Captures larger than this (bytes) are streamed, not preloaded. */
  preloadLimit?: number;
  config?: Partial<DatapathConfig>;
  /** Counter samples during the run (rate over time, --stats). */
  sampler?: RunSampler;
  /** Hand-overs of the device (--handover-every, --chaos-device, --handover-config). */
  handover?: { options: HandoverOptions; firstConfig: string };
  /** Called once the datapath exists, e.g. to wire SIGINT to it. */
  onStart?: (dp: Datapath) => void;
  /** Send the wire's frames out of this Linux interface (--iface). */
  iface?: string;
  /** With iface: --offload (src/wire/offload-mode.ts). */
  offload?: OffloadMode;
  /** With iface: --wire auto|af_xdp|af_packet. */
  wire?: WireChoice;
  /** With iface: --wire-gather nic|kernel (src/datapath/datapath.ts, assembly/nic/gather.ts). */
  wireGather?: WireGather;
}

/** Options that cannot work together with this capture (a usage error: exit 2). */
export class ReplayOptionError extends UsageError {}

export interface ReplayOutcome extends ReplayFacts {
  run: RunResult;
  info: CaptureInfo;
  streamed: boolean;
  pace?: PaceSpec;
  /** What reading the capture found: relinked, skipped and truncated frames, a damaged end. */
  read: ReadCounts;
  /** The first write error of --out: the run stopped posting, the target was left untouched. */
  outputFailure?: OutputError;
}

/** Reads the capture as the replay does (./capture/replayable.ts), frame by frame. */
export function readForReplay(file: string, opts: ReplayableOptions, onFrame: (f: CaptureFrame) => void): { info: CaptureInfo; counts: ReadCounts; frames: number } {
  const src = openReplayableSource(file, opts);
  let frames = 0;
  try {
    for (let f = src.next(); f !== null; f = src.next(), frames++) onFrame(f);
    return { info: src.info, counts: src.counts, frames };
  } finally {
    src.close();
  }
}

/** Reads the capture's frame count and arena size without keeping its frames. */
export function surveyCapture(file: string, opts: ReplayableOptions = {}): { info: CaptureInfo; arenaBytes: number; frames: number } {
  let arenaBytes = 0;
  const { info, frames } = readForReplay(file, opts, (f) => {
    arenaBytes += arenaRecordBytes(f.data.length);
  });
  return { info, arenaBytes, frames };
}

export async function replay(opts: ReplayOptions): Promise<ReplayOutcome> {
  if (opts.out) checkOutputTarget(opts.out, "--out", [opts.capture]);
  const readOpts: ReplayableOptions = { strict: opts.strict, pcapTimestamps: opts.out !== undefined };
  const streamed = statSync(opts.capture).size > (opts.preloadLimit ?? DEFAULT_PRELOAD_LIMIT);
  let read: ReadCounts;
  let framesPlaced = 0;
  let dp: Datapath;
  let info: CaptureInfo;
  let stream: CaptureStream | undefined;
  let feeder: ArenaFeeder | undefined;
  const base = { ...opts.config, params: opts.params, loops: opts.loops, limit: opts.limit };
  if (streamed) {
    if (opts.params.guestResident) throw new ReplayOptionError("--guest-resident needs a preloaded capture (it is larger than --preload-limit)");
    stream = openCaptureStream(opts.capture, readOpts);
    read = stream.counts!;
    dp = new Datapath(STREAM_ARENA_BYTES, { ...base, streaming: true });
    feeder = new ArenaFeeder(dp.core, stream, opts.loops);
    info = stream.info;
  } else {
    const survey = surveyCapture(opts.capture, readOpts);
    info = survey.info;
    const ram = opts.config?.guestRamBytes ?? DEFAULT_CONFIG.guestRamBytes;
    if (opts.params.guestResident && survey.arenaBytes > ram) {
      throw new ReplayOptionError(`--guest-resident needs the capture (${(survey.arenaBytes / 2 ** 20).toFixed(1)} MiB in memory) to fit guest RAM (${ram / 2 ** 20} MiB; see --guest-ram)`);
    }
    dp = new Datapath(survey.arenaBytes, base);
    const placed = readForReplay(opts.capture, readOpts, (f) => dp.placeFrame(f.data, f.tsNs, f.origLen));
    read = placed.counts;
    framesPlaced = placed.frames;
  }
  if (opts.coalesce) applyCoalesce(dp.core, opts.coalesce);
  let writer: PcapWriter | undefined;
  let timer: NodeJS.Timeout | undefined;
  let run: RunResult;
  const plan = opts.out ? planOutput(opts.out) : undefined;
  try {
    if (streamed) feeder!.fill(); // reads the first frames
    writer = opts.out
      ? new PcapWriter(opts.out, { nanosecond: info.nanosecond || opts.params.sendTimestamps === 1, snapLen: 262144, openPath: plan!.path, onFailure: () => dp.requestStop("drain") })
      : undefined;
    opts.onStart?.(dp);
    if (opts.durationSeconds) timer = setTimeout(() => dp.requestStop("drain"), opts.durationSeconds * 1000);
    run = await dp.run({
      pcapOut: writer,
      sampler: opts.sampler,
      feeder,
      iface: opts.iface,
      offload: opts.offload,
      wire: opts.wire,
      wireGather: opts.wireGather,
      stages: opts.pace ? { guest: { pace: opts.pace } } : undefined,
      handover: opts.handover,
    });
  } finally {
    if (timer) clearTimeout(timer);
    let closed = false;
    try {
      writer?.close();
      closed = true;
    } finally {
      stream?.close();
      // The target is replaced only by a complete file (src/util/output-file.ts). A run whose stage
      // failed still leaves what it sent (every record in the file is whole, the books say
      // what is missing); only a write error leaves the old target in place.
      if (writer && closed && !writer.failure) plan!.commit();
      else plan?.abandon();
    }
  }
  const framesInCapture = streamed ? feeder!.framesPerPass || feeder!.framesFed : framesPlaced;
  return {
    capture: opts.capture,
    framesInCapture,
    loops: streamed ? Math.max(1, Math.round(feeder!.framesFed / Math.max(1, framesInCapture))) : opts.loops,
    elapsedSeconds: run.elapsedSeconds,
    snapshot: run.counters,
    out: opts.out,
    interrupted: opts.limit > 0 || dp.drainRequested,
    latency: readLatency(dp.core),
    run,
    info,
    streamed,
    pace: opts.pace,
    deviceTime: run.device.timeSplit,
    handover: run.handover,
    read,
    outputFailure: writer?.failure,
    iface: run.iface,
  };
}
