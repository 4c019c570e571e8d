// The regression gate decides on intervals, and fails a build slowed on purpose.
//
// The end-to-end test makes its own baseline first (vnic gate --update, same session, same
// machine load), then runs the gate twice on the normal build (exit 0 both times) and once
// with VNIC_SLOWDOWN_NS=300 — about 300 ns of extra work per wire frame in the NIC stage, a
// 2–4× slowdown for 64-byte frames — and expects exit 1. Tolerance 25 %: the test is about the
// gate's decision, not this machine's noise (the measured false-alarm rate is in README).
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { decide } from "../src/gate.js";
import { bootstrapRatioOfMedians, median, quantile, rng, spread } from "../src/bench-stats.js";

const root = path.resolve(import.meta.dirname, "..");
const vnic = path.join(root, "bin", "vnic.js");

function gate(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [vnic, "gate", ...args], { env: { ...process.env, VNIC_SLOWDOWN_NS: "", ...env }, encoding: "utf8", timeout: 90_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe("gate statistics", () => {
  it("quantiles and spread", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(quantile([0, 10], 0.25)).toBe(2.5);
    const s = spread([10, 10, 11, 9, 10]);
    expect(s.median).toBe(10);
    expect(s.rmad).toBe(0);
  });

  it("the bootstrap interval is seeded and brackets the estimate", () => {
    const r = rng(1);
    const a = Array.from({ length: 7 }, () => 100 + r() * 10);
    const b = Array.from({ length: 7 }, () => 100 + r() * 10);
    const i1 = bootstrapRatioOfMedians(a, b);
    const i2 = bootstrapRatioOfMedians(a, b);
    expect(i1).toEqual(i2);
    expect(i1.lo).toBeLessThanOrEqual(i1.estimate);
    expect(i1.hi).toBeGreaterThanOrEqual(i1.estimate);
  });

  it("declares a regression only when the whole interval is below 1 − tolerance", () => {
    const base = [100, 102, 98, 101, 99, 100, 103];
    expect(decide(base.map((x) => x * 0.7), base, 0.1).verdict).toBe("regression");
    expect(decide(base, base, 0.1).verdict).toBe("unchanged");
    expect(decide(base.map((x) => x * 0.95), base, 0.1).verdict).toBe("unchanged");
    expect(decide(base.map((x) => x * 1.5), base, 0.1).verdict).toBe("improvement");
    // Very noisy samples: a lower median is not enough, the interval must clear the tolerance.
    const noisy = [40, 160, 70, 130, 100, 55, 150];
    expect(decide(noisy.map((x) => x * 0.85), noisy, 0.1).verdict).not.toBe("regression");
  });
});

describe("vnic gate end to end", () => {
  it("passes the normal build twice and fails a build slowed on purpose", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "vnic-gate-"));
    try {
      const base = path.join(dir, "baseline.json");
      const update = gate(["--update", "--baseline", base, "--configs", "64/adaptive/headers,1514/adaptive/headers", "--trials", "5", "--seconds", "0.1"]);
      expect(update.status, update.err).toBe(0);
      expect(JSON.parse(readFileSync(base, "utf8")).configs).toHaveLength(2);

      const args = ["--baseline", base, "--tolerance", "25", "--gab", path.join(dir, "gab.json"), "--summary", path.join(dir, "summary.md")];
      for (let i = 0; i < 2; i++) {
        const ok = gate(args);
        expect(ok.status, ok.out + ok.err).toBe(0);
        expect(ok.out).toMatch(/vnic gate: pass/);
      }
      const gab = JSON.parse(readFileSync(path.join(dir, "gab.json"), "utf8"));
      expect(gab.every((e: { name: string; unit: string; value: number }) => typeof e.name === "string" && typeof e.unit === "string" && Number.isFinite(e.value))).toBe(true);
      expect(readFileSync(path.join(dir, "summary.md"), "utf8")).toMatch(/## vnic pps gate/);

      const slowed = gate(args, { VNIC_SLOWDOWN_NS: "300" });
      expect(slowed.status, slowed.out + slowed.err).toBe(1);
      expect(slowed.out).toMatch(/REGRESSION/);
      expect(slowed.out).toMatch(/vnic gate: FAIL/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);

  it("A/B against a reference build in the same session: passes itself, fails itself slowed", () => {
    const ref = path.join(root, "build", "vnic.wasm");
    const args = ["--against-wasm", ref, "--configs", "64/adaptive/headers", "--tolerance", "10", "--trials", "7"];
    const same = gate(args);
    expect(same.status, same.out + same.err).toBe(0);
    expect(same.out).toMatch(/one-thread A\/B/);
    const slowed = gate(args, { VNIC_SLOWDOWN_NS: "100" });
    expect(slowed.status, slowed.out + slowed.err).toBe(1);
    expect(slowed.out).toMatch(/REGRESSION/);
  }, 60_000);

  it("refuses a missing baseline with a usage error (exit 2)", () => {
    const r = gate(["--baseline", "/nonexistent/baseline.json"]);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/cannot read baseline/);
  });
});
