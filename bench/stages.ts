// `npm run bench`: per-stage microbenchmarks of the core, single-threaded on one Core, in
// fixed-size batches — and the same work done by the plain TypeScript reference (src/reference)
// and by memory.copy alone (the bandwidth roof: one TypedArray.copyWithin of the bytes the
// stage writes, on the same shared memory) — in one run.
//
// How: a real guest (the core's own guestStep, on this thread) posts a batch of frames once;
// each benchmark iteration then re-publishes the same descriptors (ringResetAt + ringPublish:
// the slots still hold them) and runs one stage over the batch. tinybench measures each task;
// the whole set runs ROUNDS times with the task order rotated, so A and B interleave over the
// machine's slow and fast phases; a figure is the median of the rounds' medians, with min–max.
//
// Results: a table on stdout and bench-results/stages-<timestamp>.json (machine, git commit).
// bench-results/ is not committed: figures are per machine and per run; quote them in README
// with the command that made them.
//
// Usage: node dist/bench/stages.js [--quick] [--rounds N] [--time MS] [--out FILE] [--only STAGE-SUBSTRING]

import { Worker } from "node:worker_threads";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Bench } from "tinybench";
import { Core, CounterName, createCore, projectRoot } from "../src/core/core.js";
import { ringResetAt } from "../testkit/ring-reset.js";
import { Datapath, arenaRecordBytes } from "../src/datapath/datapath.js";
import { tcpSuperPacket, udpFrame, TSO_185K_PAYLOAD, TSO_64K_PAYLOAD } from "../src/perf/bench-frames.js";
import { median } from "../src/perf/bench-stats.js";
import { gitInfo, machineInfo } from "../src/util/testbed.js";
import * as ref from "../src/reference/index.js";
import { helpIfAsked } from "../src/perf/bench-help.js";

helpIfAsked(import.meta.url);

// ---------------------------------------------------------------- setup

interface Posted {
  core: Core;
  x: Record<string, any>;
  G: number;
  P: number;
  U: number;
  frames: Uint8Array[];
  gpas: number[];
}

/** A core whose guest (this thread) has posted `frames` once, with `params`. */
function posted(frames: Uint8Array[], params: Record<string, number>): Posted {
  const arena = frames.reduce((n, f) => n + arenaRecordBytes(f.length), 0);
  const dp = new Datapath(arena, { params: { mtu: 1500, wireDiscard: 1, ...params }, ringSlots: 1024, wireBytes: 16 << 20, guestRamBytes: 64 << 20 });
  for (const f of frames) dp.placeFrame(f, 0n);
  dp.armArena(1);
  const core = dp.core;
  const x = core.exports;
  const v = core.view;
  x.guestInit();
  for (let i = 0; i < 100 && Number(core.counter("guestPosted")) < frames.length; i++) x.guestStep(frames.length);
  if (Number(core.counter("guestPosted")) !== frames.length) throw new Error(`guest posted ${core.counter("guestPosted")} of ${frames.length}`);
  const G = core.constant("RING_GUEST_TX"), P = core.constant("RING_PHYS_TX"), U = core.constant("RING_USED");
  const gpas = frames.map((_, i) => v.getUint32((x.ringSlot(G, i) >>> 0) + core.constant("GD_GPA"), true));
  return { core, x, G, P, U, frames, gpas };
}

/** One translate-stage pass over the posted batch; returns physical slots used. */
function translateOnce(p: Posted): number {
  const { x, G, P } = p;
  ringResetAt(p.core, G, 0);
  x.ringPublish(G, p.frames.length);
  ringResetAt(p.core, P, 0);
  const taken = x.translateStage(p.frames.length) >>> 0;
  if (taken !== p.frames.length) throw new Error(`translateStage took ${taken} of ${p.frames.length}`);
  return x.ringHeadSeen(P) >>> 0;
}

/** One NIC pass over physical slots [0, used) left by translateOnce. */
function nicOnce(p: Posted, used: number): number {
  const { x, P, U } = p;
  ringResetAt(p.core, P, 0);
  x.ringPublish(P, used);
  ringResetAt(p.core, U, 0);
  const done = x.nicStage(used) >>> 0;
  if (done !== used) throw new Error(`nicStage consumed ${done} of ${used}`);
  return done;
}

function delta(p: Posted, names: string[], f: () => void): Record<string, number> {
  const before = names.map((n) => p.core.counter(n as CounterName));
  f();
  return Object.fromEntries(names.map((n, i) => [n, Number(p.core.counter(n as CounterName) - before[i])]));
}

// ---------------------------------------------------------------- cases

type Impl = "wasm" | "ts" | "memory.copy";

interface Case {
  stage: string;
  impl: Impl;
  name: string;
  /** Items (frames, descriptors, decisions, …) one call handles. */
  items: number;
  itemName: string;
  /** Bytes the stage writes per call (for the roof and GB/s). */
  bytes: number;
  fn: () => void;
  note?: string;
}

function roofCase(stage: string, core: Core, bytes: number): Case {
  const u8 = core.u8;
  const src = core.constant("guestRamBase");
  const dst = core.constant("wireBase");
  return { stage, impl: "memory.copy", name: `copyWithin ${bytes} B`, items: 1, itemName: "copy", bytes, fn: () => void u8.copyWithin(dst, src, src + bytes) };
}

function buildCases(): { cases: Case[]; notes: string[] } {
  const cases: Case[] = [];
  const notes: string[] = [];
  const B = 256;

  // translation (+ the copy it does), 64-byte and 1514-byte frames in copy mode headers, and
  // 1514-byte frames in the baselines full and none: the backend's cost per copy mode (README "Partial copy")
  const translateCases: [number, string, number][] = [[64, "", 0], [1514, "", 0], [1514, ", copy full", 3], [1514, ", copy none", 4]];
  for (const [len, modeName, copyMode] of translateCases) {
    const p = posted(Array.from({ length: B }, (_, i) => udpFrame(len, i)), { copyMode, csumOffload: 0 });
    const d = delta(p, ["bytesCopied"], () => translateOnce(p));
    const stage = `translate ${len} B${modeName}`;
    cases.push({ stage, impl: "wasm", name: `translateStage × ${B}`, items: B, itemName: "desc", bytes: d.bytesCopied, fn: () => translateOnce(p) });
    cases.push(roofCase(stage, p.core, d.bytesCopied));
  }

  // header copy alone: copyFirstPart per frame (a JS→wasm call each), vs the TS parse + copy
  for (const len of [64, 1514]) {
    const p = posted(Array.from({ length: B }, (_, i) => udpFrame(len, i)), { copyMode: 0, csumOffload: 0 });
    const { x, gpas, frames } = p;
    let copied = 0;
    for (let i = 0; i < B; i++) copied += x.copyFirstPart(i, gpas[i], frames[i].length) >>> 0;
    const stage = `header copy ${len} B`;
    cases.push({ stage, impl: "wasm", name: `copyFirstPart × ${B}`, items: B, itemName: "frame", bytes: copied, fn: () => { for (let i = 0; i < B; i++) x.copyFirstPart(i, gpas[i], frames[i].length); } });
    const dst = new Uint8Array(256);
    cases.push({
      stage, impl: "ts", name: `parseFrame + set × ${B}`, items: B, itemName: "frame", bytes: copied,
      fn: () => {
        for (let i = 0; i < B; i++) {
          const f = frames[i];
          const n = f.length <= 240 ? f.length : ref.parseFrame(f).payload;
          dst.set(f.subarray(0, n));
        }
      },
    });
    cases.push(roofCase(stage, p.core, copied));
  }

  // LSO stage 1: 185 KB BIG TCP super-packets into chunks the NIC takes (nicMaxLso 65536)
  {
    const n = 8;
    const frames = Array.from({ length: n }, (_, i) => tcpSuperPacket(TSO_185K_PAYLOAD, i));
    const p = posted(frames, { copyMode: 0, csumOffload: 0, nicMaxLso: 65536 });
    const d = delta(p, ["bytesCopied", "stage1Chunks"], () => translateOnce(p));
    const stage = "LSO stage 1 (185 KB)";
    cases.push({ stage, impl: "wasm", name: `translateStage × ${n} super-packets (${d.stage1Chunks / n} chunks each)`, items: n, itemName: "super-packet", bytes: d.bytesCopied, fn: () => translateOnce(p) });
    const mss = 1500 - 20 - 32;
    cases.push({ stage, impl: "ts", name: `stage1Split × ${n}`, items: n, itemName: "super-packet", bytes: d.bytesCopied, fn: () => { for (const f of frames) ref.stage1Split(f, { mss, nicMaxLso: 65536 }); }, note: "the TS reference copies each chunk's payload; the core references it" });
    cases.push(roofCase(stage, p.core, d.bytesCopied));
  }

  // LSO stage 2 with checksums: 64 KiB chunks into MTU frames, full IPv4 + TCP checksums
  {
    const n = 8;
    const frames = Array.from({ length: n }, (_, i) => tcpSuperPacket(TSO_64K_PAYLOAD, i));
    const p = posted(frames, { copyMode: 0, csumOffload: 0 });
    const used = translateOnce(p);
    const d = delta(p, ["wireBytes", "wireFrames", "segments"], () => nicOnce(p, used));
    if (d.wireFrames === 0) notes.push("LSO stage 2: this build put no frames on the wire for 64 KiB large sends");
    const stage = "LSO stage 2 + csum (64 KiB)";
    cases.push({ stage, impl: "wasm", name: `nicStage × ${n} chunks (${d.wireFrames / n} segments each)`, items: d.wireFrames, itemName: "segment", bytes: d.wireBytes, fn: () => nicOnce(p, used) });
    const mss = 1500 - 20 - 32;
    cases.push({ stage, impl: "ts", name: `segmentTcp × ${n}`, items: d.wireFrames, itemName: "segment", bytes: d.wireBytes, fn: () => { for (const f of frames) ref.segmentTcp(f, { mss }); } });
    cases.push(roofCase(stage, p.core, d.wireBytes));
  }

  // checksum alone: the core's export when there is one; the TS reference over the same bytes
  {
    const p = posted([udpFrame(64, 0)], {});
    const x = p.core.exports;
    const len = 65536;
    const at = p.core.constant("guestRamBase") + 8192;
    const u8 = p.core.u8;
    for (let i = 0; i < len; i++) u8[at + i] = (i * 31 + 7) & 0xff;
    const view = u8.subarray(at, at + len);
    const stage = "checksum 64 KiB";
    const name = ["checksumAdd", "internetChecksum", "checksum"].find((n) => typeof (x as unknown as Record<string, unknown>)[n] === "function");
    if (name) {
      const f = (x as unknown as Record<string, (...a: number[]) => number>)[name];
      const w = ref.fold(ref.onesSum(view));
      const got = f(at, len, 0) >>> 0;
      // The core sums in memory order (little-endian words): compare byte-swapped folds.
      const swap = (v: number) => ((v & 0xff) << 8) | (v >> 8);
      if (swap(got & 0xffff) !== w && (got & 0xffff) !== w) notes.push(`checksum: core ${name} and the reference disagree (${got.toString(16)} vs ${w.toString(16)})`);
      cases.push({ stage, impl: "wasm", name: `${name} (SIMD)`, items: 1, itemName: "64 KiB", bytes: len, fn: () => f(at, len, 0) });
    } else {
      notes.push("checksum alone: the core does not export a checksum function (export checksumAdd from assembly/index.ts to measure it); stage 2 above includes it");
    }
    cases.push({ stage, impl: "ts", name: "onesSum + fold", items: 1, itemName: "64 KiB", bytes: len, fn: () => ref.checksumOf(ref.onesSum(view)) });
    cases.push(roofCase(stage, p.core, len));
  }

  // checksum offload in the NIC: 1514-byte UDP frames with and without NEEDS_CSUM
  for (const csum of [1, 0]) {
    const p = posted(Array.from({ length: B }, (_, i) => udpFrame(1514, i)), { copyMode: 0, csumOffload: csum });
    const used = translateOnce(p);
    const d = delta(p, ["wireBytes", "csumCompleted"], () => nicOnce(p, used));
    const stage = `NIC 1514 B ${csum ? "with" : "without"} csum offload`;
    cases.push({ stage, impl: "wasm", name: `nicStage × ${B}${csum ? ` (${d.csumCompleted} checksums)` : ""}`, items: B, itemName: "frame", bytes: d.wireBytes, fn: () => nicOnce(p, used) });
    if (csum) {
      const frames = p.frames;
      cases.push({ stage, impl: "ts", name: `checksumOffload × ${B}`, items: B, itemName: "frame", bytes: d.wireBytes, fn: () => { for (const f of frames) ref.checksumOffload(f); } });
    }
    cases.push(roofCase(stage, p.core, d.wireBytes));
  }

  // the coalescing decision (adaptive): 1024 decisions per call batch
  {
    const core = posted([udpFrame(64, 0)], {}).core;
    const x = core.exports;
    const N = 1024;
    const cif = Array.from({ length: N }, (_, i) => (i * 37) % 1024);
    const held = Array.from({ length: N }, (_, i) => (i * 11) % 64);
    const tsAdaptive = (c: number, h: number, t: number, r: number) => c === 0 || c < t || h * r >= c;
    let sink = 0;
    const stage = "coalescing decision";
    if (typeof x.adaptiveDeliver === "function") {
      cases.push({ stage, impl: "wasm", name: `adaptiveDeliver × ${N} (a JS→wasm call each)`, items: N, itemName: "decision", bytes: 0, fn: () => { for (let i = 0; i < N; i++) sink += x.adaptiveDeliver(cif[i], held[i], 4, 4); } });
    }
    if (typeof x.coalesceStep === "function") {
      cases.push({ stage: "coalescing step (device state)", impl: "wasm", name: `coalesceStep × ${N}`, items: N, itemName: "decision", bytes: 0, fn: () => { for (let i = 0; i < N; i++) sink += x.coalesceStep(1, cif[i], i, 0); } });
    }
    cases.push({ stage, impl: "ts", name: `same predicate in TS × ${N}`, items: N, itemName: "decision", bytes: 0, fn: () => { for (let i = 0; i < N; i++) sink += tsAdaptive(cif[i], held[i], 4, 4) ? 1 : 0; } });
    void sink;
  }
  return { cases, notes };
}

// ---------------------------------------------------------------- ring handoff (two threads)

async function ringHandoff(rounds: number, total: number, burst: number): Promise<number[]> {
  const core = createCore({ guestRamBytes: 1 << 20, ringSlots: 1024, wireBytes: 1 << 20, arenaBytes: 8 });
  core.exports.initDatapath(1);
  const x = core.exports;
  const ring = core.constant("RING_GUEST_TX");
  const worker = new Worker(path.join(path.dirname(fileURLToPath(import.meta.url)), "ring-producer.js"), {
    workerData: { module: core.module, memory: core.memory, ring, burst },
  });
  const view = new DataView(core.memory.buffer);
  const base = view.getUint32(ring, true), mask = view.getUint32(ring + 4, true), shift = view.getUint32(ring + 8, true);
  const perSecond: number[] = [];
  let expect = 0;
  try {
    for (let r = 0; r < rounds + 1; r++) {
      const done = new Promise<void>((resolve, reject) => {
        worker.once("message", () => resolve());
        worker.once("error", reject);
      });
      const t0 = performance.now();
      worker.postMessage({ total, start: expect });
      const end = expect + total;
      while (expect < end) {
        const n = x.ringAvailable(ring, burst) >>> 0;
        if (n === 0) continue;
        const tail = x.ringTail(ring) >>> 0;
        for (let i = 0; i < n; i++) {
          const v = view.getUint32(base + (((tail + i) & mask) << shift), true);
          if (v !== expect + i) throw new Error(`ring handoff: slot held ${v}, expected ${expect + i}`);
        }
        x.ringRelease(ring, n);
        expect += n;
      }
      const ms = performance.now() - t0;
      await done;
      if (r > 0) perSecond.push(total / (ms / 1000)); // round 0 warms up
    }
  } finally {
    await worker.terminate();
  }
  return perSecond;
}

// ---------------------------------------------------------------- run

/** A case as measured: its description (everything but the function) and its timings. */
interface CaseResult extends Omit<Case, "fn"> {
  nsPerCall: { median: number; min: number; max: number; rounds: number[] };
  nsPerItem: number;
  itemsPerSecond: number;
  gbPerSecond: number | null;
  rmeLastRound: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: "boolean" }, rounds: { type: "string" }, time: { type: "string" }, out: { type: "string" }, only: { type: "string" } },
  });
  const rounds = values.rounds ? Number(values.rounds) : values.quick ? 3 : 7;
  const timeMs = values.time ? Number(values.time) : values.quick ? 60 : 150;
  const t0 = performance.now();
  const built = buildCases();
  // --only SUBSTRING: just the stages whose name contains it (for a quick A/B while tuning one).
  const cases = values.only ? built.cases.filter((c) => c.stage.includes(values.only!)) : built.cases;
  const notes = built.notes;
  if (cases.length === 0) throw new Error(`--only ${values.only}: no stage matches`);
  const perRound: number[][] = cases.map(() => []);
  const rme: number[] = cases.map(() => Number.NaN);
  for (let r = 0; r < rounds; r++) {
    const bench = new Bench({ time: timeMs, warmupTime: 20, warmupIterations: 5, iterations: 5 });
    const order = cases.map((_, i) => (i + r * 3) % cases.length);
    for (const i of order) bench.add(String(i), cases[i].fn);
    await bench.run();
    for (const task of bench.tasks) {
      const res = task.result as any;
      if (res.state !== "completed") throw new Error(`task ${cases[Number(task.name)].name}: ${res.state} ${res.error?.message ?? ""}`);
      perRound[Number(task.name)].push(res.latency.p50 * 1e6); // ms → ns
      rme[Number(task.name)] = res.latency.rme;
    }
    process.stderr.write(`stages: round ${r + 1}/${rounds}\n`);
  }
  const results: CaseResult[] = cases.map((c, i) => {
    const m = median(perRound[i]);
    return {
      stage: c.stage, impl: c.impl, name: c.name, items: c.items, itemName: c.itemName, bytes: c.bytes,
      nsPerCall: { median: m, min: Math.min(...perRound[i]), max: Math.max(...perRound[i]), rounds: perRound[i] },
      nsPerItem: m / Math.max(1, c.items),
      itemsPerSecond: (c.items / m) * 1e9,
      gbPerSecond: c.bytes > 0 ? c.bytes / m : null,
      rmeLastRound: rme[i],
      note: c.note,
    };
  });

  // Ring handoff between two threads (a real worker): items per second, bursts of 32.
  const handoffTotal = values.quick ? 1 << 20 : 1 << 22;
  const handoff: Record<string, { median: number; min: number; max: number; rounds: number[] }> = {};
  for (const burst of [1, 32]) {
    const ips = await ringHandoff(rounds, burst === 1 ? handoffTotal >> 3 : handoffTotal, burst);
    handoff[`burst ${burst}`] = { median: median(ips), min: Math.min(...ips), max: Math.max(...ips), rounds: ips };
  }

  // Per stage: TS / wasm time ratio and the fraction of the memory.copy roof.
  const stages = [...new Set(results.map((r) => r.stage))].map((stage) => {
    const of = (impl: Impl) => results.find((r) => r.stage === stage && r.impl === impl);
    const w = of("wasm"), t = of("ts"), c = of("memory.copy");
    return {
      stage,
      wasmNsPerItem: w?.nsPerItem ?? null,
      tsNsPerItem: t?.nsPerItem ?? null,
      tsOverWasm: w && t ? t.nsPerCall.median / w.nsPerCall.median : null,
      roofNsPerCall: c?.nsPerCall.median ?? null,
      fractionOfRoof: w && c ? c.nsPerCall.median / w.nsPerCall.median : null,
    };
  });

  // Checksum offload's own cost in the NIC, from the two NIC rows (same frames, same run).
  const withCsum = results.find((r) => r.stage === "NIC 1514 B with csum offload" && r.impl === "wasm");
  const withoutCsum = results.find((r) => r.stage === "NIC 1514 B without csum offload" && r.impl === "wasm");
  const derivedChecksumNsPerFrame = withCsum && withoutCsum ? withCsum.nsPerItem - withoutCsum.nsPerItem : null;

  const out = {
    schema: "vnic-stages/1",
    date: new Date().toISOString(),
    machine: machineInfo(),
    git: gitInfo(projectRoot()),
    command: `node dist/bench/stages.js ${process.argv.slice(2).join(" ")}`.trim(),
    rounds,
    timePerTaskMs: timeMs,
    wallSeconds: (performance.now() - t0) / 1000,
    cases: results,
    stages,
    ringHandoffItemsPerSecond: handoff,
    derivedChecksumNsPerFrame,
    notes,
  };
  const file = values.out ?? path.join(projectRoot(), "bench-results", `stages-${out.date.replace(/[:.]/g, "-")}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(out, null, 2) + "\n");

  const f = (v: number | null, d = 1) => (v === null || !Number.isFinite(v) ? "—" : v.toFixed(d));
  const lines = [
    `vnic stages — ${out.machine.cpuModel}, ${out.machine.cores} cores, Node ${out.machine.node}, commit ${out.git.commit?.slice(0, 10) ?? "?"}${out.git.dirty ? " (dirty)" : ""}`,
    `${rounds} interleaved rounds × ${timeMs} ms per task; ns per call = median of the rounds' medians (min–max)`,
    "",
    `| stage | impl | what | ns/call (min–max) | ns/item | Mitems/s | GB/s |`,
    `|---|---|---|---:|---:|---:|---:|`,
    ...results.map((r) => `| ${r.stage} | ${r.impl} | ${r.name} | ${f(r.nsPerCall.median, 0)} (${f(r.nsPerCall.min, 0)}–${f(r.nsPerCall.max, 0)}) | ${f(r.nsPerItem, 2)} | ${f(r.itemsPerSecond / 1e6, 2)} | ${f(r.gbPerSecond, 2)} |`),
    "",
    `| stage | wasm ns/item | TS ns/item | TS / wasm | fraction of memory.copy roof |`,
    `|---|---:|---:|---:|---:|`,
    ...stages.map((s) => `| ${s.stage} | ${f(s.wasmNsPerItem, 2)} | ${f(s.tsNsPerItem, 2)} | ${s.tsOverWasm === null ? "—" : f(s.tsOverWasm, 2) + "×"} | ${s.fractionOfRoof === null ? "—" : f(s.fractionOfRoof * 100, 1) + " %"} |`),
    "",
    `ring handoff between two threads (worker → main, 1 u32 touched per slot): ` +
      Object.entries(handoff).map(([k, v]) => `${k}: ${f(v.median / 1e6, 1)} M items/s (${f(v.min / 1e6, 1)}–${f(v.max / 1e6, 1)})`).join("; "),
    `checksum offload in the NIC (1514-byte frames, with − without): ${f(derivedChecksumNsPerFrame, 1)} ns per frame` +
      (derivedChecksumNsPerFrame ? ` (${f((1472 / derivedChecksumNsPerFrame), 1)} GB/s over the 1472 checksummed bytes)` : ""),
    ...notes.map((n) => `note: ${n}`),
    `wrote ${path.relative(process.cwd(), file)}`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
}

await main();
