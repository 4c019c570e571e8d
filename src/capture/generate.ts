// Deterministic synthetic traffic for people who have no capture: fixed-size UDP, IMIX, and TCP
// bulk flows posting TSO/BIG TCP super-packets the way Linux hands them to a NIC. Same options
// and seed → byte-identical output (no clock, no Math.random, no platform dependence).

import { PcapWriter } from "./writer.js";
import { checkOutputTarget, planOutput } from "../util/output-file.js";
import { MAX_RECORD } from "./types.js";
import { pseudo4, pseudo6, sum16, finish, fold } from "./checksum.js";
import * as P from "./packet.js";
import { IMIX } from "./imix.js";
import { Rng } from "../util/rng.js"; // all the generator's choices come from it

export type GenKind = "udp" | "imix" | "tcp";
export type IpMode = "4" | "6" | "mix";

export interface GenOptions {
  kind: GenKind;
  /** Frames (udp, imix) or super-packets (tcp) in all. */
  count: number;
  seed: number;
  /** udp: L2 frame size, Ethernet header (and VLAN tag) included, FCS excluded. */
  size: number;
  /** tcp: largest IP packet of a super-packet, like Linux's gso_max_size. */
  superSize: number;
  /** tcp: the MTU the MSS derives from. */
  mtu: number;
  ip: IpMode;
  /** 802.1Q VLAN id for tagged flows, or undefined. */
  vlan?: number;
  /** Share of flows that carry the VLAN tag (0..1). */
  vlanShare: number;
  flows: number;
  /** tcp over IPv6: add a hop-by-hop Jumbo Payload option (RFC 2675) to super-packets over 65535. */
  jumboHbh: boolean;
  /** Spacing of timestamps: frames back to back at this line rate. */
  rateGbps: number;
}

export const GEN_DEFAULTS: GenOptions = {
  kind: "udp", count: 10000, seed: 1, size: 64, superSize: 65536, mtu: 1500, ip: "4",
  vlanShare: 1, flows: 4, jumboHbh: false, rateGbps: 10,
};

/** 2023-11-14T22:13:20Z: a fixed start so output never depends on the clock. */
export const BASE_TS_NS = 1_700_000_000_000_000_000n;
/** Preamble, start delimiter, FCS and inter-frame gap: what a frame occupies on the wire besides itself. */
const WIRE_OVERHEAD = 24;

export interface GenFrame {
  /** Valid until the next frame is generated. */
  data: Uint8Array;
  tsNs: bigint;
}

interface Flow {
  index: number;
  v6: boolean;
  l2: P.L2;
  src: Uint8Array;
  dst: Uint8Array;
  sport: number;
  dport: number;
  flowLabel: number;
  salt: number;
  ipId: number;
  seq: number;
  ack: number;
  ts0: number;
  peerTs0: number;
  /** Frames or super-packets this flow sends in all, and so far. */
  quota: number;
  sent: number;
}

/** Flow i is IPv6 when asked, or every odd flow for a mix; tagged flows spread evenly by the share, over both versions. */
function makeFlows(o: GenOptions, rng: Rng): Flow[] {
  const srcMac = Uint8Array.from([0x02, ...rng.bytes(5)]); // locally administered unicast
  const dstMac = Uint8Array.from([0x02, ...rng.bytes(5)]);
  const flows: Flow[] = [];
  for (let i = 0; i < o.flows; i++) {
    const v6 = o.ip === "6" || (o.ip === "mix" && i % 2 === 1);
    const j = o.ip === "mix" ? i >> 1 : i; // so that both IP versions get tagged and untagged flows
    const tagged = o.vlan !== undefined && Math.floor((j + 1) * o.vlanShare) > Math.floor(j * o.vlanShare);
    const addr = () => (v6 ? Uint8Array.from([0xfd, ...rng.bytes(14), 1 + rng.below(254)]) : Uint8Array.from([10, ...rng.bytes(2), 1 + rng.below(254)]));
    flows.push({
      index: i, v6, l2: { dst: dstMac, src: srcMac, vlan: tagged ? o.vlan : undefined },
      src: addr(), dst: addr(), sport: 32768 + rng.below(28232), dport: 9, // discard: nothing dissects the payload
      flowLabel: rng.below(1 << 20), salt: rng.below(256), ipId: rng.below(65536),
      seq: rng.u32(), ack: rng.u32(), ts0: rng.u32(), peerTs0: rng.u32(),
      quota: Math.floor((o.count - 1 - i) / o.flows) + 1, sent: 0,
    });
  }
  return flows;
}

const l2Len = (f: Flow) => P.ETH_HDR + (f.l2.vlan !== undefined ? P.VLAN_TAG : 0);
const ipLen = (f: Flow) => (f.v6 ? P.IPV6_HDR : P.IPV4_HDR);

/** The TCP MSS for a flow: MTU less the IP and TCP (with timestamps) headers. */
export function mssFor(mtu: number, v6: boolean): number {
  return mtu - (v6 ? P.IPV6_HDR : P.IPV4_HDR) - P.TCP_HDR_TS;
}

/** TCP payload of a super-packet: the largest whole number of MSS that fits superSize (Linux's tcp_tso_autosize does the same). */
export function superPayload(o: GenOptions, v6: boolean): number {
  const mss = mssFor(o.mtu, v6);
  const room = o.superSize - (v6 ? P.IPV6_HDR : P.IPV4_HDR) - P.TCP_HDR_TS - (v6 && o.jumboHbh ? P.HBH_JUMBO : 0);
  return Math.floor(room / mss) * mss;
}

/** Returns a message for options that cannot make a valid capture, or null. */
export function checkOptions(o: GenOptions): string | null {
  if (!Number.isInteger(o.count) || o.count < 1) return `--count must be a positive integer (got ${o.count})`;
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) return `--seed must be an integer 0..4294967295 (got ${o.seed})`;
  if (!Number.isInteger(o.flows) || o.flows < 1 || o.flows > 65536) return `--flows must be 1..65536 (got ${o.flows})`;
  if (o.vlan !== undefined && (!Number.isInteger(o.vlan) || o.vlan < 0 || o.vlan > 4095)) return `--vlan must be 0..4095 (got ${o.vlan})`;
  if (!(o.vlanShare >= 0 && o.vlanShare <= 1)) return `--vlan-share must be between 0 and 1 (got ${o.vlanShare})`;
  if (!(o.rateGbps > 0)) return `--rate-gbps must be positive (got ${o.rateGbps})`;
  const anyV6 = o.ip !== "4";
  const anyV4 = o.ip !== "6";
  const hdr = P.ETH_HDR + (o.vlan !== undefined && o.vlanShare > 0 ? P.VLAN_TAG : 0) + (anyV6 ? P.IPV6_HDR : P.IPV4_HDR);
  if (o.kind === "udp") {
    const min = hdr + P.UDP_HDR;
    const max = Math.min(P.ETH_HDR + (anyV4 ? 0 : P.IPV6_HDR) + 65535, MAX_RECORD); // IPv4 total / IPv6 payload length are 16 bits
    if (!Number.isInteger(o.size) || o.size < min || o.size > max) return `--size must be ${min}..${max} for these headers (got ${o.size})`;
  }
  if (o.kind === "tcp") {
    if (!Number.isInteger(o.mtu) || o.mtu < 576 || o.mtu > 9216) return `--mtu must be 576..9216 (got ${o.mtu})`;
    for (const v6 of [false, true].filter((v) => (v ? anyV6 : anyV4))) {
      if (superPayload(o, v6) < mssFor(o.mtu, v6)) return `--super ${o.superSize} leaves no room for one MSS of ${mssFor(o.mtu, v6)} bytes`;
    }
    if (o.superSize + P.ETH_HDR + P.VLAN_TAG > MAX_RECORD) return `--super must leave each frame within ${MAX_RECORD} bytes (got ${o.superSize})`;
  }
  return null;
}

/** Payload bytes: a pattern that a receiver can check, different per flow, and compressible. */
function fillPayload(b: Uint8Array, start: number, end: number, streamOffset: number, salt: number): void {
  for (let i = start, k = streamOffset; i < end; i++, k++) b[i] = (k * 7 + salt + (k >>> 8)) & 0xff;
}

/** A fully formed UDP frame of `size` bytes with correct IPv4 header and UDP checksums. */
function udpFrame(b: Uint8Array, f: Flow, size: number, index: number): number {
  const ipOff = P.writeEthernet(b, 0, f.l2, f.v6 ? P.ETHERTYPE_IPV6 : P.ETHERTYPE_IPV4);
  const ipLenTotal = size - ipOff;
  const udpLen = ipLenTotal - ipLen(f);
  const udpOff = f.v6
    ? P.writeIpv6(b, ipOff, { src: f.src, dst: f.dst, next: P.PROTO_UDP, payloadLen: udpLen, flowLabel: f.flowLabel })
    : P.writeIpv4(b, ipOff, { src: f.src, dst: f.dst, id: f.ipId++, proto: P.PROTO_UDP, totalLen: ipLenTotal, dontFragment: false });
  const dataOff = P.writeUdp(b, udpOff, f.sport, f.dport, udpLen);
  fillPayload(b, dataOff, size, f.sent * 131, f.salt);
  if (size - dataOff >= 4) new DataView(b.buffer, b.byteOffset).setUint32(dataOff, index); // self-checking sequence number
  const pseudo = f.v6 ? pseudo6(b, ipOff + P.IP6_SRC, ipOff + P.IP6_DST, P.PROTO_UDP, udpLen) : pseudo4(b, ipOff + P.IP4_SRC, ipOff + P.IP4_DST, P.PROTO_UDP, udpLen);
  const c = finish(sum16(b, udpOff, size, pseudo));
  new DataView(b.buffer, b.byteOffset).setUint16(udpOff + P.UDP_CSUM, c === 0 ? 0xffff : c); // 0 means "no checksum" (RFC 768)
  f.sent++;
  return size;
}

/**
 * A TSO super-packet as Linux posts it with CHECKSUM_PARTIAL: IPv4 header checksum valid, TCP
 * checksum field holding the folded pseudo-header sum (with the full TCP length) for the NIC to
 * complete; IPv4 total length 0 or IPv6 payload length 0 when over 65535 (BIG TCP).
 */
function tcpSuper(b: Uint8Array, f: Flow, o: GenOptions, elapsedNs: bigint): number {
  const mss = mssFor(o.mtu, f.v6);
  const payload = superPayload(o, f.v6);
  const ipOff = P.writeEthernet(b, 0, f.l2, f.v6 ? P.ETHERTYPE_IPV6 : P.ETHERTYPE_IPV4);
  const tcpLen = P.TCP_HDR_TS + payload;
  let tcpOff: number;
  if (f.v6) {
    const jumbo = o.jumboHbh && tcpLen > 0xffff;
    const plen = tcpLen + (jumbo ? P.HBH_JUMBO : 0);
    tcpOff = P.writeIpv6(b, ipOff, { src: f.src, dst: f.dst, next: jumbo ? P.PROTO_HOPOPT : P.PROTO_TCP, payloadLen: plen > 0xffff ? 0 : plen, flowLabel: f.flowLabel });
    if (jumbo) tcpOff = P.writeHbhJumbo(b, tcpOff, P.PROTO_TCP, plen);
  } else {
    const total = P.IPV4_HDR + tcpLen;
    tcpOff = P.writeIpv4(b, ipOff, { src: f.src, dst: f.dst, id: f.ipId, proto: P.PROTO_TCP, totalLen: total > 0xffff ? 0 : total, dontFragment: true });
    f.ipId = (f.ipId + payload / mss) & 0xffff; // Linux advances the ID by the segments sent (ip_select_ident_segs)
  }
  const ms = Number(elapsedNs / 1_000_000n); // TCP timestamps tick at 1 kHz
  const last = f.sent === f.quota - 1;
  const end = P.writeTcp(b, tcpOff, {
    sport: f.sport, dport: f.dport, seq: f.seq, ack: f.ack, window: 502,
    flags: P.TCP_ACK | (last ? P.TCP_PSH : 0), tsval: f.ts0 + ms, tsecr: f.peerTs0 + ms,
  });
  fillPayload(b, end, end + payload, f.seq, f.salt); // pattern keyed to the sequence number: segments can be checked
  const pseudo = f.v6 ? pseudo6(b, ipOff + P.IP6_SRC, ipOff + P.IP6_DST, P.PROTO_TCP, tcpLen) : pseudo4(b, ipOff + P.IP4_SRC, ipOff + P.IP4_DST, P.PROTO_TCP, tcpLen);
  new DataView(b.buffer, b.byteOffset).setUint16(tcpOff + P.TCP_CSUM, fold(pseudo));
  f.seq = (f.seq + payload) >>> 0;
  f.sent++;
  return end + payload;
}

/** The frame sizes of one IMIX cycle (7:4:1), shuffled so small and large frames interleave. */
function imixCycle(rng: Rng): number[] {
  const c = IMIX.flatMap((p) => Array<number>(p.weight).fill(p.size));
  for (let i = c.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [c[i], c[j]] = [c[j], c[i]];
  }
  return c;
}

/** Generates the frames; throws on options checkOptions rejects. */
export function* generateFrames(opts: GenOptions): Generator<GenFrame> {
  const bad = checkOptions(opts);
  if (bad) throw new RangeError(bad);
  const rng = new Rng(opts.seed);
  const flows = makeFlows(opts, rng);
  const buf = new Uint8Array(MAX_RECORD);
  let t = 0n;
  let cycle: number[] = [];
  for (let i = 0; i < opts.count; i++) {
    const f = flows[i % flows.length];
    let len: number;
    if (opts.kind === "tcp") len = tcpSuper(buf, f, opts, t);
    else {
      if (opts.kind === "imix" && cycle.length === 0) cycle = imixCycle(rng);
      const want = opts.kind === "imix" ? cycle.pop()! : opts.size;
      len = udpFrame(buf, f, Math.max(want, l2Len(f) + ipLen(f) + P.UDP_HDR), i); // IMIX: an IPv6+VLAN frame cannot be 64 bytes
    }
    yield { data: buf.subarray(0, len), tsNs: BASE_TS_NS + t };
    t += BigInt(Math.ceil(((len + WIRE_OVERHEAD) * 8) / opts.rateGbps));
  }
}

/** Writes the generated frames to a classic pcap file; returns frames and bytes written. */
export function generateCapture(opts: GenOptions, out: string, nanosecond = false): { frames: number; bytes: number } {
  // Through a temporary file: a full disk leaves the old file (or none), never a cut one.
  checkOutputTarget(out, "--out");
  const plan = planOutput(out);
  let done = false;
  const w = new PcapWriter(out, { nanosecond, openPath: plan.path });
  try {
    for (const fr of generateFrames(opts)) w.write(fr.data, fr.tsNs);
    done = true;
  } finally {
    try {
      w.close();
    } finally {
      if (done && !w.failure) plan.commit();
      else plan.abandon();
    }
  }
  if (w.failure) throw w.failure;
  return { frames: w.frames, bytes: w.bytes };
}
