// Prints the coalescing simulation table: every policy against every scenario, driving the
// real wasm policy (build/vnic.wasm). Deterministic (seeded): same table on every run.
//   npm run build && node dist/bench/coalesce-sim.js
import { formatTables, runSimulation } from "../src/sim/index.js";
import { helpIfAsked } from "../src/perf/bench-help.js";

helpIfAsked(import.meta.url);

const t0 = performance.now();
process.stdout.write(formatTables(runSimulation()));
process.stdout.write(`(${((performance.now() - t0) / 1000).toFixed(2)} s)\n`);
