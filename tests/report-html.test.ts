// The HTML report is one self-contained page: inline SVG plots, no script, nothing fetched.
import { afterAll, describe, expect, it } from "vitest";
import { readCounters } from "../src/core/counters.js";
import { benchReportHtml, coalescingSeries, rateSeries, replayReportHtml } from "../src/report/report-html.js";
import type { BenchResults, ConfigResult } from "../src/perf/bench.js";
import type { RunSample } from "../src/perf/bench-run.js";
import { spread } from "../src/perf/bench-stats.js";
import { testCore } from "./helpers/core.js";
import { DeviceTimeSampler } from "../src/workers/device-time.js";
import { fromFirstPost, largeSendRows } from "../src/report/replay-report-context.js";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const samples: RunSample[] = Array.from({ length: 6 }, (_, i) => ({
  t: 0.05 * (i + 1), wireFrames: 1000 * i * i, wireBytes: 64000 * i * i, posted: 1000 * i * i + 300, completed: 1000 * i * i,
  interrupts: 20 * i * i, bytesCopied: 64000 * i * i, bytesReferenced: 0, cpuUs: 1000 * i,
}));

function selfContained(html: string): void {
  expect(html.startsWith("<!doctype html>")).toBe(true);
  expect(html).not.toMatch(/<script|<link|<img|src=|url\(|@import/i);
  expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(4);
}

describe("HTML report", () => {
  it("derives rate over time and completions per interrupt from counter samples", () => {
    const rate = rateSeries(samples);
    expect(rate).toHaveLength(5);
    expect(rate[0][1]).toBeCloseTo(1000 / 0.05 / 1e6);
    const co = coalescingSeries(samples);
    expect(co.every(([cif, per]) => cif === 300 && per === 50)).toBe(true);
  });

  it("writes a self-contained replay page with the four plots", () => {
    const snapshot = readCounters(testCore());
    const html = replayReportHtml({
      facts: { capture: "x<y>.pcap", framesInCapture: 10, loops: 1, elapsedSeconds: 0.5, snapshot },
      samples,
      latency: { count: 10, p50Us: 12, p99Us: 40, buckets: [{ lowNs: 10_000, count: 5 }, { lowNs: 12_000, count: 4 }, { lowNs: 40_000, count: 1 }] },
    });
    selfContained(html);
    expect(html).toContain("x&lt;y&gt;.pcap");
    expect(html).toContain("not sampled (run too short)");
    for (const title of ["Rate over time", "Completion latency", "Completions per interrupt vs commands in flight", "Bytes copied into pre-translated buffers vs referenced"]) expect(html).toContain(title);
  });

  it("gives the device thread's time per packet when steps were sampled", () => {
    const snapshot = readCounters(testCore());
    snapshot.counters.deviceDescriptors = 1000n;
    const sampler = new DeviceTimeSampler(() => 10, () => 10, (() => { let t = 0; return () => (t += 0.0005); })());
    for (let i = 0; i < 800; i++) sampler.step(32);
    const html = replayReportHtml({ facts: { capture: "c.pcap", framesInCapture: 1000, loops: 1, elapsedSeconds: 1, snapshot, deviceTime: sampler.split }, samples, latency: null });
    // 0.5 µs per 10-item step = 50 ns per item, and 8000 items over 1000 packets: 400 ns per packet.
    expect(html).toMatch(/backend 4\d\d\.\d ns \(2\.\d\d Mpps per core\), NIC model 4\d\d\.\d ns/);
  });

  it("says so when the core records no latency", () => {
    const snapshot = readCounters(testCore());
    const html = replayReportHtml({ facts: { capture: "c.pcap", framesInCapture: 1, loops: 1, elapsedSeconds: 1, snapshot }, samples: [], latency: null });
    selfContained(html);
    expect(html).toContain("no latency recorded");
  });

  it("writes a self-contained bench page", () => {
    const s = spread([1e6, 1.1e6, 0.9e6]);
    const result = (capture: string, coalesce: "none" | "adaptive"): ConfigResult => ({
      id: `${capture}/${coalesce}/headers`, config: { capture, coalesce, copy: "headers" }, captureDescription: capture, loops: 1,
      pps: s, dps: s, wireGbps: s, wireGbpsWithOverhead: s, cpuNsPerPacket: s, backendNsPerPacket: spread([41.5]), nicNsPerPacket: spread([77.25]), normalized: s, inlinePpsPerCpu: s, inlineNormalized: s, inlineLoops: 1,
      latencyP50Us: 10, latencyP99Us: 30, completionsPerInterrupt: 4, bytesCopiedPerDescriptor: 64, bytesReferencedPerDescriptor: 1450,
      dropsPerTrial: 0, foreignCores: 0.1,
      trials: { pps: [1e6], normalized: [1], calibration: [1], foreignCores: [0.1], inlinePpsPerCpu: [1e6], inlineNormalized: [1] },
      samples, latencyBuckets: [{ lowNs: 9000, count: 3 }], latencyLast: { p50Us: 9.5, p99Us: 9.9 },
    });
    const b: BenchResults = {
      schema: "vnic-bench/1", date: "2026-01-01T00:00:00Z",
      machine: { cpuModel: "cpu", cores: 2, node: "v20", v8: "11", platform: "linux-x64", loadavg: [0, 0, 0], hostname: "h" },
      git: { commit: "0123456789abcdef", dirty: false }, options: { trials: 3, seconds: 0.3, slowdownNs: 0, quick: false },
      calibration: s, results: [result("64", "none"), result("64", "adaptive"), result("1514", "adaptive")], wallSeconds: 1,
    };
    const html = benchReportHtml(b);
    selfContained(html);
    expect(html).toContain("64/adaptive/headers");
    expect(html).toContain("<td>41.5 / 77.3</td>");
  });

  it("puts the first post at t = 0: earlier samples left out, one zero sample at the origin", () => {
    const wall = samples.map((x) => 1e15 + x.t * 1e6); // sample i taken at 1e15 µs + t
    const firstPostUs = 1e15 + 0.12e6; // between the second (0.10 s) and third (0.15 s) sample
    const re = fromFirstPost(samples, wall, firstPostUs);
    expect(re[0]).toMatchObject({ t: 0, wireFrames: 0, posted: 0 });
    expect(re.slice(1).map((x) => x.wireFrames)).toEqual(samples.slice(2).map((x) => x.wireFrames));
    expect(re[1].t).toBeCloseTo(0.03, 9);
    expect(fromFirstPost(samples, [], undefined)).toBe(samples); // no first post known: as taken
  });

  it("lists the large sends, with USO and tunnels only where present", () => {
    const snapshot = readCounters(testCore());
    expect(largeSendRows(snapshot)).toBeNull();
    Object.assign(snapshot.counters, { superPackets: 4n, usoSuperPackets: 1n, tunnelSuperPackets: 0n, stage1Chunks: 2n, segments: 90n });
    const rows = Object.fromEntries(largeSendRows(snapshot)!.map(([k, v]) => [k.trim(), v]));
    expect(rows["super-packets (large-send descriptors)"]).toBe("4");
    expect(rows["of which UDP segmentation (USO, GSO_UDP_L4)"]).toBe("1");
    expect(rows["of which tunnelled (VXLAN/Geneve)"]).toBeUndefined();
    expect(rows["segments per super-packet"]).toBe("22.50");
  });
});

describe("vnic replay --report", () => {
  const root = path.resolve(import.meta.dirname, "..");
  const dir = mkdtempSync(path.join(tmpdir(), "vnic-report-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (capture: string, extra: string[]) => {
    const file = path.join(dir, `${path.basename(capture)}.html`);
    const r = spawnSync(process.execPath, [path.join(root, "bin", "vnic.js"), "replay", path.join(root, "captures", capture), "--report", file, ...extra], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`wrote report to ${file}`);
    return readFileSync(file, "utf8");
  };

  it("gives the options, the commit, the machine, and a time axis from the first post", () => {
    const html = run("udp-64.pcap", ["--loop", "20", "--pps", "400000", "--mtu", "1400"]);
    selfContained(html);
    expect(html).toContain("vnic replay " + path.join(root, "captures", "udp-64.pcap") + " --report");
    expect(html).toMatch(/<td class="l">pace<\/td><td class="l">kind=pps, rate=400000<\/td>/);
    expect(html).toMatch(/mtu=1400, /);
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    expect(html).toContain(head);
    expect(html).toMatch(/\d+ cores, linux-/);
    expect(html).toContain("time since the first post (s)");
    expect(html).toContain("No large sends in this run");
  });

  it.each([
    ["linux-gso/uso-v4-1200.in.pcap", "of which UDP segmentation (USO, GSO_UDP_L4)</td><td>2</td>"],
    ["linux-gso/vxlan-v4-csum.in.pcap", "of which tunnelled (VXLAN/Geneve)</td><td>11</td>"],
    ["linux-gso/v4-bigtcp.in.pcap", "stage-1 chunks (cut for the NIC's largest send)</td><td>16</td>"],
  ])("has a large-send section (%s)", (capture, expected) => {
    const html = run(capture, []);
    expect(html).toContain("<h2>Large sends</h2>");
    expect(html).toContain(expected);
  });
});
