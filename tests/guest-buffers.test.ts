// The guest's buffer area (assembly/guest/guest.ts, P_guestBufferBytes): buffers cycle FIFO through
// the first guestBufferBytes of guest RAM, which the host sizes to what can be in flight.
import { describe, expect, it } from "vitest";
import { Datapath, IN_FLIGHT_BYTES_MAX, arenaRecordBytes } from "../src/datapath/datapath.js";
import { pattern } from "./helpers/core.js";
import { MAX_RECORD } from "../src/capture/types.js";

const u32 = (v: number) => v >>> 0;

/** A datapath whose guest and device are stepped by hand on this thread. */
function handDriven(frames: Uint8Array[], ringSlots: number, guestRamBytes: number) {
  const arena = frames.reduce((n, f) => n + arenaRecordBytes(f.length), 0);
  const dp = new Datapath(arena, { ringSlots, guestRamBytes, params: { wireDiscard: 1 } });
  for (const f of frames) dp.placeFrame(f, 0n);
  dp.armArena(3);
  return dp;
}

describe("guest buffer area", () => {
  it("is a ring's worth of the largest frame, at most 4 MiB but two frames, in whole pages, or all of guest RAM", () => {
    const small = handDriven([pattern(1514, 1), pattern(60, 2)], 64, 4 << 20);
    expect(small.guestBufferBytes()).toBe(Math.ceil((65 * 1514) / 4096) * 4096);
    const jumbo = handDriven([pattern(9000, 3)], 1024, 64 << 20); // 1025 × 9000 > the 4 MiB in-flight cap
    expect(jumbo.guestBufferBytes()).toBe(IN_FLIGHT_BYTES_MAX);
    const tight = handDriven([pattern(9000, 3)], 1024, 4 << 20); // the cap is all of guest RAM
    expect(tight.guestBufferBytes()).toBe(0);
    const huge = handDriven([pattern(3 << 20, 4)], 64, 64 << 20); // two of the largest frame still fit
    expect(huge.guestBufferBytes()).toBe(6 << 20);
    // Streaming, the largest frame is the longest record a capture reader accepts.
    const streaming = new Datapath(1 << 20, { streaming: true, ringSlots: 1024, guestRamBytes: 64 << 20 });
    expect(streaming.guestBufferBytes()).toBe(Math.max(IN_FLIGHT_BYTES_MAX, 2 * MAX_RECORD));
  });

  it("keeps every buffer inside the area, FIFO, wrapping at its end, and every frame completes", () => {
    const frames = Array.from({ length: 300 }, (_, i) => pattern(200 + ((i * 397) % 1315), i));
    const dp = handDriven(frames, 64, 4 << 20);
    const core = dp.core;
    const x = core.exports;
    const area = dp.guestBufferBytes();
    expect(area).toBeGreaterThan(0);
    core.setParam("guestBufferBytes", area);
    x.guestInit();
    const G = core.constant("RING_GUEST_TX");
    const placed: { gpa: number; len: number }[] = [];
    let seen = 0;
    for (let step = 0; step < 10_000 && x.guestStep(64) >= 0; step++) {
      for (const head = u32(x.ringHeadSeen(G)); seen !== head; seen = u32(seen + 1)) {
        const gd = u32(x.ringSlot(G, seen));
        placed.push({ gpa: core.view.getUint32(gd + core.constant("GD_GPA"), true), len: core.view.getUint32(gd + core.constant("GD_LEN"), true) });
      }
      x.deviceStep(64);
    }
    expect(placed).toHaveLength(900);
    expect(Number(core.counter("guestCompleted"))).toBe(900);
    expect(Number(core.counter("wireFrames"))).toBe(900);
    let wraps = 0;
    for (let i = 0; i < placed.length; i++) {
      const { gpa, len } = placed[i];
      expect(gpa + len).toBeLessThanOrEqual(area);
      if (i === 0) continue;
      const end = Math.ceil((placed[i - 1].gpa + placed[i - 1].len) / 64) * 64; // buffers start on a line
      if (gpa === end) continue;
      expect(gpa).toBe(0); // the only other place a buffer starts: back at the start of the area
      wraps++;
    }
    expect(wraps).toBeGreaterThan(5);
  });

  it("skips (and counts) a frame longer than the area rather than waiting for room that never comes", () => {
    const frames = [pattern(100, 1), pattern(8000, 2), pattern(100, 3)];
    const dp = handDriven(frames, 64, 4 << 20);
    const core = dp.core;
    const x = core.exports;
    core.setParam("guestBufferBytes", 4096); // smaller than the 8000-byte frame (a host bug or an API user's choice)
    x.guestInit();
    for (let step = 0; step < 1000 && x.guestStep(64) >= 0; step++) x.deviceStep(64);
    expect(Number(core.counter("guestFramesSkipped"))).toBe(3); // once per loop
    expect(Number(core.counter("guestCompleted"))).toBe(6);
  });
});
