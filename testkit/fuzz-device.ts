// Fuzz support: a hostile guest that writes random descriptors and offload headers straight
// into the guest TX ring, drives the device's stages, and checks everything it can about the
// outcome. Shared by tests/fuzz-descriptors.test.ts (10^4 cases) and bench/fuzz-descriptors.ts
// (10^6). Nothing here imports vitest: a failed property throws FuzzFailure.
//
// What a case checks (DeviceRig.runCase):
//   no hang        the stages finish the batch within a bounded number of turns
//   completeness   every descriptor completes exactly once, in posting order (cookies)
//   named status   every status is OK or one of the core's DROP_* reasons (read from the exports)
//   range oracle   len 0 → empty; [gpa, gpa+len) past guest RAM (64-bit sum) → badAddress, 0 frames
//   plain frames   a frame without offloads that completes OK is on the wire exactly once,
//                  byte-identical to guest RAM at [gpa, gpa+len)
//   NEEDS_CSUM     without large send: identical except the 2 checksum bytes, and the ones'
//                  complement sum from csum_start with the guest's seed verifies (virtio 1.2 §5.1.6.2)
//   wire           no frame shorter than an Ethernet header or longer than MTU + 46 (8 tags);
//                  no frame holds 8 bytes of POISON (nothing from outside guest RAM was read
//                  onto the wire); frames per completion (UE_WIRE_FRAMES) add up to what came out
//   books          per case: completed = transmitted + Σ drops, each drop counter moved by the
//                  number of completions with its status, wireFrames/wireBytes = what came out
//   memory         MemoryWatch: no write outside the device's regions (see fuzz-memory.ts)

import fc from "fast-check";
import { attachCore, createCore, type Core, type CoreFlavor } from "../src/core/core.js";
import { MemoryWatch, findPoison } from "./fuzz-memory.js";
import { ringResetAt } from "./ring-reset.js";
import { MACS, concat, ethertype, ipv4, ipv6, tcp, udp, vlanTag } from "./frames.js";

export const RAM_BYTES = 1 << 20;
export const RING_SLOTS = 64;
export const WIRE_BYTES = 1 << 20;
const L2_MAX = 14 + 8 * 4; // Ethernet + MAX_TAGS (8) VLAN tags (assembly/packet/ethernet.ts)

export class FuzzFailure extends Error {
  override name = "FuzzFailure";
}

// ---------------------------------------------------------------- descriptors

export type Content = { kind: "keep" } | { kind: "random"; seed: number; bytes: number } | { kind: "frame"; bytes: Uint8Array };

export interface FuzzDesc {
  gpa: number;
  len: number;
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
  content: Content;
}

export interface FuzzSettings {
  copyMode: number;
  copyBytes: number;
  mtu: number;
  /** Other core params by name; only those the core exports are set. */
  params: Record<string, number>;
  translateBudget: number;
  nicBudget: number;
}

export interface FuzzCase {
  settings: FuzzSettings;
  descs: FuzzDesc[];
}

const u16 = fc.integer({ min: 0, max: 0xffff });
const u8 = fc.integer({ min: 0, max: 0xff });
const u32arb = fc.integer({ min: 0, max: 0xffffffff });

/** frames.ts's payload() (byte i = 7i + seed), without a callback per byte. */
function fastPayload(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0, v = seed & 0xff; i < n; i++, v = (v + 7) & 0xff) b[i] = v;
  return b;
}

/** A real Ethernet/IP/L4 frame, then its length fields lied about; with the offload header a
 *  well-behaved driver would have written for it (which the case may then corrupt). */
const FIELDS = ["ethertype", "ihl", "ipTotalLen", "ipFrag", "ipProto", "ip6PayloadLen", "ip6Next", "tcpDataOff", "tcpFlags", "udpLen"] as const;

const arbFrame = fc
  .record({
    tags: fc.constantFrom(0, 0, 0, 1, 2, 3),
    ipv: fc.constantFrom(4, 6),
    l4: fc.constantFrom("tcp", "tcp", "udp", "other"),
    ipOpts: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10 })),
    tcpOpts: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10 })),
    payloadLen: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 64 }) },
      { weight: 4, arbitrary: fc.integer({ min: 0, max: 1600 }) },
      { weight: 2, arbitrary: fc.integer({ min: 0, max: 9100 }) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 70_000 }) },
      { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 262_000 }) },
    ),
    tcpFlags: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(0x10, 0x18, 0x19, 0x90, 0x50) }, { weight: 1, arbitrary: u8 }),
    lies: fc.oneof(fc.constant([]), fc.array(fc.record({ field: fc.constantFrom(...FIELDS), value: u16 }), { minLength: 1, maxLength: 3 })),
    flips: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.tuple(fc.nat(), u8), { minLength: 1, maxLength: 3 }) }),
    cut: fc.option(fc.nat(), { freq: 4 }),
    seed: u8,
  })
  .map((f) => {
    const l4Proto = f.l4 === "tcp" ? 6 : f.l4 === "udp" ? 17 : 0x3b;
    const body = fastPayload(f.payloadLen, f.seed);
    const l4h = f.l4 === "tcp" ? tcp(f.tcpOpts, f.tcpFlags) : f.l4 === "udp" ? udp(f.payloadLen) : new Uint8Array(0);
    const ip = f.ipv === 4 ? ipv4(l4Proto, l4h.length + body.length, f.ipOpts) : ipv6(l4Proto, (l4h.length + body.length) & 0xffff);
    const tagBytes = Array.from({ length: f.tags }, (_, i) => vlanTag(i === 0 ? 0x88a8 : 0x8100, 100 + i));
    const eth = concat(MACS, ...tagBytes, ethertype(f.ipv === 4 ? 0x0800 : 0x86dd));
    const bytes = concat(eth, ip, l4h, body);
    const l3 = eth.length;
    const l4at = l3 + ip.length;
    const v = new DataView(bytes.buffer);
    for (const lie of f.lies) {
      switch (lie.field) {
        case "ethertype": v.setUint16(l3 - 2, lie.value); break;
        case "ihl": if (f.ipv === 4) bytes[l3] = 0x40 | (lie.value & 15); else bytes[l3] = lie.value & 0xff; break;
        case "ipTotalLen": if (f.ipv === 4) v.setUint16(l3 + 2, lie.value); break;
        case "ipFrag": if (f.ipv === 4) v.setUint16(l3 + 6, lie.value); break;
        case "ipProto": bytes[f.ipv === 4 ? l3 + 9 : l3 + 6] = lie.value & 0xff; break;
        case "ip6PayloadLen": if (f.ipv === 6) v.setUint16(l3 + 4, lie.value); break;
        case "ip6Next": if (f.ipv === 6) bytes[l3 + 6] = lie.value & 0xff; break;
        case "tcpDataOff": if (f.l4 === "tcp") bytes[l4at + 12] = lie.value & 0xff; break;
        case "tcpFlags": if (f.l4 === "tcp") bytes[l4at + 13] = lie.value & 0xff; break;
        case "udpLen": if (f.l4 === "udp") v.setUint16(l4at + 4, lie.value); break;
      }
    }
    for (const [at, b] of f.flips) bytes[at % bytes.length] = b;
    const out = f.cut !== null ? bytes.subarray(0, f.cut % (bytes.length + 1)) : bytes;
    const tcpv = f.ipv === 4 ? 1 : 4;
    return {
      bytes: out,
      // What a correct driver would post for a large send / checksum offload of this frame.
      hdr: {
        flags: 1,
        gsoType: f.l4 === "tcp" ? tcpv : f.l4 === "udp" ? 5 : 0,
        hdrLen: l4at + l4h.length,
        csumStart: l4at,
        csumOffset: f.l4 === "udp" ? 6 : 16,
      },
    };
  });

/** Addresses: mostly inside guest RAM, often at its edges, sometimes anywhere in u32. */
function arbGpa(ram: number, page: number) {
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: ram - 1 }) },
    { weight: 1, arbitrary: fc.constantFrom(0, ram - 1, ram, ram + 1, 0x7fffffff, 0x80000000, 0xfffff000, 0xfffffff0, 0xffffffff) },
    { weight: 1, arbitrary: u32arb },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 4096 }).map((k) => ram - k) },
    { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 1, max: ram / page - 1 }), fc.integer({ min: -80, max: 80 })).map(([p, d]) => p * page + d) },
  );
}

function arbLen(ram: number, maxSgBytes: number) {
  return fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 2048 }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(0, 1, 13, 14, 15, 59, 60, 64, 1514, 1515, 1518, 1522, 1523, 9014, 9015, 65535, 65536, 65550,
        262144, maxSgBytes - 4096, maxSgBytes - 1, maxSgBytes, maxSgBytes + 1, maxSgBytes + 4096, ram - 1, ram, ram + 1,
        0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff),
    },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: ram }) },
    { weight: 1, arbitrary: u32arb },
  );
}

const arbOffloadRandom = fc.record({ flags: u8, gsoType: u8, hdrLen: u16, gsoSize: u16, csumStart: u16, csumOffset: u16 });

export interface FuzzEnv {
  ramBytes: number;
  pageSize: number;
  maxSg: number;
  copyModes: number[];
  /** Offload params the core exports (P_ names without the prefix), randomised per case. */
  offloadParams: string[];
  /** Upper bounds for some params (to look past a known bug; see bench --cap). */
  paramCaps?: Record<string, number>;
}

/** Frame content that prints short in a counterexample (its length and first bytes). */
function frameContent(bytes: Uint8Array): Content {
  return Object.assign({ kind: "frame" as const, bytes }, {
    [fc.toStringMethod]: () => `frame(${bytes.length} bytes: ${Buffer.from(bytes.subarray(0, 80)).toString("hex")}${bytes.length > 80 ? "…" : ""})`,
  });
}

/** A descriptor whose bytes are a real (lying) frame. */
function arbFrameDesc(env: FuzzEnv) {
  return fc
    .record({
      frame: arbFrame,
      place: fc.oneof(
        { weight: 4, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }).map((x) => ({ kind: "fit" as const, x })) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 100 }).map((k) => ({ kind: "straddleEnd" as const, k })) },
        { weight: 1, arbitrary: arbGpa(env.ramBytes, env.pageSize).map((gpa) => ({ kind: "any" as const, gpa })) },
      ),
      lenLie: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -100, max: 100 }) }, { weight: 1, arbitrary: u32arb }),
      hdrMode: fc.constantFrom("none", "none", "csum", "csum", "lso", "lso", "lso", "lsoEcn", "random"),
      hdrLies: fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.record({ field: fc.constantFrom("flags", "gsoType", "hdrLen", "gsoSize", "csumStart", "csumOffset"), value: u16 }), { minLength: 1, maxLength: 2 }) }),
      mss: fc.oneof(fc.integer({ min: 1, max: 1460 }), fc.constantFrom(0, 1, 536, 1448, 1460, 8948, 9000, 65535)),
      random: arbOffloadRandom,
    })
    .map((d): FuzzDesc => {
      const bytes = d.frame.bytes;
      const ram = env.ramBytes;
      let gpa: number;
      if (d.place.kind === "fit") gpa = Math.floor(d.place.x * Math.max(0, ram - bytes.length));
      else if (d.place.kind === "straddleEnd") gpa = Math.max(0, ram - bytes.length + d.place.k);
      else gpa = d.place.gpa;
      const len = d.lenLie === 0 || Math.abs(d.lenLie) > 100 ? (d.lenLie === 0 ? bytes.length : d.lenLie) : Math.max(0, bytes.length + d.lenLie);
      const h = d.frame.hdr;
      let o = { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 };
      if (d.hdrMode === "csum") o = { ...o, flags: 1, csumStart: h.csumStart, csumOffset: h.csumOffset };
      if (d.hdrMode === "lso" || d.hdrMode === "lsoEcn") o = { ...h, gsoType: h.gsoType | (d.hdrMode === "lsoEcn" ? 0x80 : 0), gsoSize: d.mss };
      if (d.hdrMode === "random") o = d.random;
      for (const lie of d.hdrLies) o[lie.field] = lie.field === "flags" || lie.field === "gsoType" ? lie.value & 0xff : lie.value;
      return { gpa: gpa >>> 0, len: len >>> 0, ...o, content: frameContent(bytes) };
    });
}

/** A descriptor over random guest bytes (or whatever guest RAM already holds). */
function arbRawDesc(env: FuzzEnv) {
  return fc
    .record({
      gpa: arbGpa(env.ramBytes, env.pageSize),
      len: arbLen(env.ramBytes, env.maxSg * env.pageSize),
      o: fc.oneof(arbOffloadRandom, fc.constant({ flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 })),
      content: fc.oneof(fc.constant({ kind: "keep" as const }), fc.record({ kind: fc.constant("random" as const), seed: u32arb, bytes: fc.integer({ min: 1, max: 4096 }) })),
    })
    .map((d): FuzzDesc => ({ gpa: d.gpa >>> 0, len: d.len >>> 0, ...d.o, content: d.content }));
}

export function arbFuzzCase(env: FuzzEnv): fc.Arbitrary<FuzzCase> {
  const offloadValues: Record<string, fc.Arbitrary<number>> = {
    nicMaxLso: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(1514, 9000, 16384, 65535, 65536, 262144) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 54, 0xffffffff) }, { weight: 1, arbitrary: u32arb }),
    maxSegments: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(64, 256, 1024, 65535) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 2, 0xffffffff) }, { weight: 1, arbitrary: u32arb }),
    fixedId: fc.constantFrom(0, 1),
    coalescePolicy: fc.integer({ min: 0, max: 5 }),
  };
  const capped = (p: string) => (env.paramCaps?.[p] !== undefined ? offloadValues[p].map((v) => Math.min(v, env.paramCaps![p])) : offloadValues[p]);
  const params = fc.record(Object.fromEntries(env.offloadParams.filter((p) => offloadValues[p]).map((p) => [p, capped(p)])));
  const settings = fc.record({
    copyMode: fc.constantFrom(...env.copyModes, 99),
    copyBytes: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(0, 240, 241, 0xffff, 0xffffffff)),
    mtu: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(68, 576, 1280, 1500, 9000, 65535) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x20000 }) }),
    params,
    translateBudget: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 256 })),
    nicBudget: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 256 })),
  });
  const desc = fc.oneof({ weight: 4, arbitrary: arbFrameDesc(env) }, { weight: 1, arbitrary: arbRawDesc(env) });
  return fc.record({ settings, descs: fc.array(desc, { minLength: 1, maxLength: 12 }) });
}

// ---------------------------------------------------------------- the rig

export interface CompletionFull {
  cookie: number;
  status: number;
  wireFrames: number;
}

export interface WireFrame {
  bytes: Uint8Array;
  tsNs: bigint;
}

/** Ones' complement sum (RFC 1071) of bytes [start, end), folded to 16 bits. */
export function onesSum(b: Uint8Array, start: number, end: number, seed = 0): number {
  let s = seed;
  let i = start;
  for (; i + 1 < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i < end) s += b[i] << 8;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

function xorshift(seed: number) {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

export interface RigOptions {
  flavor?: CoreFlavor;
  ramBytes?: number;
  ringSlots?: number;
  wireBytes?: number;
  /** Turns without any progress before a case counts as hung. */
  stallTurns?: number;
  /** Hand-over chaos: after a stage call, with probability 1/`every`, the device instance is
   *  dropped and a fresh one (zeroed globals) attaches to the same memory and reconciles
   *  (assembly/device/handover.ts). Seeded. Deaths *inside* a burst need a real thread:
   *  tests/handover.test.ts terminates device workers. */
  chaos?: { seed: number; every: number };
}

/** One core with poisoned memory, driven case after case by a hostile guest on this thread. */
export class DeviceRig {
  readonly core: Core;
  readonly watch: MemoryWatch;
  readonly env: FuzzEnv;
  /** Outcome counts over every case run: status name → completions. */
  readonly outcomes = new Map<string, number>();
  /** Completions by what was asked for: "plain", "csum" (NEEDS_CSUM only), "lso" → status name → count. */
  readonly outcomesByKind = new Map<string, Map<string, number>>();
  framesOut = 0;
  cases = 0;
  /** Device instances replaced (chaos). */
  restarts = 0;
  /** The device's instance: the rig's own, or the last one that took over (chaos). */
  private dev: Core;
  private chaosNext?: () => number;
  private nextCookie = 0xfffffff0; // cookies wrap too
  private readonly drops: Map<number, string>;
  private readonly C: Record<string, number> = {};
  private readonly ram: number;
  private readonly stallTurns: number;

  constructor(readonly opts: RigOptions = {}) {
    this.ram = opts.ramBytes ?? RAM_BYTES;
    this.stallTurns = opts.stallTurns ?? 2000;
    this.core = createCore(
      { guestRamBytes: this.ram, ringSlots: opts.ringSlots ?? RING_SLOTS, wireBytes: opts.wireBytes ?? WIRE_BYTES, arenaBytes: 1 << 16 },
      opts.flavor ?? "release",
    );
    const x = this.core.exports;
    x.initDatapath(0xf022);
    // Free-running ring indices start just below 2^32, so every rig crosses the wrap.
    for (const r of ["RING_GUEST_TX", "RING_PHYS_TX", "RING_USED"] as const) ringResetAt(this.core, this.core.constant(r), 0xffffffc0);
    x.coalesceReset?.(0xffffffc0);
    this.core.setParam("wireDiscard", 0);
    for (const name of ["GD_GPA", "GD_LEN", "GD_COOKIE", "GD_FLAGS", "GD_GSO_TYPE", "GD_HDR_LEN", "GD_GSO_SIZE", "GD_CSUM_START",
      "GD_CSUM_OFFSET", "GD_TIMESTAMP", "UE_COOKIE", "UE_STATUS", "UE_WIRE_FRAMES", "RING_GUEST_TX", "RING_USED", "wireBase",
      "wireBytes", "WIRE_WRAP", "WIRE_RECORD_HEADER"] as const) this.C[name] = this.core.constant(name);
    this.drops = new Map([...this.core.constantsWithPrefix("DROP_")].map(([n, v]) => [v, n]));
    const params = new Set(this.core.constantsWithPrefix("P_").keys());
    this.env = {
      ramBytes: this.ram,
      pageSize: this.core.constant("PAGE_SIZE"),
      maxSg: this.core.constant("MAX_SG"),
      copyModes: [...this.core.constantsWithPrefix("COPY_").values()],
      offloadParams: ["nicMaxLso", "maxSegments", "fixedId", "coalescePolicy"].filter((p) => params.has(p)),
    };
    this.dev = this.core;
    if (opts.chaos) {
      this.core.setParam("inflight", 1);
      this.chaosNext = xorshift(opts.chaos.seed);
    }
    this.watch = new MemoryWatch(this.core);
    this.watch.poison();
    // Guest RAM starts as random bytes (never the poison pattern: 8 specific bytes in a row).
    const next = xorshift(0x5eed);
    const g = new Uint8Array(this.ram);
    for (let i = 0; i < g.length; i += 4) new DataView(g.buffer).setUint32(i, next());
    this.writeGuest(0, g);
  }

  statusName(status: number): string {
    return status === 0 ? "ok" : this.drops.get(status) ?? `unnamed status ${status}`;
  }

  writeGuest(gpa: number, bytes: Uint8Array): void {
    const x = this.core.exports;
    const u8 = this.core.u8;
    const n = Math.min(bytes.length, this.ram - gpa);
    for (let done = 0; done < n; ) {
      const at = gpa + done;
      const k = Math.min(4096 - (at & 4095), n - done);
      u8.set(bytes.subarray(done, done + k), x.machineAddress(at) >>> 0);
      done += k;
    }
  }

  readGuest(gpa: number, len: number): Uint8Array {
    const x = this.core.exports;
    const u8 = this.core.u8;
    const out = new Uint8Array(len);
    for (let done = 0; done < len; ) {
      const at = gpa + done;
      const k = Math.min(4096 - (at & 4095), len - done);
      const m = x.machineAddress(at) >>> 0;
      out.set(u8.subarray(m, m + k), done);
      done += k;
    }
    return out;
  }

  private counters(): Map<string, bigint> {
    const x = this.core.exports;
    const m = new Map<string, bigint>();
    for (const [n, id] of this.core.constantsWithPrefix("C_")) m.set(n, BigInt.asUintN(64, x.counter(id)));
    for (const [n, s] of this.core.constantsWithPrefix("DROP_")) m.set("drop:" + n, BigInt.asUintN(64, x.dropCount(s)));
    return m;
  }

  /** Posts descriptors as a hostile guest: every field as given, no checks. */
  post(descs: FuzzDesc[]): number[] {
    const x = this.core.exports;
    const C = this.C;
    const ring = C.RING_GUEST_TX;
    if (x.ringReserve(ring, descs.length) !== descs.length) throw new FuzzFailure(`guest TX ring has no room for ${descs.length}`);
    const head = x.ringHead(ring) >>> 0;
    const v = this.core.view;
    const cookies: number[] = [];
    descs.forEach((d, i) => {
      const gd = x.ringSlot(ring, (head + i) >>> 0) >>> 0;
      const cookie = this.nextCookie;
      this.nextCookie = (this.nextCookie + 1) >>> 0;
      cookies.push(cookie);
      v.setUint32(gd + C.GD_GPA, d.gpa, true);
      v.setUint32(gd + C.GD_LEN, d.len, true);
      v.setUint32(gd + C.GD_COOKIE, cookie, true);
      v.setUint8(gd + C.GD_FLAGS, d.flags);
      v.setUint8(gd + C.GD_GSO_TYPE, d.gsoType);
      v.setUint16(gd + C.GD_HDR_LEN, d.hdrLen, true);
      v.setUint16(gd + C.GD_GSO_SIZE, d.gsoSize, true);
      v.setUint16(gd + C.GD_CSUM_START, d.csumStart, true);
      v.setUint16(gd + C.GD_CSUM_OFFSET, d.csumOffset, true);
      v.setUint16(gd + 22, 0xa5a5, true); // GD_ORIG_EXTRA, replay metadata: must never change a frame
      v.setBigUint64(gd + C.GD_TIMESTAMP, BigInt(cookie) * 1000n, true);
    });
    x.ringPublish(ring, descs.length);
    return cookies;
  }

  takeCompletions(): CompletionFull[] {
    const x = this.core.exports;
    const ring = this.C.RING_USED;
    const n = x.ringAvailable(ring, 1 << 16);
    const tail = x.ringTail(ring) >>> 0;
    const v = this.core.view;
    const out: CompletionFull[] = [];
    for (let i = 0; i < n; i++) {
      const ue = x.ringSlot(ring, (tail + i) >>> 0) >>> 0;
      out.push({ cookie: v.getUint32(ue + this.C.UE_COOKIE, true), status: v.getUint32(ue + this.C.UE_STATUS, true), wireFrames: v.getUint32(ue + this.C.UE_WIRE_FRAMES, true) });
    }
    x.ringRelease(ring, n);
    return out;
  }

  drainWire(into: WireFrame[]): number {
    const x = this.core.exports;
    const base = this.C.wireBase;
    const size = this.C.wireBytes;
    const hdr = this.C.WIRE_RECORD_HEADER;
    let tail = x.wireTail() >>> 0;
    const head = x.wireHead() >>> 0;
    const v = this.core.view;
    let n = 0;
    while (tail !== head) {
      const pos = tail & (size - 1);
      const len = v.getUint32(base + pos, true);
      if (len === this.C.WIRE_WRAP) {
        tail = (tail + size - pos) >>> 0;
        continue;
      }
      if (len > size || pos + hdr + len > size) throw new FuzzFailure(`wire record at ${pos} claims ${len} bytes`);
      into.push({ bytes: this.core.u8.slice(base + pos + hdr, base + pos + hdr + len), tsNs: v.getBigUint64(base + pos + 8, true) });
      tail = (tail + hdr + ((len + 7) & ~7)) >>> 0;
      n++;
    }
    x.wireSetTail(tail);
    return n;
  }

  private maybeReplaceDevice(): void {
    if (!this.chaosNext || this.chaosNext() % this.opts.chaos!.every !== 0) return;
    this.dev = attachCore(this.core.module, this.core.memory);
    this.dev.exports.deviceAttach();
    this.restarts++;
  }

  private applySettings(s: FuzzSettings): void {
    this.core.setParam("copyMode", s.copyMode);
    this.core.setParam("copyBytes", s.copyBytes);
    this.core.setParam("mtu", s.mtu);
    this.core.setParams(s.params);
  }

  private writeContent(d: FuzzDesc): void {
    if (d.gpa >= this.ram) return;
    if (d.content.kind === "frame") this.writeGuest(d.gpa, d.content.bytes);
    else if (d.content.kind === "random") {
      const next = xorshift(d.content.seed);
      const b = new Uint8Array(d.content.bytes);
      for (let i = 0; i < b.length; i++) b[i] = next() & 0xff;
      this.writeGuest(d.gpa, b);
    }
  }

  /** Runs one case to completion and checks it; throws FuzzFailure on any broken property. */
  runCase(c: FuzzCase): void {
    const x = this.core.exports;
    this.applySettings(c.settings);
    for (const d of c.descs) this.writeContent(d);
    const before = this.counters();
    const cookies = this.post(c.descs);
    // What the guest's buffers hold now: the wire must show exactly this for plain frames.
    const expected = c.descs.map((d) => (d.len > 0 && d.gpa + d.len <= this.ram && d.len <= 1 << 19 ? this.readGuest(d.gpa, d.len) : undefined));
    this.watch.freeze();

    const completions: CompletionFull[] = [];
    const frames: WireFrame[] = [];
    let idle = 0;
    for (let turn = 0; completions.length < c.descs.length; turn++) {
      const t = this.dev.exports.translateStage(c.settings.translateBudget);
      this.maybeReplaceDevice();
      const m = this.dev.exports.nicStage(c.settings.nicBudget);
      this.maybeReplaceDevice();
      const w = this.drainWire(frames);
      const before = completions.length;
      completions.push(...this.takeCompletions());
      if (t === 0 && m === 0 && w === 0 && completions.length === before) idle++;
      else idle = 0;
      if (idle > this.stallTurns) {
        throw new FuzzFailure(`hang: ${completions.length} of ${c.descs.length} descriptors completed after ${turn} turns, ` +
          `${this.stallTurns} turns without progress (guest TX ring holds ${x.ringCount(this.C.RING_GUEST_TX)}, ` +
          `physical ring ${x.ringCount(this.core.constant("RING_PHYS_TX"))})`);
      }
    }
    // Nothing more may come out once everything completed.
    for (let i = 0; i < 3; i++) {
      this.dev.exports.translateStage(256);
      this.dev.exports.nicStage(256);
      this.drainWire(frames);
      completions.push(...this.takeCompletions());
    }
    this.cases++;
    this.framesOut += frames.length;
    this.checkCase(c, cookies, expected, completions, frames, before);
  }

  private checkCase(c: FuzzCase, cookies: number[], expected: (Uint8Array | undefined)[], completions: CompletionFull[],
    frames: WireFrame[], before: Map<string, bigint>): void {
    const fail = (msg: string): never => {
      throw new FuzzFailure(msg);
    };
    if (completions.length !== c.descs.length) fail(`${completions.length} completions for ${c.descs.length} descriptors`);
    const mtu = c.settings.mtu;
    let f = 0;
    const byStatus = new Map<number, number>();
    for (let i = 0; i < completions.length; i++) {
      const d = c.descs[i];
      const done = completions[i];
      const name = this.statusName(done.status);
      const what = `descriptor ${i} (gpa ${d.gpa}, len ${d.len}, flags ${d.flags}, gso_type ${d.gsoType}, hdr_len ${d.hdrLen}, ` +
        `gso_size ${d.gsoSize}, csum ${d.csumStart}+${d.csumOffset}) → ${name}, ${done.wireFrames} frame(s)`;
      if (done.cookie !== cookies[i]) fail(`completion ${i} has cookie ${done.cookie}, expected ${cookies[i]} (out of order or lost)`);
      if (name.startsWith("unnamed")) fail(`${what}: status is not a named drop reason`);
      byStatus.set(done.status, (byStatus.get(done.status) ?? 0) + 1);
      this.outcomes.set(name, (this.outcomes.get(name) ?? 0) + 1);
      const kind = (d.gsoType & 0x7f) !== 0 ? "lso" : (d.flags & 1) !== 0 ? "csum" : "plain";
      const k = this.outcomesByKind.get(kind) ?? new Map<string, number>();
      this.outcomesByKind.set(kind, k.set(name, (k.get(name) ?? 0) + 1));
      if (d.len === 0 && name !== "empty") fail(`${what}: expected empty`);
      if (d.len > 0 && d.gpa + d.len > this.ram && name !== "badAddress") fail(`${what}: expected badAddress`);
      if ((d.len === 0 || d.gpa + d.len > this.ram) && done.wireFrames !== 0) fail(`${what}: a refused range put frames on the wire`);
      if (done.status === 0 && done.wireFrames === 0) fail(`${what}: OK but nothing on the wire`);
      if (f + done.wireFrames > frames.length) fail(`${what}: completions claim more frames than the wire carried (${frames.length})`);
      const mine = frames.slice(f, f + done.wireFrames);
      f += done.wireFrames;
      const largeSend = (d.gsoType & 0x7f) !== 0;
      const needsCsum = (d.flags & 1) !== 0;
      if (done.status === 0 && !largeSend) {
        if (mine.length !== 1) fail(`${what}: a frame without large send became ${mine.length} frames`);
        const exp = expected[i];
        if (!exp) fail(`${what}: transmitted, but its range was not fully inside guest RAM`);
        const got = mine[0].bytes;
        if (!needsCsum) {
          if (Buffer.compare(got, exp!) !== 0) fail(`${what}: wire frame differs from the guest's bytes (${firstDiff(got, exp!)})`);
        } else {
          const at = d.csumStart + d.csumOffset;
          if (got.length !== exp!.length) fail(`${what}: checksummed frame has length ${got.length}, expected ${exp!.length}`);
          const a = Buffer.from(got), b = Buffer.from(exp!);
          if (a.compare(b, 0, at, 0, at) !== 0 || a.compare(b, at + 2, b.length, at + 2, a.length) !== 0) {
            fail(`${what}: checksummed frame differs from the guest's bytes outside the checksum field (${firstDiff(got, exp!)})`);
          }
          // Verifiable only with the field at an even offset from csum_start (the sum's word
          // alignment); real drivers always use 16 (TCP) or 6 (UDP).
          const seed = (exp![at] << 8) | exp![at + 1];
          if (d.csumOffset % 2 === 0 && onesSum(got, d.csumStart, got.length, seed) !== 0xffff) fail(`${what}: completed checksum does not verify`);
        }
      }
    }
    if (f !== frames.length) fail(`the wire carried ${frames.length} frames, completions account for ${f}`);
    let bytes = 0;
    for (const fr of frames) {
      const b = fr.bytes;
      bytes += b.length;
      if (b.length < 14) fail(`a ${b.length}-byte frame reached the wire (runt)`);
      if (b.length > mtu + L2_MAX) fail(`a ${b.length}-byte frame reached the wire with MTU ${mtu}`);
      const p = findPoison(b);
      if (p >= 0) fail(`a wire frame of ${b.length} bytes holds guard/poison bytes at offset ${p}: the device read outside guest RAM`);
    }
    // Books for this case.
    const after = this.counters();
    const delta = (n: string) => Number((after.get(n) ?? 0n) - (before.get(n) ?? 0n));
    const n = c.descs.length;
    let dropped = 0;
    for (const [status, name] of this.drops) {
      const dd = delta("drop:" + name);
      dropped += dd;
      if (dd !== (byStatus.get(status) ?? 0)) fail(`drop counter ${name} moved by ${dd}, ${byStatus.get(status) ?? 0} completions carry it`);
    }
    if (delta("deviceDescriptors") !== n) fail(`deviceDescriptors moved by ${delta("deviceDescriptors")}, ${n} posted`);
    if (delta("deviceCompleted") !== n) fail(`deviceCompleted moved by ${delta("deviceCompleted")}, ${n} posted`);
    if (delta("devicePackets") + dropped !== n) fail(`books: completed ${n} != transmitted ${delta("devicePackets")} + dropped ${dropped}`);
    if (delta("devicePackets") !== (byStatus.get(0) ?? 0)) fail(`devicePackets moved by ${delta("devicePackets")}, ${byStatus.get(0) ?? 0} completed OK`);
    if (delta("wireFrames") !== frames.length) fail(`wireFrames moved by ${delta("wireFrames")}, ${frames.length} frames came out`);
    if (delta("wireBytes") !== bytes) fail(`wireBytes moved by ${delta("wireBytes")}, ${bytes} bytes came out`);
    const mem = this.watch.check();
    if (mem.length > 0) fail(`the device wrote outside its regions:\n  ${mem.join("\n  ")}`);
  }
}

function firstDiff(a: Uint8Array, b: Uint8Array): string {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return `first difference at byte ${i}: ${a[i]} vs ${b[i]}, lengths ${a.length}/${b.length}`;
  return `lengths ${a.length} vs ${b.length}`;
}

/** Runs `cases` fuzz cases on rigs made by `makeRig` (a fresh rig after any failure, so a
 *  shrinking run never inherits a broken core). Throws fast-check's report on failure. */
export function fuzzDevice(o: { cases: number; seed?: number; rig?: RigOptions; onRig?: (r: DeviceRig) => void; verbose?: boolean; paramCaps?: Record<string, number> }) {
  let rig = new DeviceRig(o.rig);
  o.onRig?.(rig);
  let dirty = false;
  const result = { rigs: [rig] };
  fc.assert(
    fc.property(arbFuzzCase({ ...rig.env, paramCaps: o.paramCaps }), (c) => {
      if (dirty) {
        rig = new DeviceRig(o.rig);
        result.rigs.push(rig);
        o.onRig?.(rig);
        dirty = false;
      }
      try {
        rig.runCase(c);
      } catch (e) {
        dirty = true;
        throw e;
      }
    }),
    { numRuns: o.cases, seed: o.seed, verbose: o.verbose ? 1 : 0, endOnFailure: o.verbose ? false : undefined },
  );
  return result;
}
