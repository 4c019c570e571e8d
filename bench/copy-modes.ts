// Issue 3's figure: replay rate per copy mode on 64-byte, IMIX and 1514-byte captures, side by
// side in one run (trials interleaved across modes), with bytes copied per frame — once with
// the ordinary guest (it copies every frame into guest RAM just before posting it) and once with
// --guest-resident (buffers posted again on every loop, so their lines stay in cache).
//
// Beside the end-to-end rate, each row gives the device thread's time per packet split in two
// (src/workers/device-time.ts): the backend — translation and the partial copy, the host CPU
// the patents save — and the NIC model, whose DMA (gathering every byte onto the wire) is CPU
// work here but a real NIC's hardware. "backend Mpps/core" is the rate one core running only
// the backend sustains.
//
//   npm run build && node dist/bench/copy-modes.js [--trials N] [--frames N] [--json FILE]

import { parseArgs } from "node:util";
import path from "node:path";
import { replay } from "../src/replay/replay.js";
import { parseCopyMode } from "../src/replay/copy-options.js";
import { projectRoot } from "../src/core/core.js";
import { parseCoalesce } from "../src/replay/coalesce-options.js";
import { deviceTime } from "../src/report/report.js";
import { writeFileSync } from "node:fs";
import { helpIfAsked } from "../src/perf/bench-help.js";

helpIfAsked(import.meta.url);

const { values } = parseArgs({ options: { trials: { type: "string" }, frames: { type: "string" }, json: { type: "string" } } });
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
    params: { ...parseCopyMode(mode), guestResident: resident }, // over vnic replay's defaults
    loops: Math.ceil(limit / perPass),
    limit,
    coalesce: parseCoalesce("adaptive"),
  });
  const c = r.snapshot.counters;
  const t = deviceTime(r);
  if (!t) throw new Error(`${file} ${mode}: no device time was sampled`);
  return {
    pps: Number(c.wireFrames) / r.elapsedSeconds,
    copied: Number(c.bytesCopied) / Number(c.devicePackets),
    backendNs: t.backendNsPerPacket,
    nicNs: t.nicNsPerPacket,
  };
}

type Trial = Awaited<ReturnType<typeof trial>>;
const rows: Record<string, unknown>[] = [];

console.log(`copy modes: ${trials} interleaved trials, ${frames} frames each (a quarter for 1514-byte), coalescing adaptive; medians (min–max)`);
console.log(`| guest | capture | mode | Mpps end to end | backend ns/pkt | backend Mpps/core | NIC model ns/pkt | copied B/frame | headers ÷ mode (e2e / backend) |`);
console.log(`|---|---|---|---:|---:|---:|---:|---:|---|`);
for (const g of GUESTS) {
  for (const cap of CAPTURES) {
    const limit = cap.name === "1514-byte" ? frames / 4 : frames;
    const runs = new Map<string, Trial[]>(MODES.map((m) => [m, []]));
    for (let t = 0; t < trials; t++) {
      for (const m of t % 2 ? [...MODES].reverse() : MODES) runs.get(m)!.push(await trial(cap.file, m, g.resident, limit, cap.perPass));
    }
    const med = (m: string, k: keyof Trial) => median(runs.get(m)!.map((r) => r[k]));
    for (const m of MODES) {
      const pps = runs.get(m)!.map((r) => r.pps);
      const row = {
        guest: g.name, capture: cap.name, mode: m,
        mpps: med(m, "pps") / 1e6, mppsMin: Math.min(...pps) / 1e6, mppsMax: Math.max(...pps) / 1e6,
        backendNsPerPacket: med(m, "backendNs"), nicNsPerPacket: med(m, "nicNs"),
        backendMppsPerCore: 1e3 / med(m, "backendNs"), copiedPerFrame: med(m, "copied"),
        headersOverModeE2e: med("headers", "pps") / med(m, "pps"),
        headersOverModeBackend: med(m, "backendNs") / med("headers", "backendNs"),
      };
      rows.push(row);
      console.log(`| ${g.name} | ${cap.name} | ${m} | ${row.mpps.toFixed(2)} (${row.mppsMin.toFixed(2)}–${row.mppsMax.toFixed(2)}) | ` +
        `${row.backendNsPerPacket.toFixed(1)} | ${row.backendMppsPerCore.toFixed(2)} | ${row.nicNsPerPacket.toFixed(1)} | ${row.copiedPerFrame.toFixed(0)} | ` +
        `${row.headersOverModeE2e.toFixed(2)} / ${row.headersOverModeBackend.toFixed(2)} |`);
    }
  }
}
if (values.json) writeFileSync(values.json, JSON.stringify({ command: `node dist/bench/copy-modes.js ${process.argv.slice(2).join(" ")}`.trim(), trials, frames, rows }, null, 2));
