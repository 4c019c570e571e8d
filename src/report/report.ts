// What a replay prints: tcpreplay's two summary lines (same wording, so existing scripts keep
// working), the datapath's counters, and the books. Also the JSON form (keys in README).

import type { CounterSnapshot } from "../core/counters.js";
import type { LatencySummary } from "./latency.js";
import type { PaceSpec } from "../replay/pace-spec.js";
import type { DeviceTimeSplit } from "../workers/device-time.js";
import { devicePerPacket } from "../workers/device-time.js";
import { totalDrops } from "../core/counters.js";
import { HandoverLog, handoverJson, handoverText } from "../handover/report.js";
import type { ReadCounts } from "../capture/index.js";
import { IfaceFacts, ifaceBooksProblem, ifaceTextLine } from "../wire/iface-pump.js";

/** Bytes of preamble + start delimiter (8), inter-frame gap (12) and FCS (4) per frame. */
export const ETHERNET_OVERHEAD = 24;

export interface ReplayFacts {
  capture: string;
  framesInCapture: number;
  loops: number;
  elapsedSeconds: number;
  snapshot: CounterSnapshot;
  /** Output capture, if any. */
  out?: string;
  /** True when the run was cut short on purpose (SIGINT, --limit, --duration). */
  interrupted?: boolean;
  /** Completion latency, post → reclaimed by the guest. */
  latency?: LatencySummary;
  /** The rate asked for, if any. */
  pace?: PaceSpec;
  /** The device thread's time, sampled per stage (src/workers/device-time.ts). */
  deviceTime?: DeviceTimeSplit;
  /** Hand-overs and restarts of the device, when it ran supervised (src/handover/). */
  handover?: HandoverLog;
  /** What reading the capture found (relinked, skipped, truncated frames; a damaged end). */
  read?: ReadCounts;
  /** --iface: what the interface did with the wire frames. */
  iface?: IfaceFacts;
}

export interface Books {
  balanced: boolean;
  /** One line per check that failed. */
  problems: string[];
}

/**
 * The run's own accounting: every frame taken from the capture was posted or skipped; every
 * posted descriptor completed; every completion is a transmitted packet or a named drop.
 */
export function checkBooks(f: ReplayFacts): Books {
  const c = f.snapshot.counters;
  const dropped = totalDrops(f.snapshot);
  const problems: string[] = [];
  const expect = (ok: boolean, what: string) => ok || problems.push(what);
  expect(c.guestFramesOffered === c.guestPosted + c.guestFramesSkipped,
    `frames taken ${c.guestFramesOffered} != posted ${c.guestPosted} + skipped ${c.guestFramesSkipped}`);
  expect(c.guestPosted === c.guestCompleted, `descriptors posted ${c.guestPosted} != completed ${c.guestCompleted}`);
  expect(c.deviceCompleted === c.guestCompleted, `device completions ${c.deviceCompleted} != guest completions ${c.guestCompleted}`);
  expect(c.guestCompleted === c.devicePackets + dropped,
    `completed ${c.guestCompleted} != transmitted ${c.devicePackets} + dropped ${dropped}`);
  expect(c.guestOutOfOrder === 0n, `${c.guestOutOfOrder} completions arrived out of order`);
  expect(c.stranded === 0n, `${c.stranded} completions stranded (held, never signalled)`);
  const ifaceProblem = f.iface && ifaceBooksProblem(f.iface, Number(c.wireFrames));
  if (ifaceProblem) problems.push(ifaceProblem);
  if (!f.interrupted) {
    const expected = BigInt(f.framesInCapture) * BigInt(f.loops);
    expect(c.guestFramesOffered === expected, `frames taken ${c.guestFramesOffered} != capture frames ${f.framesInCapture} × loops ${f.loops}`);
  }
  return { balanced: problems.length === 0, problems };
}

export function rates(f: ReplayFacts) {
  const c = f.snapshot.counters;
  const s = f.elapsedSeconds > 0 ? f.elapsedSeconds : Number.NaN;
  const frames = Number(c.wireFrames);
  const bytes = Number(c.wireBytes);
  return {
    pps: frames / s,
    bps: bytes / s,
    mbps: (bytes * 8) / s / 1e6,
    wireGbps: (bytes * 8) / s / 1e9,
    wireGbpsWithOverhead: ((bytes + frames * ETHERNET_OVERHEAD) * 8) / s / 1e9,
  };
}

/** The JSON report: the keys documented in README.md. */
export function jsonReport(f: ReplayFacts) {
  const c = f.snapshot.counters;
  const r = rates(f);
  const books = checkBooks(f);
  const n = (v: bigint) => Number(v);
  const delivered = n(c.interrupts);
  return {
    capture: f.capture,
    out: f.out ?? null,
    packets: {
      read: f.framesInCapture,
      offered: n(c.guestFramesOffered),
      posted: n(c.guestPosted),
      completed: n(c.guestCompleted),
      transmitted: n(c.devicePackets),
      skipped: n(c.guestFramesSkipped),
      relinked: f.read?.relinked ?? 0,
      truncated: f.read?.truncated ?? 0,
      skippedLinkType: f.read?.skippedLinkType ?? 0,
    },
    damagedTail: f.read?.damagedTail ?? null,
    wire: { frames: n(c.wireFrames), bytes: n(c.wireBytes) },
    dropped: {
      total: n(totalDrops(f.snapshot)),
      ...Object.fromEntries(Object.entries(f.snapshot.drops).map(([k, v]) => [k, n(v)])),
    },
    rate: { pps: r.pps, mbps: r.mbps, wireGbps: r.wireGbps, wireGbpsWithOverhead: r.wireGbpsWithOverhead },
    copy: {
      bytesCopied: n(c.bytesCopied),
      bytesReferenced: n(c.bytesReferenced),
      translations: n(c.translations),
      translationsAvoided: n(c.translationsAvoided),
      unparsed: n(c.unparsed),
    },
    lso: {
      superPackets: n(c.superPackets),
      stage1Chunks: n(c.stage1Chunks),
      segments: n(c.segments),
    },
    checksum: { completed: n(c.csumCompleted), requested: n(c.guestOffloadRequests) },
    interrupts: {
      delivered,
      wakeups: n(c.wakeups),
      completionsPerInterrupt: delivered > 0 ? n(c.deviceCompleted) / delivered : 0,
      stranded: n(c.stranded),
    },
    latencyUs: {
      p50: f.latency?.p50Us ?? null,
      p99: f.latency?.p99Us ?? null,
      mean: f.latency?.meanUs ?? null,
      max: f.latency?.maxUs ?? null,
    },
    pacing: pacing(f),
    device: deviceTime(f),
    elapsedSeconds: f.elapsedSeconds,
    ...(f.iface ? { iface: f.iface } : {}),
    books: { balanced: books.balanced, problems: books.problems },
  };
}

/**
 * The device thread's time per packet, split: the backend (translation, partial copy, LSO
 * stage 1 — host CPU on a real hypervisor) and the NIC model (the gather, checksums and
 * segmentation a real NIC does in hardware). backendMppsPerCore is the rate one core running
 * only the backend would sustain: the figure the partial copy is about (README "Partial copy"). Medians of
 * sampled steps (src/workers/device-time.ts).
 */
export function deviceTime(f: ReplayFacts) {
  const split = devicePerPacket(f.deviceTime, Number(f.snapshot.counters.deviceDescriptors));
  if (!f.handover) return split;
  // Supervised (src/handover/): the hand-over keys beside the time split (which may be absent).
  return { ...split, ...handoverJson(f.handover) } as NonNullable<typeof split> & Partial<ReturnType<typeof handoverJson>>;
}

/** The rate asked for beside the one achieved (frames or bits posted over the elapsed time). */
export function pacing(f: ReplayFacts) {
  if (!f.pace) return null;
  const c = f.snapshot.counters;
  const s = f.elapsedSeconds;
  const achieved =
    f.pace.kind === "pps" ? Number(c.guestFramesOffered) / s
    : f.pace.kind === "mbps" ? (Number(c.guestBytesPosted) * 8) / s / 1e6
    : Number.NaN;
  const unit = f.pace.kind === "pps" ? "pps" : f.pace.kind === "mbps" ? "Mbps" : "x";
  return { asked: f.pace.rate, achieved: Number.isNaN(achieved) ? null : achieved, unit, errorPct: Number.isNaN(achieved) ? null : ((achieved - f.pace.rate) / f.pace.rate) * 100 };
}

const fmtInt = (v: bigint | number) => v.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/** tcpreplay's two lines, then ours. */
export function textReport(f: ReplayFacts): string {
  const c = f.snapshot.counters;
  const r = rates(f);
  const j = jsonReport(f);
  const lines = [
    `Actual: ${c.wireFrames} packets (${c.wireBytes} bytes) sent in ${f.elapsedSeconds.toFixed(6)} seconds`,
    `Rated: ${r.bps.toFixed(1)} Bps, ${r.mbps.toFixed(2)} Mbps, ${r.pps.toFixed(2)} pps`,
    ``,
    ...(j.pacing
      ? [j.pacing.achieved === null
          ? `Pacing: the capture's timing × ${j.pacing.asked}`
          : `Pacing: asked ${j.pacing.asked} ${j.pacing.unit}, achieved ${j.pacing.achieved.toFixed(2)} ${j.pacing.unit} (${j.pacing.errorPct! >= 0 ? "+" : ""}${j.pacing.errorPct!.toFixed(3)}%)`]
      : []),
    `Datapath: ${fmtInt(j.packets.posted)} descriptors posted, ${fmtInt(j.packets.completed)} completed, ` +
      `${fmtInt(j.packets.transmitted)} transmitted as ${fmtInt(j.wire.frames)} wire frames ` +
      `(${(r.pps / 1e6).toFixed(2)} Mpps, ${r.wireGbps.toFixed(2)} Gbit/s; ${r.wireGbpsWithOverhead.toFixed(2)} with preamble+IFG+FCS)`,
    `Copy: ${fmtInt(j.copy.bytesCopied)} bytes copied into pre-translated buffers, ${fmtInt(j.copy.bytesReferenced)} referenced, ` +
      `${fmtInt(j.copy.translations)} page translations, ${fmtInt(j.copy.translationsAvoided)} frames needed none, ${fmtInt(j.copy.unparsed)} unparsed`,
    `Offloads: ${fmtInt(j.lso.superPackets)} large sends → ${fmtInt(j.lso.stage1Chunks)} stage-1 chunks → ${fmtInt(j.lso.segments)} segments; ` +
      `${fmtInt(j.checksum.completed)} checksums computed by the NIC`,
    `Interrupts: ${fmtInt(j.interrupts.delivered)} delivered (${j.interrupts.completionsPerInterrupt.toFixed(2)} completions each), ` +
      `${fmtInt(j.interrupts.wakeups)} woke the guest, ${j.interrupts.stranded} stranded`,
  ];
  if (j.device && j.device.backendNsPerPacket !== undefined) {
    lines.push(`Device time per packet: backend ${j.device.backendNsPerPacket.toFixed(1)} ns (translate, copy, LSO stage 1: ` +
      `${j.device.backendMppsPerCore.toFixed(2)} Mpps per core), NIC model ${j.device.nicNsPerPacket.toFixed(1)} ns (gather, checksums, LSO stage 2)`);
  }
  if (f.handover) lines.push(...handoverText(f.handover));
  if (f.latency && f.latency.count > 0) {
    lines.push(`Latency (post → completion seen by the guest): p50 ${f.latency.p50Us.toFixed(1)} µs, p99 ${f.latency.p99Us.toFixed(1)} µs, max ${f.latency.maxUs.toFixed(1)} µs`);
  }
  const drops = Object.entries(j.dropped).filter(([k, v]) => k !== "total" && v > 0);
  lines.push(`Dropped: ${fmtInt(j.dropped.total)}` + (drops.length ? ` (${drops.map(([k, v]) => `${k} ${fmtInt(v)}`).join(", ")})` : ""));
  if (j.packets.skipped > 0) lines.push(`Skipped by the guest (longer than its buffers can hold): ${fmtInt(j.packets.skipped)}`);
  const read = [
    j.packets.relinked > 0 ? `${fmtInt(j.packets.relinked)} given an Ethernet header` : "",
    j.packets.truncated > 0 ? `${fmtInt(j.packets.truncated)} cut by the snap length (sent as captured, original length kept in --out)` : "",
    j.packets.skippedLinkType > 0 ? `${fmtInt(j.packets.skippedLinkType)} skipped (link layer not Ethernet)` : "",
  ].filter(Boolean);
  if (read.length > 0) lines.push(`Capture: ${read.join("; ")}`);
  if (f.iface) lines.push(ifaceTextLine(f.iface));
  if (f.out) lines.push(`Wrote ${fmtInt(f.iface ? f.iface.sent : j.wire.frames)} frames to ${f.out}`);
  const books = checkBooks(f);
  lines.push(
    books.balanced
      ? `Books: balanced (taken ${fmtInt(j.packets.offered)} = posted ${fmtInt(j.packets.posted)} + skipped ${j.packets.skipped}; ` +
          `completed ${fmtInt(j.packets.completed)} = transmitted ${fmtInt(j.packets.transmitted)} + dropped ${fmtInt(j.dropped.total)})`
      : `Books: UNBALANCED: ${books.problems.join("; ")}`,
  );
  return lines.join("\n");
}
