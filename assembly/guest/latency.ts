// Completion-latency histogram: post → delivered (reclaimed by the guest), in nanoseconds.
//
// Log-linear buckets (HdrHistogram's shape with 3 sub-bucket bits): values below 8 ns have a
// bucket each; above, every power of two is split into 8 equal buckets, so a bucket is at most
// 12.5% wide and 320 buckets reach 2^41 ns (36 minutes). Recording is a clz, two shifts and
// one add — cheap enough per completion; the clock is read once per burst by the caller
// (clock.ts), never per frame.
//
// One writer: the thread that reclaims completions (the guest), which also stamps the post
// time (once per post burst) — so both stamps come from one thread's clock. The host reads the
// buckets after the run (src/report/latency.ts computes p50/p99).
//
//   HISTOGRAM_BASE + 0    u64 count      + 8  u64 sum of ns      + 16 u64 max ns
//   HISTOGRAM_BASE + 64   u64 × LAT_BUCKETS

import { HISTOGRAM_BASE } from "../shared/layout";

export const LAT_SUB_BITS: u32 = 3;
export const LAT_BUCKETS: u32 = 320;
const H_COUNT: u32 = HISTOGRAM_BASE;
const H_SUM: u32 = HISTOGRAM_BASE + 8;
const H_MAX: u32 = HISTOGRAM_BASE + 16;
const H_BUCKETS: u32 = HISTOGRAM_BASE + 64;

/** Bucket of a latency of `ns` nanoseconds. */
// @ts-ignore: decorator
@inline export function latencyBucketOf(ns: u64): u32 {
  if (ns < (1 << LAT_SUB_BITS)) return <u32>ns;
  const e = <u32>(63 - clz(ns)); // ≥ LAT_SUB_BITS
  const i = ((e - LAT_SUB_BITS + 1) << LAT_SUB_BITS) + (<u32>(ns >> (e - LAT_SUB_BITS)) & ((1 << LAT_SUB_BITS) - 1));
  return i < LAT_BUCKETS ? i : LAT_BUCKETS - 1;
}

/** Smallest value (ns) that falls in bucket `i`. */
export function latencyBucketLowNs(i: u32): u64 {
  if (i < (1 << LAT_SUB_BITS)) return i;
  const e = (i >> LAT_SUB_BITS) + LAT_SUB_BITS - 1;
  return (<u64>((1 << LAT_SUB_BITS) | (i & ((1 << LAT_SUB_BITS) - 1)))) << (e - LAT_SUB_BITS);
}

/** Records one latency. Single writer; plain loads and stores. */
// @ts-ignore: decorator
@inline export function latencyRecordNs(ns: u64): void {
  const at = H_BUCKETS + (latencyBucketOf(ns) << 3);
  store<u64>(at, load<u64>(at) + 1);
  store<u64>(H_COUNT, load<u64>(H_COUNT) + 1);
  store<u64>(H_SUM, load<u64>(H_SUM) + ns);
  if (ns > load<u64>(H_MAX)) store<u64>(H_MAX, ns);
}

/** Records `n` completions posted at `postNs` and reclaimed at `nowNs` (one burst's worth, or
 *  a test's). A stamp later than now (clocks of two threads) counts as 0. */
export function latencyRecord(nowNs: u64, postNs: u64, n: u32): void {
  const ns = nowNs > postNs ? nowNs - postNs : 0;
  for (let i: u32 = 0; i < n; i++) latencyRecordNs(ns);
}

export function latencyReset(): void {
  memory.fill(HISTOGRAM_BASE, 0, 64 + LAT_BUCKETS * 8);
}

export function latencyCount(): u64 {
  return atomic.load<u64>(H_COUNT);
}

export function latencySumNs(): u64 {
  return atomic.load<u64>(H_SUM);
}

export function latencyMaxNs(): u64 {
  return atomic.load<u64>(H_MAX);
}

export function latencyBucket(i: u32): u64 {
  return i < LAT_BUCKETS ? atomic.load<u64>(H_BUCKETS + (i << 3)) : 0;
}
