// Statistics and provenance for benchmarks and the regression gate: medians and spread, a
// seeded bootstrap interval for a ratio of medians, a Student-t interval (the machine a figure
// was measured on is src/util/testbed.ts). Plain functions over number arrays; nothing here reads a clock.

import { Rng } from "../util/rng.js";

/** The q-quantile (0..1) of `xs` by linear interpolation between order statistics. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export const median = (xs: readonly number[]): number => quantile(xs, 0.5);

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function stddev(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Median and spread of a set of samples, as reported everywhere. */
export interface Spread {
  n: number;
  median: number;
  min: number;
  max: number;
  p25: number;
  p75: number;
  /** Median absolute deviation / median: a robust relative spread (0.02 = 2 %). */
  rmad: number;
}

export function spread(xs: readonly number[]): Spread {
  const m = median(xs);
  return {
    n: xs.length,
    median: m,
    min: xs.length ? Math.min(...xs) : Number.NaN,
    max: xs.length ? Math.max(...xs) : Number.NaN,
    p25: quantile(xs, 0.25),
    p75: quantile(xs, 0.75),
    rmad: m !== 0 ? median(xs.map((x) => Math.abs(x - m))) / Math.abs(m) : 0,
  };
}

/** A seeded uniform generator in [0, 1) (src/util/rng.ts): bootstrap intervals are reproducible. */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

export interface Interval {
  estimate: number;
  lo: number;
  hi: number;
  level: number;
}

/**
 * Percentile-bootstrap interval of median(current) / median(base): both samples resampled
 * with replacement, `resamples` times, seeded. Carries the noise of both sides.
 */
export function bootstrapRatioOfMedians(current: readonly number[], base: readonly number[], level = 0.95, resamples = 4000, seed = 0x7a7e): Interval {
  const r = rng(seed);
  const pick = (xs: readonly number[]) => {
    const out = new Array<number>(xs.length);
    for (let i = 0; i < xs.length; i++) out[i] = xs[Math.floor(r() * xs.length)];
    return out;
  };
  const ratios: number[] = [];
  for (let i = 0; i < resamples; i++) ratios.push(median(pick(current)) / median(pick(base)));
  const a = (1 - level) / 2;
  return { estimate: median(current) / median(base), lo: quantile(ratios, a), hi: quantile(ratios, 1 - a), level };
}

// Two-sided Student t critical values for 95 % and 99 % (df 1..30; larger df use the normal).
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];
const T99 = [63.657, 9.925, 5.841, 4.604, 4.032, 3.707, 3.499, 3.355, 3.25, 3.169, 3.106, 3.055, 3.012, 2.977, 2.947,
  2.921, 2.898, 2.878, 2.861, 2.845, 2.831, 2.819, 2.807, 2.797, 2.787, 2.779, 2.771, 2.763, 2.756, 2.75];

export function tCritical(df: number, level: 0.95 | 0.99): number {
  const table = level === 0.99 ? T99 : T95;
  if (df < 1) return Number.POSITIVE_INFINITY;
  return df <= table.length ? table[df - 1] : level === 0.99 ? 2.576 : 1.96;
}

/** Welch t-interval of mean(log current) − mean(log base), returned as a ratio interval. */
export function welchLogRatio(current: readonly number[], base: readonly number[], level: 0.95 | 0.99 = 0.95): Interval {
  const lc = current.map(Math.log), lb = base.map(Math.log);
  const vc = stddev(lc) ** 2 / lc.length, vb = stddev(lb) ** 2 / lb.length;
  const se = Math.sqrt(vc + vb);
  const df = se === 0 ? 1e9 : (vc + vb) ** 2 / ((vc * vc) / Math.max(1, lc.length - 1) + (vb * vb) / Math.max(1, lb.length - 1));
  const d = mean(lc) - mean(lb);
  const t = tCritical(Math.floor(df), level);
  return { estimate: Math.exp(d), lo: Math.exp(d - t * se), hi: Math.exp(d + t * se), level };
}

/** 1234567 → "1.23 M" (for tables). */
export function si(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return "n/a";
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toPrecision(digits) + " G";
  if (a >= 1e6) return (v / 1e6).toPrecision(digits) + " M";
  if (a >= 1e3) return (v / 1e3).toPrecision(digits) + " k";
  return v.toPrecision(digits) + " ";
}

export const pct = (x: number, digits = 1): string => (Number.isFinite(x) ? (x * 100).toFixed(digits) + " %" : "n/a");

/** Percentile-bootstrap interval of the median of one sample (e.g. paired A/B ratios). */
export function bootstrapMedian(xs: readonly number[], level = 0.95, resamples = 4000, seed = 0xab): Interval {
  const r = rng(seed);
  const meds: number[] = [];
  const pick = new Array<number>(xs.length);
  for (let i = 0; i < resamples; i++) {
    for (let j = 0; j < xs.length; j++) pick[j] = xs[Math.floor(r() * xs.length)];
    meds.push(median(pick));
  }
  const a = (1 - level) / 2;
  return { estimate: median(xs), lo: quantile(meds, a), hi: quantile(meds, 1 - a), level };
}
