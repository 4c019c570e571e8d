// `--coalesce POLICY` parsing, the policy ids in the core, and the wasm policy functions'
// edge cases (virtio's u16 arithmetic, the adaptive threshold, the usecs timer).
import { describe, expect, it } from "vitest";
import { applyCoalesce, COALESCE_HELP, coalesceParams, CoalesceSpecError, formatCoalesce, parseCoalesce } from "../src/replay/coalesce-options.js";
import { WasmCoalescer } from "../src/sim/index.js";
import { readLatency, percentileNs } from "../src/report/latency.js";
import { testCore, u32 } from "./helpers/core.js";

describe("parseCoalesce", () => {
  it("parses every policy into its parameters", () => {
    expect(parseCoalesce("none")).toEqual({ kind: "none" });
    expect(parseCoalesce("count:16")).toEqual({ kind: "count", count: 16 });
    expect(parseCoalesce("count:16,usecs:50")).toEqual({ kind: "count-usecs", count: 16, usecs: 50 });
    expect(parseCoalesce("virtio")).toEqual({ kind: "virtio" });
    expect(parseCoalesce("adaptive")).toEqual({ kind: "adaptive", threshold: 4, ratio: 4 });
    expect(parseCoalesce(" Adaptive:ratio=8 ")).toEqual({ kind: "adaptive", threshold: 4, ratio: 8 });
    expect(parseCoalesce("adaptive:threshold=2,ratio=3")).toEqual({ kind: "adaptive", threshold: 2, ratio: 3 });
    for (const s of ["none", "count:3", "count:3,usecs:9", "virtio", "adaptive", "adaptive:threshold=2,ratio=3"]) {
      expect(formatCoalesce(parseCoalesce(s))).toBe(s);
    }
  });

  it("refuses bad specs with one clear line", () => {
    const bad: [string, RegExp][] = [
      ["", /unknown policy/], ["fast", /unknown policy/], ["count", /unknown policy/], ["count:", /count must be a whole number/],
      ["count:0", /count must be 1\.\.65536, got 0/], ["count:-1", /whole number/], ["count:1.5", /whole number/],
      ["count:4,usecs:0", /usecs must be 1\.\./], ["count:4,usecs:", /usecs must be a whole number/], ["count:4,frames:2", /unknown count option "frames:2" \(usecs:U\)/], ["count:4,usecs:5,x", /unknown count option/],
      ["adaptive:", /unknown adaptive option/], ["adaptive:threshold=0", /threshold must be 1\.\./], ["adaptive:ratio=x", /ratio must be a whole/],
      ["adaptive:ratio=2,ratio=3", /ratio given twice/], ["adaptive:speed=3", /unknown adaptive option/], ["virtio:3", /unknown policy/],
    ];
    for (const [spec, msg] of bad) {
      expect(() => parseCoalesce(spec), spec).toThrow(CoalesceSpecError);
      expect(() => parseCoalesce(spec), spec).toThrow(msg);
      expect(() => parseCoalesce(spec)).toThrow(/^--coalesce .*\(expected none, count:N, count:N,usecs:U, virtio or adaptive/);
    }
  });

  it("help text names every policy", () => {
    for (const w of ["adaptive[:threshold=T,ratio=R]", "none", "count:N ", "count:N,usecs:U", "virtio"]) expect(COALESCE_HELP).toContain(w);
  });

  it("maps to the core's POLICY_* ids and parameters", () => {
    const core = testCore();
    const ids = ["POLICY_ADAPTIVE", "POLICY_NONE", "POLICY_COUNT", "POLICY_COUNT_USECS", "POLICY_VIRTIO"].map((n) => core.constant(n));
    expect(new Set(ids).size).toBe(5);
    expect(core.constant("POLICY_ADAPTIVE")).toBe(0); // zeroed parameters mean the default
    expect(coalesceParams(parseCoalesce("count:8,usecs:50"), (n) => core.constant(n))).toEqual({
      coalescePolicy: core.constant("POLICY_COUNT_USECS"), coalesceCount: 8, coalesceUsecs: 50, coalesceThreshold: 0, coalesceRatio: 0,
    });
    applyCoalesce(core, parseCoalesce("adaptive:threshold=3,ratio=5"));
    expect(core.exports.getParam(core.constant("P_coalesceThreshold"))).toBe(3);
    expect(core.exports.getParam(core.constant("P_coalesceRatio"))).toBe(5);
  });
});

describe("wasm policy functions (assembly/nic/coalesce.ts)", () => {
  const p = new WasmCoalescer(parseCoalesce("adaptive"));
  const x = p.core.exports;

  it("adaptive: everything at once below the threshold or at CIF 0, one interrupt per CIF/ratio above", () => {
    expect(x.adaptiveDeliver(0, 1, 4, 4)).toBe(1);
    expect(x.adaptiveDeliver(3, 1, 4, 4)).toBe(1);
    expect(x.adaptiveDeliver(0, 1, 0, 4)).toBe(1); // a zero threshold still delivers at CIF 0
    expect(x.adaptiveDeliver(4, 1, 4, 4)).toBe(1); // 1·4 ≥ 4
    expect(x.adaptiveDeliver(25, 6, 4, 4)).toBe(0);
    expect(x.adaptiveDeliver(25, 7, 4, 4)).toBe(1);
    expect(x.adaptiveDeliver(0xffffffff, 0xffffffff, 4, 0xffffffff)).toBe(1); // no u32 overflow
    expect(x.adaptiveDeliver(0xffffffff, 1, 4, 4)).toBe(0);
  });

  it("virtio: vring_need_event in u16 across the wrap, used_event at 3/4 of the outstanding", () => {
    expect(x.vringNeedEvent(5, 6, 5)).toBe(1); // entry 5 published
    expect(x.vringNeedEvent(5, 5, 4)).toBe(0);
    expect(x.vringNeedEvent(5, 9, 2)).toBe(1); // a burst that jumps past the event
    expect(x.vringNeedEvent(0xffff, 0x10000, 0xffff)).toBe(1);
    expect(x.vringNeedEvent(2, 0x10003, 0x10001)).toBe(1); // 2^16 + 2 crossed, event is u16
    expect(x.vringNeedEvent(2, 0x10002, 0x10001)).toBe(0);
    expect(u32(x.virtioUsedEvent(0xfffe, 8))).toBe(4); // 0xfffe + 6, mod 2^16
    expect(u32(x.virtioUsedEvent(10, 1))).toBe(10); // 1·3/4 = 0: the next completion
  });

  it("count:N,usecs:U: the timer fires with the time passed in, and C_stranded follows what is held", () => {
    const core = testCore();
    const c = core.exports;
    applyCoalesce(core, parseCoalesce("count:4,usecs:50"));
    c.coalesceReset(0);
    expect(c.coalesceStep(1, 10, 1, 100)).toBe(0);
    expect(c.coalesceStep(1, 9, 2, 120)).toBe(0);
    expect(core.counter("stranded")).toBe(2n);
    expect(c.coalesceTimerDueUs()).toBe(150);
    expect(c.coalesceTick(149)).toBe(0);
    const bell = core.view.getUint32(core.constant("STATE_GUEST_DOORBELL"), true);
    expect(c.coalesceTick(150)).toBe(1);
    expect(core.view.getUint32(core.constant("STATE_GUEST_DOORBELL"), true)).toBe(bell + 1);
    expect(core.counter("interrupts")).toBe(1n);
    expect(core.counter("stranded")).toBe(0n);
    expect(c.coalesceTimerDueUs()).toBe(-1);
    // count:N alone has no timer: what it holds stays held.
    applyCoalesce(core, parseCoalesce("count:4"));
    expect(c.coalesceStep(3, 0, 5, 0)).toBe(0);
    expect(c.coalesceTick(1e12)).toBe(0);
    expect(core.counter("stranded")).toBe(3n);
  });

  it("zeroed parameters are adaptive with the default threshold and ratio", () => {
    const core = testCore();
    const c = core.exports;
    c.coalesceReset(0);
    expect(c.coalesceStep(1, 3, 1, 0)).toBe(1); // CIF 3 < 4
    expect(c.coalesceStep(1, 32, 2, 0)).toBe(0);
    expect(core.counter("stranded")).toBe(1n);
    expect(c.coalesceStep(1, 0, 3, 0)).toBe(1); // CIF 0: everything now
    expect(core.counter("stranded")).toBe(0n);
  });
});

describe("latency histogram (assembly/guest/latency.ts, src/report/latency.ts)", () => {
  it("log-linear buckets: every value lands in the bucket whose bounds hold it, ≤ 12.5% wide", () => {
    const core = testCore();
    const x = core.exports;
    const n = core.constant("LAT_BUCKETS");
    const low = (i: number) => Number(BigInt.asUintN(64, x.latencyBucketLowNs(i)));
    for (let i = 1; i < n; i++) {
      expect(low(i)).toBeGreaterThan(low(i - 1));
      if (low(i - 1) >= 8) expect((low(i) - low(i - 1)) / low(i - 1)).toBeLessThanOrEqual(0.125);
    }
    for (const v of [0, 1, 7, 8, 9, 15, 16, 17, 1000, 1023, 1024, 123456789, 2 ** 40]) {
      x.latencyReset();
      x.latencyRecord(BigInt(v), 0n, 1);
      const buckets = Array.from({ length: n }, (_, i) => Number(x.latencyBucket(i)));
      const at = buckets.indexOf(1);
      expect(low(at)).toBeLessThanOrEqual(v);
      if (at + 1 < n) expect(low(at + 1)).toBeGreaterThan(v);
    }
  });

  it("percentiles from the buckets: p50 and p99 of a known distribution within a bucket's width", () => {
    const core = testCore();
    const x = core.exports;
    x.latencyReset();
    // 990 completions at 2 µs, 10 at 100 µs (recorded per burst: one clock read each)
    x.latencyRecord(1_000_000n + 2000n, 1_000_000n, 990);
    x.latencyRecord(5_000_000n + 100_000n, 5_000_000n, 9);
    x.latencyRecord(7_000_000n + 300_000n, 7_000_000n, 1);
    x.latencyRecord(10n, 20n, 0); // clocks of two threads: a stamp after now counts 0 (n = 0 here)
    const s = readLatency(core);
    expect(s.count).toBe(1000);
    expect(s.p50Us).toBeGreaterThanOrEqual(2);
    expect(s.p50Us).toBeLessThan(2 * 1.125);
    expect(s.p99Us).toBeGreaterThanOrEqual(2);
    expect(s.p99Us).toBeLessThan(2.25);
    expect(s.maxUs).toBe(300);
    expect(s.meanUs).toBeCloseTo((990 * 2 + 9 * 100 + 300) / 1000, 6);
    expect(percentileNs([0, 0], [0, 1], 0.5, 0)).toBe(0);
  });
});
