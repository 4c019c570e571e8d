// Single-producer / single-consumer descriptor rings in shared memory.
//
// A ring is a power-of-two array of fixed-size slots plus a 256-byte control block:
//
//   +0    line 0  slots base, mask, log2(slot size)        written once by ringInit
//   +64   line 1  head (next slot to fill), cached tail     producer-owned
//   +128  line 2  tail (next slot to drain), cached head    consumer-owned
//   +192  line 3  counters: bursts published, full events  producer-owned
//
// Indices are free-running u32 values masked on access, so `head - tail` is the number of
// filled slots even across the 2^32 wrap (it never exceeds the slot count). Each side keeps a
// cached copy of the other side's index on its own line and re-reads the real one only when
// the cached value says there is not enough room (or not enough items): in steady state a
// burst costs one shared read at most and exactly one atomic store.
//
// Publication: the producer writes the slots with plain stores, then publishes the whole
// burst with one atomic (sequentially consistent) store of head; the consumer's atomic load of
// head orders its slot reads after it. The consumer releases slots the same way through tail.
//
// Full-ring policy (the only one): backpressure. ringReserve returns how many slots are free,
// possibly 0, and the producer keeps what it could not place for its next turn. Nothing here
// ever drops an item; a producer that finds the ring full counts a `fullEvents`.
//
// Style after Snabb's core/link.lua and DPDK's rte_ring (burst, not bulk, semantics).

const R_BASE: u32 = 0;
const R_MASK: u32 = 4;
const R_SHIFT: u32 = 8;
const R_HEAD: u32 = 64;
const R_CACHED_TAIL: u32 = 68;
const R_TAIL: u32 = 128;
const R_CACHED_HEAD: u32 = 132;
const R_BURSTS: u32 = 192;
const R_FULL_EVENTS: u32 = 200;
// The index words' offsets, exported for the host's test rigs (testkit/ring-reset.ts), which
// place an idle ring's indices just below 2^32 to run it across the wrap.
export const RING_CTL_HEAD: u32 = R_HEAD;
export const RING_CTL_CACHED_TAIL: u32 = R_CACHED_TAIL;
export const RING_CTL_TAIL: u32 = R_TAIL;
export const RING_CTL_CACHED_HEAD: u32 = R_CACHED_HEAD;

export function ringInit(ring: u32, slotsBase: u32, slots: u32, slotShift: u32): void {
  store<u32>(ring + R_BASE, slotsBase);
  store<u32>(ring + R_MASK, slots - 1);
  store<u32>(ring + R_SHIFT, slotShift);
  atomic.store<u32>(ring + R_HEAD, 0);
  store<u32>(ring + R_CACHED_TAIL, 0);
  atomic.store<u32>(ring + R_TAIL, 0);
  store<u32>(ring + R_CACHED_HEAD, 0);
  store<u64>(ring + R_BURSTS, 0);
  store<u64>(ring + R_FULL_EVENTS, 0);
}

/** Address of the slot for free-running index `index`. */
// @ts-ignore: decorator
@inline export function ringSlot(ring: u32, index: u32): u32 {
  return load<u32>(ring + R_BASE) + ((index & load<u32>(ring + R_MASK)) << load<u32>(ring + R_SHIFT));
}

// @ts-ignore: decorator
@inline export function ringCapacity(ring: u32): u32 {
  return load<u32>(ring + R_MASK) + 1;
}

// ---- producer side ----

/** The producer's next index (its own line: a plain load is exact). */
// @ts-ignore: decorator
@inline export function ringHead(ring: u32): u32 {
  return load<u32>(ring + R_HEAD);
}

/** How many of `want` slots the producer may fill now, starting at ringHead(). */
export function ringReserve(ring: u32, want: u32): u32 {
  const head = load<u32>(ring + R_HEAD);
  const size = load<u32>(ring + R_MASK) + 1;
  let free = size - (head - load<u32>(ring + R_CACHED_TAIL));
  if (free < want) {
    const tail = atomic.load<u32>(ring + R_TAIL);
    store<u32>(ring + R_CACHED_TAIL, tail);
    free = size - (head - tail);
    if (free == 0) store<u64>(ring + R_FULL_EVENTS, load<u64>(ring + R_FULL_EVENTS) + 1);
  }
  return free < want ? free : want;
}

/** Makes `count` filled slots visible to the consumer: one atomic store per burst. */
export function ringPublish(ring: u32, count: u32): void {
  if (count == 0) return;
  atomic.store<u32>(ring + R_HEAD, load<u32>(ring + R_HEAD) + count);
  store<u64>(ring + R_BURSTS, load<u64>(ring + R_BURSTS) + 1);
}

// ---- consumer side ----

/** The consumer's next index (its own line: a plain load is exact). */
// @ts-ignore: decorator
@inline export function ringTail(ring: u32): u32 {
  return load<u32>(ring + R_TAIL);
}

/** How many of `want` filled slots the consumer may read now, starting at ringTail(). */
export function ringAvailable(ring: u32, want: u32): u32 {
  const tail = load<u32>(ring + R_TAIL);
  let avail = load<u32>(ring + R_CACHED_HEAD) - tail;
  if (avail < want) {
    const head = atomic.load<u32>(ring + R_HEAD);
    store<u32>(ring + R_CACHED_HEAD, head);
    avail = head - tail;
  }
  return avail < want ? avail : want;
}

/** Returns `count` drained slots to the producer: one atomic store per burst. */
export function ringRelease(ring: u32, count: u32): void {
  if (count == 0) return;
  atomic.store<u32>(ring + R_TAIL, load<u32>(ring + R_TAIL) + count);
}

// ---- either side, or the host ----

/** Items in flight between the two sides, read with atomic loads (may be stale by the time
 *  the caller uses it; exact when both sides are quiescent). */
export function ringCount(ring: u32): u32 {
  return atomic.load<u32>(ring + R_HEAD) - atomic.load<u32>(ring + R_TAIL);
}

/** The consumer's index as another thread sees it (atomic). */
export function ringTailSeen(ring: u32): u32 {
  return atomic.load<u32>(ring + R_TAIL);
}

/** The producer's index as another thread sees it (atomic). */
export function ringHeadSeen(ring: u32): u32 {
  return atomic.load<u32>(ring + R_HEAD);
}

export function ringFullEvents(ring: u32): u64 {
  return load<u64>(ring + R_FULL_EVENTS);
}

export function ringBursts(ring: u32): u64 {
  return load<u64>(ring + R_BURSTS);
}

/** Hand-over (handover.ts): a new device stores a committed index again. Idempotent. */
export function ringSetHead(ring: u32, head: u32): void {
  atomic.store<u32>(ring + R_HEAD, head);
}
export function ringSetTail(ring: u32, tail: u32): void {
  atomic.store<u32>(ring + R_TAIL, tail);
}
