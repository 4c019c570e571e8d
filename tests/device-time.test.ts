import { describe, expect, it } from "vitest";
import { DeviceTimeSampler, SAMPLE_EVERY, bucketMidNs, bucketOfNs, medianNsPerItem } from "../src/workers/device-time.js";
import { deviceTime, type ReplayFacts } from "../src/report/report.js";
import type { CounterSnapshot } from "../src/core/counters.js";

/** Stages that take a known time per item on a fake clock (ms); `stall(step)` adds a pause
 *  (the OS preempting the thread) to the backend's step. */
function fakeDevice(backendNs: number, nicNs: number, items: (step: number) => [number, number], stall = (_: number) => 0) {
  let clock = 0;
  let step = 0;
  let current: [number, number] = [0, 0];
  const backend = () => {
    clock += stall(step);
    current = items(step++);
    clock += (current[0] * backendNs) / 1e6;
    return current[0];
  };
  const nic = () => {
    clock += (current[1] * nicNs) / 1e6;
    return current[1];
  };
  return new DeviceTimeSampler(backend, nic, () => clock);
}

const facts = (s: DeviceTimeSampler, packets: number) =>
  ({ snapshot: { counters: { deviceDescriptors: BigInt(packets) } } as unknown as CounterSnapshot, deviceTime: s.split }) as ReplayFacts;

/** Within one histogram bucket (~4.4 %). */
const closeTo = (actual: number, expected: number) => expect(Math.abs(actual / expected - 1)).toBeLessThan(0.045);

describe("device time split (src/workers/device-time.ts)", () => {
  it("buckets ns per item on a log scale whose middles come back within a bucket's width", () => {
    for (const ns of [0.3, 1, 17.7, 50, 120, 999, 12_345, 500_000]) closeTo(bucketMidNs(bucketOfNs(ns)), ns);
    expect(bucketOfNs(0)).toBe(0);
    expect(bucketOfNs(Number.NaN)).toBe(0);
    expect(bucketOfNs(1e12)).toBe(bucketOfNs(1e13)); // the last bucket holds everything longer
  });

  it("recovers each stage's cost per item from one step in SAMPLE_EVERY, whatever the burst sizes", () => {
    // Bursts of varying size, the NIC one step behind the backend, and idle steps between.
    const sizes = [32, 7, 0, 32, 1, 16, 0, 0, 29, 32, 3];
    const s = fakeDevice(50, 120, (i) => [sizes[i % sizes.length], sizes[(i + sizes.length - 1) % sizes.length]]);
    let work = 0;
    for (let i = 0; i < 11 * SAMPLE_EVERY * 50; i++) work += s.step(32);
    const t = s.split;
    expect(t.backend.items + t.nic.items).toBe(work);
    expect(t.sampledSteps).toBe(11 * 50);
    closeTo(medianNsPerItem(t.backend)!, 50);
    closeTo(medianNsPerItem(t.nic)!, 120);
  });

  it("is not moved by a preempted step: 4 ms of stall in one sampled step in a hundred", () => {
    const s = fakeDevice(40, 100, () => [32, 32], (step) => (step % (SAMPLE_EVERY * 100) === SAMPLE_EVERY - 1 ? 4 : 0));
    for (let i = 0; i < SAMPLE_EVERY * 1000; i++) s.step(32);
    const d = deviceTime(facts(s, SAMPLE_EVERY * 1000 * 32))!;
    closeTo(d.backendNsPerPacket, 40); // total time ÷ items would say ~4,000 ns
    closeTo(d.nicNsPerPacket, 100);
    closeTo(d.backendMppsPerCore, 25);
    expect(d.sampledSteps).toBe(1000);
  });

  it("scales the NIC's cost per physical descriptor to per packet (a large send takes several)", () => {
    const s = fakeDevice(200, 900, () => [8, 24]); // each packet became 3 stage-1 chunks
    for (let i = 0; i < SAMPLE_EVERY * 100; i++) s.step(32);
    const d = deviceTime(facts(s, SAMPLE_EVERY * 100 * 8))!;
    closeTo(d.backendNsPerPacket, 200);
    closeTo(d.nicNsPerPacket, 2700);
  });

  it("reports nothing rather than a guess when no step with work was timed", () => {
    const s = fakeDevice(1, 1, () => [0, 0]);
    for (let i = 0; i < 100; i++) s.step(32);
    expect(medianNsPerItem(s.split.backend)).toBeNull();
    expect(deviceTime(facts(s, 0))).toBeNull();
  });
});
