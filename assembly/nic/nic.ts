// The physical NIC model: physical TX descriptors in, frames on the wire and completions out.
//
// Shape: (physical TX ring, wire + used ring, budget) → descriptors completed.
//
// For each descriptor the NIC gathers the copied header bytes and the SG entries into a wire
// record (the DMA a real NIC does), checks the frame against the MTU, completes a checksum the
// guest asked for (NEEDS_CSUM), or — for a large send — cuts the chunk into MTU-sized frames
// (lso-segment.ts); on the descriptor that finishes a guest request it posts the completion. Descriptors that arrive carrying a
// drop reason from translation are completed with it, in order. The completions of a burst
// are published with one store, then handed to the interrupt policy (coalesce.ts).
//
// The per-frame path (transmit, gather, wireReserve) is inlined into the burst loop, as the
// backend's is (translate.ts says why and what it saved).

import { NIC_SLOWDOWN_CHAIN, RING_PHYS_TX, RING_USED } from "../shared/layout";
import { ringAvailable, ringHead, ringPublish, ringRelease, ringReserve, ringSlot, ringTail } from "../shared/ring";
import * as D from "../shared/descriptors";
import { countAdd, countDrop, C_csumCompleted, C_deviceCompleted, C_devicePackets, C_passedCsum, C_passedLso, C_wireBytes, C_wireFrames } from "../shared/counters";
import { DROP_badCsumRequest, DROP_oversize, DROP_runt, STATUS_OK } from "../shared/completion-status";
import { isLargeSend } from "../backend/gso-check";
import { segmentChunk, segmentBytes, segmentsMade, segmentLoadState, segmentSaveState, STALL } from "./lso-segment";
import { checksumAdd, fold } from "../packet/checksum";
import { param, P_slowdownNs } from "../shared/params";
import { ethernetHeaderLen, ETH_HEADER_LEN } from "../packet/ethernet";
import { UDP_CHECKSUM } from "../packet/udp";
import { wireAbort, wireBegin, wireCommit, wirePendingHead, wirePublish, wireReserve, wireSetOrigExtra } from "./wire-ring";
import { deliverCompletions } from "./coalesce";
import { inflightOn, nicClose, nicCommit, nicOpen, nicPendingSlot, setPhase, PH_NIC, PH_STAGE2 } from "../device/inflight";
import { copyBytes } from "../shared/copy-small";
import { longerThanAnyMtuFrame, packetOverMtu } from "./mtu";
import { passesThrough, VNET_HDR_LEN, writeVnetHeader } from "./passthrough";
import { gatherCountCopied, gatherHeldPhys, gatherHeldUsed, gatherHold, gatherRelease, NOT_GATHERED, transmitGather } from "./gather";

let burstFrames: u64 = 0;
let burstBytes: u64 = 0;
let burstCsums: u64 = 0;
// Wire frames made so far for the guest descriptor in progress (its chunks may span bursts).
let framesForCurrent: u32 = 0;
// Set while consuming the remaining chunks of a guest descriptor that was refused mid-way.
let skippingRefused: bool = false;

/** Transmits up to `budget` physical descriptors; returns how many were consumed. */
export function nicStage(budget: u32): u32 {
  return nicBurst(budget, false);
}

/** nicStage under --wire-gather kernel (P_wireGather; the device loop calls this one instead,
 *  src/workers/stage.ts): frames sent as they are go out as gather lists, and the burst's
 *  ring releases wait for the wire tail (gather.ts). */
export function nicStageGather(budget: u32): u32 {
  gatherRelease();
  return nicBurst(budget, true);
}

/** Descriptors and completions held for the wire tail (gather.ts): the device must not sleep. */
export function nicHeldForWire(): u32 {
  return gatherHeldPhys() + gatherHeldUsed();
}

// Inlined into both exports with `kernel` a constant, so nicStage is the code it always was.
// @ts-ignore: decorator
@inline function nicBurst(budget: u32, kernel: bool): u32 {
  // Under kernel gather the held descriptors and completions are ours still: skip past them.
  const hp: u32 = kernel ? gatherHeldPhys() : 0;
  const hu: u32 = kernel ? gatherHeldUsed() : 0;
  let n = ringAvailable(RING_PHYS_TX, budget + hp) - hp;
  if (n == 0) return 0;
  // Reserve every completion slot the burst could need before transmitting anything.
  n = ringReserve(RING_USED, n + hu) - hu;
  const pTail = ringTail(RING_PHYS_TX) + hp;
  const uHead = ringHead(RING_USED) + hu;
  nicOpen();
  let done: u32 = 0;
  let completions: u32 = 0;
  let packets: u32 = 0;
  burstFrames = burstBytes = burstCsums = 0;
  wireBegin();
  for (; done < n; done++) {
    const pd = ringSlot(RING_PHYS_TX, pTail + done);
    if (skippingRefused) {
      // The rest of a guest descriptor one of whose chunks was refused (already completed).
      if (load<u8>(pd + D.PD_LAST) != 0) skippingRefused = false;
      continue;
    }
    let status = load<u32>(pd + D.PD_STATUS);
    if (status == STATUS_OK) {
      status = passesThrough(pd) ? transmitPassedThrough(pd)
        : isLargeSend(load<u8>(pd + D.PD_GSO_TYPE)) ? transmitLargeSend(pd) : kernel ? transmitKernel(pd) : transmit(pd);
      if (status == STALL) break;
    }
    // A refused chunk refuses its whole guest descriptor: the chunks before it are on the wire
    // already, so the completion's frame count says how far it got.
    const last = load<u8>(pd + D.PD_LAST) != 0;
    if (status != STATUS_OK && !last) skippingRefused = true;
    if (last || status != STATUS_OK) {
      const ue = ringSlot(RING_USED, uHead + completions);
      store<u32>(ue + D.UE_COOKIE, load<u32>(pd + D.PD_COOKIE));
      store<u32>(ue + D.UE_STATUS, status);
      store<u32>(ue + D.UE_WIRE_FRAMES, framesForCurrent);
      framesForCurrent = 0;
      if (status == STATUS_OK) packets++;
      else countDrop(status);
      completions++;
    }
  }
  // Counters before the commit point (inflight.ts: a burst that dies uncommitted puts them back).
  countAdd(C_wireFrames, burstFrames);
  countAdd(C_wireBytes, burstBytes);
  countAdd(C_csumCompleted, burstCsums);
  countAdd(C_devicePackets, packets);
  countAdd(C_deviceCompleted, completions);
  if (inflightOn()) {
    nicSaveState(nicPendingSlot());
    nicCommit(pTail + done, uHead + completions, wirePendingHead());
  }
  wirePublish();
  if (kernel) {
    gatherHold(done, completions);
    gatherRelease();
  } else {
    ringRelease(RING_PHYS_TX, done);
    ringPublish(RING_USED, completions);
    if (completions > 0) deliverCompletions(completions);
  }
  nicClose();
  const slow = param(P_slowdownNs);
  if (slow != 0) slowdownSpin(<u64>slow * burstFrames);
  return done;
}

// Benchmark-gate support (P_slowdownNs, src/perf/gate.ts): `slowdownNs` steps of a dependent
// multiply-add chain (about 1 ns each here) per wire frame, no clock read. Checked once per
// burst, so a zero parameter costs one load and a branch per burst. The chain starts from and
// ends in a device-owned word of shared memory, which the optimizer cannot drop.
function slowdownSpin(iterations: u64): void {
  let x = load<u32>(NIC_SLOWDOWN_CHAIN);
  for (let i: u64 = 0; i < iterations; i++) x = x * 1664525 + 1013904223;
  store<u32>(NIC_SLOWDOWN_CHAIN, x);
}

/** Gathers one frame onto the wire. Returns STATUS_OK, a drop reason, or STALL. */
// @ts-ignore: decorator (inlined: on the per-packet path; nic.ts says why)
@inline function transmit(pd: u32): u32 {
  const len = load<u32>(pd + D.PD_TOTAL_LEN);
  if (len < ETH_HEADER_LEN) return DROP_runt;
  // Whatever its tags, a frame this long carries more than an MTU: refused before it takes
  // wire room (so no record is ever longer than MTU + the longest tagged Ethernet header).
  if (longerThanAnyMtuFrame(len)) return DROP_oversize;
  const at = wireReserve(len);
  if (at == 0) return STALL;
  gather(at, pd);
  const l2 = ethernetHeaderLen(at, len);
  if (packetOverMtu(len, l2)) {
    wireAbort();
    return DROP_oversize;
  }
  if ((load<u8>(pd + D.PD_FLAGS) & D.VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0) {
    const status = completeChecksum(at, len, load<u16>(pd + D.PD_CSUM_START), load<u16>(pd + D.PD_CSUM_OFFSET));
    if (status != STATUS_OK) {
      wireAbort();
      return status;
    }
  }
  wireSetOrigExtra(load<u16>(pd + D.PD_ORIG_EXTRA));
  wireCommit(load<u64>(pd + D.PD_TIMESTAMP));
  burstFrames++;
  burstBytes += len;
  framesForCurrent++;
  return STATUS_OK;
}

/** Kernel gather (gather.ts): a gather list, or the gathered copy when the frame is not for one. */
function transmitKernel(pd: u32): u32 {
  const status = transmitGather(pd);
  if (status == STATUS_OK) {
    burstFrames++;
    burstBytes += load<u32>(pd + D.PD_TOTAL_LEN);
    framesForCurrent++;
    return STATUS_OK;
  }
  if (status != NOT_GATHERED) return status;
  const copied = transmit(pd);
  if (copied == STATUS_OK) gatherCountCopied();
  return copied;
}

/** Pass-through (passthrough.ts): the frame as posted behind its virtio_net_hdr, for the kernel.
 *  A large send skips the MTU check (the kernel segments it); a checksum request keeps it. */
// @ts-ignore: decorator (inlined as it was when nicStage was its only caller)
@inline function transmitPassedThrough(pd: u32): u32 {
  const len = load<u32>(pd + D.PD_TOTAL_LEN);
  const large = isLargeSend(load<u8>(pd + D.PD_GSO_TYPE));
  if (len < ETH_HEADER_LEN) return DROP_runt;
  if (!large && longerThanAnyMtuFrame(len)) return DROP_oversize;
  const at = wireReserve(VNET_HDR_LEN + len);
  if (at == 0) return STALL;
  writeVnetHeader(at, pd);
  gather(at + VNET_HDR_LEN, pd);
  wireCommit(load<u64>(pd + D.PD_TIMESTAMP));
  countAdd(large ? C_passedLso : C_passedCsum, 1);
  burstFrames++;
  burstBytes += len;
  framesForCurrent++;
  return STATUS_OK;
}

/** Stage 2 of a large send (lso-segment.ts), with the frames it made counted (also when the wire
 *  filled part-way: those frames are on the wire, the rest follow on a later turn). */
// @ts-ignore: decorator (as above)
@inline function transmitLargeSend(pd: u32): u32 {
  setPhase(PH_STAGE2);
  const status = segmentChunk(pd);
  setPhase(PH_NIC);
  if (status == STATUS_OK || status == STALL) {
    burstFrames += segmentsMade;
    burstBytes += segmentBytes;
    framesForCurrent += segmentsMade;
    burstCsums += segmentsMade;
  }
  return status;
}

/**
 * Checksum offload as virtio defines it (1.2 §5.1.6.2, VIRTIO_NET_HDR_F_NEEDS_CSUM): the
 * ones'-complement sum from csum_start to the end of the frame — the guest left the
 * pseudo-header sum in the field — stored, complemented, at csum_start + csum_offset. A result
 * of 0 is sent as 0xffff, its other spelling, as Linux's skb_checksum_help does (and as UDP
 * requires, RFC 768: 0 there means "no checksum").
 */
function completeChecksum(frame: u32, len: u32, start: u32, offset: u32): u32 {
  if (start + offset + 2 > len) return DROP_badCsumRequest;
  let v = ~fold(checksumAdd(frame + start, len - start, 0)) & 0xffff;
  // RFC 768: a computed UDP checksum of 0 is sent as 0xffff (0 means "none"). The NIC knows only
  // csum_start/offset, and 6 is UDP's checksum field; TCP's 0 stays 0x0000, as the segments
  // the NIC cuts (lso-segment.ts) and Linux's TCP stack write it.
  if (v == 0 && offset == UDP_CHECKSUM) v = 0xffff;
  store<u16>(frame + start + offset, <u16>v);
  burstCsums++;
  return STATUS_OK;
}

/** DMA: the copied first part, then every SG entry, into `dst`. */
// @ts-ignore: decorator (inlined: on the per-packet path; nic.ts says why)
@inline function gather(dst: u32, pd: u32): void {
  const copied = <u32>load<u16>(pd + D.PD_HDR_COPIED);
  copyBytes(dst, load<u32>(pd + D.PD_HDR_ADDR), copied);
  dst += copied;
  const nsg = <u32>load<u16>(pd + D.PD_NSG);
  let sg = load<u32>(pd + D.PD_SG_ADDR);
  for (let i: u32 = 0; i < nsg; i++, sg += 8) {
    const n = load<u32>(sg + D.SG_LEN);
    memory.copy(dst, load<u32>(sg + D.SG_ADDR), n);
    dst += n;
  }
}

/** Hand-over (inflight.ts): the NIC's cross-burst state, to or from a 32-byte slot. */
export function nicSaveState(slot: u32): void {
  store<u32>(slot, framesForCurrent);
  store<u32>(slot + 4, skippingRefused ? 1 : 0);
  segmentSaveState(slot + 8);
}

export function nicLoadState(slot: u32): void {
  framesForCurrent = load<u32>(slot);
  skippingRefused = load<u32>(slot + 4) != 0;
  segmentLoadState(slot + 8);
}
