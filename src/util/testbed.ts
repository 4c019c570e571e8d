// Where a figure or a report was made: the machine (CPU model, cores, Node, load) and the git
// commit (and whether the tree differed from it). Used by the replay report, the benchmarks
// and the gate, which stores it in a baseline to tell a testbed from another.

import os from "node:os";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  node: string;
  v8: string;
  platform: string;
  loadavg: number[];
  hostname: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  let model = cpus[0]?.model ?? "unknown";
  if (!model || model === "unknown") {
    try {
      model = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown";
    } catch {
      /* not Linux */
    }
  }
  return {
    cpuModel: model.trim(),
    cores: cpus.length,
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    hostname: os.hostname(),
  };
}

export interface GitInfo {
  commit: string | null;
  /** True when tracked files differ from the commit (the figures may not be the commit's). */
  dirty: boolean | null;
}

export function gitInfo(cwd: string): GitInfo {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
    const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd, stdio: ["ignore", "pipe", "ignore"] }).toString();
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return { commit: null, dirty: null };
  }
}
