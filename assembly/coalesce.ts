// Interrupt delivery to the guest. An interrupt is a bump of the guest's doorbell word plus an
// Atomics.notify on it (memory.atomic.notify): it wakes the guest thread if it sleeps there.
//
// Policy `none`: every completion raises its own interrupt.

import { STATE_GUEST_DOORBELL } from "./layout";
import { countAdd, C_interrupts, C_wakeups } from "./counters";

export const POLICY_NONE: u32 = 0;

/** Raises one interrupt; returns how many sleeping guest threads it woke. */
export function raiseInterrupt(): u32 {
  atomic.add<u32>(STATE_GUEST_DOORBELL, 1);
  const woke = <u32>atomic.notify(STATE_GUEST_DOORBELL, 1);
  countAdd(C_interrupts, 1);
  if (woke > 0) countAdd(C_wakeups, woke);
  return woke;
}

/** Called by the NIC after it publishes `count` completions. */
export function deliverCompletions(count: u32): void {
  for (let i: u32 = 0; i < count; i++) raiseInterrupt();
}
