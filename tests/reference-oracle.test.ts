// The Linux kernel as oracle: for each recorded pair, the reference's output TCP frames must be
// byte-identical, in order, to the TCP frames the kernel put on the wire (software GSO and
// checksums at MTU 1500). Non-TCP frames are left out on both sides: the bridge emits its own
// IPv6 neighbour discovery and ARP. One-stage and two-stage (stage 1 at several NIC limits)
// must both match.

import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readCaptureFile } from "../src/capture/index.js";
import {
  OffloadOptions, checksumOffload, checksumRequest, completeChecksum, defaultMss, isLargeSend, offloadFrame,
  parseFrame, parseTunnel, segmentTcp, segmentTunnel, segmentUdp, stage1Split,
} from "../src/reference/index.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const sharedDir = resolve(repoRoot, "../shared/captures/linux-gso");
const ownDir = resolve(repoRoot, "captures/linux-gso");
const MTU = 1500;

interface Pair {
  name: string;
  inFile: string;
  outFile: string;
}

function pairsIn(dir: string): Pair[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".in.pcap"))
    .sort()
    .map((f) => ({ name: f.replace(/\.in\.pcap$/, ""), inFile: join(dir, f), outFile: join(dir, f.replace(/\.in\.pcap$/, ".out.pcap")) }))
    .filter((p) => existsSync(p.outFile));
}

function readFrames(file: string): Uint8Array[] {
  const frames: Uint8Array[] = [];
  readCaptureFile(file, (f) => frames.push(new Uint8Array(f.data)));
  return frames;
}

/** TCP frames, and UDP ones (USO segments, tunnels' outer UDP): not the hosts' ARP/ND/MLD. */
function isTcp(frame: Uint8Array): boolean {
  try {
    const l = parseFrame(frame);
    return (l.l4Proto === 6 || l.l4Proto === 17) && !l.fragment;
  } catch {
    return false;
  }
}

/** The USO pairs' gso_size, as scripts/record-gso-oracle.sh sent them (the names say: "-1200",
 *  else from the MTU); the datapath's guest learns it from the flow (assembly/guest/udp-flows.ts). */
function usoGsoSize(name: string, frame: Uint8Array): number {
  return name.endsWith("-1200") ? 1200 : MTU - parseFrame(frame).ipHeaderLen - 8;
}

/** Bytes from a tunnel frame's outer IP header through its inner TCP header. */
function tunnelHeaders(frame: Uint8Array): number {
  const t = parseTunnel(frame)!;
  return t.inner + parseFrame(frame.subarray(t.inner)).payload - t.outerL3;
}

/** Index of the first differing byte, or -1. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Compares in order; reports the first mismatch with frame numbers, not a 4 MB diff. */
function expectSameFrames(got: Uint8Array[], want: Uint8Array[], label: string): void {
  for (let i = 0; i < Math.min(got.length, want.length); i++) {
    const d = firstDifference(got[i], want[i]);
    if (d >= 0) expect.fail(`${label}: TCP frame ${i} differs at byte ${d} (got ${got[i].length} bytes, kernel ${want[i].length})`);
  }
  expect(got.length, `${label}: TCP frame count`).toBe(want.length);
}

const pairs = [...pairsIn(sharedDir).map((p) => ({ ...p, name: `shared/${p.name}` })), ...pairsIn(ownDir)];

describe.skipIf(!existsSync(sharedDir))(`kernel oracle (needs ${sharedDir})`, () => {
  it("finds the shared v4-64k pair", () => {
    expect(pairs.some((p) => p.name === "shared/v4-64k")).toBe(true);
  });

  for (const pair of pairs) {
    describe(pair.name, () => {
      const input = readFrames(pair.inFile).filter(isTcp);
      const want = readFrames(pair.outFile).filter(isTcp);
      const run = (opts: Omit<OffloadOptions, "mtu">) => input.flatMap((f) =>
        offloadFrame(f, { mtu: MTU, ...opts, udpGsoSize: pair.name.includes("uso") ? usoGsoSize(pair.name, f) : undefined }).frames);

      it("has large sends to segment", () => {
        expect(input.some((f) => isLargeSend(f, MTU))).toBe(true);
      });

      it("one-stage segmentation + checksum offload = the kernel's wire", () => {
        const got = input.flatMap((f) => !isLargeSend(f, MTU) ? [checksumOffload(f)]
          : pair.name.includes("uso") ? segmentUdp(f, { mss: usoGsoSize(pair.name, f) })
          : pair.name.includes("vxlan") ? segmentTunnel(f, { mss: MTU - tunnelHeaders(f) })
          : segmentTcp(f, { mss: defaultMss(f, MTU) }));
        expectSameFrames(got, want, "one-stage");
      });

      for (const nicMaxLso of [65536, 16384, 4000]) {
        it(`stage 1 at nicMaxLso ${nicMaxLso}, then stage 2 = the kernel's wire`, () => {
          expectSameFrames(run({ nicMaxLso }), want, `two-stage ${nicMaxLso}`);
        });
      }

      it("virtio-literal NEEDS_CSUM completion of the small frames agrees (the guest's seeds are right)", () => {
        for (const f of input.filter((f) => !isLargeSend(f, MTU))) {
          const req = checksumRequest(f);
          // No request (a zero UDP checksum, a tunnel's inner ICMP): the frame goes out as it is.
          expect(req ? completeChecksum(f, req) : f).toEqual(checksumOffload(f));
        }
      });

      if (pair.name.includes("vxlan")) {
        it("--nic-tunnel-lso off (one software stage) = the kernel's wire", () => {
          expectSameFrames(run({ nicTunnelLsoOff: true }), want, "tunnel LSO off");
        });
      }
      if (!pair.name.includes("uso") && !pair.name.includes("vxlan")) it("a super-packet within the NIC limit passes stage 1 byte-identical (same seed convention as Linux)", () => {
        for (const f of input.filter((f) => isLargeSend(f, MTU) && f.length - 14 <= 65535)) {
          const chunks = stage1Split(f, { mss: defaultMss(f, MTU), nicMaxLso: 1 << 20 });
          expect(chunks.length).toBe(1);
          expect(firstDifference(chunks[0], f)).toBe(-1);
        }
      });
    });
  }
});
