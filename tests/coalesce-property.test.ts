// Property tests of the coalescing policies over random schedules (fast-check, seeded), all
// against the real wasm policy: 10^5 schedules here, 10^6 in bench/coalesce-property.ts.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { checkSchedules, scheduleArb } from "../testkit/coalesce-property.js";
import { simulate, WasmCoalescer } from "../src/sim/index.js";
import { parseCoalesce } from "../src/replay/coalesce-options.js";

describe("coalescing properties", () => {
  it("10^5 random schedules: nothing stranded at quiescence (adaptive, none, virtio, count+usecs); adaptive delivers every completion at once while CIF < threshold", () => {
    checkSchedules(100_000);
  });

  it("count:N (no timer) strands whenever a closed loop keeps fewer than N in flight", () => {
    const p = new WasmCoalescer(parseCoalesce("count:8"));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 8, max: 100 }), scheduleArb, (qd, completions, s) => {
        const r = simulate(p, { kind: "closed", phases: [{ qd, completions }] }, { ...s.options, handleUs: 0 });
        expect(r.stranded).toBeGreaterThan(0);
        expect(r.completed).toBeLessThan(completions);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  it("the checker catches a strand: a guest that re-arms without re-checking loses the last interrupt", () => {
    const p = new WasmCoalescer(parseCoalesce("adaptive"));
    // One command completes while the guest is still handling the previous interrupt.
    const r = simulate(p, { kind: "open", arrivalsUs: [0, 0.5] }, { serviceUs: 1, handleUs: 5, recheck: false });
    expect(r.stranded).toBe(1);
    const ok = simulate(p, { kind: "open", arrivalsUs: [0, 0.5] }, { serviceUs: 1, handleUs: 5, recheck: true });
    expect(ok.stranded).toBe(0);
  });
});
