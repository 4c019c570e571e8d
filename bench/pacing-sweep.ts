// Pacing below top speed (README "Replay control and capture ingest"): achieved against asked for --pps at 10^5, 10^6 and 50 % and
// 80 % of the top speed measured in the same run (64-byte frames), and for --mbps at 1000 and
// 50 % / 80 % of top (1514-byte frames), each through the command's JSON (pacing.asked /
// achieved / errorPct), one process per replay.
//
//   npm run build && node dist/bench/pacing-sweep.js [--trials N] [--loops N]
//
// Top speed is the median of N --topspeed replays of the capture; each rate is then
// replayed N times, interleaved (rate by rate within a trial) so machine load hits all alike.
// Printed: per rate the median error and the worst |error| of the N trials.

import { spawnSync } from "node:child_process";
import path from "node:path";
import { projectRoot } from "../src/core/core.js";
import { helpIfAsked } from "../src/perf/bench-help.js";

helpIfAsked(import.meta.url);

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const trials = arg("--trials", 3);
const loops = arg("--loops", 600); // 6·10^6 frames of 64 bytes
const root = projectRoot();
const vnic = path.join(root, "bin", "vnic.js");

interface Run { pps: number; mbps: number; errorPct: number | null; seconds: number }

function replay(capture: string, loops: number, extra: string[]): Run {
  const file = path.join(root, "captures", capture);
  const r = spawnSync(process.execPath, [vnic, "replay", file, "--loop", String(loops), ...extra, "--json"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`vnic replay ${capture} ${extra.join(" ")} failed: ${r.stderr.trim()}`);
  const j = JSON.parse(r.stdout);
  if (!j.books.balanced) throw new Error(`vnic replay ${capture} ${extra.join(" ")}: books do not balance`);
  return { pps: j.rate.pps, mbps: j.rate.mbps, errorPct: j.pacing?.errorPct ?? null, seconds: j.elapsedSeconds };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const signed = (v: number) => `${v >= 0 ? "+" : ""}${v.toFixed(3)} %`;

/** One sweep: top speed, then each rate `trials` times, interleaved. */
function sweep(unit: "pps" | "mbps", capture: string, loops: number, framesPerLoop: number, fixed: number[]) {
  const top = median(Array.from({ length: trials }, () => replay(capture, loops, ["--topspeed"])[unit]));
  console.log(`top speed (median of ${trials}, ${loops} loops of ${capture}): ${unit === "pps" ? `${(top / 1e6).toFixed(2)} Mpps` : `${top.toFixed(0)} Mbit/s`}`);
  const rates = [...fixed, Math.round(top * 0.5), Math.round(top * 0.8)];
  const errors = new Map<number, number[]>(rates.map((r) => [r, []]));
  for (let t = 0; t < trials; t++) {
    for (const rate of rates) {
      // At most ~2 s per replay (10^5 pps over all the loops would take a minute).
      const framesIn2s = unit === "pps" ? 2 * rate : (2 * rate * 1e6) / 8 / (capture.includes("1514") ? 1514 : 64);
      const limit = Math.max(1, Math.min(loops * framesPerLoop, Math.round(framesIn2s)));
      errors.get(rate)!.push(replay(capture, loops, [`--${unit}`, String(rate), "--limit", String(limit)]).errorPct!);
    }
  }
  for (const rate of rates) {
    const e = errors.get(rate)!;
    const worst = Math.max(...e.map(Math.abs));
    console.log(`--${unit} ${rate} (${((rate / top) * 100).toFixed(0)} % of top): median error ${signed(median(e))}, ` +
      `worst |error| ${worst.toFixed(3)} % of ${trials} [${e.map(signed).join(", ")}]${worst < 1 ? "" : "  <-- over 1 %"}`);
  }
}

sweep("pps", "udp-64.pcap", loops, 10_000, [1e5, 1e6]);
sweep("mbps", "udp-1514.pcap", Math.ceil(loops / 2), 1200, [1000]);
