// One replay: capture → datapath → report (and an output capture with --out).

import { CaptureError, CaptureInfo, LINKTYPE_ETHERNET, PcapWriter, readCaptureFile } from "./capture/index.js";
import { Datapath, DatapathConfig, RunResult, RunSampler, arenaRecordBytes } from "./datapath.js";
import { ReplayFacts } from "./report.js";
import { applyCoalesce, CoalesceSpec } from "./coalesce-options.js";
import { readLatency } from "./latency.js";

export interface ReplayOptions {
  capture: string;
  out?: string;
  /** Core params by name (mtu, copyMode, …). */
  params: Record<string, number>;
  loops: number;
  limit: number;
  /** Interrupt coalescing (default: the core's default, adaptive). */
  coalesce?: CoalesceSpec;
  config?: Partial<DatapathConfig>;
  /** Counter samples during the run (rate over time, --stats). */
  sampler?: RunSampler;
  /** Called once the datapath exists, e.g. to wire SIGINT to it. */
  onStart?: (dp: Datapath) => void;
}

/** Reads the capture's frame count and arena size without keeping its frames. */
export function surveyCapture(file: string): { info: CaptureInfo; arenaBytes: number } {
  let arenaBytes = 0;
  const info = readCaptureFile(file, (f) => {
    arenaBytes += arenaRecordBytes(f.data.length);
  });
  if (info.linkType !== LINKTYPE_ETHERNET) {
    throw new CaptureError(file, 20, `link type ${info.linkType} is not Ethernet (1); vnic transmits Ethernet frames`);
  }
  return { info, arenaBytes };
}

export async function replay(opts: ReplayOptions): Promise<ReplayFacts & { run: RunResult; info: CaptureInfo }> {
  const { info, arenaBytes } = surveyCapture(opts.capture);
  const dp = new Datapath(arenaBytes, { ...opts.config, params: opts.params, loops: opts.loops, limit: opts.limit });
  if (opts.coalesce) applyCoalesce(dp.core, opts.coalesce);
  readCaptureFile(opts.capture, (f) => dp.placeFrame(f.data, f.tsNs, f.origLen));
  const writer = opts.out ? new PcapWriter(opts.out, { nanosecond: info.nanosecond, snapLen: Math.max(info.snapLen, 262144) }) : undefined;
  opts.onStart?.(dp);
  let run: RunResult;
  try {
    run = await dp.run({ sink: writer ? (data, ts) => writer.write(data, ts) : undefined, sampler: opts.sampler });
  } finally {
    writer?.close();
  }
  return {
    capture: opts.capture,
    framesInCapture: info.frames,
    loops: opts.loops,
    elapsedSeconds: run.elapsedSeconds,
    snapshot: run.counters,
    out: opts.out,
    interrupted: opts.limit > 0 || dp.drainRequested,
    latency: readLatency(dp.core),
    run,
    info,
  };
}
