// Issue 3's figure: replay rate per copy mode on 64-byte, IMIX and 1514-byte captures, side by
// side in one run (trials interleaved across modes), with bytes copied per frame — once with
// the ordinary guest (it copies every frame into guest RAM) and once with --guest-resident
// (buffers posted again on every loop, so the device is what is measured).
//
//   npm run build && node dist/bench/copy-modes.js [--trials N] [--frames N]

import { parseArgs } from "node:util";
import path from "node:path";
import { replay } from "../src/replay.js";
import { parseCopyMode } from "../src/copy-options.js";
import { projectRoot } from "../src/core.js";
import { parseCoalesce } from "../src/coalesce-options.js";

const { values } = parseArgs({ options: { trials: { type: "string" }, frames: { type: "string" } } });
const trials = Number(values.trials ?? 5);
const frames = Number(values.frames ?? 2_000_000);
const root = projectRoot();
const CAPTURES = [
  { name: "64-byte", file: "udp-64.pcap", perPass: 10_000 },
  { name: "IMIX", file: "imix.pcap", perPass: 12_000 },
  { name: "1514-byte", file: "udp-1514.pcap", perPass: 1_200 },
];
const MODES = ["headers", "l3:10", "full", "none"];
const GUESTS = [
  { name: "copying guest", resident: 0 },
  { name: "--guest-resident", resident: 1 },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function trial(file: string, mode: string, resident: number, limit: number, perPass: number) {
  const r = await replay({
    capture: path.join(root, "captures", file),
    params: { mtu: 1500, csumOffload: 1, nicMaxLso: 65536, maxSegments: 65535, ...parseCopyMode(mode), guestResident: resident },
    loops: Math.ceil(limit / perPass),
    limit,
    coalesce: parseCoalesce("adaptive"),
  });
  const c = r.snapshot.counters;
  return { pps: Number(c.wireFrames) / r.elapsedSeconds, copied: Number(c.bytesCopied) / Number(c.devicePackets) };
}

console.log(`copy modes: ${trials} interleaved trials, ${frames} frames each, coalescing adaptive; medians (min–max)`);
for (const g of GUESTS) {
  for (const cap of CAPTURES) {
    const limit = cap.name === "1514-byte" ? frames / 4 : frames;
    const pps = new Map<string, number[]>(MODES.map((m) => [m, []]));
    const copied = new Map<string, number>();
    for (let t = 0; t < trials; t++) {
      for (const m of t % 2 ? [...MODES].reverse() : MODES) {
        const r = await trial(cap.file, m, g.resident, limit, cap.perPass);
        pps.get(m)!.push(r.pps);
        copied.set(m, r.copied);
      }
    }
    const med = new Map(MODES.map((m) => [m, median(pps.get(m)!)]));
    for (const m of MODES) {
      const xs = pps.get(m)!;
      console.log(`${g.name.padEnd(17)} ${cap.name.padEnd(9)} ${m.padEnd(8)} ${(med.get(m)! / 1e6).toFixed(2)} Mpps ` +
        `(${(Math.min(...xs) / 1e6).toFixed(2)}–${(Math.max(...xs) / 1e6).toFixed(2)})  copied ${copied.get(m)!.toFixed(0)} B/frame  ` +
        `headers÷${m} ${(med.get("headers")! / med.get(m)!).toFixed(2)}`);
    }
  }
}
