// Differential property tests for USO (GSO_UDP_L4) and UDP tunnel large sends (VXLAN/Geneve,
// GSO_UDP_TUNNEL_IPV4/IPV6 [+ UDP_TUNNEL_CSUM]): the wasm core's two stages against the TS
// reference (src/reference/uso.ts, tunnel.ts), as tests/lso-differential.test.ts does for TCP.
// Random payload lengths, gso sizes, IPv4 IDs near 2^16, sequence numbers near 2^32, VLAN
// tags, IP options / IPv6 extension headers, outer IPv4/IPv6, outer checksum on/off, Geneve
// options, NIC limits, fixed-ID, tunnel LSO on/off and copy modes. Only valid requests are
// generated (refusals are lso-differential's business): both sides must accept, and the wire
// frames must be equal byte for byte, in order.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { segmentTunnel, segmentUdp, stage1SplitTunnel, stage1SplitUdp } from "../src/reference/index.js";
import { LsoRig, VIRTIO_NET_HDR_F_NEEDS_CSUM } from "./helpers/lso-core.js";
import { LsoFrameSpec, buildLsoFrame, fillRandom, firstDifference } from "./helpers/lso-frames.js";

const RUNS = Number(process.env.LSO_RUNS ?? 1500);
const SEED = process.env.LSO_SEED ? Number(process.env.LSO_SEED) : undefined;
const GSO_UDP_L4 = 5;
const GSO_UDP_TUNNEL_IPV4 = 0x20;
const GSO_UDP_TUNNEL_IPV6 = 0x40;
const F_UDP_TUNNEL_CSUM = 8;

const rig = new LsoRig({ guestRamBytes: 2 << 20, wireBytes: 16 << 20, ringSlots: 1024 });

const put16 = (b: Uint8Array, o: number, v: number) => {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
};

const innerSpec = (o: { ip: 4 | 6; vlanTags: number; optionWords: number; payloadLen: number; id: number; seq: number; flags: number; seed: number; tcpOptionWords: number }): LsoFrameSpec => ({
  vlanTags: o.vlanTags, ip: o.ip, ipv4OptionWords: o.ip === 4 ? o.optionWords : 0, ipv6DestOpts: o.ip === 6 && o.optionWords > 5 ? o.optionWords % 3 : -1,
  jumboHbh: false, tcpOptionWords: o.tcpOptionWords, flags: o.flags, seq: o.seq, id: o.id, ipv4Fragment: false, payloadLen: o.payloadLen, seed: o.seed,
});

const common = {
  ip: fc.constantFrom(4 as const, 6 as const),
  vlanTags: fc.integer({ min: 0, max: 2 }),
  optionWords: fc.integer({ min: 0, max: 8 }),
  payloadLen: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 5000 }) }, { weight: 2, arbitrary: fc.integer({ min: 5000, max: 64_000 }) }),
  id: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xffff - 100, max: 0xffff })),
  seq: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0xffffffff - 70_000, max: 0xffffffff })),
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  gso: fc.oneof({ weight: 1, arbitrary: fc.integer({ min: 8, max: 300 }) }, { weight: 4, arbitrary: fc.integer({ min: 300, max: 1400 }) }),
  nicMaxLso: fc.oneof(fc.constant(65536), fc.constant(16384), fc.integer({ min: 4000, max: 65536 })),
  fixedId: fc.boolean(),
  gpaSeed: fc.nat(),
  copyMode: fc.constantFrom(0, 1, 4),
};

// ---- USO ----

/** A UDP datagram: buildLsoFrame's TCP frame with its transport rewritten as UDP (8 bytes). */
function udpFrame(o: { ip: 4 | 6; vlanTags: number; optionWords: number; payloadLen: number; id: number; seed: number }) {
  const b = buildLsoFrame(innerSpec({ ...o, seq: 0, flags: 0x10, tcpOptionWords: 0, payloadLen: o.payloadLen + 12 }));
  const f = b.frame;
  if (o.ip === 4) f[b.l2 + 9] = 17;
  else f[o.optionWords > 5 ? b.l4 - ((o.optionWords % 3) + 1) * 8 : b.l2 + 6] = 17;
  put16(f, b.l4 + 4, f.length - b.l4);
  put16(f, b.l4 + 6, o.seed & 0xffff); // whatever the guest left: stage 2 computes it afresh
  return { frame: f, l4: b.l4, ipHeader: b.l4 - b.l2 };
}

describe("USO: wasm core vs the TS reference (fast-check)", () => {
  it(`agrees on ${RUNS} random UDP large sends`, () => {
    let frames = 0;
    fc.assert(
      fc.property(fc.record(common), (c) => {
        const u = udpFrame(c);
        const mtu = u.ipHeader + 8 + c.gso;
        rig.set({ mtu, nicMaxLso: c.nicMaxLso, maxSegments: 65535, fixedId: c.fixedId, copyMode: c.copyMode });
        const gpa = c.gpaSeed % (rig.ram - u.frame.length + 1);
        const core = rig.send(u.frame, gpa, {
          flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: GSO_UDP_L4, hdrLen: u.l4 + 8, gsoSize: c.gso, csumStart: u.l4, csumOffset: 6,
        });
        const opts = { mss: c.gso, mtu, nicMaxLso: c.nicMaxLso, fixedId: c.fixedId };
        const ref = stage1SplitUdp(u.frame, opts).flatMap((chunk) => segmentUdp(chunk, opts));
        if (core.status !== "ok") throw new Error(`core refused ${core.status}`);
        const d = firstDifference(core.frames, ref);
        if (d) throw new Error(`frames differ: ${d} (core vs reference)`);
        frames += ref.length;
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    expect(frames).toBeGreaterThan(RUNS);
    expect(rig.core.counter("stage1Chunks")).toBeGreaterThan(0n);
  }, 120_000);
});

// ---- VXLAN / Geneve ----

interface TunnelCase {
  outer: 4 | 6;
  outerCsum: boolean;
  geneve: boolean;
  geneveOptWords: number;
  outerId: number;
  softwareOnly: boolean;
}

/** The inner TCP frame wrapped in Ethernet + outer IP + UDP + VXLAN/Geneve. */
function tunnelFrame(inner: Uint8Array, t: TunnelCase, seed: number) {
  const outerIp = t.outer === 4 ? 20 : 40;
  const tunHdr = 8 + (t.geneve ? t.geneveOptWords * 4 : 0);
  const innerAt = 14 + outerIp + 8 + tunHdr;
  const f = new Uint8Array(innerAt + inner.length);
  fillRandom(f, seed, 0, innerAt); // MACs, addresses, ports, VNI, option bytes
  f.set(inner, innerAt);
  put16(f, 12, t.outer === 4 ? 0x0800 : 0x86dd);
  const ip = 14;
  if (t.outer === 4) {
    f[ip] = 0x45;
    put16(f, ip + 2, f.length - ip);
    put16(f, ip + 4, t.outerId);
    put16(f, ip + 6, 0x4000); // DF, no fragment
    f[ip + 9] = 17;
  } else {
    f[ip] = 0x60;
    put16(f, ip + 4, f.length - ip - 40);
    f[ip + 6] = 17;
  }
  const udp = ip + outerIp;
  put16(f, udp + 2, t.geneve ? 6081 : 4789);
  put16(f, udp + 4, f.length - udp);
  put16(f, udp + 6, t.outerCsum ? (seed | 1) & 0xffff : 0);
  const th = udp + 8;
  if (t.geneve) {
    f[th] = t.geneveOptWords; // version 0, Opt Len
    f[th + 1] = 0;
    put16(f, th + 2, 0x6558);
  } else {
    f[th] = 0x08; // I flag
  }
  return { frame: f, innerAt };
}

const tunnelArb = fc.record({
  ...common,
  tcpOptionWords: fc.constantFrom(0, 3),
  flags: fc.integer({ min: 0, max: 255 }).map((x) => x & ~(0x02 | 0x04 | 0x20) & 0xff),
  tunnel: fc.record({
    outer: fc.constantFrom(4 as const, 6 as const),
    outerCsum: fc.boolean(),
    geneve: fc.boolean(),
    geneveOptWords: fc.integer({ min: 0, max: 8 }),
    outerId: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xffff - 100, max: 0xffff })),
    softwareOnly: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  }),
}).map((c) => (c.tunnel.softwareOnly
  // Software-only segmentation posts one physical descriptor per segment: at most the ring's
  // 1024 slots (more is refused as lsoTooManyChunks, by design), so such cases keep below it.
  ? { ...c, gso: Math.max(c.gso, Math.ceil(c.payloadLen / 1000)) } : c));

describe("UDP tunnels: wasm core vs the TS reference (fast-check)", () => {
  it(`agrees on ${RUNS} random VXLAN/Geneve large sends (outer v4/v6, outer csum on/off, tunnel LSO on/off)`, () => {
    let frames = 0;
    const kinds = new Set<string>();
    fc.assert(
      fc.property(tunnelArb, (c) => {
        const b = buildLsoFrame(innerSpec(c));
        const t = c.tunnel;
        const { frame, innerAt } = tunnelFrame(b.frame, t, c.seed);
        const headersFromOuterIp = innerAt + b.headers - 14;
        const mtu = headersFromOuterIp + c.gso;
        rig.set({ mtu, nicMaxLso: c.nicMaxLso, maxSegments: 65535, fixedId: c.fixedId, copyMode: c.copyMode });
        rig.core.setParam("nicTunnelLsoOff", t.softwareOnly ? 1 : 0);
        const gpa = c.gpaSeed % (rig.ram - frame.length + 1);
        const core = rig.send(frame, gpa, {
          flags: VIRTIO_NET_HDR_F_NEEDS_CSUM | (t.outerCsum ? F_UDP_TUNNEL_CSUM : 0),
          gsoType: (c.ip === 4 ? 1 : 4) | (t.outer === 4 ? GSO_UDP_TUNNEL_IPV4 : GSO_UDP_TUNNEL_IPV6) | (c.flags & 0x80 ? 0x80 : 0),
          hdrLen: innerAt + b.headers, gsoSize: c.gso, csumStart: innerAt + b.l4, csumOffset: 16,
        });
        rig.core.setParam("nicTunnelLsoOff", 0);
        const opts = { mss: c.gso, mtu, nicMaxLso: c.nicMaxLso, fixedId: c.fixedId };
        const ref = t.softwareOnly ? segmentTunnel(frame, opts)
          : stage1SplitTunnel(frame, opts).flatMap((chunk) => segmentTunnel(chunk, opts));
        if (core.status !== "ok") throw new Error(`core refused ${core.status}`);
        const d = firstDifference(core.frames, ref);
        if (d) throw new Error(`frames differ: ${d} (core vs reference)`);
        frames += ref.length;
        kinds.add(`${t.geneve ? "geneve" : "vxlan"}/v${t.outer}/${t.outerCsum ? "csum" : "nocsum"}/${t.softwareOnly ? "sw" : "nic"}`);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    expect(frames).toBeGreaterThan(RUNS);
    expect(kinds.size).toBe(16); // every tunnel × outer version × checksum × LSO placement was run
  }, 120_000);
});
