// The guest's memory of each UDP flow's datagram size, for inferring UDP_SEGMENT's gso_size.
//
// A capture taken on a sending host shows a UDP GSO super-datagram (Linux UDP_SEGMENT, QUIC
// servers) as one frame over the MTU; the segment size it was sent with is not in the frame.
// The flow shows it, though: a UDP_SEGMENT socket sends its short writes as plain datagrams,
// and a full-sized one is exactly gso_size (udp_send_skb: a datagram no longer than gso_size
// goes out unsegmented). So the guest remembers, per flow, the largest payload of a datagram
// that fit the MTU, and uses it as gso_size for that flow's super-datagrams; a flow never seen
// falls back to the MTU (vnet-header.ts).
//
// Table: 256 direct-mapped entries of (flow key u32, largest payload u32) in guest-private
// state memory (layout.ts STATE_UDP_FLOWS). A collision replaces the entry: only a hint is lost.

import { STATE_UDP_FLOWS } from "../shared/layout";
import { UDP_SRC_PORT } from "../packet/udp";

const ENTRIES: u32 = 256;
const ENTRY_SIZE: u32 = 8;

export function udpFlowsReset(): void {
  memory.fill(STATE_UDP_FLOWS, 0, ENTRIES * ENTRY_SIZE);
}

/** A flow key from the addresses (IPv4 12..20, IPv6 8..40 of the IP header) and the ports;
 *  never 0 (0 marks an empty entry). */
function flowKey(ip: u32, v4: bool, udp: u32): u32 {
  let h: u32 = 0x811c9dc5;
  // Every UDP datagram the guest posts is hashed here. Both words of an IPv4 pair are mixed in
  // straight line (the same hash a loop over 12..20 gives): the loop's index and test cost a
  // plain 64-byte datagram ~30 instructions of its ~110 here (metered build, README "The gate").
  if (v4) {
    h = fnvMix(h, load<u32>(ip + 12));
    h = fnvMix(h, load<u32>(ip + 16));
  } else {
    for (let i: u32 = 8; i < 40; i += 4) h = fnvMix(h, load<u32>(ip + i));
  }
  // Both ports in one little-endian word: source port in the low half, destination in the high.
  h = fnvMix(h, load<u32>(udp + UDP_SRC_PORT));
  return h == 0 ? 1 : h;
}

/** One FNV-1a-style step over a 32-bit word. */
// @ts-ignore: decorator
@inline function fnvMix(h: u32, word: u32): u32 {
  return (h ^ word) * 0x01000193;
}

// @ts-ignore: decorator
@inline function entryOf(key: u32): u32 {
  return STATE_UDP_FLOWS + ((key ^ (key >> 16)) & (ENTRIES - 1)) * ENTRY_SIZE;
}

/** Notes a datagram of `payload` bytes that fit the MTU. */
export function udpFlowNote(ip: u32, v4: bool, udp: u32, payload: u32): void {
  const key = flowKey(ip, v4, udp);
  const e = entryOf(key);
  if (load<u32>(e) != key) {
    store<u32>(e, key);
    store<u32>(e + 4, payload);
  } else if (payload > load<u32>(e + 4)) {
    store<u32>(e + 4, payload);
  }
}

/** The flow's largest payload seen, or 0 when the flow showed none. */
export function udpFlowGsoSize(ip: u32, v4: bool, udp: u32): u32 {
  const key = flowKey(ip, v4, udp);
  const e = entryOf(key);
  return load<u32>(e) == key ? load<u32>(e + 4) : 0;
}
