// The host's capture writer, in the core: turns published wire records into pcap records
// (pcap-savefile(5): [ts_sec][ts_usec or ts_nsec][incl_len][orig_len] + bytes) in the staging
// region, many at a time, so the main thread writes a capture with one file write per batch
// and no per-frame JavaScript. Called on the main thread only (it is the wire's consumer).

import { REGION_STAGING, STATE_WIRE, STATE_WIRE_CONSUMER, STATE_WIRE_PUMP, regionBase, regionBytes, wireBase, wireBytes } from "../shared/layout";
import { WIRE_RECORD_FLAGS, WIRE_RECORD_HEADER, WIRE_RECORD_ORIG_EXTRA, WIRE_WRAP } from "../nic/wire-ring";
import { param, P_wireGate } from "../shared/params";
import { VNET_HDR_LEN, WIRE_FLAG_VNET_HDR } from "../nic/passthrough";
import { WIRE_FLAG_GATHER } from "../nic/gather";

const PCAP_RECORD_HEADER: u32 = 16;

/** Frames converted by the last wireToPcap call. */
export let pcapFrames: u32 = 0;

/**
 * Converts wire records from the consumer's tail on, as many as fit in the staging region,
 * and gives their wire space back. Returns the pcap bytes now at the start of the staging region.
 */
export function wireToPcap(nanosecond: u32): u32 {
  const staging = regionBase(REGION_STAGING);
  const room = regionBytes(REGION_STAGING);
  // Behind the wire pump (--iface --out): the copy holds what was sent, after it was sent.
  const head = param(P_wireGate) != 0 ? atomic.load<u32>(STATE_WIRE_PUMP) : atomic.load<u32>(STATE_WIRE);
  let tail = atomic.load<u32>(STATE_WIRE_CONSUMER);
  let out: u32 = 0;
  pcapFrames = 0;
  while (tail != head) {
    const pos = tail & (wireBytes - 1);
    const rec = wireBase + pos;
    const len = load<u32>(rec);
    if (len == WIRE_WRAP) {
      tail += wireBytes - pos;
      continue;
    }
    const flags = <u32>load<u16>(rec + WIRE_RECORD_FLAGS);
    if ((flags & ~(WIRE_FLAG_VNET_HDR | WIRE_FLAG_GATHER)) != 0) {
      // The wire pump marked it: the kernel refused it (counted there by reason), so the copy
      // of what was sent leaves it out.
      tail += WIRE_RECORD_HEADER + ((len + 7) & ~7);
      continue;
    }
    // A pass-through record (passthrough.ts): the copy holds the frame, not its virtio_net_hdr.
    const skip: u32 = (flags & WIRE_FLAG_VNET_HDR) != 0 ? VNET_HDR_LEN : 0;
    // A gather list (gather.ts): the frame is its pieces, read here before the wire tail moves
    // past the record (the NIC gives them back only after that store, below).
    const gathered = (flags & WIRE_FLAG_GATHER) != 0;
    const frameLen = (gathered ? gatherListBytes(rec + WIRE_RECORD_HEADER) : len) - skip;
    if (out + PCAP_RECORD_HEADER + frameLen > room) break;
    const at = staging + out;
    store<u32>(at, load<u32>(rec + 8));
    const nsec = load<u32>(rec + 12);
    store<u32>(at + 4, nanosecond != 0 ? nsec : nsec / 1000);
    store<u32>(at + 8, frameLen);
    store<u32>(at + 12, frameLen + <u32>load<u16>(rec + WIRE_RECORD_ORIG_EXTRA)); // orig_len: what the snap length cut stays said
    if (gathered) copyGatherList(at + PCAP_RECORD_HEADER, rec + WIRE_RECORD_HEADER, skip);
    else memory.copy(at + PCAP_RECORD_HEADER, rec + WIRE_RECORD_HEADER + skip, frameLen);
    out += PCAP_RECORD_HEADER + frameLen;
    tail += WIRE_RECORD_HEADER + ((len + 7) & ~7);
    pcapFrames++;
  }
  atomic.store<u32>(STATE_WIRE_CONSUMER, tail); // the commit point gather.ts waits for
  return out;
}

/** Bytes of the frame a gather list ([u32 count][u32 0][count × (offset, length)]) describes. */
function gatherListBytes(list: u32): u32 {
  const count = load<u32>(list);
  let n: u32 = 0;
  for (let k: u32 = 0; k < count; k++) n += load<u32>(list + 12 + 8 * k);
  return n;
}

/** Copies the frame of a gather list to `dst`, leaving out its first `skip` bytes. */
function copyGatherList(dst: u32, list: u32, skip: u32): void {
  const count = load<u32>(list);
  for (let k: u32 = 0; k < count; k++) {
    let from = load<u32>(list + 8 + 8 * k);
    let n = load<u32>(list + 12 + 8 * k);
    const cut = skip < n ? skip : n;
    from += cut;
    n -= cut;
    skip -= cut;
    memory.copy(dst, from, n);
    dst += n;
  }
}
