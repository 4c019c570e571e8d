// --timestamps capture|send (README "Commands"): what times --out gives the transmitted frames.
import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { readCaptureFile } from "../src/capture/index.js";

const root = path.resolve(import.meta.dirname, "..");
const vnic = path.join(root, "bin", "vnic.js");
const captures = path.join(root, "captures");
const dir = mkdtempSync(path.join(tmpdir(), "vnic-timestamps-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function replay(capture: string, out: string, extra: string[]) {
  const r = spawnSync(process.execPath, [vnic, "replay", path.join(captures, capture), "--out", out, "-q", ...extra], { encoding: "utf8", timeout: 60_000 });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
}

function frames(file: string) {
  const list: { tsNs: bigint; data: Buffer }[] = [];
  const info = readCaptureFile(file, (f) => list.push({ tsNs: f.tsNs, data: Buffer.from(f.data) }));
  return { info, list };
}

const epochNs = () => BigInt(Date.now()) * 1_000_000n;

describe("--timestamps", () => {
  it("capture (the default) keeps the capture's own timestamps, loop after loop", () => {
    const input = frames(path.join(captures, "imix.pcap")).list;
    const dflt = path.join(dir, "default.pcap");
    const capture = path.join(dir, "capture.pcap");
    replay("imix.pcap", dflt, ["--loop", "3"]);
    replay("imix.pcap", capture, ["--loop", "3", "--timestamps", "capture"]);
    const a = frames(dflt).list;
    const b = frames(capture).list;
    expect(a.length).toBe(3 * input.length);
    expect(b.length).toBe(a.length);
    a.forEach((f, i) => {
      expect(f.tsNs).toBe(input[i % input.length].tsNs);
      expect(b[i].tsNs).toBe(f.tsNs);
    });
  });

  it.each([
    ["imix.pcap", []],
    ["imix.pcap", ["--preload-limit", "0"]], // streamed
    ["tcp-64k-v4.pcap", []], // large sends: every segment stamped by its burst
  ])("send stamps the time each frame left the NIC stage, non-decreasing across loops (%s %j)", (capture, extra) => {
    const out = path.join(dir, `send-${capture}-${extra.length}.pcap`);
    const reference = path.join(dir, `ref-${capture}-${extra.length}.pcap`);
    const before = epochNs();
    replay(capture, out, ["--loop", "4", "--timestamps", "send", ...extra]);
    const after = epochNs();
    replay(capture, reference, ["--loop", "4", ...extra]);
    const sent = frames(out);
    const ref = frames(reference).list;
    expect(sent.info.nanosecond).toBe(true); // the send clock resolves below a microsecond
    expect(sent.list.length).toBe(ref.length);
    let previous = 0n;
    sent.list.forEach((f, i) => {
      expect(f.data.equals(ref[i].data)).toBe(true); // only the times differ
      expect(f.tsNs).toBeGreaterThanOrEqual(previous);
      previous = f.tsNs;
    });
    // Taken during the run: after this process started it, before it returned.
    expect(sent.list[0].tsNs).toBeGreaterThanOrEqual(before - 2_000_000n);
    expect(previous).toBeLessThanOrEqual(after + 2_000_000n);
    // And not one stamp for the whole run: the frames left in many bursts.
    expect(new Set(sent.list.map((f) => f.tsNs)).size).toBeGreaterThan(1);
  });

  it("anything else is a usage error in one line", () => {
    const r = spawnSync(process.execPath, [vnic, "replay", path.join(captures, "udp-64.pcap"), "--timestamps", "wall"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^vnic: --timestamps takes capture or send, not "wall"/);
  });
});
