// The streaming feeder (src/datapath/arena-feeder.ts) fills the arena ring on the main thread; a guest
// that found it empty sleeps on its doorbell and must be woken when frames arrive.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Datapath } from "../src/datapath/datapath.js";
import { ArenaFeeder } from "../src/datapath/arena-feeder.js";
import { PcapWriter, openCaptureStream } from "../src/capture/index.js";
import { pattern } from "./helpers/core.js";

const dir = mkdtempSync(path.join(tmpdir(), "vnic-feeder-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(frames: number): string {
  const file = path.join(dir, `c${frames}.pcap`);
  const w = new PcapWriter(file);
  for (let i = 0; i < frames; i++) w.write(pattern(100, i), BigInt(i) * 1000n);
  w.close();
  return file;
}

function rig(frames: number) {
  const dp = new Datapath(4 << 20, { streaming: true });
  const feeder = new ArenaFeeder(dp.core, openCaptureStream(capture(frames)), 1);
  const i32 = new Int32Array(dp.core.memory.buffer);
  const sleeping = dp.core.constant("STATE_GUEST_SLEEPING") >> 2;
  const bell = dp.core.constant("STATE_GUEST_DOORBELL") >> 2;
  return { feeder, i32, sleeping, bell };
}

describe("arena feeder", () => {
  it("rings the guest's doorbell when it adds frames and the guest said it sleeps", () => {
    const { feeder, i32, sleeping, bell } = rig(10);
    Atomics.store(i32, sleeping, 1);
    const before = Atomics.load(i32, bell);
    expect(feeder.fill()).toBe(10);
    expect(Atomics.load(i32, bell)).toBe(before + 1);
  });

  it("leaves the doorbell alone for a guest that is awake (no wasted notify per fill)", () => {
    const { feeder, i32, sleeping, bell } = rig(10);
    Atomics.store(i32, sleeping, 0);
    const before = Atomics.load(i32, bell);
    expect(feeder.fill()).toBe(10);
    expect(Atomics.load(i32, bell)).toBe(before);
  });

  it("rings it when it reaches the end of the capture, so a sleeping guest sees the end at once", () => {
    const { feeder, i32, sleeping, bell } = rig(0); // a capture with no frames: only the end to tell
    Atomics.store(i32, sleeping, 1);
    const before = Atomics.load(i32, bell);
    expect(feeder.fill()).toBe(0);
    expect(feeder.done).toBe(true);
    expect(Atomics.load(i32, bell)).toBe(before + 1);
  });
});
