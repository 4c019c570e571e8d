// Pacing below top speed (issue 15): achieved against asked for --pps at 10^5, 10^6 and 50 % and
// 80 % of the top speed measured in the same run, each through the installed command's JSON
// (pacing.asked / achieved / errorPct), one process per replay.
//
//   npm run build && node dist/bench/pacing-sweep.js [--trials N] [--loops N]
//
// Top speed is the median of N --topspeed replays of captures/udp-64.pcap; each rate is then
// replayed N times, interleaved (rate by rate within a trial) so machine load hits all alike.
// Printed: per rate the median error and the worst |error| of the N trials.

import { spawnSync } from "node:child_process";
import path from "node:path";
import { projectRoot } from "../src/core.js";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const trials = arg("--trials", 3);
const loops = arg("--loops", 600); // 6·10^6 frames of 64 bytes
const root = projectRoot();
const vnic = path.join(root, "bin", "vnic.js");
const capture = path.join(root, "captures", "udp-64.pcap");

interface Run { pps: number; errorPct: number | null; seconds: number }

function replay(extra: string[]): Run {
  const r = spawnSync(process.execPath, [vnic, "replay", capture, "--loop", String(loops), ...extra, "--json"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`vnic replay ${extra.join(" ")} failed: ${r.stderr.trim()}`);
  const j = JSON.parse(r.stdout);
  if (!j.books.balanced) throw new Error(`vnic replay ${extra.join(" ")}: books do not balance`);
  return { pps: j.rate.pps, errorPct: j.pacing?.errorPct ?? null, seconds: j.elapsedSeconds };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const signed = (v: number) => `${v >= 0 ? "+" : ""}${v.toFixed(3)} %`;

const top = median(Array.from({ length: trials }, () => replay(["--topspeed"]).pps));
console.log(`top speed (median of ${trials}, ${loops} loops of udp-64.pcap): ${(top / 1e6).toFixed(2)} Mpps`);
const rates = [1e5, 1e6, Math.round(top * 0.5), Math.round(top * 0.8)];
const errors = new Map<number, number[]>(rates.map((r) => [r, []]));
for (let t = 0; t < trials; t++) {
  for (const rate of rates) {
    // Low rates over a fixed 2 s (10^5 pps over 6·10^6 frames would take a minute).
    const limit = Math.min(loops * 10_000, Math.max(2 * rate, 1));
    errors.get(rate)!.push(replay(["--pps", String(rate), "--limit", String(limit)]).errorPct!);
  }
}
for (const rate of rates) {
  const e = errors.get(rate)!;
  const worst = Math.max(...e.map(Math.abs));
  console.log(`--pps ${rate} (${((rate / top) * 100).toFixed(0)} % of top): median error ${signed(median(e))}, ` +
    `worst |error| ${worst.toFixed(3)} % of ${trials}${worst < 1 ? "" : "  <-- over 1 %"}`);
}
