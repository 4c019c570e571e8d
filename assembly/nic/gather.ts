// Kernel gather (issue #14, --wire-gather kernel, P_wireGather): the NIC stops gathering a frame
// it sends as it is. Instead of the frame's bytes its wire record holds a gather list
// (WIRE_FLAG_GATHER, native/pump.h): [u32 count][u32 0][count × (u32 offset, u32 length)],
// the pre-translated header buffer (pool or bounce buffer of the physical slot) and then each
// SG entry in guest memory; the native pump hands AF_PACKET one iovec per piece and the kernel
// copies them into its skb during sendmmsg.
//
// Which frames: the ones nic.ts transmit() would send — no large send (segments keep the
// gathered copy: their headers are built per segment), no pass-through — whose list fits
// GATHER_MAX pieces, whose first piece holds the Ethernet header with all its tags (the MTU
// check reads them there), and, when the guest asked NEEDS_CSUM, whose checksum field lies in the
// header buffer: the NIC writes the checksum there, never into guest memory. The checksum is
// summed piece by piece where the bytes lie. Every other frame is gathered as before.
//
// Safety: the pieces stay the kernel's (and the --out copy's) to read until the wire tail has
// passed the record, so neither the guest buffer (completion → the guest reclaims and reuses
// it) nor the header buffer (physical slot released → translate refills it) may be given back
// before. In this mode nicStageGather (nic.ts) therefore holds every burst's physical-ring
// release and used-ring publish (in order: gathered bursts and copied ones alike) and does
// them here once the wire tail is at or past the end of the burst's records.
//
// Commit points. The consumer's: the atomic store of the wire tail (STATE_WIRE_CONSUMER) —
// stored by the pump itself (native/vnic_wire.c pump_main, `atomic_store(p->cursor, tail)`)
// when there is no --out, after sendmmsg returned (AF_PACKET has copied the pieces then), or by
// the capture writer (pcap-out.ts wireToPcap, `atomic.store(STATE_WIRE_CONSUMER, tail)`) after
// it copied the frames behind the pump's gate with --out; or by the frame drainer
// (wire-drain.ts, wireSetTail) after its sink returned. The device's: gatherRelease's
// ringRelease(RING_PHYS_TX) and ringPublish(RING_USED), both after its atomic load of that
// tail (sequentially consistent: nothing the consumer read can be reordered after them).
//
// Pipeline: two groups — a sealed one (bursts whose records end at sealEnd) and the open one
// (bursts since). When the tail passes sealEnd the sealed group is released and the open one is
// sealed at the current wire head, so the NIC keeps filling the wire while the pump sends.
// Nothing is held forever without a timer: while anything is held, devicePrepareSleepGather
// refuses to sleep (the loop then waits 50 µs at a time, src/workers/stage.ts) and every NIC
// call releases what the tail has passed; the tail always reaches the head, because the pump
// (or the writer) drains everything published, refused frames and a lost interface included.
// Released completions go through the interrupt policy as any others (deliverCompletions).
// The held ones are counted as completed by the device (C_deviceCompleted, at their burst), so
// CIF reads lower than the guest's view: that only errs towards delivering.
//
// Not with hand-over (--handover-every, --chaos-device): the in-flight record commits the ring
// indices of a burst and a new device would store them again, publishing held completions
// before the tail passed. The CLI refuses the combination.

import * as D from "../shared/descriptors";
import { RING_PHYS_TX, RING_USED, STATE_WIRE_CONSUMER } from "../shared/layout";
import { ringPublish, ringRelease } from "../shared/ring";
import { deliverCompletions } from "./coalesce";
import { param, P_gatherReleaseEarly } from "../shared/params";
import { countAdd, C_gatherCopied, C_gatherLists } from "../shared/counters";
import { DROP_oversize, STATUS_OK } from "../shared/completion-status";
import { wireCommit, wirePendingHead, wireReserve, wireSetOrigExtra, WIRE_RECORD_FLAGS, WIRE_RECORD_HEADER } from "./wire-ring";
import { checksumAdd, fold } from "../packet/checksum";
import { ethernetHeaderLen, ETH_HEADER_LEN, MAX_TAGS, VLAN_TAG_LEN } from "../packet/ethernet";
import { UDP_CHECKSUM } from "../packet/udp";
import { STALL } from "./lso-segment";
import { longerThanAnyMtuFrame, packetOverMtu } from "./mtu";

/** The wire record's flag for a gather list (native/pump.h WIRE_FLAG_GATHER). */
export const WIRE_FLAG_GATHER: u32 = 2;
/** Most pieces in one list (native/pump.h GATHER_MAX). */
export const GATHER_MAX: u32 = 16;
/** transmitGather: this frame is not for a gather list; gather it as before. */
export const NOT_GATHERED: u32 = 0xfffffffe;

/**
 * Sends the frame of physical descriptor `pd` as a gather list. Returns STATUS_OK, a drop
 * reason, STALL (the wire is full), or NOT_GATHERED (the caller gathers it as before).
 */
export function transmitGather(pd: u32): u32 {
  const len = load<u32>(pd + D.PD_TOTAL_LEN);
  const copied = <u32>load<u16>(pd + D.PD_HDR_COPIED);
  const nsg = <u32>load<u16>(pd + D.PD_NSG);
  const hdr = load<u32>(pd + D.PD_HDR_ADDR);
  const sg = load<u32>(pd + D.PD_SG_ADDR);
  const pieces: u32 = (copied != 0 ? <u32>1 : 0) + nsg;
  if (len < ETH_HEADER_LEN || pieces == 0 || pieces > GATHER_MAX) return NOT_GATHERED;
  const first = copied != 0 ? hdr : load<u32>(sg + D.SG_ADDR);
  const firstLen = copied != 0 ? copied : load<u32>(sg + D.SG_LEN);
  const tagged = ETH_HEADER_LEN + MAX_TAGS * VLAN_TAG_LEN;
  // The MTU check transmit() makes, on the first piece: a header length found there is the
  // frame's; none found there is the frame's answer too only if the piece held every tag.
  const l2 = ethernetHeaderLen(first, firstLen < len ? firstLen : len);
  if (l2 == 0 && firstLen < (len < tagged ? len : tagged)) return NOT_GATHERED;
  const csum = (load<u8>(pd + D.PD_FLAGS) & D.VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
  const start = <u32>load<u16>(pd + D.PD_CSUM_START);
  const offset = <u32>load<u16>(pd + D.PD_CSUM_OFFSET);
  if (csum && start + offset + 2 > copied) return NOT_GATHERED;
  if (longerThanAnyMtuFrame(len) || packetOverMtu(len, l2)) return DROP_oversize;
  const at = wireReserve(8 + 8 * pieces);
  if (at == 0) return STALL;
  store<u16>(at - WIRE_RECORD_HEADER + WIRE_RECORD_FLAGS, <u16>WIRE_FLAG_GATHER);
  store<u32>(at, pieces);
  store<u32>(at + 4, 0);
  let p = at + 8;
  if (copied != 0) {
    store<u32>(p, hdr);
    store<u32>(p + 4, copied);
    p += 8;
  }
  for (let i: u32 = 0; i < nsg; i++, p += 8) {
    store<u32>(p, load<u32>(sg + (i << 3) + D.SG_ADDR));
    store<u32>(p + 4, load<u32>(sg + (i << 3) + D.SG_LEN));
  }
  if (csum) checksumPieces(hdr, copied, start, offset, sg, nsg);
  wireSetOrigExtra(load<u16>(pd + D.PD_ORIG_EXTRA));
  wireCommit(load<u64>(pd + D.PD_TIMESTAMP));
  countAdd(C_gatherLists, 1);
  return STATUS_OK;
}

/** nic.ts completeChecksum over the pieces: the header buffer from csum_start (the field, with
 *  the guest's pseudo-header seed, lies in it), then each SG entry; a piece that starts at an
 *  odd position of the summed span adds its sum byte-swapped (RFC 1071 §2(B)). */
function checksumPieces(hdr: u32, copied: u32, start: u32, offset: u32, sg: u32, nsg: u32): void {
  let acc: u32 = fold(checksumAdd(hdr + start, copied - start, 0));
  let pos = copied - start;
  for (let i: u32 = 0; i < nsg; i++) {
    const n = load<u32>(sg + (i << 3) + D.SG_LEN);
    let s = fold(checksumAdd(load<u32>(sg + (i << 3) + D.SG_ADDR), n, 0));
    if ((pos & 1) != 0) s = ((s & 0xff) << 8) | (s >> 8);
    acc += s;
    pos += n;
  }
  let v = ~fold(acc) & 0xffff;
  if (v == 0 && offset == UDP_CHECKSUM) v = 0xffff; // RFC 768, as completeChecksum
  store<u16>(hdr + start + offset, <u16>v);
}

/** Counts a frame this mode still gathered (not eligible for a list). */
export function gatherCountCopied(): void {
  countAdd(C_gatherCopied, 1);
}

// ---- holding releases until the wire tail passes ----

let heldPhys: u32 = 0; // physical descriptors consumed, not yet released
let heldUsed: u32 = 0; // completions written past the used head, not yet published
let sealPhys: u32 = 0; // the sealed group: the first sealPhys / sealUsed of the held ones,
let sealUsed: u32 = 0; // whose wire records all end at or before sealEnd
let sealEnd: u32 = 0;
let sealed: bool = false;

/** Physical descriptors and completions held (the NIC's consumer / producer offsets). */
export function gatherHeldPhys(): u32 {
  return heldPhys;
}
export function gatherHeldUsed(): u32 {
  return heldUsed;
}

/** A NIC burst consumed `phys` descriptors and wrote `used` completions (after wirePublish). */
export function gatherHold(phys: u32, used: u32): void {
  heldPhys += phys;
  heldUsed += used;
}

/** Releases the sealed group once the wire tail is at or past its end, then seals what is held
 *  since; returns the completions published. */
export function gatherRelease(): u32 {
  let published: u32 = 0;
  for (let round = 0; round < 2; round++) {
    if (!sealed) {
      if (heldPhys == 0 && heldUsed == 0) break;
      sealPhys = heldPhys;
      sealUsed = heldUsed;
      sealEnd = wirePendingHead(); // everything reserved so far is published (wirePublish ran)
      sealed = true;
    }
    // The consumer's commit point (see the top of this file); P_gatherReleaseEarly is test
    // support only: it releases without waiting, so a test can show what that would break.
    const tail = atomic.load<u32>(STATE_WIRE_CONSUMER);
    if (<i32>(tail - sealEnd) < 0 && param(P_gatherReleaseEarly) == 0) break;
    ringRelease(RING_PHYS_TX, sealPhys); // header buffers back to translate
    ringPublish(RING_USED, sealUsed); // completions to the guest: it reuses the buffers
    heldPhys -= sealPhys;
    heldUsed -= sealUsed;
    if (sealUsed > 0) deliverCompletions(sealUsed);
    published += sealUsed;
    sealed = false;
  }
  return published;
}
