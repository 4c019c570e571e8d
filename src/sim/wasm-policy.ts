// The real coalescing policy, from build/vnic.wasm, for the simulator: one private instance
// over a small memory of its own (the fixed part of the memory map only: params and the
// device-state line), so the simulator drives exactly the code the device thread runs —
// coalesceStep / coalesceTimer — with simulated time passed in. No TypeScript copy.

import { compileCore, Core } from "../core/core.js";
import { applyCoalesce, type CoalesceSpec } from "../replay/coalesce-options.js";

export class WasmCoalescer {
  readonly core: Core;
  readonly step: (burst: number, cif: number, usedIdx: number, nowUs: number) => number;
  readonly timer: (nowUs: number) => number;
  readonly timerDueUs: () => number;
  readonly held: () => number;
  readonly reset: (usedIdx: number) => void;
  /** The pure policies themselves, for direct property checks. */
  readonly adaptiveDeliver: (cif: number, held: number, threshold: number, ratio: number) => number;
  readonly vringNeedEvent: (event: number, newIdx: number, oldIdx: number) => number;

  constructor(spec: CoalesceSpec) {
    // 32 pages: the fixed part of the map (below the data segments at 64 KiB) and nothing else.
    const memory = new WebAssembly.Memory({ initial: 32, maximum: 32, shared: true });
    this.core = new Core(compileCore("release"), memory);
    this.configure(spec);
    const x = this.core.exports;
    this.step = x.coalesceStep;
    this.timer = x.coalesceTimer;
    this.timerDueUs = x.coalesceTimerDueUs;
    this.held = x.coalesceHeld;
    this.reset = x.coalesceReset;
    this.adaptiveDeliver = x.adaptiveDeliver;
    this.vringNeedEvent = x.vringNeedEvent;
  }

  configure(spec: CoalesceSpec): void {
    applyCoalesce(this.core, spec);
  }
}
