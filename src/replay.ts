// One replay: capture → datapath → report (and an output capture with --out).
//
// A capture up to the preload limit is read once into the arena and replayed from memory (like
// tcpreplay -K); a larger one is streamed through the arena ring in bounded memory.

import { statSync } from "node:fs";
import { CaptureInfo, CaptureStream, PcapWriter, openCaptureStream, readCaptureFile, requireEthernet } from "./capture/index.js";
import { DEFAULT_CONFIG, Datapath, DatapathConfig, RunResult, RunSampler, arenaRecordBytes } from "./datapath.js";
import { ArenaFeeder } from "./arena-feeder.js";
import { ReplayFacts } from "./report.js";
import { applyCoalesce, CoalesceSpec } from "./coalesce-options.js";
import { readLatency } from "./latency.js";
import type { PaceSpec } from "./workers/pacer.js";
import type { OffloadMode } from "./wire/offload-mode.js";
import type { WireChoice } from "./wire/iface-pump.js";

export const DEFAULT_PRELOAD_LIMIT = 1 << 30;
/** Arena ring size for streamed replays. */
export const STREAM_ARENA_BYTES = 64 << 20;

export interface ReplayOptions {
  capture: string;
  out?: string;
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
  /** Called once the datapath exists, e.g. to wire SIGINT to it. */
  onStart?: (dp: Datapath) => void;
  /** Send the wire's frames out of this Linux interface (--iface). */
  iface?: string;
  /** With iface: --offload (src/wire/offload-mode.ts). */
  offload?: OffloadMode;
  /** With iface: --wire auto|af_xdp|af_packet. */
  wire?: WireChoice;
}

/** Options that cannot work together with this capture (a usage error: exit 2). */
export class ReplayOptionError extends Error {}

export interface ReplayOutcome extends ReplayFacts {
  run: RunResult;
  info: CaptureInfo;
  streamed: boolean;
  pace?: PaceSpec;
}

/** Reads the capture's frame count and arena size without keeping its frames. */
export function surveyCapture(file: string): { info: CaptureInfo; arenaBytes: number } {
  let arenaBytes = 0;
  const info = readCaptureFile(file, (f) => {
    arenaBytes += arenaRecordBytes(f.data.length);
  });
  requireEthernet(info, file);
  return { info, arenaBytes };
}

export async function replay(opts: ReplayOptions): Promise<ReplayOutcome> {
  const streamed = statSync(opts.capture).size > (opts.preloadLimit ?? DEFAULT_PRELOAD_LIMIT);
  let dp: Datapath;
  let info: CaptureInfo;
  let stream: CaptureStream | undefined;
  let feeder: ArenaFeeder | undefined;
  const base = { ...opts.config, params: opts.params, loops: opts.loops, limit: opts.limit };
  if (streamed) {
    if (opts.params.guestResident) throw new ReplayOptionError("--guest-resident needs a preloaded capture (it is larger than --preload-limit)");
    stream = openCaptureStream(opts.capture);
    dp = new Datapath(STREAM_ARENA_BYTES, { ...base, streaming: true });
    feeder = new ArenaFeeder(dp.core, stream, opts.loops);
    info = stream.info;
  } else {
    const survey = surveyCapture(opts.capture);
    info = survey.info;
    const ram = opts.config?.guestRamBytes ?? DEFAULT_CONFIG.guestRamBytes;
    if (opts.params.guestResident && survey.arenaBytes > ram) {
      throw new ReplayOptionError(`--guest-resident needs the capture (${(survey.arenaBytes / 2 ** 20).toFixed(1)} MiB in memory) to fit guest RAM (${ram / 2 ** 20} MiB; see --guest-ram)`);
    }
    dp = new Datapath(survey.arenaBytes, base);
    readCaptureFile(opts.capture, (f) => dp.placeFrame(f.data, f.tsNs, f.origLen));
  }
  if (opts.coalesce) applyCoalesce(dp.core, opts.coalesce);
  let writer: PcapWriter | undefined;
  let timer: NodeJS.Timeout | undefined;
  let run: RunResult;
  try {
    if (streamed) {
      feeder!.fill(); // reads the first frames: the link type is known from here on
      requireEthernet(stream!.info, opts.capture);
    }
    writer = opts.out ? new PcapWriter(opts.out, { nanosecond: info.nanosecond, snapLen: 262144 }) : undefined;
    opts.onStart?.(dp);
    if (opts.durationSeconds) timer = setTimeout(() => dp.requestStop("drain"), opts.durationSeconds * 1000);
    run = await dp.run({
      pcapOut: writer,
      sampler: opts.sampler,
      feeder,
      iface: opts.iface,
      offload: opts.offload,
      wire: opts.wire,
      stages: opts.pace ? { guest: { pace: opts.pace } } : undefined,
    });
  } finally {
    if (timer) clearTimeout(timer);
    writer?.close();
    stream?.close();
  }
  const framesInCapture = streamed ? feeder!.framesPerPass || feeder!.framesFed : info.frames;
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
    iface: run.iface,
  };
}
