// Replay pacing, guest side. From the time elapsed since the replay started (anchored at the
// start, never at the previous packet, so error never accumulates) the guest computes how far
// the replay may have got, once per burst from the clock read its post takes anyway
// (paceRefresh; the host names the rate and the start with guestPaceFrom). The limits:
//   --pps N         frames:  floor(elapsed · N) + 1
//   --mbps N        bytes:   elapsed · N·10^6 / 8   (the next frame goes once the bytes before
//                            it fit, whatever its own size)
//   --multiplier X  capture time: elapsed · X, against each frame's timestamp relative to the
//                   first frame (+ one capture span per completed loop)
// The guest posts while all three allow it. --topspeed leaves them unlimited.

import { ARENA_SPAN_NS, arenaLoopsDone } from "./arena";
import { clockNowNs } from "../shared/clock";

const UNLIMITED: u64 = 0xffffffffffffffff;

let maxFrames: u64 = UNLIMITED;
let maxBytes: u64 = UNLIMITED;
let maxCaptureNs: u64 = UNLIMITED;
let frames: u64 = 0;
let bytes: u64 = 0;
let firstTs: u64 = 0;
let haveFirst: bool = false;
// guestPaceFrom: which limit follows the clock (PACE_*), its rate, and the start.
export const PACE_NONE: u32 = 0;
export const PACE_PPS: u32 = 1;
export const PACE_MBPS: u32 = 2;
export const PACE_MULTIPLIER: u32 = 3;
let paceKind: u32 = PACE_NONE;
let paceRate: f64 = 0;
let paceStartNs: u64 = 0;

export function paceInit(): void {
  maxFrames = maxBytes = maxCaptureNs = UNLIMITED;
  frames = bytes = 0;
  haveFirst = false;
  paceKind = PACE_NONE;
}

/** Paces from `startNs` (the host's clock, clock.ts) at `rate` (frames/s, Mbit/s or the capture
 *  time's multiplier, by `kind`); the allowance then follows each burst's clock read. Computing
 *  it here, not on the host before every step, spares a paced guest that is catching up a host
 *  clock read and three BigInts per step (it posts at most a budget per step). */
export function guestPaceFrom(kind: u32, rate: f64, startNs: u64): void {
  paceKind = kind;
  paceRate = rate;
  paceStartNs = startNs;
  paceRefresh(startNs);
}

/** The same from a clock read of its own, when paced (for the guest deciding whether it may
 *  sleep: an allowance from an earlier burst could hide a frame that is due by now). */
export function paceRefreshNow(): void {
  if (paceKind != PACE_NONE) paceRefresh(clockNowNs());
}

/** The allowance at `nowNs` (frame k is due at k / rate: floor(elapsed · rate) + 1 may have gone). */
export function paceRefresh(nowNs: u64): void {
  if (paceKind == PACE_NONE) return;
  const s = <f64>(nowNs > paceStartNs ? nowNs - paceStartNs : <u64>0) / 1e9;
  if (paceKind == PACE_PPS) maxFrames = <u64>Math.floor(s * paceRate) + 1;
  else if (paceKind == PACE_MBPS) maxBytes = <u64>Math.floor((s * paceRate * 1e6) / 8) + 1;
  else maxCaptureNs = <u64>Math.floor(s * 1e9 * paceRate);
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

