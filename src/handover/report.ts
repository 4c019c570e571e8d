// The hand-over log of a run and its report: every hand-over (cooperative) and restart (a
// device terminated or dead), how long the guest's posted descriptors waited with no device,
// how many it held in its TX ring when the new device attached, where each killed device was
// (the phase word, assembly/device/inflight.ts), and the run's segments with their configuration.

export type SegmentConfig = string;

export interface HandoverEvent {
  kind: "handover" | "restart";
  /** When the old device stopped (terminate() called, or it left its loop), µs since epoch. */
  stopUs: number;
  /** Guest descriptors the device stage had taken by then. */
  descriptorsAt: number;
  /** Phase word after the old thread was gone: where it stopped. */
  phase: number;
  /** µs from the stop to the new device's first step with work (-1: it had none). */
  waitUs: number;
  /** Guest TX descriptors waiting when the new device attached (the holding queue). */
  held: number;
}

export const PHASE_NAMES = ["none", "loop", "translate", "lsoStage1", "translateCommit", "nic", "lsoStage2", "nicCommit", "reconcile"];

export class HandoverLog {
  readonly events: HandoverEvent[] = [];
  readonly segments: { fromDescriptor: number; config: SegmentConfig }[];
  failures = 0;
  configApplied = false;

  constructor(firstConfig: SegmentConfig) {
    this.segments = [{ fromDescriptor: 0, config: firstConfig }];
  }

  handover(kind: HandoverEvent["kind"], stopUs: number, descriptorsAt: number, phase: number): HandoverEvent {
    const e: HandoverEvent = { kind, stopUs, descriptorsAt, phase, waitUs: -1, held: 0 };
    this.events.push(e);
    return e;
  }

  /** The new device attached (and, if firstWorkUs != 0, did work at that time). */
  completed(e: HandoverEvent, firstWorkUs: number, held: number): void {
    e.waitUs = firstWorkUs > 0 ? Math.max(0, firstWorkUs - e.stopUs) : -1;
    e.held = held;
  }

  newSegment(config: SegmentConfig, fromDescriptor: number): void {
    this.segments.push({ fromDescriptor, config });
  }
}

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function summary(events: HandoverEvent[]) {
  const waits = events.filter((e) => e.waitUs >= 0).map((e) => e.waitUs).sort((a, b) => a - b);
  const held = events.map((e) => e.held).sort((a, b) => a - b);
  return {
    count: events.length,
    guestWaitUs: { p50: quantile(waits, 0.5), p99: quantile(waits, 0.99), max: waits.length ? waits[waits.length - 1] : null },
    held: { p50: quantile(held, 0.5), max: held.length ? held[held.length - 1] : null, each: events.map((e) => e.held) },
  };
}

/** JSON: device.handovers, device.restarts, device.killPhases, device.segments. */
export function handoverJson(log: HandoverLog) {
  const restarts = log.events.filter((e) => e.kind === "restart");
  const killPhases: Record<string, number> = {};
  for (const e of restarts) {
    const name = PHASE_NAMES[e.phase] ?? `phase${e.phase}`;
    killPhases[name] = (killPhases[name] ?? 0) + 1;
  }
  return {
    handovers: summary(log.events.filter((e) => e.kind === "handover")),
    restarts: { ...summary(restarts), failedDevices: log.failures },
    killPhases,
    segments: log.segments,
  };
}

const us = (v: number | null) => (v === null ? "-" : v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${v.toFixed(0)} µs`);

/** Text lines for the replay report. */
export function handoverText(log: HandoverLog): string[] {
  const j = handoverJson(log);
  const lines = [
    `Hand-overs: ${j.handovers.count} cooperative (guest waited p50 ${us(j.handovers.guestWaitUs.p50)}, max ${us(j.handovers.guestWaitUs.max)}; ` +
      `held p50 ${j.handovers.held.p50 ?? "-"}, max ${j.handovers.held.max ?? "-"} descriptors), ` +
      `${j.restarts.count} restarts (guest waited p50 ${us(j.restarts.guestWaitUs.p50)}, max ${us(j.restarts.guestWaitUs.max)}; ` +
      `held p50 ${j.restarts.held.p50 ?? "-"}, max ${j.restarts.held.max ?? "-"})`,
  ];
  if (j.restarts.count > 0) {
    lines.push(`Kill points: ${Object.entries(j.killPhases).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  }
  if (j.segments.length > 1 || log.configApplied) {
    lines.push(`Segments: ${j.segments.map((s) => `from descriptor ${s.fromDescriptor}: ${s.config}`).join("; ")}`);
  }
  return lines;
}
