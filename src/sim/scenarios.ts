// The standard workloads of the coalescing simulation (docs/design.md §1 step 6), each
// seeded so the table is the same on every run. Capacity: one command per µs (serviceUs 1).

import { Rng } from "../util/rng.js";
import type { SimOptions, Workload } from "./engine.js";

export interface Scenario {
  name: string;
  workload: Workload;
  options: SimOptions;
}

const N = 4000;

function poisson(seed: number, load: number, n: number): number[] {
  const rng = new Rng(seed), out: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) out.push((t += rng.exp(1 / load)));
  return out;
}

function bursts(seed: number, count: number, maxSize: number, gapUs: number): number[] {
  const rng = new Rng(seed), out: number[] = [];
  for (let b = 0; b < count; b++) {
    const size = rng.int(1, maxSize);
    for (let i = 0; i < size; i++) out.push(b * gapUs);
  }
  return out;
}

const closed = (qd: number, completions = N): Workload => ({ kind: "closed", phases: [{ qd, completions }] });

export function standardScenarios(): Scenario[] {
  const s: Scenario[] = [];
  for (let qd = 1; qd <= 256; qd *= 2) s.push({ name: `closed qd=${qd}`, workload: closed(qd), options: { seed: qd } });
  for (const pct of [10, 50, 90, 100]) {
    s.push({ name: `poisson ${pct}%`, workload: { kind: "open", arrivalsUs: poisson(100 + pct, pct / 100, N) }, options: { seed: pct } });
  }
  s.push({ name: "bursts 1..128, idle", workload: { kind: "open", arrivalsUs: bursts(7, 40, 128, 400) }, options: { seed: 7 } });
  s.push({ name: "trickle 1/50us", workload: { kind: "open", arrivalsUs: Array.from({ length: 500 }, (_, i) => i * 50) }, options: { seed: 8 } });
  s.push({
    name: "steps 1>64>1>256>2",
    workload: { kind: "closed", phases: [1, 64, 1, 256, 2].map((qd) => ({ qd, completions: 1500 })) },
    options: { seed: 9 },
  });
  s.push({ name: "wrap 2^16 qd=64", workload: closed(64), options: { seed: 10, startIndex: 65536 - 700 } });
  s.push({ name: "wrap 2^32 qd=64", workload: closed(64), options: { seed: 11, startIndex: 2 ** 32 - 700 } });
  s.push({ name: "ring full 200% /64", workload: { kind: "open", arrivalsUs: poisson(12, 2, N) }, options: { seed: 12, ringSlots: 64 } });
  s.push({ name: "device bursts 32 qd=64", workload: closed(64), options: { seed: 13, deviceBurst: 32 } });
  s.push({ name: "rearm race qd=3", workload: closed(3), options: { seed: 14, handleUs: 1 } });
  s.push({ name: "rearm race, no recheck*", workload: closed(3), options: { seed: 14, handleUs: 1, recheck: false } });
  return s;
}
