// vnic as a library: `import { replay } from "vnic"`.
//
// The command line (src/cli/cli.ts) parses flags into the same settings and calls the same
// functions; this file is the small, typed surface for programs that drive vnic themselves
// (a test harness, a benchmark of one's own). Everything a replay reports is in its `report`
// (the object `vnic replay --json` prints, keys documented in README) and its books.

import { parseCopyMode } from "./replay/copy-options.js";
import { parseCoalesce } from "./replay/coalesce-options.js";
import { replay as runReplay } from "./replay/replay.js";
import { Books, ReplayFacts, checkBooks, jsonReport, textReport } from "./report/report.js";
import type { PaceSpec } from "./replay/pace-spec.js";

/** What one replay should do. Every field but `capture` is optional; the defaults are the CLI's
 *  (`vnic replay --help`). */
export interface ReplaySettings {
  /** pcap or pcapng file to replay. */
  capture: string;
  /** Write the transmitted frames here (pcap). */
  out?: string;
  /** Largest IP packet on the wire (default 1500). */
  mtu?: number;
  /** `headers` (default), `l3:10`, `fixed:N`, `full` or `none`. */
  copy?: string;
  /** Large sends: payload per segment (default: from the MTU and each packet's headers). */
  mss?: number;
  /** Largest IP packet the NIC segments (default 65536); bigger ones go through LSO stage 1. */
  nicMaxLso?: number;
  /** Most segments one large send may become (default 65535). */
  nicMaxSegments?: number;
  /** Keep the IPv4 ID of every segment (default false: +1 per segment). */
  fixedId?: boolean;
  /** The guest asks NEEDS_CSUM and the NIC computes TCP/UDP checksums (default true). */
  checksumOffload?: boolean;
  /** Interrupt coalescing policy, as `--coalesce` (default `adaptive`). */
  coalesce?: string;
  /** Rate control (default: top speed). */
  pace?: PaceSpec;
  /** Replay the capture this many times (default 1). */
  loops?: number;
  /** Stop after this many frames (default: no limit). */
  limit?: number;
  /** Stop after this many seconds (frames in flight still complete). */
  durationSeconds?: number;
  /** Send every wire frame out of this Linux interface (needs the native module and CAP_NET_RAW). */
  iface?: string;
}

export interface ReplaySummary {
  /** The `--json` report: packets, wire, drops, rates, copy, lso, interrupts, latency, device. */
  report: ReturnType<typeof jsonReport>;
  /** The run's own accounting; `balanced` is false when anything went missing. */
  books: Books;
  /** The text `vnic replay` prints (tcpreplay's two lines first). */
  text: string;
  /** Everything the report is made from, for callers that want more. */
  facts: ReplayFacts;
}

/** Replays one capture through the datapath (two worker threads over one shared memory). Throws
 *  a CaptureError for a capture that cannot be read and a DatapathError when a stage fails. */
export async function replay(settings: ReplaySettings): Promise<ReplaySummary> {
  const params = {
    mtu: settings.mtu ?? 1500,
    ...parseCopyMode(settings.copy ?? "headers"),
    mss: settings.mss ?? 0,
    nicMaxLso: settings.nicMaxLso ?? 65536,
    maxSegments: settings.nicMaxSegments ?? 65535,
    fixedId: settings.fixedId ? 1 : 0,
    csumOffload: settings.checksumOffload === false ? 0 : 1,
  };
  const facts = await runReplay({
    capture: settings.capture,
    out: settings.out,
    iface: settings.iface,
    params,
    coalesce: settings.coalesce ? parseCoalesce(settings.coalesce) : undefined,
    pace: settings.pace,
    loops: settings.loops ?? 1,
    limit: settings.limit ?? 0,
    durationSeconds: settings.durationSeconds,
  });
  return { report: jsonReport(facts), books: checkBooks(facts), text: textReport(facts), facts };
}

export type { PaceSpec } from "./replay/pace-spec.js";
export type { Books, ReplayFacts } from "./report/report.js";
export { CaptureError } from "./capture/index.js";
export { DatapathError } from "./datapath/datapath.js";
export { readCaptureFile, PcapWriter, type CaptureFrame, type CaptureInfo } from "./capture/index.js";
export { generateCapture, type GenOptions, GEN_DEFAULTS } from "./capture/generate.js";
