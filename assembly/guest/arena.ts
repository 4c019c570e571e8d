// The capture arena: where the host places capture frames for the guest to copy from.
//
// Record: [u32 captured length][u32 original length][u64 timestamp ns][bytes, padded to 8].
//
// Two modes, chosen by the host (ARENA_STREAMING):
//   preload    all records of a capture, once; the guest walks them ARENA_LOOPS times (like
//              tcpreplay -K: loops and benchmarks measure the datapath, not the reader).
//   streaming  a byte ring the host keeps refilling from a capture too large to preload
//              (--preload-limit): head is the host's (free-running byte count, published
//              with one atomic store per batch), tail the guest's (published once per burst).
//              A record never wraps: ARENA_WRAP in its length says "continue at offset 0".
//              ARENA_EOF says the host has written its last record. Memory stays bounded.
// Either way, ARENA_LIMIT caps the frames taken in all (--limit).

import { STATE_ARENA, STATE_ARENA_CONSUMER, arenaBase } from "../shared/layout";

export const ARENA_RECORD_HEADER: u32 = 16;
export const ARENA_WRAP: u32 = 0xffffffff;
// Host-written (STATE_ARENA line).
export const ARENA_BYTES: u32 = STATE_ARENA + 0; // u32 preload: bytes of records; streaming: ring size (2^n)
export const ARENA_FRAMES: u32 = STATE_ARENA + 4; // u32 preload: records
export const ARENA_LOOPS: u32 = STATE_ARENA + 8; // u32 preload: passes over the arena (≥ 1)
export const ARENA_STREAMING: u32 = STATE_ARENA + 12; // u32 1: the arena is a ring the host refills
export const ARENA_LIMIT: u32 = STATE_ARENA + 16; // u64 frames to take in all (0: no limit)
export const ARENA_SPAN_NS: u32 = STATE_ARENA + 24; // u64 preload: last − first timestamp + 1 gap
export const ARENA_HEAD: u32 = STATE_ARENA + 32; // u32 streaming: bytes written (free-running)
export const ARENA_EOF: u32 = STATE_ARENA + 36; // u32 streaming: 1 once the last record is in
// Guest-written (its own line).
export const ARENA_TAIL: u32 = STATE_ARENA_CONSUMER + 0; // u32 streaming: bytes consumed

let streaming: bool = false;
let size: u32 = 0;
let cursor: u32 = 0; // preload: offset of the next record; streaming: free-running tail
let loopsDone: u32 = 0;
let taken: u64 = 0;
let exhausted: bool = false;

export function arenaInit(): void {
  streaming = load<u32>(ARENA_STREAMING) != 0;
  size = load<u32>(ARENA_BYTES);
  cursor = 0;
  loopsDone = 0;
  taken = 0;
  exhausted = streaming ? false : load<u32>(ARENA_FRAMES) == 0 || load<u32>(ARENA_LOOPS) == 0;
  if (streaming) atomic.store<u32>(ARENA_TAIL, 0);
}

/** True once every frame the arena will ever offer has been taken. */
export function arenaExhausted(): bool {
  if (!exhausted && streaming && atomic.load<u32>(ARENA_EOF) != 0 && atomic.load<u32>(ARENA_HEAD) == cursor) {
    exhausted = true;
  }
  return exhausted;
}

/** Passes completed over a preloaded arena (for capture-time pacing across loops). */
export function arenaLoopsDone(): u32 {
  return loopsDone;
}

/** Address of the next record, or 0 when none is available now (or ever: arenaExhausted). */
export function arenaNext(): u32 {
  if (exhausted) return 0;
  if (!streaming) return arenaBase + cursor;
  const head = atomic.load<u32>(ARENA_HEAD);
  if (head == cursor) return 0;
  let rec = arenaBase + (cursor & (size - 1));
  if (load<u32>(rec) == ARENA_WRAP) {
    cursor += size - (cursor & (size - 1));
    if (head == cursor) return 0;
    rec = arenaBase + (cursor & (size - 1));
  }
  return rec;
}

/** Moves past the record arenaNext returned (captured length `len`). */
export function arenaTake(len: u32): void {
  taken++;
  cursor += ARENA_RECORD_HEADER + ((len + 7) & ~7);
  if (!streaming && cursor >= load<u32>(ARENA_BYTES)) {
    cursor = 0;
    loopsDone++;
    if (loopsDone >= load<u32>(ARENA_LOOPS)) exhausted = true;
  }
  const limit = load<u64>(ARENA_LIMIT);
  if (limit != 0 && taken >= limit) exhausted = true;
}

/** Streaming: hands the consumed bytes back to the host (once per burst). */
export function arenaPublish(): void {
  if (streaming) atomic.store<u32>(ARENA_TAIL, cursor);
}

/** Graceful stop: take nothing more. */
export function arenaClose(): void {
  exhausted = true;
}
