// The Linux kernel as the oracle (docs/design.md §7): every `*.in.pcap` holds the super-packets a
// Linux stack posted, its `*.out.pcap` what the kernel's software GSO put on the wire at MTU
// 1500. The real datapath (replay(): capture → guest worker → device worker → --out) must put
// the same TCP frames on the wire, byte for byte and in order — whatever the stage-1 NIC limit
// (stage 1 must not change the result) and whatever the copy mode (a large send copies its
// headers in every mode). Non-TCP frames (the bridge's own IPv6 neighbour discovery) are not
// compared.
//
// Pairs: ../shared/captures/linux-gso/ and the repo's captures/linux-gso/, whatever exists.

import { afterAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { readCaptureFile } from "../src/capture/index.js";
import { replay } from "../src/replay/replay.js";
import { parseCopyMode } from "../src/replay/copy-options.js";
import { isTcpFrame, isUdpFrame } from "./helpers/lso-frames.js";

const root = path.resolve(import.meta.dirname, "..");
const DIRS = [path.resolve(root, "../shared/captures/linux-gso"), path.join(root, "captures/linux-gso")];
const out = mkdtempSync(path.join(tmpdir(), "vnic-lso-oracle-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function pairs(): { name: string; input: string; expected: string }[] {
  const found: { name: string; input: string; expected: string }[] = [];
  for (const dir of DIRS) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith(".in.pcap")) continue;
      const expected = path.join(dir, f.replace(/\.in\.pcap$/, ".out.pcap"));
      if (!existsSync(expected)) continue;
      found.push({ name: `${path.relative(root, dir)}/${f.replace(/\.in\.pcap$/, "")}`, input: path.join(dir, f), expected });
    }
  }
  return found;
}

/** The frames compared: TCP and UDP (USO segments, tunnels' outer UDP) — not the hosts' own
 *  ARP / neighbour discovery / MLD. */
function tcpFrames(file: string): Uint8Array[] {
  const frames: Uint8Array[] = [];
  readCaptureFile(file, (f) => {
    if (isTcpFrame(f.data) || isUdpFrame(f.data)) frames.push(new Uint8Array(f.data));
  });
  return frames;
}

const CONFIGS = [
  { label: "--nic-max-lso 65536 (default)", nicMaxLso: 65536, copy: "headers" },
  { label: "--nic-max-lso 16384", nicMaxLso: 16384, copy: "headers" },
  { label: "--copy none", nicMaxLso: 65536, copy: "none" },
  { label: "--copy l3:10 --nic-max-lso 16384", nicMaxLso: 16384, copy: "l3:10" },
  { label: "--nic-tunnel-lso off --copy none", nicMaxLso: 65536, copy: "none", nicTunnelLsoOff: 1 },
];

const found = pairs();
console.log(`lso-oracle: kernel pairs found: ${found.map((p) => p.name).join(", ") || "none"}`);
if (!existsSync(DIRS[0])) console.log(`lso-oracle: ${DIRS[0]} is absent: the shared kernel pair is skipped`);

describe.skipIf(found.length === 0)("LSO against the Linux kernel's own segmentation", () => {
  const expectedCache = new Map<string, Uint8Array[]>();
  const cases = found.flatMap((p) => CONFIGS.map((c) => ({ ...p, ...c })));

  it.each(cases)("$name: TCP/UDP frames byte-identical to the kernel's, in order, $label", async (c) => {
    let expected = expectedCache.get(c.expected);
    if (!expected) expectedCache.set(c.expected, (expected = tcpFrames(c.expected)));
    expect(expected.length).toBeGreaterThan(0);
    const file = path.join(out, `${path.basename(c.input, ".in.pcap")}-${c.nicMaxLso}-${c.copy.replace(":", "")}-${c.nicTunnelLsoOff ?? 0}.pcap`);
    const r = await replay({
      capture: c.input,
      out: file,
      params: { mtu: 1500, nicMaxLso: c.nicMaxLso, nicTunnelLsoOff: c.nicTunnelLsoOff ?? 0, ...parseCopyMode(c.copy) },
      loops: 1,
      limit: 0,
    });
    const got = tcpFrames(file);
    rmSync(file);
    // The super-packets went through the LSO path (stage 1 split them at 16384), none refused.
    const k = r.snapshot.counters;
    expect(k.superPackets).toBeGreaterThan(0n);
    if (c.nicTunnelLsoOff && c.name.includes("vxlan")) expect(k.segments).toBe(0n); // stage 1 did every segment
    if (c.nicMaxLso < 65536) expect(k.stage1Chunks).toBeGreaterThan(0n); // every pair holds packets over 16 KiB
    expect(Object.entries(r.snapshot.drops).filter(([, n]) => n > 0n)).toEqual([]);
    expect(got.length).toBe(expected.length);
    for (let i = 0; i < got.length; i++) {
      if (!Buffer.from(got[i]).equals(Buffer.from(expected[i]))) {
        const a = got[i], b = expected[i];
        let j = 0;
        while (j < Math.min(a.length, b.length) && a[j] === b[j]) j++;
        expect.fail(`frame ${i} (TCP frames only) differs from the kernel's at byte ${j} (lengths ${a.length} vs ${b.length})`);
      }
    }
  }, 120_000);
});

