// How the gate's tolerance was chosen, and what it catches: runs `vnic gate --against REV --json`
// many times on an unchanged build (false alarms), then with VNIC_SLOWDOWN_NS=N on the build
// under test for each N asked (detections), and re-evaluates every run's intervals at several
// tolerances. The intervals do not depend on the tolerance, so one campaign answers for all of
// them. Instruction counts are exact: a run "catches" a slowdown by the count when the count grew
// by more than the gate's --max-ops-growth (default 1 %), and by time when the one-thread
// interval lies wholly below 1 − tolerance.
//
// Usage: node dist/bench/gate-campaign.js [--against HEAD] [--runs 20] [--slowdowns 2,5,10,20]
//          [--slow-runs 3] [--slow-configs 64/adaptive/headers] [--pairs 7] [--out FILE]

import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { projectRoot } from "../src/core/core.js";
import { median } from "../src/perf/bench-stats.js";
import { machineInfo, gitInfo } from "../src/util/testbed.js";
import { helpIfAsked } from "../src/perf/bench-help.js";

helpIfAsked(import.meta.url);

const { values } = parseArgs({
  options: {
    against: { type: "string" }, runs: { type: "string" }, slowdowns: { type: "string" }, "slow-runs": { type: "string" },
    "slow-configs": { type: "string" }, pairs: { type: "string" }, out: { type: "string" },
  },
});
const root = projectRoot();
const against = values.against ?? "HEAD";
const runs = Number(values.runs ?? 20);
const slowRuns = Number(values["slow-runs"] ?? 3);
const slowdowns = (values.slowdowns ?? "2,5,10,20").split(",").filter(Boolean).map(Number);
const slowConfigs = values["slow-configs"] ?? "64/adaptive/headers";
const pairs = values.pairs ?? "7";
const TOLERANCES = [0.03, 0.05, 0.1, 0.15];
const MAX_OPS_GROWTH = 0.01;

interface Row { id: string; oneThread: { ratio: number; interval: [number, number] }; twoThread: { ratio: number; interval: [number, number] } | null;
  opsPerPacket: { current: number; reference: number }; opsGrowth: number }
interface Run { slowdownNs: number; load: number[]; seconds: number; configs: Row[] }

function once(slowdownNs: number, configs?: string): Run {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [path.join(root, "bin", "vnic.js"), "gate", "--against", against, "--pairs", pairs, "--json", ...(configs ? ["--configs", configs] : [])], {
    env: { ...process.env, VNIC_SLOWDOWN_NS: String(slowdownNs) }, encoding: "utf8", maxBuffer: 1 << 24,
  });
  if (r.status !== 0 && r.status !== 1) throw new Error(`gate exited ${r.status}: ${r.stderr}`);
  return { slowdownNs, load: machineInfo().loadavg, seconds: (Date.now() - t0) / 1000, configs: JSON.parse(r.stdout).configs };
}

const byTime = (run: Run, tol: number, metric: "oneThread" | "twoThread" = "oneThread") => run.configs.some((c) => c[metric] && c[metric]!.interval[1] < 1 - tol);
const byOps = (run: Run) => run.configs.some((c) => c.opsGrowth > MAX_OPS_GROWTH);

const all: Run[] = [];
for (let i = 0; i < runs; i++) {
  const r = once(0);
  all.push(r);
  process.stderr.write(`unchanged run ${i + 1}/${runs} (${r.seconds.toFixed(0)} s, load ${r.load[0]}): one-thread ${r.configs.map((c) => ((c.oneThread.ratio - 1) * 100).toFixed(1) + " %").join(" ")}; flagged at 5/10 %: ${byTime(r, 0.05)}/${byTime(r, 0.1)}\n`);
}
for (const s of slowdowns) for (let i = 0; i < slowRuns; i++) {
  const r = once(s, slowConfigs);
  all.push(r);
  process.stderr.write(`slowdown ${s} ns run ${i + 1}/${slowRuns}: one-thread ${r.configs.map((c) => ((c.oneThread.ratio - 1) * 100).toFixed(1) + " %").join(" ")}; ops ${r.configs.map((c) => (c.opsGrowth * 100).toFixed(2) + " %").join(" ")}\n`);
}

const unchanged = all.filter((r) => r.slowdownNs === 0);
const table: string[] = ["| tolerance | false alarms, one-thread (decides) | two-thread (advisory) | " + slowdowns.map((s) => `${s} ns/frame caught by time`).join(" | ") + " |",
  "|---:|---:|---:|" + slowdowns.map(() => "---:").join("|") + "|"];
for (const tol of TOLERANCES) {
  const caught = slowdowns.map((s) => {
    const rs = all.filter((r) => r.slowdownNs === s);
    return `${rs.filter((r) => byTime(r, tol)).length}/${rs.length}`;
  });
  table.push(`| ${tol * 100} % | ${unchanged.filter((r) => byTime(r, tol)).length}/${unchanged.length} | ${unchanged.filter((r) => byTime(r, tol, "twoThread")).length}/${unchanged.length} | ${caught.join(" | ")} |`);
}
const effect = slowdowns.map((s) => {
  const rs = all.filter((r) => r.slowdownNs === s);
  const ch = median(rs.flatMap((r) => r.configs.map((c) => c.oneThread.ratio - 1)));
  const ops = median(rs.flatMap((r) => r.configs.map((c) => c.opsGrowth)));
  return `${s} ns/frame: one-thread median change ${(ch * 100).toFixed(1)} %, instructions/packet +${(ops * 100).toFixed(2)} % (caught by the count ${rs.filter(byOps).length}/${rs.length})`;
});
const out = { date: new Date().toISOString(), machine: machineInfo(), git: gitInfo(root), against, pairs: Number(pairs), runs: all };
const file = values.out ?? path.join(root, "bench-results", `gate-campaign-${out.date.replace(/[:.]/g, "-")}.json`);
mkdirSync(path.dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify(out, null, 2) + "\n");
const secs = unchanged.map((r) => r.seconds);
process.stdout.write([...table, "", ...effect, "", `unchanged gate runs: median ${median(secs).toFixed(1)} s, load ${unchanged.map((r) => r.load[0]).join(", ")}`,
  `instruction counts equal in every unchanged run: ${unchanged.every((r) => r.configs.every((c, i) => c.opsPerPacket.current === unchanged[0].configs[i].opsPerPacket.current && c.opsGrowth === 0))}`,
  `wrote ${file}`].join("\n") + "\n");
