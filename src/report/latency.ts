// Completion latency (post → reclaimed by the guest), read from the core's histogram
// (assembly/guest/latency.ts): percentiles are computed here, on the host, from the buckets.

export interface LatencySummary {
  count: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

interface HistogramSource {
  exports: Record<string, any>;
  constant(name: string): number;
}

/** The histogram's buckets (counts) and each bucket's lowest value in ns. */
export function readBuckets(core: HistogramSource): { counts: number[]; lowNs: number[] } {
  const n = core.constant("LAT_BUCKETS");
  const counts: number[] = [], lowNs: number[] = [];
  for (let i = 0; i < n; i++) {
    counts.push(Number(core.exports.latencyBucket(i)));
    lowNs.push(Number(BigInt.asUintN(64, core.exports.latencyBucketLowNs(i))));
  }
  return { counts, lowNs };
}

/** The q-quantile (0 < q ≤ 1) in ns: the highest value of the bucket holding the rank
 *  ceil(q·count) (HdrHistogram's convention: never under-reports), capped at the max seen. */
export function percentileNs(counts: number[], lowNs: number[], q: number, maxNs: number): number {
  const total = counts.reduce((s, c) => s + c, 0);
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= rank) return Math.min(i + 1 < lowNs.length ? lowNs[i + 1] - 1 : maxNs, maxNs);
  }
  return maxNs;
}

export function readLatency(core: HistogramSource): LatencySummary {
  const count = Number(core.exports.latencyCount());
  const maxNs = Number(core.exports.latencyMaxNs());
  const { counts, lowNs } = readBuckets(core);
  return {
    count,
    meanUs: count ? Number(core.exports.latencySumNs()) / count / 1000 : 0,
    p50Us: percentileNs(counts, lowNs, 0.5, maxNs) / 1000,
    p99Us: percentileNs(counts, lowNs, 0.99, maxNs) / 1000,
    maxUs: maxNs / 1000,
  };
}

/** The latency summary cut to what a benchmark row shows, plus the
 *  histogram itself for the HTML report. */
export type LatencyWithBuckets = Pick<LatencySummary, "count" | "p50Us" | "p99Us"> & {
  /** Non-empty histogram buckets: lower bound (ns) and count. */
  buckets: { lowNs: number; count: number }[];
};

/** p50/p99 from the core's completion-latency histogram, when this build records one. */
export function latencyFromCore(core: HistogramSource): LatencyWithBuckets | null {
  const x = core.exports;
  if (typeof x.latencyCount !== "function" || typeof x.latencyBucket !== "function") return null;
  const count = Number(x.latencyCount());
  if (count === 0) return null;
  const { counts, lowNs } = readBuckets(core);
  const buckets = counts.flatMap((c, i) => (c > 0 ? [{ lowNs: lowNs[i], count: c }] : []));
  // p50/p99 exactly as vnic replay reports them (readLatency).
  const l = readLatency(core);
  return { count, p50Us: l.p50Us, p99Us: l.p99Us, buckets };
}
