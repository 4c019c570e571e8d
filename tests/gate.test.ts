// The regression gate decides on intervals, and fails a build slowed on purpose.
//
// End to end: `--against HEAD` passes the unchanged build twice, with instruction
// counts equal run to run and to HEAD's; VNIC_SLOWDOWN_NS=100 on the build under test only
// (about 100 ns of extra work per wire frame, more than doubling a 64-byte frame's time) fails
// on time AND on instructions; a test build with one extra add per frame does more instructions
// per packet and fails at --max-ops-growth 0; a stored baseline from another testbed gives the
// advisory line (exit 0) while its instruction counts still fail a build that does more work;
// a REV that does not exist is one line and exit 2. One configuration (64-byte frames) and 5
// pairs keep the file well under a minute; the false-alarm rate is measured in README.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { decide } from "../src/perf/gate.js";
import { bootstrapRatioOfMedians, median, quantile, rng, spread } from "../src/perf/bench-stats.js";

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
  const one = ["--configs", "64/adaptive/headers", "--pairs", "5", "--json"];
  const json = (r: { out: string }) => JSON.parse(r.out);

  it("--against HEAD passes the unchanged build twice, with equal instruction counts; fails it slowed", () => {
    const runs = [gate(["--against", "HEAD", ...one]), gate(["--against", "HEAD", ...one])];
    const counts: number[] = [];
    for (const r of runs) {
      expect(r.status, r.out + r.err).toBe(0);
      const j = json(r);
      expect(j.verdict).toBe("pass");
      const c = j.configs[0];
      expect(c.oneThread.interval[0]).toBeLessThanOrEqual(c.oneThread.interval[1]);
      expect(c.twoThread).not.toBeNull();
      expect(c.opsPerPacket.current).toBe(c.opsPerPacket.reference);
      counts.push(c.opsPerPacket.current);
    }
    expect(counts[0]).toBeGreaterThan(100);
    expect(counts[1]).toBe(counts[0]);

    const slowed = gate(["--against", "HEAD", ...one, "--metrics", "one-thread"], { VNIC_SLOWDOWN_NS: "100" });
    expect(slowed.status, slowed.out + slowed.err).toBe(1);
    const s = json(slowed).configs[0];
    expect(s.oneThread.regression).toBe(true); // time catches it by itself …
    expect(s.opsPerPacket.current).toBeGreaterThan(s.opsPerPacket.reference); // … and so does the count
    expect(json(slowed).verdict).toBe("fail");
  }, 90_000);

  it("a test build with an extra instruction per frame does more instructions per packet, and fails", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "vnic-gate-build-"));
    try {
      cpSync(path.join(root, "assembly"), path.join(dir, "assembly"), { recursive: true });
      const nic = path.join(dir, "assembly", "nic", "nic.ts");
      const src = readFileSync(nic, "utf8");
      const patched = src.replace("  framesForCurrent++;\n  return STATUS_OK;", "  framesForCurrent++;\n  store<u32>(NIC_SLOWDOWN_CHAIN, load<u32>(NIC_SLOWDOWN_CHAIN) + len); // the test's extra work\n  return STATUS_OK;");
      expect(patched).not.toBe(src);
      writeFileSync(nic, patched);
      const wasm = path.join(dir, "vnic.wasm");
      const asc = spawnSync(process.execPath, [path.join(root, "node_modules", "assemblyscript", "bin", "asc.js"), path.join(dir, "assembly", "index.ts"),
        "--config", path.join(root, "asconfig.json"), "--target", "release", "-o", wasm, "-t", path.join(dir, "vnic.wat")], { cwd: root, encoding: "utf8" });
      expect(asc.status, asc.stderr).toBe(0);
      const r = gate(["--against", "HEAD", "--wasm", wasm, "--ops-only", "--max-ops-growth", "0", ...one]);
      expect(r.status, r.out + r.err).toBe(1);
      const c = json(r).configs[0];
      const extra = c.opsPerPacket.current - c.opsPerPacket.reference;
      expect(extra).toBeGreaterThan(0);
      expect(extra).toBeLessThan(20); // a few instructions per frame, not a different program
      expect(c.opsFail).toBe(true);
      // The default allowance (1 %) lets such a small addition through.
      expect(gate(["--against", "HEAD", "--wasm", wasm, "--ops-only", ...one]).status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("a baseline from another testbed: advisory for time, its instruction counts still decide", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "vnic-gate-"));
    try {
      const base = path.join(dir, "baseline.json");
      const update = gate(["--update", "--baseline", base, "--configs", "64/adaptive/headers", "--trials", "3", "--seconds", "0.05"]);
      expect(update.status, update.err).toBe(0);
      const b = JSON.parse(readFileSync(base, "utf8"));
      expect(b.ops.configs[0].opsPerPacket).toBeGreaterThan(100);
      expect(b.machine.cpuModel).toBeTruthy();
      expect(b.git.commit).toMatch(/^[0-9a-f]{40}$/);

      b.machine.cpuModel = "Some Other CPU 9000";
      writeFileSync(base, JSON.stringify(b));
      const summary = path.join(dir, "summary.md");
      const adv = gate(["--baseline", base, "--summary", summary, "--gab", path.join(dir, "gab.json")]);
      expect(adv.status, adv.out + adv.err).toBe(0);
      expect(adv.err.split("\n").filter((l) => /advisory: recorded on Some Other CPU 9000/.test(l))).toHaveLength(1);
      expect(readFileSync(summary, "utf8")).toMatch(/## vnic pps gate/);
      const gab = JSON.parse(readFileSync(path.join(dir, "gab.json"), "utf8"));
      expect(gab.every((e: { name: string; unit: string; value: number }) => typeof e.name === "string" && typeof e.unit === "string" && Number.isFinite(e.value))).toBe(true);
      expect(gate(["--baseline", base, "--json"]).out).toMatch(/"verdict": "advisory"/);

      // A clone without the baseline's commit (shallow): one line, then the stored counts.
      const shallow = { ...b, git: { commit: "0123456789abcdef0123456789abcdef01234567", dirty: false } };
      writeFileSync(base, JSON.stringify(shallow));
      const missing = gate(["--baseline", base, "--against-baseline-commit"]);
      expect(missing.status, missing.out + missing.err).toBe(0);
      expect(missing.err.split("\n").filter((l) => /0123456789 is not in this clone/.test(l))).toHaveLength(1);

      b.ops.configs[0].opsPerPacket *= 0.95; // as if this build did 5 % more work than recorded
      writeFileSync(base, JSON.stringify(b));
      const more = gate(["--baseline", base]);
      expect(more.status, more.out + more.err).toBe(1);
      expect(more.out).toMatch(/MORE WORK/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("a REV that does not exist: one line, exit 2", () => {
    const r = gate(["--against", "no-such-branch-xyz"]);
    expect(r.status).toBe(2);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/no-such-branch-xyz: no such revision/);
  });

  it("refuses a missing baseline with a usage error (exit 2)", () => {
    const r = gate(["--baseline", "/nonexistent/baseline.json"]);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/cannot read baseline/);
  });
});
