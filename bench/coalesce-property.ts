// 10^6 random schedules through the real wasm coalescing policies (the test suite runs 10^5):
// nothing stranded at quiescence for adaptive, none, virtio and count+usecs; adaptive delivers
// every completion at once while CIF < threshold.
//   npm run build && node dist/bench/coalesce-property.js [runs] [seed]
import { checkSchedules } from "../testkit/coalesce-property.js";
import { helpIfAsked } from "../src/perf/bench-help.js";

helpIfAsked(import.meta.url);

const runs = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 20260522);
const t0 = performance.now();
checkSchedules(runs, seed);
const s = (performance.now() - t0) / 1000;
console.log(`coalesce-property: ${runs} schedules, seed ${seed}: all hold (${s.toFixed(1)} s, ${Math.round(runs / s)} schedules/s)`);
