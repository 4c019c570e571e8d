import { describe, expect, it } from "vitest";
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { testCore, u32 } from "./helpers/core.js";
import { ringResetAt } from "../testkit/ring-reset.js";

const RING_SLOTS = 64;

function ringOf(name = "RING_USED") {
  const core = testCore({ ringSlots: RING_SLOTS });
  return { core, x: core.exports, ring: core.constant(name) };
}

describe("SPSC ring (assembly/shared/ring.ts)", () => {
  it("reserves at most the free slots, publishes and drains in order", () => {
    const { x, ring, core } = ringOf();
    expect(x.ringReserve(ring, 10)).toBe(10);
    for (let i = 0; i < 10; i++) core.view.setUint32(u32(x.ringSlot(ring, u32(x.ringHead(ring)) + i)), 100 + i, true);
    expect(x.ringAvailable(ring, 32)).toBe(0); // nothing published yet
    x.ringPublish(ring, 10);
    expect(x.ringAvailable(ring, 32)).toBe(10);
    const tail = u32(x.ringTail(ring));
    const got = Array.from({ length: 10 }, (_, i) => core.view.getUint32(u32(x.ringSlot(ring, tail + i)), true));
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => 100 + i));
    x.ringRelease(ring, 10);
    expect(x.ringCount(ring)).toBe(0);
  });

  it("applies backpressure when full: never more than the capacity, and counts the full event", () => {
    const { x, ring } = ringOf();
    expect(x.ringReserve(ring, 1000)).toBe(RING_SLOTS);
    x.ringPublish(ring, RING_SLOTS);
    expect(x.ringReserve(ring, 1)).toBe(0);
    expect(x.ringFullEvents(ring)).toBe(1n);
    x.ringRelease(ring, 5);
    expect(x.ringReserve(ring, 32)).toBe(5);
  });

  it("keeps counting correctly across the 2^32 index wrap", () => {
    const { x, ring, core } = ringOf();
    ringResetAt(core, ring, 0xffffffff - 20);
    let expectNext = 0;
    let next = 0;
    for (let round = 0; round < 10; round++) {
      const n = x.ringReserve(ring, 13);
      const head = u32(x.ringHead(ring));
      for (let i = 0; i < n; i++) core.view.setUint32(u32(x.ringSlot(ring, (head + i) >>> 0)), next++, true);
      x.ringPublish(ring, n);
      const m = x.ringAvailable(ring, 64);
      const tail = u32(x.ringTail(ring));
      for (let i = 0; i < m; i++) expect(core.view.getUint32(u32(x.ringSlot(ring, (tail + i) >>> 0)), true)).toBe(expectNext++);
      x.ringRelease(ring, m);
    }
    expect(expectNext).toBe(130);
    expect(u32(x.ringHead(ring))).toBe((0xffffffff - 20 + 130) >>> 0);
  });

  it("publishes one burst with one store: a consumer sees all of it or none of it", () => {
    const { x, ring } = ringOf();
    x.ringReserve(ring, 8);
    x.ringPublish(ring, 8);
    expect(x.ringBursts(ring)).toBe(1n);
    expect(x.ringAvailable(ring, 64)).toBe(8);
  });

  it("moves 10^6 self-checking sequence numbers between two real threads in random bursts, in order, none lost or duplicated", async () => {
    const { core, x, ring } = ringOf();
    const total = 1_000_000;
    const worker = new Worker(fileURLToPath(new URL("./helpers/ring-producer.mjs", import.meta.url)), {
      workerData: { module: core.module, memory: core.memory, ring, total, seed: 42, maxBurst: 48 },
    });
    const done = new Promise<{ produced: number }>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    const view = core.view;
    let s = 7;
    const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) >>> 8);
    let expected = 0;
    let bad = 0;
    const deadline = Date.now() + 30_000;
    while (expected < total && Date.now() < deadline) {
      const n = x.ringAvailable(ring, 1 + (rand() % 48));
      const tail = u32(x.ringTail(ring));
      for (let i = 0; i < n; i++) {
        const slot = u32(x.ringSlot(ring, (tail + i) >>> 0));
        const seq = view.getUint32(slot, true);
        if (seq !== expected || view.getUint32(slot + 4, true) !== ~seq >>> 0) bad++;
        expected++;
      }
      x.ringRelease(ring, n);
    }
    const result = await done;
    await worker.terminate();
    expect(bad).toBe(0);
    expect(expected).toBe(total);
    expect(result.produced).toBe(total);
    expect(x.ringCount(ring)).toBe(0);
  });
});
