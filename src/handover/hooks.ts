// What a device that takes part in hand-overs does beyond the ordinary stage loop
// (src/workers/stage.ts): reconcile before its first step (assembly/device/handover.ts), note when it
// first did work (the restart time ends there), take at most `takeLimit` guest descriptors in
// all, and leave once it has and holds nothing in flight (a cooperative hand-over: the next
// device, maybe with another configuration, starts at exactly the next descriptor).

import type { Core } from "../core/core.js";

function nowUs(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

export class HandoverHooks {
  /** Set once the device left at its takeLimit. */
  done = false;
  readonly translate: (budget: number) => number;
  private firstWorkNoted = false;
  private readonly f64: Float64Array;
  private readonly firstWorkIndex: number;
  private readonly x: Core["exports"];

  constructor(core: Core, private readonly takeLimit: number, serial: number) {
    this.x = core.exports;
    this.f64 = new Float64Array(core.memory.buffer);
    this.firstWorkIndex = (core.constant("IF_FIRST_WORK_BY_SERIAL") >> 3) + (serial & 63);
    const held = this.x.deviceAttach() >>> 0;
    new Uint32Array(core.memory.buffer)[(core.constant("IF_HELD_BY_SERIAL") >> 2) + (serial & 63)] = held;
    const translate = this.x.translateStage as (budget: number) => number;
    // Cap the backend's burst so that it never takes descriptors past takeLimit; the NIC keeps
    // its full budget and drains what was taken. The count is kept here (read from the counter
    // once): a counter read per step is a BigInt per step.
    this.taken = Number(BigInt.asUintN(64, this.x.counter(this.x.C_deviceDescriptors.value)));
    this.translate = takeLimit > 0 ? (budget) => {
      const n = translate(Math.min(budget, this.remaining()));
      this.taken += n;
      return n;
    } : translate;
  }

  private taken: number;

  private remaining(): number {
    return Math.max(0, this.takeLimit - this.taken);
  }

  /** After every step: true when the device should leave now (hand-over point reached). */
  afterStep(work: number): boolean {
    if (work > 0 && !this.firstWorkNoted) {
      this.firstWorkNoted = true;
      this.f64[this.firstWorkIndex] = nowUs();
    }
    if (this.takeLimit === 0 || this.remaining() > 0 || this.x.deviceQuiescent() === 0) return false;
    this.done = true;
    return true;
  }
}
