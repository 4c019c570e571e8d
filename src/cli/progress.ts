// What a replay says while it runs: `--stats N` lines (current rates every N seconds, like
// tcpreplay's --stats) and, on a terminal, a progress bar for replays longer than ~2 s.

import type { RunSampler } from "../datapath/datapath.js";
import type { CounterSnapshot } from "../core/counters.js";

const BAR_AFTER_SECONDS = 2;
const BAR_WIDTH = 30;

export interface ProgressOptions {
  statsEverySeconds?: number;
  /** Frames the replay will take in all, when known (frames × loops, or --limit). */
  totalFrames?: () => number | undefined;
  out: NodeJS.WriteStream;
}

export function progressSampler(o: ProgressOptions): RunSampler | undefined {
  const bar = o.out.isTTY === true;
  if (!o.statsEverySeconds && !bar) return undefined;
  let lastT = 0;
  let lastFrames = 0n;
  let lastBytes = 0n;
  let nextStats = o.statsEverySeconds ?? Infinity;
  let barShown = false;
  return {
    everyMs: o.statsEverySeconds ? Math.min(200, o.statsEverySeconds * 1000) : 200,
    sample(t: number, s: CounterSnapshot) {
      const frames = s.counters.wireFrames;
      const bytes = s.counters.wireBytes;
      if (t >= nextStats) {
        const dt = t - lastT || 1;
        const pps = Number(frames - lastFrames) / dt;
        const gbps = (Number(bytes - lastBytes) * 8) / dt / 1e9;
        if (barShown) o.out.write("\r\x1b[K");
        o.out.write(`Stats: ${t.toFixed(1)} s: ${frames} packets, ${bytes} bytes; now ${(pps / 1e6).toFixed(3)} Mpps, ${gbps.toFixed(3)} Gbit/s\n`);
        lastT = t;
        lastFrames = frames;
        lastBytes = bytes;
        nextStats += o.statsEverySeconds!;
      }
      if (bar && t >= BAR_AFTER_SECONDS) {
        const taken = Number(s.counters.guestFramesOffered);
        const total = o.totalFrames?.();
        const frac = total ? Math.min(1, taken / total) : undefined;
        const filled = frac === undefined ? 0 : Math.round(frac * BAR_WIDTH);
        const shown = frac === undefined ? `${taken} frames` : `${(frac * 100).toFixed(0).padStart(3)}%`;
        o.out.write(`\r[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${shown} ${(t).toFixed(1)} s`);
        barShown = true;
      }
    },
  };
}

/** Clears the bar line before the summary prints. */
export function clearProgress(out: NodeJS.WriteStream): void {
  if (out.isTTY) out.write("\r\x1b[K");
}

/** One sampler that feeds two (either may be absent), at the finer of their periods. */
export function combineSamplers(a?: RunSampler, b?: RunSampler): RunSampler | undefined {
  if (!a || !b) return a ?? b;
  return {
    everyMs: Math.min(a.everyMs, b.everyMs),
    sample: (t, s) => {
      a.sample(t, s);
      b.sample(t, s);
    },
  };
}
