// The project's one seeded generator: mulberry32 (32-bit state, full period 2^32), so every run
// of a simulated schedule, a generated capture, a bootstrap interval or a chaos kill schedule is
// the same run for the same seed.

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** 32 uniform bits. */
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }
  /** Integer in [0, n), as u32 mod n (the capture generator's choices). */
  below(n: number): number {
    return this.u32() % n;
  }
  /** n random bytes. */
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.below(256));
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** Exponential with the given mean (Poisson inter-arrival times). */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }
}
