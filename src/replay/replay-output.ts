// What the replay command says besides its summary: warnings about the capture it read,
// what --fail-on-drop counts as lost, and -v's decoded frames.

import { spawnSync } from "node:child_process";
import { totalDrops } from "../core/counters.js";
import type { ReplayFacts } from "../report/report.js";

/** One line per thing the user should know about how the capture was read. */
export function readWarnings(f: ReplayFacts): string[] {
  const r = f.read;
  if (!r) return [];
  const out: string[] = [];
  if (r.damagedTail) {
    out.push(`${f.capture}: at byte ${r.damagedTail.offset}: ${r.damagedTail.reason}; replayed the ${f.framesInCapture} complete ` +
      `frames before it (a capture cut off while being written?); --strict refuses such a file`);
  }
  if (r.skippedLinkType > 0) {
    out.push(`${f.capture}: skipped ${r.skippedLinkType} frames whose link layer cannot be made Ethernet (another interface's link type, or LLC in a cooked capture)`);
  }
  return out;
}

/** Why --fail-on-drop fails the run ("" when nothing was lost): drops, guest skips, reader skips. */
export function somethingLost(f: ReplayFacts): string {
  const dropped = Number(totalDrops(f.snapshot));
  const skipped = Number(f.snapshot.counters.guestFramesSkipped);
  const notRead = f.read?.skippedLinkType ?? 0;
  const parts = [
    dropped > 0 ? `${dropped} dropped` : "",
    skipped > 0 ? `${skipped} skipped by the guest` : "",
    notRead > 0 ? `${notRead} skipped by the reader` : "",
  ].filter(Boolean);
  return parts.join(", ");
}

/** -v: every frame of the output capture, decoded by tcpdump (tcpreplay -v pipes to tcpdump too). */
export function printDecoded(file: string): void {
  const r = spawnSync("tcpdump", ["-n", "-r", file], { stdio: ["ignore", "inherit", "pipe"] });
  if (r.error) process.stderr.write(`vnic: -v needs tcpdump to decode frames: ${(r.error as Error).message}\n`);
}
