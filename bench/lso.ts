// Large send offload, side by side in one run: segmented output in Gbit/s per core for a 64 KiB
// and a 185 KB TCP super-packet, a 64 KiB USO datagram (GSO_UDP_L4, every UDP checksum) and a
// 64 KiB VXLAN super-packet (IPv4 outer with UDP checksum, inner TCP; every inner and outer
// checksum) — MTU 1500, every IPv4 header and L4 checksum computed — for
//   wasm      — the core single-threaded: stage 1 (translateStage) + stage 2 (nicStage) on
//               hand-posted large-send descriptors, the wire in discard mode (the NIC still
//               writes every byte of every frame);
//   reference — the plain TS reference (src/reference offloadFrame) on the same frame;
//   copy roof — wasm `memory.copy` of the same bytes in the same pieces (each segment's header
//               from a template, its payload slice from the frame), no fix-ups, no checksums.
// Interleaved round by round (so the machine's noise hits all alike); median and min–max.
//
//   npm run build && node dist/bench/lso.js [--rounds N] [--ms M] [--only wasm|reference|copy] [--json]
//   node --cpu-prof dist/bench/lso.js --only wasm      (profile of the wasm path alone)
//   node dist/bench/lso.js --compare OTHER.wasm        (adds "wasm B": another build of the core,
//                                                       interleaved with this one, for A/B tests)
//
// Output bytes are whole Ethernet frames (14-byte header included, no preamble/FCS/IFG).

import path from "node:path";
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { ConstantName, Core, ParamName, createCore, projectRoot } from "../src/core/core.js";
import { DEFAULT_PARAMS } from "../src/datapath/datapath.js";
import { readCaptureFile } from "../src/capture/index.js";
import { defaultMss, offloadFrame, parseFrame, parseTunnel } from "../src/reference/index.js";
import { helpIfAsked } from "../src/perf/bench-help.js";

helpIfAsked(import.meta.url);

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "9" },
    ms: { type: "string", default: "150" },
    only: { type: "string" },
    json: { type: "boolean", default: false },
    "nic-max-lso": { type: "string", default: "65536" },
    compare: { type: "string" },
  },
});
const ROUNDS = Number(values.rounds);
const SAMPLE_MS = Number(values.ms);
const MTU = 1500;
const NIC_MAX_LSO = Number(values["nic-max-lso"]);

function firstFrame(file: string): Uint8Array {
  let first: Uint8Array | undefined;
  readCaptureFile(path.join(projectRoot(), "captures", file), (f) => {
    first ??= new Uint8Array(f.data);
  });
  if (!first) throw new Error(`${file}: no frame`);
  return first;
}

const put16 = (b: Uint8Array, o: number, v: number) => {
  b[o] = v >> 8;
  b[o + 1] = v & 0xff;
};

/** A 64 KiB UDP_SEGMENT datagram: the TCP frame's Ethernet + IPv4 header, UDP, 65507 bytes. */
function usoFrame(tcp: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + 65535);
  f.set(tcp.subarray(0, 34));
  for (let i = 42; i < f.length; i++) f[i] = (i * 7) & 0xff;
  put16(f, 16, 65535);
  f[23] = 17;
  put16(f, 34, 40000);
  put16(f, 36, 443);
  put16(f, 38, 65515);
  return f;
}

/** The TCP frame, cut to fit, inside Ethernet + IPv4 + UDP (checksum set) + VXLAN: 64 KiB outer. */
function vxlanFrame(tcp: Uint8Array): Uint8Array {
  const innerLen = 65535 - 36; // the outer IPv4 total length caps the whole
  const f = new Uint8Array(50 + innerLen);
  f.set(tcp.subarray(0, 34));
  f.set(tcp.subarray(0, innerLen), 50);
  put16(f, 50 + 16, innerLen - 14); // inner IPv4 total length
  put16(f, 16, f.length - 14);
  f[23] = 17;
  put16(f, 34, 51000);
  put16(f, 36, 4789);
  put16(f, 38, f.length - 34);
  put16(f, 40, 0x1234); // non-zero: the outer UDP checksum is computed per segment
  f[42] = 0x08; // VXLAN I flag
  return f;
}

type Kind = "tcp" | "uso" | "vxlan";
const tcp64 = firstFrame("tcp-64k-v4.pcap");
const INPUTS: { name: string; kind: Kind; frame: Uint8Array }[] = [
  { name: "64 KiB", kind: "tcp", frame: tcp64 },
  { name: "185 KB", kind: "tcp", frame: firstFrame("bigtcp-185k-v4.pcap") },
  { name: "64 KiB USO", kind: "uso", frame: usoFrame(tcp64) },
  { name: "64 KiB VXLAN", kind: "vxlan", frame: vxlanFrame(tcp64) },
];

interface LargeSendDesc { flags: number; gsoType: number; hdrLen: number; gsoSize: number; csumStart: number; csumOffset: number; len: number }

/** The virtio_net_hdr vnet-header.ts would post for the input. */
function descriptorOf(kind: Kind, frame: Uint8Array): LargeSendDesc {
  const l = parseFrame(frame);
  if (kind === "uso") return { flags: 1, gsoType: 5, hdrLen: l.payload, gsoSize: MTU - l.ipHeaderLen - 8, csumStart: l.l4, csumOffset: 6, len: frame.length };
  if (kind === "vxlan") {
    const t = parseTunnel(frame)!;
    const inner = parseFrame(frame.subarray(t.inner));
    const hdrLen = t.inner + inner.payload;
    return { flags: 1 | 8, gsoType: 1 | 0x20, hdrLen, gsoSize: MTU - (hdrLen - t.outerL3), csumStart: t.inner + inner.l4, csumOffset: 16, len: frame.length };
  }
  return { flags: 1, gsoType: l.ipVersion === 4 ? 1 : 4, hdrLen: l.payload, gsoSize: defaultMss(frame, MTU), csumStart: l.l4, csumOffset: 16, len: frame.length };
}

// ---- the wasm core, single-threaded ----

const BATCH = 16;
const GPA = 0;

class WasmLso {
  readonly core: Core;
  private readonly x: Record<string, any>;
  private readonly k: (n: string) => number;
  private cookie = 0;
  desc!: LargeSendDesc;

  constructor(wasmFile?: string) {
    const plan = [1 << 20, 256, 4 << 20, 1 << 19] as const; // guest RAM, ring slots, wire, arena
    // wasmFile: another build of the core (A/B), laid out the same way.
    const module = wasmFile ? new WebAssembly.Module(readFileSync(wasmFile)) : undefined;
    this.core = createCore({ guestRamBytes: plan[0], ringSlots: plan[1], wireBytes: plan[2], arenaBytes: plan[3] }, "release", module);
    this.x = this.core.exports;
    const constants = new Map<string, number>();
    this.k = (n) => constants.get(n) ?? (constants.set(n, this.core.constant(n as ConstantName)), constants.get(n)!);
    this.x.initDatapath(0x5eed);
    for (const [n, v] of Object.entries({ ...DEFAULT_PARAMS, mtu: MTU, wireDiscard: 1, nicMaxLso: NIC_MAX_LSO, fixedId: 0 }))
      this.core.setParam(n as ParamName, v);
  }

  load(frame: Uint8Array, kind: Kind): void {
    for (let done = 0; done < frame.length; ) {
      const at = GPA + done;
      const n = Math.min(4096 - (at & 4095), frame.length - done);
      this.core.u8.set(frame.subarray(done, done + n), this.x.machineAddress(at) >>> 0);
      done += n;
    }
    this.desc = descriptorOf(kind, frame);
  }

  /** Posts BATCH large sends and runs both stages until all have completed. */
  batch(): void {
    const { x, k, core } = this;
    const ring = k("RING_GUEST_TX");
    if (x.ringReserve(ring, BATCH) !== BATCH) throw new Error("guest ring full");
    const head = x.ringHead(ring) >>> 0;
    const v = core.view;
    for (let i = 0; i < BATCH; i++) {
      const gd = x.ringSlot(ring, (head + i) >>> 0) >>> 0;
      v.setUint32(gd + k("GD_GPA"), GPA, true);
      v.setUint32(gd + k("GD_LEN"), this.desc.len, true);
      v.setUint32(gd + k("GD_COOKIE"), this.cookie++, true);
      v.setUint8(gd + k("GD_FLAGS"), this.desc.flags); // NEEDS_CSUM (+ UDP_TUNNEL_CSUM)
      v.setUint8(gd + k("GD_GSO_TYPE"), this.desc.gsoType);
      v.setUint16(gd + k("GD_HDR_LEN"), this.desc.hdrLen, true);
      v.setUint16(gd + k("GD_GSO_SIZE"), this.desc.gsoSize, true);
      v.setUint16(gd + k("GD_CSUM_START"), this.desc.csumStart, true);
      v.setUint16(gd + k("GD_CSUM_OFFSET"), this.desc.csumOffset, true);
      v.setBigUint64(gd + k("GD_TIMESTAMP"), 0n, true);
    }
    x.ringPublish(ring, BATCH);
    const used = k("RING_USED");
    for (let done = 0; done < BATCH; ) {
      x.translateStage(64);
      x.nicStage(64);
      const n = x.ringAvailable(used, 1 << 16);
      x.ringRelease(used, n);
      done += n;
    }
  }

  wireBytes(): number {
    return Number(this.core.counter("wireBytes"));
  }
}

// ---- the copy roof: memory.copy of the same bytes, in the same pieces ----

/** A hand-assembled module over the core's memory: copy(dst, src, len) = one memory.copy. */
function memoryCopyFn(memory: WebAssembly.Memory): (d: number, s: number, n: number) => void {
  const bytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x07, 0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00, // type: (i32 i32 i32) -> ()
    0x02, 0x12, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x03, 0x01, 0x80, 0x80, 0x04, // import env.memory shared 1..65536
    0x03, 0x02, 0x01, 0x00, // function 0: type 0
    0x07, 0x08, 0x01, 0x04, 0x63, 0x6f, 0x70, 0x79, 0x00, 0x00, // export "copy"
    0x0a, 0x0e, 0x01, 0x0c, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfc, 0x0a, 0x00, 0x00, 0x0b, // memory.copy
  ]);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return inst.exports.copy as (d: number, s: number, n: number) => void;
}

class CopyRoof {
  private readonly copy: (d: number, s: number, n: number) => void;
  private readonly src: number;
  private readonly dst: number;
  private readonly dstSize: number;
  private h = 0;
  private mss = 0;
  private payload = 0;
  private pos = 0;

  constructor(core: Core) {
    this.copy = memoryCopyFn(core.memory);
    this.src = core.constant("arenaBase");
    this.dst = core.constant("wireBase");
    this.dstSize = core.constant("wireBytes");
  }

  load(core: Core, frame: Uint8Array, kind: Kind): void {
    core.u8.set(frame, this.src);
    const d = descriptorOf(kind, frame);
    this.h = d.hdrLen;
    this.mss = d.gsoSize;
    this.payload = frame.length - d.hdrLen;
  }

  /** One super-packet's worth: per segment, its header and its payload slice. Returns bytes. */
  once(): number {
    let bytes = 0;
    for (let off = 0; off < this.payload; off += this.mss) {
      const len = Math.min(this.mss, this.payload - off);
      const rec = (16 + this.h + len + 7) & ~7;
      if (this.pos + rec > this.dstSize) this.pos = 0;
      const at = this.dst + this.pos + 16;
      this.copy(at, this.src, this.h);
      this.copy(at + this.h, this.src + this.h + off, len);
      this.pos += rec;
      bytes += this.h + len;
    }
    return bytes;
  }
}

// ---- measurement ----

type Runner = { label: string; run: () => number }; // runs ~SAMPLE_MS, returns Gbit/s

function timed(step: () => number): number {
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  const until = t0 + BigInt(SAMPLE_MS) * 1_000_000n;
  let t = t0;
  do {
    bytes += step();
    t = process.hrtime.bigint();
  } while (t < until);
  return (bytes * 8) / Number(t - t0); // bits per ns = Gbit/s
}

const wasm = new WasmLso();
const wasmB = values.compare ? new WasmLso(values.compare) : undefined;
const roof = new CopyRoof(wasm.core);
const runners: Runner[] = [];
for (const input of INPUTS) {
  const expectedBytes = offloadFrame(input.frame, { mtu: MTU }).frames.reduce((n, f) => n + f.length, 0);
  for (const [label, w] of [["wasm", wasm], ["wasm B", wasmB]] as const) {
    if (!w) continue;
    runners.push({
      label: `${label} ${input.name}`,
      run: () => {
        w.load(input.frame, input.kind);
        return timed(() => {
          const before = w.wireBytes();
          w.batch();
          const b = w.wireBytes() - before;
          if (b !== BATCH * expectedBytes) throw new Error(`${label} put ${b} bytes on the wire, expected ${BATCH * expectedBytes}`);
          return b;
        });
      },
    });
  }
  runners.push({
    label: `reference ${input.name}`,
    run: () => timed(() => offloadFrame(input.frame, { mtu: MTU, nicMaxLso: NIC_MAX_LSO }).frames.reduce((n, f) => n + f.length, 0)),
  });
  runners.push({
    label: `memory.copy ${input.name}`,
    run: () => {
      roof.load(wasm.core, input.frame, input.kind);
      return timed(() => roof.once());
    },
  });
}

const selected = values.only ? runners.filter((r) => r.label.startsWith(values.only!)) : runners;
for (const r of selected) r.run(); // warm-up: tier-up of JS and wasm
const samples = new Map<string, number[]>(selected.map((r) => [r.label, []]));
for (let round = 0; round < ROUNDS; round++) for (const r of selected) samples.get(r.label)!.push(r.run());

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows = [...samples].map(([label, s]) => ({ label, median: median(s), min: Math.min(...s), max: Math.max(...s), n: s.length }));
if (values.json) console.log(JSON.stringify({ mtu: MTU, nicMaxLso: NIC_MAX_LSO, sampleMs: SAMPLE_MS, rows }, null, 2));
else {
  console.log(`LSO segmented output, Gbit/s per core (MTU ${MTU}, --nic-max-lso ${NIC_MAX_LSO}; ${ROUNDS} interleaved rounds of ${SAMPLE_MS} ms; median [min–max])`);
  for (const input of INPUTS) {
    const d = descriptorOf(input.kind, input.frame);
    const segs = Math.ceil((input.frame.length - d.hdrLen) / d.gsoSize);
    const frameBytes = (input.frame.length - d.hdrLen + segs * d.hdrLen) / segs; // mean segment size
    console.log(`\n${input.name} super-packet (${input.frame.length} B → ${segs} segments):`);
    for (const r of rows.filter((r) => r.label.endsWith(` ${input.name}`)))
      console.log(`  ${r.label.replace(` ${input.name}`, "").padEnd(12)} ${r.median.toFixed(2).padStart(7)} Gbit/s  [${r.min.toFixed(2)}–${r.max.toFixed(2)}]  ${(r.median / 8 / frameBytes * 1e3).toFixed(2).padStart(6)} Mseg/s`);
  }
  // Ratios to TCP per round (each round runs them back to back), then the median: steadier on
  // a noisy machine than a ratio of two medians.
  const tcp = samples.get("wasm 64 KiB");
  for (const l of ["wasm 64 KiB USO", "wasm 64 KiB VXLAN"]) {
    const v = samples.get(l);
    if (!tcp || !v) continue;
    const ratios = v.map((x, i) => x / tcp[i]);
    console.log(`${l} / wasm 64 KiB TCP: ${median(ratios).toFixed(2)} [${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}] (Gbit/s, per-round ratio, median)`);
  }
}
