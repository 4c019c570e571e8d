// Descriptor fuzzing at scale: the properties of tests/fuzz-descriptors.test.ts over many more
// cases, with the outcome counts for README.
//
//   npm run build && node dist/bench/fuzz-descriptors.js --cases 1000000 [--seed N] [--debug]
//        [--cap nicMaxLso=262144,maxSegments=1024]
//
// --cap bounds host params (the fuzz otherwise sets them anywhere in u32) — only to look past a
// known core bug; the caps are printed with the figures. Exit 1 with fast-check's counterexample
// on the first broken property.

import { parseArgs } from "node:util";
import { DeviceRig, fuzzDevice } from "../testkit/fuzz-device.js";
import { helpIfAsked } from "../src/perf/bench-help.js";

helpIfAsked(import.meta.url);

const { values } = parseArgs({
  options: {
    cases: { type: "string", default: "1000000" },
    seed: { type: "string" },
    debug: { type: "boolean" },
    cap: { type: "string" },
    chunk: { type: "string", default: "50000" },
  },
});
const cases = Number(values.cases);
const chunk = Math.min(Number(values.chunk), cases);
const caps = values.cap
  ? Object.fromEntries(values.cap.split(",").map((kv) => kv.split("=")).map(([k, v]) => [k, Number(v)]))
  : undefined;
let seed = values.seed !== undefined ? Number(values.seed) : (Date.now() ^ (process.pid << 16)) | 0;

const totals = new Map<string, number>();
const byKind = new Map<string, Map<string, number>>();
let frames = 0;
let descriptors = 0;
let rigs = 0;
const t0 = performance.now();
const add = (m: Map<string, number>, k: string, n: number) => m.set(k, (m.get(k) ?? 0) + n);
const collect = (r: DeviceRig) => {
  for (const [k, n] of r.outcomes) add(totals, k, n);
  for (const [kind, m] of r.outcomesByKind) {
    const into = byKind.get(kind) ?? new Map<string, number>();
    byKind.set(kind, into);
    for (const [k, n] of m) add(into, k, n);
  }
  frames += r.framesOut;
};

console.log(`fuzz-descriptors: ${cases} cases, ${values.debug ? "debug" : "release"} core, seeds from ${seed}` + (caps ? `, caps ${JSON.stringify(caps)}` : ", no caps"));
let done = 0;
try {
  // Chunks of cases, each with its own seed and rig: progress lines, and bounded memory.
  while (done < cases) {
    const n = Math.min(chunk, cases - done);
    let rig: DeviceRig | undefined;
    const rigsOfChunk: DeviceRig[] = [];
    try {
      fuzzDevice({ cases: n, seed, rig: { flavor: values.debug ? "debug" : "release" }, paramCaps: caps, onRig: (r) => rigsOfChunk.push((rig = r)) });
    } finally {
      for (const r of rigsOfChunk) collect(r);
      rigs += rigsOfChunk.length;
    }
    done += n;
    seed = (seed + 0x9e3779b9) | 0;
    const s = (performance.now() - t0) / 1000;
    process.stderr.write(`  ${done} cases, ${s.toFixed(0)} s, ${(done / s).toFixed(0)} cases/s\n`);
    void rig;
  }
} catch (e) {
  console.log((e as Error).message);
  process.exitCode = 1;
}
for (const n of totals.values()) descriptors += n;
const s = (performance.now() - t0) / 1000;
const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
console.log(`\n${done} cases (${process.exitCode ? "FAILED" : "all properties held"}), ${descriptors} descriptors, ${frames} wire frames, ${s.toFixed(1)} s (${(done / s).toFixed(0)} cases/s)`);
console.log(`\noutcome           completions`);
for (const [k, n] of sorted(totals)) console.log(`${k.padEnd(18)}${String(n).padStart(11)}  ${((100 * n) / descriptors).toFixed(2)}%`);
for (const [kind, m] of byKind) console.log(`\n${kind}: ` + sorted(m).map(([k, n]) => `${k} ${n}`).join(", "));
