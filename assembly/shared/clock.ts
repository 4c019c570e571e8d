// The one clock the core may read: the host's wall clock in microseconds, imported.
//
// WebAssembly has no clock of its own. The host passes `env.nowUs` when it instantiates the
// core (src/core/core.ts): (performance.timeOrigin + performance.now()) · 1000, so stamps taken on
// different threads are comparable. At ~1.7e15 µs an f64 still resolves 0.25 µs.
//
// A host call costs far more than a frame's work, so callers read it once per burst, never
// per frame. The coalescing policies never read it: time is passed in (ixy's interrupts.c
// minus its clock read).
//
// The import exists in the built module only once something reachable calls these (the guest's
// post/reclaim stamps for the latency histogram, latency.ts); from then on every instantiation
// must pass env.nowUs — src/core/core.ts does.

// @ts-ignore: decorator
@external("env", "nowUs")
declare function hostNowUs(): f64;

/** Microseconds since the Unix epoch (fractional), from the host. */
export function clockNowUs(): f64 {
  return hostNowUs();
}

/** The same in whole nanoseconds (resolution is the host's, about 0.25 µs). */
export function clockNowNs(): u64 {
  return <u64>(hostNowUs() * 1000.0);
}
