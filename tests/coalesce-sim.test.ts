// The coalescing simulation (src/sim/) drives the real wasm policy: its table is snapshotted,
// so a change in behaviour shows up, and the figures are checked on it.
import { describe, expect, it } from "vitest";
import { formatTables, runSimulation, simulate, WasmCoalescer, type Row } from "../src/sim/index.js";
import { parseCoalesce } from "../src/replay/coalesce-options.js";

const rows = runSimulation();
const row = (policy: string, scenario: string): Row => {
  const r = rows.find((x) => x.policy === policy && x.scenario === scenario);
  if (!r) throw new Error(`no row ${policy} / ${scenario}`);
  return r;
};
const ablation = (r: Row) => r.scenario.endsWith("*");

describe("coalescing simulation", () => {
  it("prints the same table as last time (behaviour changes show up here)", async () => {
    await expect(formatTables(rows)).toMatchFileSnapshot("./coalesce-sim.table.txt");
  });

  it("adaptive: queue depth 1 and trickle get exactly one completion per interrupt and no added latency", () => {
    for (const s of ["closed qd=1", "trickle 1/50us"]) {
      const r = row("adaptive", s);
      expect(r.interrupts).toBe(r.completed);
      expect(r.perInterrupt).toBe(1);
      expect(r.waitedMax).toBe(0);
      expect(r.addedMaxUs).toBe(0);
    }
  });

  it("adaptive: queue depth ≥ 32 carries at least 4 completions per interrupt", () => {
    for (const qd of [32, 64, 128, 256]) expect(row("adaptive", `closed qd=${qd}`).perInterrupt).toBeGreaterThanOrEqual(4);
  });

  it("adaptive, none, virtio and count+usecs strand nothing in any schedule (re-checking guest)", () => {
    for (const r of rows) {
      if (r.policy === "adaptive") expect(r.stranded, r.scenario).toBe(0);
      else if (!r.policy.startsWith("count:8") || r.policy.includes("usecs")) {
        if (!ablation(r)) expect(r.stranded, `${r.policy} ${r.scenario}`).toBe(0);
      }
    }
  });

  it("count:N without a timer strands: a closed loop below N stops, a trickle leaves its tail", () => {
    expect(row("count:8", "closed qd=1")).toMatchObject({ completed: 1, interrupts: 0, stranded: 1 });
    expect(row("count:8", "closed qd=4").stranded).toBe(4);
    expect(row("count:8", "trickle 1/50us").stranded).toBe(500 % 8);
  });

  it("index wraps change nothing: past 2^16 and 2^32 every policy behaves as from 0", () => {
    for (const p of new Set(rows.map((r) => r.policy))) {
      const base = { ...row(p, "closed qd=64"), scenario: "" };
      expect({ ...row(p, "wrap 2^16 qd=64"), scenario: "" }).toEqual(base);
      expect({ ...row(p, "wrap 2^32 qd=64"), scenario: "" }).toEqual(base);
    }
  });

  it("the re-check on re-arm closes the race: without it virtio strands a completion", () => {
    expect(row("virtio", "rearm race qd=3").stranded).toBe(0);
    expect(row("virtio", "rearm race, no recheck*").stranded).toBeGreaterThan(0);
  });

  it("is deterministic: the same seed gives the same run", () => {
    const p = new WasmCoalescer(parseCoalesce("adaptive"));
    const w = { kind: "open" as const, arrivalsUs: [0, 0, 0, 1, 2, 2, 9, 9, 9, 9, 30] };
    const a = simulate(p, w, { seed: 5, handleUs: 1, deviceBurst: 2 });
    const b = simulate(p, w, { seed: 5, handleUs: 1, deviceBurst: 2 });
    expect(b).toEqual(a);
  });
});
