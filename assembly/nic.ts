// The physical NIC model: physical TX descriptors in, frames on the wire and completions out.
//
// Shape: (physical TX ring, wire + used ring, budget) → descriptors completed.
//
// For each descriptor the NIC gathers the copied header bytes and the SG entries into a wire
// record (the DMA a real NIC does), checks the frame against the MTU, and, on the descriptor
// that finishes a guest request, posts its completion. Descriptors that arrive carrying a
// drop reason from translation are completed with it, in order. The completions of a burst
// are published with one store, then handed to the interrupt policy (coalesce.ts).

import { RING_PHYS_TX, RING_USED } from "./layout";
import { ringAvailable, ringHead, ringPublish, ringRelease, ringReserve, ringSlot, ringTail } from "./ring";
import * as D from "./descriptors";
import { countAdd, countDrop, C_deviceCompleted, C_devicePackets, C_wireBytes, C_wireFrames,
  DROP_oversize, DROP_runt, STATUS_OK } from "./counters";
import { param, P_mtu } from "./params";
import { ethernetHeaderLen, ETH_HEADER_LEN } from "./wire/ethernet";
import { wireAbort, wireBegin, wireCommit, wirePublish, wireReserve } from "./wire_sink";
import { deliverCompletions } from "./coalesce";

// Returned by transmit() when the wire is full: keep the descriptor for the next turn.
const STALL: u32 = 0xffffffff;

let burstFrames: u64 = 0;
let burstBytes: u64 = 0;

/** Transmits up to `budget` physical descriptors; returns how many were consumed. */
export function nicStage(budget: u32): u32 {
  let n = ringAvailable(RING_PHYS_TX, budget);
  if (n == 0) return 0;
  // Reserve every completion slot the burst could need before transmitting anything.
  n = ringReserve(RING_USED, n);
  const pTail = ringTail(RING_PHYS_TX);
  const uHead = ringHead(RING_USED);
  let done: u32 = 0;
  let completions: u32 = 0;
  let packets: u32 = 0;
  burstFrames = burstBytes = 0;
  wireBegin();
  for (; done < n; done++) {
    const pd = ringSlot(RING_PHYS_TX, pTail + done);
    let status = load<u32>(pd + D.PD_STATUS);
    if (status == STATUS_OK) {
      status = transmit(pd);
      if (status == STALL) break;
    }
    if (load<u8>(pd + D.PD_LAST) != 0) {
      const ue = ringSlot(RING_USED, uHead + completions);
      store<u32>(ue + D.UE_COOKIE, load<u32>(pd + D.PD_COOKIE));
      store<u32>(ue + D.UE_STATUS, status);
      store<u32>(ue + D.UE_WIRE_FRAMES, status == STATUS_OK ? 1 : 0);
      if (status == STATUS_OK) packets++;
      else countDrop(status);
      completions++;
    }
  }
  wirePublish();
  ringRelease(RING_PHYS_TX, done);
  ringPublish(RING_USED, completions);
  countAdd(C_wireFrames, burstFrames);
  countAdd(C_wireBytes, burstBytes);
  countAdd(C_devicePackets, packets);
  countAdd(C_deviceCompleted, completions);
  if (completions > 0) deliverCompletions(completions);
  return done;
}

/** Gathers one frame onto the wire. Returns STATUS_OK, a drop reason, or STALL. */
function transmit(pd: u32): u32 {
  const len = load<u32>(pd + D.PD_TOTAL_LEN);
  if (len < ETH_HEADER_LEN) return DROP_runt;
  const at = wireReserve(len);
  if (at == 0) return STALL;
  gather(at, pd);
  const l2 = ethernetHeaderLen(at, len);
  if (len - (l2 != 0 ? l2 : ETH_HEADER_LEN) > param(P_mtu)) {
    wireAbort();
    return DROP_oversize;
  }
  wireCommit(load<u64>(pd + D.PD_TIMESTAMP));
  burstFrames++;
  burstBytes += len;
  return STATUS_OK;
}

/** DMA: the copied first part, then every SG entry, into `dst`. */
function gather(dst: u32, pd: u32): void {
  const copied = <u32>load<u16>(pd + D.PD_HDR_COPIED);
  memory.copy(dst, load<u32>(pd + D.PD_HDR_ADDR), copied);
  dst += copied;
  const nsg = <u32>load<u16>(pd + D.PD_NSG);
  let sg = load<u32>(pd + D.PD_SG_ADDR);
  for (let i: u32 = 0; i < nsg; i++, sg += 8) {
    const n = load<u32>(sg + D.SG_LEN);
    memory.copy(dst, load<u32>(sg + D.SG_ADDR), n);
    dst += n;
  }
}
