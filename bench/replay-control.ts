// Replay-control figures for README ("Replay control and capture ingest"): pacing error at --pps 100000 over 10^6 frames
// and at --mbps 1000, and peak memory when streaming a capture larger than the preload limit.
//
//   npm run build && node dist/bench/replay-control.js [--quick]
//
// Pacing is measured through replay() in this process; memory in child processes (one
// streamed, one preloaded, same capture) so each peak RSS is that replay's alone.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { replay } from "../src/replay/replay.js";
import { projectRoot } from "../src/core/core.js";
import { helpIfAsked } from "../src/perf/bench-help.js";

helpIfAsked(import.meta.url);

const quick = process.argv.includes("--quick");
const root = projectRoot();
const vnic = path.join(root, "bin", "vnic.js");

async function pacing(kind: "pps" | "mbps", rate: number, capture: string, frames: number, loopsOf: number) {
  const loops = Math.ceil(frames / loopsOf);
  const r = await replay({
    capture: path.join(root, "captures", capture),
    params: { mtu: 1500 },
    loops,
    limit: frames,
    pace: { kind, rate },
  });
  const c = r.snapshot.counters;
  const expected = kind === "pps" ? (frames - 1) / rate : ((Number(c.guestBytesPosted) - 1514) * 8) / (rate * 1e6);
  const errPct = ((r.elapsedSeconds - expected) / expected) * 100;
  console.log(`--${kind} ${rate} over ${frames} frames of ${capture}: elapsed ${r.elapsedSeconds.toFixed(4)} s, ` +
    `schedule ${expected.toFixed(4)} s, error ${errPct >= 0 ? "+" : ""}${errPct.toFixed(3)}%; books ${c.guestPosted === c.guestCompleted ? "balanced" : "UNBALANCED"}`);
}

function peakRss(args: string[]): { rssMiB: number; ok: boolean; out: string } {
  const r = spawnSync("/usr/bin/time", ["-f", "MAXRSS %M", process.execPath, vnic, ...args], { encoding: "utf8" });
  const m = /MAXRSS (\d+)/.exec(r.stderr);
  return { rssMiB: m ? Number(m[1]) / 1024 : Number.NaN, ok: r.status === 0, out: r.stdout.split("\n")[0] };
}

async function main() {
  await pacing("pps", 100_000, "udp-64.pcap", quick ? 100_000 : 1_000_000, 10_000);
  await pacing("mbps", 1000, "udp-1514.pcap", quick ? 20_000 : 400_000, 1200);
  const dir = mkdtempSync(path.join(tmpdir(), "vnic-stream-"));
  const big = path.join(dir, "big.pcap");
  const count = quick ? 40_000 : 400_000; // 1514-byte frames: ~61 MB or ~612 MB
  spawnSync(process.execPath, [vnic, "gen", "--kind", "udp", "--size", "1514", "--count", String(count), "--out", big], { stdio: "inherit" });
  const mib = statSync(big).size / 2 ** 20;
  const limit = quick ? 16 : 128;
  const streamed = peakRss(["replay", big, "--preload-limit", String(limit)]);
  const preloaded = peakRss(["replay", big]);
  console.log(`capture of ${mib.toFixed(0)} MiB: streamed (--preload-limit ${limit}) peak RSS ${streamed.rssMiB.toFixed(0)} MiB; ` +
    `preloaded peak RSS ${preloaded.rssMiB.toFixed(0)} MiB`);
  console.log(`  streamed:  ${streamed.out}`);
  console.log(`  preloaded: ${preloaded.out}`);
  rmSync(dir, { recursive: true, force: true });
}

await main();
