// The gate's exact cost per packet: WebAssembly instructions the core executes per wire frame,
// counted by the metered build (src/perf/meter.ts) on the one-thread rig (src/perf/bench-inline.ts).
//
// The rig feeds the same frames in the same order from the same seed, so the count is identical
// from run to run and from machine to machine: no noise, no tolerance for the machine — any
// growth is work someone added. Time catches memory effects; this catches extra work.

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { InlineRig } from "./bench-inline.js";
import type { BenchCapture } from "./bench-frames.js";
import type { BenchConfig } from "./bench-run.js";
import { METER_READ, METER_RESET, meterWasm } from "./meter.js";

/** Passes over the capture a count covers (the first pass included: the pool's cold start is
 *  part of every run, and counted the same every time). */
export const OPS_LOOPS = 4;

/** The metered build, written next to `wasm` (build/vnic.wasm -> build/vnic.metered.wasm, for
 *  inspection) and compiled. Made afresh every time (~0.1 s): a file kept by date would outlive a
 *  change of the metering pass. Written to a temporary name first: two gates may run at once. */
export function meteredModule(wasm: string): WebAssembly.Module {
  const bytes = meterWasm(new Uint8Array(readFileSync(wasm)));
  const out = wasm.replace(/\.wasm$/, "") + ".metered.wasm";
  try {
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, out);
  } catch {
    /* a read-only build directory: the module below is all the gate needs */
  }
  return new WebAssembly.Module(new Uint8Array(bytes));
}

export interface OpsCount {
  wireFrames: number;
  instructions: bigint;
  /** instructions / wireFrames */
  opsPerPacket: number;
}

/** Instructions per wire frame of the metered `module` for `cfg` over OPS_LOOPS passes. */
export function countOps(module: WebAssembly.Module, capture: BenchCapture, cfg: BenchConfig, slowdownNs = 0): OpsCount {
  const rig = new InlineRig(module, capture, { deterministicClock: true });
  // The meter's two exports exist only in the metered build (src/perf/meter.ts adds them).
  const x = rig.core.exports as unknown as Record<string, () => bigint | number>;
  if (typeof x[METER_READ] !== "function") throw new Error("vnic gate: countOps needs a metered core (src/perf/meter.ts)");
  let instructions = 0n;
  const wireFrames = rig.run(cfg, OPS_LOOPS, slowdownNs, () => x[METER_RESET](), () => (instructions = BigInt(x[METER_READ]())));
  const frames = Number(rig.core.counter("wireFrames"));
  void wireFrames;
  return { wireFrames: frames, instructions, opsPerPacket: Number(instructions) / Math.max(1, frames) };
}
