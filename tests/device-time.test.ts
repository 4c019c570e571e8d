import { describe, expect, it } from "vitest";
import { DeviceTimeSampler, SAMPLE_EVERY, estimatedSeconds } from "../src/workers/device-time.js";
import { deviceTime, type ReplayFacts } from "../src/report.js";
import type { CounterSnapshot } from "../src/counters.js";

/** Stages that take a known time per item on a fake clock (ms). */
function fakeDevice(backendMsPerItem: number, nicMsPerItem: number, items: (step: number) => [number, number]) {
  let clock = 0;
  let step = 0;
  let current: [number, number] = [0, 0];
  const backend = () => {
    current = items(step++);
    clock += current[0] * backendMsPerItem;
    return current[0];
  };
  const nic = () => {
    clock += current[1] * nicMsPerItem;
    return current[1];
  };
  return new DeviceTimeSampler(backend, nic, () => clock);
}

describe("device time split (src/workers/device-time.ts)", () => {
  it("recovers each stage's cost per item from one step in SAMPLE_EVERY, whatever the burst sizes", () => {
    // Bursts of varying size, with the NIC one step behind the backend, and idle steps between.
    const sizes = [32, 7, 0, 32, 1, 16, 0, 0, 29, 32, 3];
    const s = fakeDevice(0.00005, 0.00012, (i) => [sizes[i % sizes.length], sizes[(i + sizes.length - 1) % sizes.length]]);
    let work = 0;
    for (let i = 0; i < 11 * SAMPLE_EVERY * 50; i++) work += s.step(32);
    const t = s.split;
    expect(t.backendItems + t.nicItems).toBe(work);
    expect(t.sampledSteps).toBe(11 * 50);
    expect(estimatedSeconds(t.backendItems, t.backendSampledItems, t.backendSampledMs) * 1e9 / t.backendItems).toBeCloseTo(50, 6);
    expect(estimatedSeconds(t.nicItems, t.nicSampledItems, t.nicSampledMs) * 1e9 / t.nicItems).toBeCloseTo(120, 6);
  });

  it("reports nothing rather than a guess when no step with work was timed", () => {
    const s = fakeDevice(1, 1, () => [0, 0]);
    for (let i = 0; i < 100; i++) s.step(32);
    const facts = { snapshot: { counters: { deviceDescriptors: 0n } } as unknown as CounterSnapshot, deviceTime: s.split } as ReplayFacts;
    expect(deviceTime(facts)).toBeNull();
    expect(estimatedSeconds(10, 0, 0)).toBe(0);
  });

  it("gives the report ns per packet for each stage and the backend's rate per core", () => {
    const s = fakeDevice(0.00004, 0.0001, () => [32, 32]);
    for (let i = 0; i < 800; i++) s.step(32);
    const facts = { snapshot: { counters: { deviceDescriptors: 800n * 32n } } as unknown as CounterSnapshot, deviceTime: s.split } as ReplayFacts;
    const d = deviceTime(facts)!;
    expect(d.backendNsPerPacket).toBeCloseTo(40, 6);
    expect(d.nicNsPerPacket).toBeCloseTo(100, 6);
    expect(d.backendMppsPerCore).toBeCloseTo(25, 6);
  });
});
