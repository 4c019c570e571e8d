// Random schedules for the coalescing property checks (tests/coalesce-property.test.ts runs
// 10^5, bench/coalesce-property.ts 10^6): small closed- and open-loop workloads across index
// wraps, device bursts, slow guest handlers and every policy that claims never to strand.

import fc from "fast-check";
import type { CoalesceSpec } from "../src/replay/coalesce-options.js";
import { simulate, type SimOptions, type StepTrace, type Workload } from "../src/sim/engine.js";
import { WasmCoalescer } from "../src/sim/wasm-policy.js";

export interface Schedule {
  spec: CoalesceSpec;
  workload: Workload;
  options: SimOptions;
}

const specArb: fc.Arbitrary<CoalesceSpec> = fc.oneof(
  fc.record({ kind: fc.constant("adaptive" as const), threshold: fc.integer({ min: 1, max: 8 }), ratio: fc.integer({ min: 1, max: 8 }) }),
  fc.constant({ kind: "none" as const }),
  fc.constant({ kind: "virtio" as const }),
  fc.record({ kind: fc.constant("count-usecs" as const), count: fc.integer({ min: 1, max: 16 }), usecs: fc.integer({ min: 1, max: 50 }) }),
);

const workloadArb: fc.Arbitrary<Workload> = fc.oneof(
  fc.record({
    kind: fc.constant("closed" as const),
    phases: fc.array(fc.record({ qd: fc.integer({ min: 1, max: 24 }), completions: fc.integer({ min: 1, max: 30 }) }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    kind: fc.constant("open" as const),
    arrivalsUs: fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 1, maxLength: 40 }).map((a) => a.sort((x, y) => x - y)),
  }),
);

const startArb = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 65536 - 40, max: 65536 }),
  fc.integer({ min: 2 ** 32 - 40, max: 2 ** 32 - 1 }),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }),
);

export const scheduleArb: fc.Arbitrary<Schedule> = fc.record({
  spec: specArb,
  workload: workloadArb,
  options: fc.record({
    serviceUs: fc.constantFrom(0.5, 1, 3),
    ringSlots: fc.constantFrom(2, 4, 16, 256),
    startIndex: startArb,
    deviceBurst: fc.integer({ min: 1, max: 4 }),
    handleUs: fc.constantFrom(0, 0, 1, 2.5),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  }),
});

const instances = new Map<string, WasmCoalescer>();

/** Runs one schedule against the wasm policy and throws if a property fails. */
export function checkSchedule(s: Schedule): void {
  let policy = instances.get(s.spec.kind);
  if (!policy) instances.set(s.spec.kind, (policy = new WasmCoalescer(s.spec)));
  policy.configure(s.spec);
  const threshold = s.spec.kind === "adaptive" ? s.spec.threshold : 0;
  let allBelow = true;
  const onStep = (t: StepTrace) => {
    if (t.cif >= threshold) allBelow = false;
    // adaptive: below the threshold every completion is delivered at once, held ones included.
    if (t.cif < threshold && t.interrupts !== 1) throw new Error(`held at cif ${t.cif} < threshold ${threshold}`);
  };
  const r = simulate(policy, s.workload, { ...s.options, onStep: threshold ? onStep : undefined });
  const total = s.workload.kind === "closed" ? s.workload.phases.reduce((a, p) => a + p.completions, 0) : s.workload.arrivalsUs.length;
  if (r.stranded !== 0) throw new Error(`${r.stranded} completion(s) stranded at quiescence`);
  if (r.completed !== total || r.collected !== total) throw new Error(`completed ${r.completed}, collected ${r.collected} of ${total}`);
  if (policy.held() !== 0) throw new Error(`policy still holds ${policy.held()}`);
  // adaptive, CIF always under the threshold, one completion per burst: one interrupt each.
  if (threshold && allBelow && s.options.deviceBurst === 1 && r.interrupts !== total) {
    throw new Error(`${r.interrupts} interrupts for ${total} completions with CIF < threshold throughout`);
  }
}

export function checkSchedules(numRuns: number, seed = 42): void {
  fc.assert(fc.property(scheduleArb, (s) => checkSchedule(s)), { numRuns, seed });
}
