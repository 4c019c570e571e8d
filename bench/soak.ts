// Soak: replay a 64-byte capture with --loop until at least 10^8 frames have passed, sampling
// RSS and rate every few seconds: memory must stay flat, the rate steady, the counters exact.
//
//   npm run build && node dist/bench/soak.js [--frames 100000000] [--every 2] [--capture FILE]
//
// Without --capture it writes its own: 10,000 IPv4/UDP frames of 64 bytes. Exit 1 when the books
// do not balance or the frame count is not exactly capture frames × loops.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { PcapWriter } from "../src/capture/index.js";
import { replay } from "../src/replay/replay.js";
import { checkBooks } from "../src/report/report.js";
import { totalDrops } from "../src/core/counters.js";
import { helpIfAsked } from "../src/perf/bench-help.js";

helpIfAsked(import.meta.url);

const { values } = parseArgs({
  options: {
    frames: { type: "string", default: "100000000" },
    every: { type: "string", default: "2" },
    capture: { type: "string" },
  },
});
const target = Number(values.frames);
const everyMs = Number(values.every) * 1000;
const CAPTURE_FRAMES = 10_000;

function makeCapture(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "vnic-soak-")), "udp-64.pcap");
  const w = new PcapWriter(file);
  for (let i = 0; i < CAPTURE_FRAMES; i++) {
    const f = new Uint8Array(64);
    f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0, 0, 50, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x30, 0x39, 0, 53, 0, 30], 0);
    new DataView(f.buffer).setUint32(42, i);
    w.write(f, 1_700_000_000_000_000_000n + BigInt(i) * 1000n);
  }
  w.close();
  return file;
}

const capture = values.capture ?? makeCapture();
const perLoop = values.capture ? 0 : CAPTURE_FRAMES;
const mib = (b: number) => (b / 2 ** 20).toFixed(1);

interface Sample { t: number; frames: bigint; rss: number; heap: number }
const samples: Sample[] = [];
let last: Sample | undefined;
const rss0 = process.memoryUsage();
console.log(`soak: ${capture}, ≥ ${target} frames, sample every ${everyMs / 1000} s; RSS before the run ${mib(rss0.rss)} MiB`);
console.log(`   t (s)        frames     Mpps(interval)   RSS MiB   heap MiB`);

const frames = perLoop || CAPTURE_FRAMES;
const loops = Math.ceil(target / frames);
const t0 = performance.now();
const facts = await replay({
  capture,
  params: { mtu: 1500 },
  loops,
  limit: 0,
  sampler: {
    everyMs,
    sample: (t, snap) => {
      const m = process.memoryUsage();
      const s = { t, frames: snap.counters.wireFrames, rss: m.rss, heap: m.heapUsed };
      const rate = last ? Number(s.frames - last.frames) / (s.t - last.t) / 1e6 : Number(s.frames) / s.t / 1e6;
      console.log(`${t.toFixed(1).padStart(8)} ${String(s.frames).padStart(13)} ${rate.toFixed(2).padStart(14)} ${mib(s.rss).padStart(12)} ${mib(s.heap).padStart(10)}`);
      samples.push(s);
      last = s;
    },
  },
});
const wall = (performance.now() - t0) / 1000;
const c = facts.snapshot.counters;
const books = checkBooks(facts);
const expected = BigInt(facts.framesInCapture) * BigInt(loops);
// Interval rates over full intervals (the last sample closes a partial one).
const rates: number[] = [];
for (let i = 1; i < samples.length - 1; i++) rates.push(Number(samples[i].frames - samples[i - 1].frames) / (samples[i].t - samples[i - 1].t) / 1e6);
rates.sort((a, b) => a - b);
const median = rates.length ? rates[Math.floor(rates.length / 2)] : NaN;
const first = samples[0];
const end = samples[samples.length - 1];
console.log(`\nframes ${c.wireFrames} (capture ${facts.framesInCapture} × ${loops} loops = ${expected}), dropped ${totalDrops(facts.snapshot)}, ` +
  `${facts.elapsedSeconds.toFixed(1)} s datapath (${wall.toFixed(1)} s wall), ${(Number(c.wireFrames) / facts.elapsedSeconds / 1e6).toFixed(2)} Mpps mean`);
console.log(`RSS: ${mib(rss0.rss)} MiB before, ${mib(first.rss)} MiB at the first sample, ${mib(end.rss)} MiB at the end ` +
  `(max ${mib(Math.max(...samples.map((s) => s.rss)))}); heap ${mib(first.heap)} → ${mib(end.heap)} MiB`);
console.log(`rate over ${rates.length} full ${everyMs / 1000}-s intervals: min ${rates[0]?.toFixed(2)}, median ${median.toFixed(2)}, max ${rates[rates.length - 1]?.toFixed(2)} Mpps ` +
  `(spread ${(((rates[rates.length - 1] - rates[0]) / median) * 100).toFixed(1)}% of the median)`);
console.log(`books: ${books.balanced ? "balanced" : "UNBALANCED: " + books.problems.join("; ")}`);
if (!books.balanced || c.wireFrames !== expected || c.guestFramesOffered !== expected) process.exitCode = 1;
