// How the gate's tolerance was chosen: runs `vnic gate --json` many times on an unchanged build
// (and with VNIC_SLOWDOWN_NS=N for each N asked), then re-evaluates every run's intervals at
// several tolerances: the false-alarm rate (unchanged build flagged) and the detection rate
// (slowed build flagged). The gate's intervals do not depend on the tolerance, so one campaign
// answers for all of them.
//
// Usage: node dist/bench/gate-campaign.js [--runs 20] [--slowdowns 10,20,40] [--slow-runs 3]
//          [--trials 5] [--baseline bench/baseline.json] [--against-wasm REF.wasm] [--out FILE]
// With --against-wasm the runs are the gate's same-session A/B (no baseline file).

import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { projectRoot } from "../src/core.js";
import type { Comparison } from "../src/gate.js";
import { machineInfo, gitInfo } from "../src/bench-stats.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string" }, slowdowns: { type: "string" }, "slow-runs": { type: "string" },
    trials: { type: "string" }, baseline: { type: "string" }, out: { type: "string" }, "against-wasm": { type: "string" },
  },
});
const root = projectRoot();
const runs = Number(values.runs ?? 20);
const slowRuns = Number(values["slow-runs"] ?? 3);
const slowdowns = (values.slowdowns ?? "10,20,40").split(",").filter(Boolean).map(Number);
const trials = values.trials ?? "5";
const baseline = values.baseline ?? path.join(root, "bench", "baseline.json");
const TOLERANCES = [0.03, 0.05, 0.1, 0.15, 0.2];

interface Run { slowdownNs: number; load: number[]; comparisons: Comparison[] }

function once(slowdownNs: number): Run {
  const target = values["against-wasm"] ? ["--against-wasm", values["against-wasm"]] : ["--baseline", baseline];
  const r = spawnSync(process.execPath, [path.join(root, "bin", "vnic.js"), "gate", ...target, "--trials", trials, "--json"], {
    env: { ...process.env, VNIC_SLOWDOWN_NS: String(slowdownNs) }, encoding: "utf8", maxBuffer: 1 << 24,
  });
  if (r.status !== 0 && r.status !== 1) throw new Error(`gate exited ${r.status}: ${r.stderr}`);
  return { slowdownNs, load: machineInfo().loadavg, comparisons: JSON.parse(r.stdout).comparisons };
}

const flagged = (run: Run, tol: number, metric?: string) =>
  run.comparisons.some((c) => (!metric || c.metric === metric || (metric === "one-thread" && c.metric === "one-thread A/B")) && c.interval.hi < 1 - tol);

const all: Run[] = [];
for (let i = 0; i < runs; i++) {
  all.push(once(0));
  process.stderr.write(`unchanged run ${i + 1}/${runs}: flagged at 5/10 %: ${flagged(all[all.length - 1], 0.05)}/${flagged(all[all.length - 1], 0.1)}\n`);
}
for (const s of slowdowns) for (let i = 0; i < slowRuns; i++) {
  all.push(once(s));
  process.stderr.write(`slowdown ${s} ns run ${i + 1}/${slowRuns}: flagged at 5/10 %: ${flagged(all[all.length - 1], 0.05)}/${flagged(all[all.length - 1], 0.1)}\n`);
}

const unchanged = all.filter((r) => r.slowdownNs === 0);
const table: string[] = ["| tolerance | false alarms (unchanged, any metric) | threaded only | one-thread only | " + slowdowns.map((s) => `caught at ${s} ns/frame`).join(" | ") + " |",
  "|---:|---:|---:|---:|" + slowdowns.map(() => "---:").join("|") + "|"];
for (const tol of TOLERANCES) {
  const fa = unchanged.filter((r) => flagged(r, tol)).length;
  const faT = unchanged.filter((r) => flagged(r, tol, "threaded")).length;
  const faI = unchanged.filter((r) => flagged(r, tol, "one-thread")).length;
  const caught = slowdowns.map((s) => {
    const rs = all.filter((r) => r.slowdownNs === s);
    return `${rs.filter((r) => flagged(r, tol)).length}/${rs.length}`;
  });
  table.push(`| ${tol * 100} % | ${fa}/${unchanged.length} | ${faT}/${unchanged.length} | ${faI}/${unchanged.length} | ${caught.join(" | ")} |`);
}
// The slowdown each N ns/frame is, as the gate itself measured it (one-thread, median change).
const effect = slowdowns.map((s) => {
  const rs = all.filter((r) => r.slowdownNs === s);
  const ids = [...new Set(rs.flatMap((r) => r.comparisons.map((c) => c.id)))];
  return `${s} ns/frame: ` + ids.map((id) => {
    const ch = rs.map((r) => r.comparisons.find((c) => c.id === id && c.metric !== "threaded")!.interval.estimate - 1).sort((a, b) => a - b);
    return `${id} ${(ch[ch.length >> 1] * 100).toFixed(1)} %`;
  }).join(", ");
});
const out = { date: new Date().toISOString(), machine: machineInfo(), git: gitInfo(root), baseline, trials: Number(trials), runs: all };
const file = values.out ?? path.join(root, "bench-results", `gate-campaign-${out.date.replace(/[:.]/g, "-")}.json`);
mkdirSync(path.dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify(out, null, 2) + "\n");
process.stdout.write([...table, "", "Median one-thread change per slowdown (as measured by the gate):", ...effect, "", `wrote ${file}`].join("\n") + "\n");
