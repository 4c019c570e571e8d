// Places an idle, empty ring's free-running indices at `index` (both sides, and each side's
// cached copy of the other), so a test or benchmark can run the ring across the 2^32 wrap
// without 4 billion operations, or re-publish the same slots each iteration. It writes the
// control block words whose offsets the core exports (assembly/shared/ring.ts RING_CTL_*);
// the core itself has no such entry point, since nothing in a run may move an index back.

import type { Core } from "../src/core/core.js";

export function ringResetAt(core: Core, ring: number, index: number): void {
  const words = new Uint32Array(core.memory.buffer);
  const at = (name: "RING_CTL_HEAD" | "RING_CTL_TAIL" | "RING_CTL_CACHED_TAIL" | "RING_CTL_CACHED_HEAD") => (ring + core.constant(name)) >>> 2;
  Atomics.store(words, at("RING_CTL_HEAD"), index >>> 0);
  Atomics.store(words, at("RING_CTL_TAIL"), index >>> 0);
  words[at("RING_CTL_CACHED_TAIL")] = index >>> 0;
  words[at("RING_CTL_CACHED_HEAD")] = index >>> 0;
}
