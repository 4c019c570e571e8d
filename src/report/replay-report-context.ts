// What the replay report (report-html.ts) says about the run beyond its counters:
// the options it used (as typed and as resolved), the commit and the machine, the large-send
// section, and the rate samples re-based so the time axis starts at the guest's first post.
// Plain data here; report-html.ts renders it.

import { projectRoot } from "../core/core.js";
import { gitInfo, machineInfo, GitInfo, MachineInfo } from "../util/testbed.js";
import type { CounterSnapshot } from "../core/counters.js";
import type { RunSample } from "../perf/bench-run.js";

export interface RunContext {
  /** The command line as typed (after `vnic`). */
  argv: string[];
  /** Every setting as the run resolved it (defaults included), by name. */
  settings: Record<string, unknown>;
  git: GitInfo;
  machine: MachineInfo;
  /** Wall clock of the guest's first post, µs since the epoch (RunResult.guest.startUs). */
  firstPostUs?: number;
}

export function runContext(argv: string[], settings: Record<string, unknown>, firstPostUs?: number): RunContext {
  return { argv, settings, git: gitInfo(projectRoot()), machine: machineInfo(), firstPostUs };
}

/** Rows of the options / commit / machine table. */
export function contextRows(c: RunContext): [string, string][] {
  const m = c.machine;
  const rows: [string, string][] = [
    ["command", ["vnic", ...c.argv].map(shellWord).join(" ")],
    ["commit", c.git.commit ? `${c.git.commit}${c.git.dirty ? " (working tree differs from it)" : ""}` : "unknown (not a git checkout)"],
    ["machine", `${m.cpuModel}, ${m.cores} cores, ${m.platform}, host ${m.hostname}; load ${m.loadavg.join(" / ")} (1/5/15 min, at the end)`],
    ["runtime", `Node ${m.node}, V8 ${m.v8}`],
  ];
  for (const [k, v] of Object.entries(c.settings)) {
    if (v !== undefined) rows.push([k, typeof v === "object" && v !== null ? settingText(v as Record<string, unknown>) : String(v)]);
  }
  return rows;
}

const settingText = (o: Record<string, unknown>) =>
  Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ");

/** Quotes a word the way a shell reader expects, only when it needs it. */
function shellWord(w: string): string {
  return /^[\w./:=,@%+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** Rows of the large-send section: super-packets (USO, tunnel), stage-1 chunks, segments. */
export function largeSendRows(s: CounterSnapshot): [string, string][] | null {
  const c = s.counters;
  const n = (v: bigint | undefined) => Number(v ?? 0n);
  const sp = n(c.superPackets);
  if (sp === 0 && n(c.passedLso) === 0) return null;
  const rows: [string, string][] = [
    ["super-packets (large-send descriptors)", String(sp)],
  ];
  if (n(c.usoSuperPackets) > 0) rows.push(["  of which UDP segmentation (USO, GSO_UDP_L4)", String(n(c.usoSuperPackets))]);
  if (n(c.tunnelSuperPackets) > 0) rows.push(["  of which tunnelled (VXLAN/Geneve)", String(n(c.tunnelSuperPackets))]);
  // A super-packet that fits the NIC's limit is one chunk and is not counted as stage-1 chunks.
  rows.push(["stage-1 chunks (cut for the NIC's largest send)", String(n(c.stage1Chunks))]);
  rows.push(["segments (MTU-sized frames from stage 2)", String(n(c.segments))]);
  if (sp > 0) rows.push(["segments per super-packet", (n(c.segments) / sp).toFixed(2)]);
  if (n(c.passedLso) > 0) rows.push(["passed through to the kernel (--offload)", String(n(c.passedLso))]);
  return rows;
}

/**
 * The samples on a time axis that starts at the first post: `wallUs[i]` is when sample i was
 * taken. Before the first post nothing has moved, so one all-zero sample stands at t = 0 and
 * the samples taken earlier are left out.
 */
export function fromFirstPost(samples: RunSample[], wallUs: number[], firstPostUs: number | undefined): RunSample[] {
  if (firstPostUs === undefined || wallUs.length !== samples.length) return samples;
  const zero: RunSample = { t: 0, wireFrames: 0, wireBytes: 0, posted: 0, completed: 0, interrupts: 0, bytesCopied: 0, bytesReferenced: 0, cpuUs: samples[0]?.cpuUs ?? 0 };
  const after = samples.map((s, i) => ({ ...s, t: (wallUs[i] - firstPostUs) / 1e6 })).filter((s) => s.t > 0);
  return [zero, ...after];
}
