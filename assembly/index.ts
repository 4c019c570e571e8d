// The core's exports: flat numeric functions and constants over the shared memory.
// The host owns the memory and the configuration; the core allocates nothing.

import { GUEST_DESC_SIZE, PHYS_DESC_SIZE, USED_ELEM_SIZE, RING_GUEST_TX, RING_PHYS_TX, RING_USED,
  REGION_GUEST_TX_SLOTS, REGION_PHYS_TX_SLOTS, REGION_USED_SLOTS, regionBase, ringSlots,
  attach, shufflePageTable } from "./layout";
import { ringInit } from "./ring";
import { poolInit } from "./pool";
import { wireInit } from "./wire_sink";
import { resetCounters } from "./counters";
import { latencyReset } from "./latency";
import { coalesceReset } from "./coalesce";
import { inflightReset } from "./inflight";

export * from "./layout";
export * from "./counters";
export * from "./params";
export { ringReserve, ringPublish, ringAvailable, ringRelease, ringCount, ringFullEvents,
  ringBursts, ringResetAt, ringInit, ringHead, ringTail, ringSlot, ringTailSeen, ringHeadSeen } from "./ring";
export { guestInit, guestStep, guestPrepareSleep, guestWoke, guestInFlight, guestStopPosting,
  guestNextCaptureOffsetNs } from "./guest";
export { ARENA_RECORD_HEADER, ARENA_WRAP, ARENA_BYTES, ARENA_FRAMES, ARENA_LOOPS, ARENA_LIMIT, ARENA_STREAMING,
  ARENA_SPAN_NS, ARENA_HEAD, ARENA_EOF, ARENA_TAIL } from "./arena";
export { guestPaceFrom, PACE_PPS, PACE_MBPS, PACE_MULTIPLIER } from "./pace";
export { deviceStep, devicePrepareSleep, devicePrepareSleepGather, deviceWoke } from "./device";
export { translateStage, checkGuestRange } from "./translate";
export { nicStage, nicStageGather, nicHeldForWire, slowdownSink } from "./nic";
export { WIRE_FLAG_GATHER, GATHER_MAX } from "./gather";
export { copyFirstPart, copiedAt, FALLBACK_COPY, COPY_HEADERS, COPY_L3_10, COPY_FIXED, COPY_FULL, COPY_NONE } from "./hdrcopy";
export { POOL_BUF_MAGIC, PB_DATA_ADDR, PB_INDEX, PB_MAGIC, poolBuffer } from "./pool";
export { WIRE_RECORD_HEADER, WIRE_WRAP, wireHead, wireTail, wireSetTail } from "./wire_sink";
export { wireToPcap, pcapFrames } from "./pcap_out";
export { checksumAdd, finishChecksum } from "./wire/checksum";
export { parseHeaders, hdrL2Len, hdrIpVersion, hdrL4Offset, hdrL4Proto, hdrTotalLen,
  PARSE_OK, PARSE_TRUNCATED, PARSE_MALFORMED } from "./wire/headers";
export * from "./coalesce";
export * from "./latency";
export * from "./descriptors";
export * from "./inflight";
export { deviceAttach, deviceQuiescent } from "./handover";
export { ringSetHead, ringSetTail } from "./ring";

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
export { PASS_LSO4, PASS_CSUM4, PASS_LSO6, PASS_CSUM6 } from "./passthrough";
export { guestPoisonCompleted, GUEST_POISON_BYTE } from "./guest_poison";
