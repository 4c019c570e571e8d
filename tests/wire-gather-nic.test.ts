// Kernel gather (issue #14) without an interface: the NIC stage's gather lists read back by the
// main thread's drainers (the frame sink and the --out writer) must give exactly the frames the
// NIC's own gather gives, for every copy mode, and the completions must wait until the wire tail
// has passed: a guest that scribbles over each buffer as soon as its completion is visible
// (VNIC_GUEST_POISON) must not change a byte — and does when the release does not wait
// (VNIC_GATHER_RELEASE_EARLY, test support), which shows the check can fail.

import { afterAll, afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PcapWriter, readCaptureFile } from "../src/capture/index.js";
import { Datapath } from "../src/datapath/datapath.js";
import { parseCopyMode } from "../src/replay/copy-options.js";

const root = path.resolve(import.meta.dirname, "..");
const captures = path.join(root, "captures");

function captureFrames(file: string): { data: Buffer; ts: bigint }[] {
  const out: { data: Buffer; ts: bigint }[] = [];
  readCaptureFile(file, (f) => out.push({ data: Buffer.from(f.data), ts: f.tsNs }));
  return out;
}

interface Run { frames: Buffer[]; counters: Record<string, bigint>; balanced: boolean }

async function run(capture: string, gather: "nic" | "kernel", params: Record<string, number> = {}, extra: { ringSlots?: number; out?: string } = {}): Promise<Run> {
  const input = captureFrames(path.join(captures, capture));
  const arena = input.reduce((s, f) => s + 16 + ((f.data.length + 7) & ~7), 0);
  const dp = new Datapath(arena, { loops: 2, params: { mtu: 1500, csumOffload: 1, ...params }, ...(extra.ringSlots ? { ringSlots: extra.ringSlots } : {}) });
  for (const f of input) dp.placeFrame(f.data, f.ts);
  const frames: Buffer[] = [];
  const writer = extra.out ? new PcapWriter(extra.out, { nanosecond: true, snapLen: 262144 }) : undefined;
  const r = await dp.run(writer ? { pcapOut: writer, wireGather: gather } : { sink: (d) => frames.push(Buffer.from(d)), wireGather: gather });
  writer?.close();
  const c = r.counters.counters as Record<string, bigint>;
  const balanced = c.guestPosted === c.guestCompleted && c.deviceCompleted === c.guestPosted;
  return { frames: writer ? captureFrames(extra.out!).map((f) => f.data) : frames, counters: c, balanced };
}

function same(a: Buffer[], b: Buffer[]): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!a[i].equals(b[i])) return i;
  return -1;
}

describe("kernel gather: the gather lists read back as the NIC's own gather", () => {
  // Which frames become gather lists: those whose checksum field (when the guest asks for one)
  // lies in the header buffer the NIC may write; large sends keep the NIC's gather.
  const cases: [string, string, number, "all" | "none"][] = [
    ["imix.pcap", "headers", 1, "all"],
    ["imix.pcap", "l3:10", 1, "none"], // the checksum field lies past the 10 IP bytes copied
    ["imix.pcap", "l3:10", 0, "all"],
    ["imix.pcap", "fixed:64", 1, "all"],
    ["imix.pcap", "fixed:63", 1, "all"], // SG pieces start at an odd offset of the checksummed span
    ["udp-mix-vlan.pcap", "full", 1, "all"],
    ["udp-1514.pcap", "none", 0, "all"],
    ["udp-1514.pcap", "none", 1, "none"],
    ["tcp-64k-v4.pcap", "headers", 1, "none"], // segments
  ];
  it.each(cases)("%s with --copy %s (csum offload %i): same frames, in order, books balanced (gather lists: %s)", async (capture, copy, csum, lists) => {
    const params = { ...parseCopyMode(copy), csumOffload: csum };
    const nic = await run(capture, "nic", params);
    const kernel = await run(capture, "kernel", params);
    expect(kernel.frames.length).toBeGreaterThan(0);
    expect(same(kernel.frames, nic.frames)).toBe(-1);
    expect(kernel.balanced).toBe(true);
    const c = kernel.counters;
    expect(c.gatherLists + c.gatherCopied + c.segments).toBe(c.wireFrames);
    expect(c.gatherLists).toBe(lists === "all" ? c.wireFrames : 0n);
    expect(nic.counters.gatherLists).toBe(0n);
  }, 60_000);

  describe("completions wait for the wire tail", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "vnic-gather-nic-"));
    afterEach(() => {
      delete process.env.VNIC_GUEST_POISON;
      delete process.env.VNIC_GATHER_RELEASE_EARLY;
    });
    const poisoned = async (early: boolean, out?: string) => {
      process.env.VNIC_GUEST_POISON = "1";
      if (early) process.env.VNIC_GATHER_RELEASE_EARLY = "1";
      return run("imix.pcap", "kernel", {}, { out });
    };

    it("a guest overwriting each buffer as soon as its completion shows changes nothing (frame sink and --out writer)", async () => {
      const want = (await run("imix.pcap", "nic")).frames;
      const sink = await poisoned(false);
      expect(sink.counters.gatherLists).toBeGreaterThan(0n);
      expect(same(sink.frames, want)).toBe(-1);
      const out = await poisoned(false, path.join(dir, "kernel.pcap"));
      expect(same(out.frames, want)).toBe(-1);
      expect(out.balanced).toBe(true);
    }, 60_000);

    it("the same guest does change what is sent when completions do not wait (the check can fail)", async () => {
      const want = (await run("imix.pcap", "nic")).frames;
      const out = await poisoned(true, path.join(dir, "early.pcap"));
      expect(out.frames.length).toBe(want.length);
      expect(same(out.frames, want)).not.toBe(-1);
      expect(out.frames.some((f) => f.includes(Buffer.alloc(16, 0xa5)))).toBe(true);
    }, 60_000);

    afterAll(() => rmSync(dir, { recursive: true, force: true }));
  });
});
