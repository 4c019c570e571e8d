// Issue 18's throughput figure: frames per second through a replay with a device hand-over
// every N frames, against the same replay without hand-overs (target ≥ 0.95×).
//
// Each run is a whole `vnic replay … --json` process (its rate.pps: wire frames over the
// guest's run time), so both sides pay the same start-up and the hand-over path is the one
// users get. Pairs alternate their order (A B, B A, …) so that a neighbour's load and the
// machine's drift fall on both alike; the figure is the median of the per-pair ratios, with a
// bootstrap interval, beside the medians of each side. On this 2-vCPU VM single runs of the
// same command spread by 2× (other tenants); only the paired median means anything.
//
//   npm run build && node dist/bench/handover-rate.js [--pairs 11] [--every 100000]
//     [--loop 1000] [--capture captures/udp-64.pcap] [--json FILE]

import { parseArgs } from "node:util";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { projectRoot } from "../src/core/core.js";
import { bootstrapMedian, median } from "../src/perf/bench-stats.js";
import { helpIfAsked } from "../src/perf/bench-help.js";

helpIfAsked(import.meta.url);
const { values: opt } = parseArgs({
  options: {
    pairs: { type: "string", default: "11" },
    every: { type: "string", default: "100000" },
    loop: { type: "string", default: "1000" },
    capture: { type: "string", default: "captures/udp-64.pcap" },
    json: { type: "string" },
  },
});

interface Run { pps: number; handovers: number }

function replayRate(extra: string[]): Run {
  const root = projectRoot();
  const out = execFileSync(process.execPath, [path.join(root, "bin", "vnic.js"), "replay", opt.capture!, "--loop", opt.loop!, ...extra, "--json"],
    { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 });
  const j = JSON.parse(out);
  if (!j.books?.balanced) throw new Error(`replay ${extra.join(" ")}: the books did not balance`);
  return { pps: j.rate.pps, handovers: j.device?.handovers?.count ?? 0 };
}

const pairs = Number(opt.pairs);
const handover = ["--handover-every", opt.every!];
const none: number[] = [], withHandovers: number[] = [], ratios: number[] = [];
let handovers = 0;
for (let i = 0; i < pairs; i++) {
  const [a, b] = i % 2 === 0 ? [replayRate([]), replayRate(handover)] : (() => { const y = replayRate(handover); return [replayRate([]), y]; })();
  none.push(a.pps);
  withHandovers.push(b.pps);
  ratios.push(b.pps / a.pps);
  handovers = b.handovers;
  console.log(`pair ${i + 1}: none ${(a.pps / 1e6).toFixed(2)} Mpps, hand-over every ${opt.every} ${(b.pps / 1e6).toFixed(2)} Mpps (${b.handovers}), ratio ${(b.pps / a.pps).toFixed(3)}, load ${loadavg()[0].toFixed(2)}`);
}
const ci = bootstrapMedian(ratios);
console.log(`median: none ${(median(none) / 1e6).toFixed(2)} Mpps, hand-overs ${(median(withHandovers) / 1e6).toFixed(2)} Mpps (${handovers} per run); ` +
  `median pair ratio ${ci.estimate.toFixed(3)} (95 % interval ${ci.lo.toFixed(3)}–${ci.hi.toFixed(3)}, ${pairs} pairs; target ≥ 0.95)`);
if (opt.json) writeFileSync(opt.json, JSON.stringify({ command: process.argv.slice(1), none, withHandovers, ratios, interval: ci, handovers }, null, 2));
