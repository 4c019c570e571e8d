// Touch-ahead for the partial copy: before a burst is translated, one plain load from the first
// line of every frame in it that will be partly copied.
//
// Why: the first read of a frame's headers is a cache miss — the guest wrote the line on the
// other core a moment before — and translating one descriptor takes more instructions than the
// CPU looks ahead, so one frame's miss was not overlapped with the next one's: they came one
// after another. This loop is a few instructions per frame, so the loads of a whole burst are in
// flight together. (wasm has no prefetch instruction, and a load issued inside the translation
// loop a few frames early gains nothing — measured: it still waits at retirement, alone.)
// Frames of one pool buffer or less are not touched: they lie on consecutive lines of guest
// RAM, which the hardware prefetcher already streams in.
//
// The values read are hints only: the descriptor fields read here decide nothing
// (descriptor-snapshot.ts reads each field once for the translation), and an address outside
// guest RAM is not touched at all.

import { GUEST_DESC_SIZE, POOL_DATA_SIZE, RING_GUEST_TX, guestRamBytes, machineAddress } from "../shared/layout";
import { ringCapacity, ringSlot } from "../shared/ring";
import * as D from "../shared/descriptors";

/** Sum of the bytes touched: kept so that the loads are not dead code. */
let touchSink: u32 = 0;
/** Whether the last burst touched had a frame longer than a pool buffer. */
let lastBurstHadLong: bool = false;

/** Loads one byte of the first line of each frame longer than a pool buffer among the `count`
 *  (> 0) guest descriptors from slot `tail` on. A burst of short frames after another one
 *  costs one length load: the loop is skipped unless the burst's first frame is long (64-byte
 *  frames: the loop alone cost the backend ~2 ns a frame). */
export function touchHeaderLines(tail: u32, count: u32): void {
  if (!lastBurstHadLong && load<u32>(ringSlot(RING_GUEST_TX, tail) + D.GD_LEN) <= POOL_DATA_SIZE) return;
  // The burst's descriptors lie in at most two runs of consecutive slots (the ring wraps once).
  const toEnd = ringCapacity(RING_GUEST_TX) - (tail & (ringCapacity(RING_GUEST_TX) - 1));
  const first = count < toEnd ? count : toEnd;
  let long = touchRun(ringSlot(RING_GUEST_TX, tail), first);
  if (count > first) long += touchRun(ringSlot(RING_GUEST_TX, tail + first), count - first);
  lastBurstHadLong = long > 0;
}

/** Touches the long frames of `count` consecutive descriptors from `gd`; returns how many. */
function touchRun(gd: u32, count: u32): u32 {
  let sink: u32 = 0;
  let long: u32 = 0;
  const end = gd + count * GUEST_DESC_SIZE;
  for (; gd < end; gd += GUEST_DESC_SIZE) {
    if (load<u32>(gd + D.GD_LEN) <= POOL_DATA_SIZE) continue;
    long++;
    const gpa = load<u32>(gd + D.GD_GPA);
    if (gpa < guestRamBytes) sink += load<u8>(machineAddress(gpa));
  }
  touchSink += sink;
  return long;
}
