// The wire: a byte ring of transmitted frames, from the NIC (producer, device thread) to the
// host's capture writer (consumer, main thread).
//
// Record: [u32 length][u16 flags][u16 orig extra][u32 seconds][u32 nanoseconds][length bytes, padded to 8]
// (flags and orig extra: WIRE_RECORD_FLAGS / WIRE_RECORD_ORIG_EXTRA below; the pcap's orig_len is length + orig extra):
// the timestamp is split here, in integer wasm, so the host writes pcap without 64-bit
// arithmetic per frame (timestamps past 2106 saturate the seconds). A record
// never wraps: when one does not fit before the end, the producer writes WIRE_WRAP where its
// header would go and starts again at offset 0. Head and tail are free-running byte counts.
//
// Full-ring policy: backpressure. wireReserve returns 0 and the NIC keeps the descriptor for
// its next turn. In discard mode (P_wireDiscard, no --out) nobody reads the wire: the NIC still
// writes every byte (the DMA a real NIC does) and the tail simply follows the head. It writes
// them into a small window at the start of the ring only, the way a NIC's DMA lands in its
// on-chip transmit FIFO rather than in host memory: a window that stays in the cache. Cycling
// through all of a 16 MiB ring instead made every gathered line a cache miss (NIC stage,
// 1514-byte frames: 114 → 68 ns with checksum offload; `node dist/bench/stages.js --only NIC`).
// The window is sized from the MTU (discardWindow): 64 KiB for any MTU up to 32 K, where a
// fixed 256 KiB window (what the largest MTU needs) was evicted by the frames the gather reads:
// 1514-byte frames, --guest-resident --no-csum-offload, NIC 137 → 131 ns, +2.5 % end to end
// (8 pairs; 64-byte ±1 %). 32 KiB gained as much at 1514 bytes but lost up to 4 % at 64.
//
// Publication: the NIC reserves and fills any number of records, then publishes them all with
// one atomic store of head (wirePublish), once per burst.

import { STATE_WIRE, STATE_WIRE_CONSUMER, wireBase, wireBytes } from "../shared/layout";
import { param, P_mtu, P_offloadPass, P_sendTimestamps, P_wireDiscard } from "../shared/params";
import { ETH_HEADER_LEN, MAX_TAGS, VLAN_TAG_LEN } from "../packet/ethernet";
import { clockNowNs } from "../shared/clock";
import { countAdd, C_wireFull } from "../shared/counters";

export const WIRE_RECORD_HEADER: u32 = 16;
// The record header's reserved word (+4) is shared: its low half holds flags (WIRE_FLAG_* in
// passthrough.ts, and the errno the wire pump marks a refused frame with, bits 8..15: see
// native/vnic_wire.c), its high half the bytes the capture's snap length cut off the frame
// (GD_ORIG_EXTRA, saturated to u16).
export const WIRE_RECORD_FLAGS: u32 = 4;
export const WIRE_RECORD_ORIG_EXTRA: u32 = 6;
export const WIRE_WRAP: u32 = 0xffffffff;
// The discard window: at least twice the longest record, so that a record plus a wrap's waste
// always fits; a power of two, as the ring's masks need. The longest record is a frame of the
// MTU with the most tags the NIC lets through, or, when operations pass through (P_offloadPass,
// only with --iface, where nothing is discarded), a large send of any size: the whole window.
const DISCARD_WINDOW_MIN: u32 = 64 << 10;
const DISCARD_WINDOW_MAX: u32 = 256 << 10;
const W_HEAD: u32 = STATE_WIRE + 0;
const W_CACHED_TAIL: u32 = STATE_WIRE + 4;
const W_TAIL: u32 = STATE_WIRE_CONSUMER + 0;

let localHead: u32 = 0; // head including records reserved but not yet published
let openRecord: u32 = 0; // address of the record being filled (0: none)
let openHead: u32 = 0; // localHead before the open record was reserved (for wireAbort)
// --timestamps send (P_sendTimestamps): the time this burst left the NIC stage, read once per
// burst (a host call costs more than a frame's work: clock.ts). Kept non-decreasing here, so
// the output's times never step back across bursts or loops even if the clock did.
let sendStampNs: u64 = 0;
// Set by wireBegin: discard mode, and the bytes of ring the records cycle through (the discard
// window, or all of it).
let discarding: bool = false;
let span: u32 = 0;

export function wireInit(): void {
  atomic.store<u32>(W_HEAD, 0);
  store<u32>(W_CACHED_TAIL, 0);
  atomic.store<u32>(W_TAIL, 0);
}

/** Called by the NIC before its burst: picks up the published head. */
// @ts-ignore: decorator (nic.ts calls it from nicStage and nicStageGather: inlined in both, as before)
@inline export function wireBegin(): void {
  localHead = load<u32>(W_HEAD);
  openRecord = 0;
  discarding = param(P_wireDiscard) != 0;
  span = discarding ? discardWindow() : wireBytes;
  if (param(P_sendTimestamps) != 0) {
    const now = clockNowNs();
    if (now > sendStampNs) sendStampNs = now;
  }
}

// @ts-ignore: decorator
@inline function recordBytes(len: u32): u32 {
  return WIRE_RECORD_HEADER + ((len + 7) & ~7);
}

/** The discard window for the current MTU (see DISCARD_WINDOW_MIN). */
function discardWindow(): u32 {
  if (param(P_offloadPass) != 0) return DISCARD_WINDOW_MAX;
  const twice: u32 = 2 * recordBytes(param(P_mtu) + ETH_HEADER_LEN + MAX_TAGS * VLAN_TAG_LEN);
  if (twice <= DISCARD_WINDOW_MIN) return DISCARD_WINDOW_MIN;
  if (twice >= DISCARD_WINDOW_MAX) return DISCARD_WINDOW_MAX;
  return <u32>1 << (32 - clz(twice - 1));
}

/** Reserves room for a frame of `len` bytes; returns the address to write it at, or 0 when
 *  the ring is full (backpressure). len must be at most wireBytes / 4 (the NIC refuses longer
 *  frames as oversize first; configure() makes wireBytes at least 1 MiB). */
// @ts-ignore: decorator (inlined: on the per-packet path; nic.ts says why)
@inline export function wireReserve(len: u32): u32 {
  const need = recordBytes(len);
  const pos = localHead & (span - 1);
  const toEnd = span - pos;
  const total = need <= toEnd ? need : toEnd + need;
  if (!discarding) {
    let free = wireBytes - (localHead - load<u32>(W_CACHED_TAIL));
    if (free < total) {
      store<u32>(W_CACHED_TAIL, atomic.load<u32>(W_TAIL));
      free = wireBytes - (localHead - load<u32>(W_CACHED_TAIL));
      if (free < total) {
        countAdd(C_wireFull, 1);
        return 0;
      }
    }
  }
  openHead = localHead;
  let at = pos;
  if (need > toEnd) {
    store<u32>(wireBase + pos, WIRE_WRAP);
    localHead += toEnd;
    at = 0;
  }
  openRecord = wireBase + at;
  store<u32>(openRecord, len);
  store<u32>(openRecord + 4, 0);
  localHead += need;
  return openRecord + WIRE_RECORD_HEADER;
}

/** True when `bytes` of records (headers, padding and a possible wrap included) fit now. */
export function wireHasRoom(bytes: u32): bool {
  if (param(P_wireDiscard) != 0) return true;
  if (wireBytes - (localHead - load<u32>(W_CACHED_TAIL)) >= bytes) return true;
  store<u32>(W_CACHED_TAIL, atomic.load<u32>(W_TAIL));
  if (wireBytes - (localHead - load<u32>(W_CACHED_TAIL)) >= bytes) return true;
  countAdd(C_wireFull, 1);
  return false;
}

/** Finishes the open record: its timestamp (the capture's, or under --timestamps send the
 *  burst's send time), and it becomes part of the next publish. */
export function wireCommit(captureNs: u64): void {
  const timestampNs = param(P_sendTimestamps) != 0 ? sendStampNs : captureNs;
  const sec = timestampNs / 1_000_000_000;
  store<u32>(openRecord + 8, sec > 0xffffffff ? 0xffffffff : <u32>sec);
  store<u32>(openRecord + 12, <u32>(timestampNs % 1_000_000_000));
  openRecord = 0;
}

/** The open record's frame was cut by the capture's snap length by `extra` bytes (see GD_ORIG_EXTRA). */
export function wireSetOrigExtra(extra: u32): void {
  store<u16>(openRecord + WIRE_RECORD_ORIG_EXTRA, <u16>extra);
}

/** Gives back the open record (the frame was refused after all). */
export function wireAbort(): void {
  localHead = openHead;
  openRecord = 0;
}

/** Publishes every committed record: one atomic store. */
export function wirePublish(): void {
  atomic.store<u32>(W_HEAD, localHead);
  if (param(P_wireDiscard) != 0) atomic.store<u32>(W_TAIL, localHead);
}

// ---- host (consumer) side ----
export function wireHead(): u32 {
  return atomic.load<u32>(W_HEAD);
}
export function wireTail(): u32 {
  return atomic.load<u32>(W_TAIL);
}
export function wireSetTail(tail: u32): void {
  atomic.store<u32>(W_TAIL, tail);
}

// ---- hand-over (inflight.ts, handover.ts) ----
/** The head the next wirePublish will store (records reserved and committed so far). */
export function wirePendingHead(): u32 {
  return localHead;
}
/** Stores a committed head again (a new device completing a burst the last one committed). */
export function wireRepublish(head: u32): void {
  atomic.store<u32>(W_HEAD, head);
  if (param(P_wireDiscard) != 0) atomic.store<u32>(W_TAIL, head);
}
