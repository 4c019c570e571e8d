// The core's exports: flat numeric functions and constants over the shared memory.
// The host owns the memory and the configuration; the core allocates nothing.

import { GUEST_DESC_SIZE, PHYS_DESC_SIZE, USED_ELEM_SIZE, RING_GUEST_TX, RING_PHYS_TX, RING_USED,
  REGION_GUEST_TX_SLOTS, REGION_PHYS_TX_SLOTS, REGION_USED_SLOTS, regionBase, ringSlots,
  attach, shufflePageTable } from "./shared/layout";
import { ringInit } from "./shared/ring";
import { poolInit } from "./backend/tx-buffers";
import { wireInit } from "./nic/wire-ring";
import { resetCounters } from "./shared/counters";
import { latencyReset } from "./guest/latency";
import { coalesceReset } from "./nic/coalesce";
import { inflightReset } from "./device/inflight";

export * from "./shared/layout";
export * from "./shared/counters";
export * from "./shared/completion-status";
export * from "./shared/params";
export { ringReserve, ringPublish, ringAvailable, ringRelease, ringCount, ringFullEvents,
  ringBursts, ringInit, RING_CTL_HEAD, RING_CTL_CACHED_TAIL, RING_CTL_TAIL, RING_CTL_CACHED_HEAD, ringHead, ringTail, ringSlot, ringTailSeen, ringHeadSeen } from "./shared/ring";
export { guestInit, guestStep, guestPrepareSleep, guestWoke, guestInFlight, guestStopPosting,
  guestNextCaptureOffsetNs } from "./guest/guest";
export { ARENA_RECORD_HEADER, ARENA_WRAP, ARENA_BYTES, ARENA_FRAMES, ARENA_LOOPS, ARENA_LIMIT, ARENA_STREAMING,
  ARENA_SPAN_NS, ARENA_HEAD, ARENA_EOF, ARENA_TAIL } from "./guest/arena";
export { guestPaceFrom, PACE_PPS, PACE_MBPS, PACE_MULTIPLIER } from "./guest/pace";
export { deviceStep, devicePrepareSleep, devicePrepareSleepGather, deviceWoke } from "./device/device";
export { translateStage, checkGuestRange } from "./backend/translate";
export { nicStage, nicStageGather, nicHeldForWire } from "./nic/nic";
export { WIRE_FLAG_GATHER, GATHER_MAX } from "./nic/gather";
export { copyFirstPart, FALLBACK_COPY, COPY_HEADERS, COPY_L3_10, COPY_FIXED, COPY_FULL, COPY_NONE } from "./backend/header-copy";
export { POOL_BUF_MAGIC, PB_DATA_ADDR, PB_INDEX, PB_MAGIC, poolBuffer } from "./backend/tx-buffers";
export { WIRE_RECORD_HEADER, WIRE_WRAP, wireHead, wireTail, wireSetTail } from "./nic/wire-ring";
export { wireToPcap, pcapFrames } from "./host/pcap-out";
export { checksumAdd, finishChecksum } from "./packet/checksum";
export { parseHeaders, hdrL2Len, hdrIpVersion, hdrL4Offset, hdrL4Proto, hdrTotalLen,
  PARSE_OK, PARSE_TRUNCATED, PARSE_MALFORMED } from "./packet/headers";
export * from "./nic/coalesce";
export * from "./guest/latency";
export * from "./shared/descriptors";
export * from "./device/inflight";
export { deviceAttach, deviceQuiescent } from "./device/handover";
export { ringSetHead, ringSetTail } from "./shared/ring";

/**
 * Prepares a freshly configured memory for a run: page table, rings, pool, wire, counters.
 * The host calls it once, after configure() and before any worker starts.
 */
export function initDatapath(pageSeed: u32): void {
  attach();
  shufflePageTable(pageSeed);
  ringInit(RING_GUEST_TX, regionBase(REGION_GUEST_TX_SLOTS), ringSlots, ctz(GUEST_DESC_SIZE));
  ringInit(RING_PHYS_TX, regionBase(REGION_PHYS_TX_SLOTS), ringSlots, ctz(PHYS_DESC_SIZE));
  ringInit(RING_USED, regionBase(REGION_USED_SLOTS), ringSlots, ctz(USED_ELEM_SIZE));
  poolInit();
  wireInit();
  resetCounters();
  latencyReset();
  coalesceReset(0);
  inflightReset();
}
export { PASS_LSO4, PASS_CSUM4, PASS_LSO6, PASS_CSUM6 } from "./nic/passthrough";
