// Test support for kernel gather (gather.ts): a guest that overwrites each buffer the moment
// its completion is visible, before it even reclaims it — what a real driver may do as soon as
// it frees the buffer. If a completion were delivered while the kernel (or the --out copy)
// could still read the buffer, the poison would show in what was sent. Called by the guest
// loop before each step only when the host asks (VNIC_GUEST_POISON, src/workers/stage.ts);
// the ordinary guest never runs it.
//
// The completion's cookie names its guest TX descriptor: the guest numbers cookies from 0 as
// it fills the ring from index 0, and a slot is not rewritten before its completion is
// reclaimed (never more than ringSlots in flight), so GD_GPA and GD_LEN are still the buffer's.

import { RING_GUEST_TX, RING_USED, PAGE_SIZE, machineAddress } from "./layout";
import { ringAvailable, ringSlot, ringTail } from "./ring";
import * as D from "./descriptors";
import { param, P_guestResident } from "./params";

export const GUEST_POISON_BYTE: u32 = 0xa5;

/** Overwrites the buffers of every completion now visible and not yet reclaimed; returns how many. */
export function guestPoisonCompleted(): u32 {
  if (param(P_guestResident) != 0) return 0; // resident buffers are sent again: not the guest's to scribble on
  const n = ringAvailable(RING_USED, 0xffffffff);
  const tail = ringTail(RING_USED);
  for (let i: u32 = 0; i < n; i++) {
    const cookie = load<u32>(ringSlot(RING_USED, tail + i) + D.UE_COOKIE);
    const gd = ringSlot(RING_GUEST_TX, cookie);
    if (load<u32>(gd + D.GD_COOKIE) != cookie) continue;
    let gpa = load<u32>(gd + D.GD_GPA);
    let len = load<u32>(gd + D.GD_LEN);
    while (len > 0) {
      const room = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
      const k = len < room ? len : room;
      memory.fill(machineAddress(gpa), <u8>GUEST_POISON_BYTE, k);
      gpa += k;
      len -= k;
    }
  }
  return n;
}
