// Replay pacing, guest side. The host's guest loop computes, from the time elapsed since the
// replay started (anchored at the start, never at the previous packet, so error never
// accumulates), how far the replay may have got, and hands it in with guestSetPace():
//   --pps N         frames:  floor(elapsed · N) + 1
//   --mbps N        bytes:   elapsed · N·10^6 / 8   (the next frame goes once the bytes before
//                            it fit, whatever its own size)
//   --multiplier X  capture time: elapsed · X, against each frame's timestamp relative to the
//                   first frame (+ one capture span per completed loop)
// The guest posts while all three allow it. --topspeed leaves them unlimited.

import { ARENA_SPAN_NS, arenaLoopsDone } from "./arena";

const UNLIMITED: u64 = 0xffffffffffffffff;

let maxFrames: u64 = UNLIMITED;
let maxBytes: u64 = UNLIMITED;
let maxCaptureNs: u64 = UNLIMITED;
let frames: u64 = 0;
let bytes: u64 = 0;
let firstTs: u64 = 0;
let haveFirst: bool = false;

export function paceInit(): void {
  maxFrames = maxBytes = maxCaptureNs = UNLIMITED;
  frames = bytes = 0;
  haveFirst = false;
}

export function guestSetPace(frameLimit: u64, byteLimit: u64, captureNsLimit: u64): void {
  maxFrames = frameLimit;
  maxBytes = byteLimit;
  maxCaptureNs = captureNsLimit;
}

/** Capture time of record `rec` relative to the first frame, loops included. */
function captureOffsetNs(rec: u32): u64 {
  const ts = load<u64>(rec + 8);
  if (!haveFirst) {
    firstTs = ts;
    haveFirst = true;
  }
  const span = load<u64>(ARENA_SPAN_NS) * <u64>arenaLoopsDone();
  return (ts > firstTs ? ts - firstTs : 0) + span;
}

/** May the record at `rec` go now? */
export function paceAllows(rec: u32): bool {
  if (frames >= maxFrames || bytes >= maxBytes) return false;
  return maxCaptureNs == UNLIMITED || captureOffsetNs(rec) <= maxCaptureNs;
}

export function paceTook(len: u32): void {
  frames++;
  bytes += len;
}

/** Capture-time offset of the next record (for the host to know when it is due). */
export function paceOffsetOf(rec: u32): u64 {
  return rec == 0 ? 0 : captureOffsetNs(rec);
}

