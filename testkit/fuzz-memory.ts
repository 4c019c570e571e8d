// Fuzz support: a watch over the whole shared memory, to catch the device writing or reading
// where it must not.
//
// Every byte of the memory falls in one of three classes:
//   poisoned   guard pages, the gaps between regions, unused low memory, the capture arena:
//              filled with POISON before the run; must still hold it afterwards (no write),
//              and no wire frame may contain 8 bytes of it (no read that reached the wire)
//   frozen     memory the device may read but never write (guest RAM, the page table, the
//              guest TX ring, config, params, …): snapshotted, must be unchanged afterwards
//   writable   the device's own regions (physical TX ring, used ring, SG tables, buffer pool,
//              wire, bounce buffers) and the control pages (ring indices, state, counters)
// Regions are discovered from the core's REGION_* exports; a region not named in
// DEVICE_WRITABLE_REGIONS or POISONED_REGIONS is frozen, so a new region is watched by default.

import type { Core } from "../src/core/core.js";

/** 8 distinct byte values: any 8-byte window of the repeated pattern names its own phase. */
export const POISON = Uint8Array.of(0xf1, 0x9e, 0x5b, 0xc7, 0x2d, 0x83, 0x6a, 0xe4);
const POISON_PHASE = new Int16Array(256).fill(-1);
POISON.forEach((b, i) => (POISON_PHASE[b] = i));

export const DEVICE_WRITABLE_REGIONS = ["PHYS_TX_SLOTS", "USED_SLOTS", "SG_TABLES", "POOL", "WIRE", "BOUNCE"];
export const POISONED_REGIONS = ["ARENA"];
// Fixed pages below REGIONS_START (assembly/shared/layout.ts): which ones the device may write.
// RINGS, STATE and COUNTERS hold ring indices, sleep flags, coalescing state and counters;
// INFLIGHT the hand-over records (assembly/device/inflight.ts).
const DEVICE_WRITABLE_PAGES = ["RINGS_BASE", "STATE_BASE", "COUNTERS_BASE", "INFLIGHT_BASE"] as const;
const FROZEN_PAGES = ["CONFIG_BASE", "PARAMS_BASE", "HISTOGRAM_BASE"] as const;

export interface MemRange {
  name: string;
  start: number;
  end: number;
}

export type MemClass = "poisoned" | "frozen" | "writable";

function fillPoison(u8: Uint8Array, start: number, end: number): void {
  for (let a = start; a < end; a++) u8[a] = POISON[a & 7];
}

/** The memory map as the core states it, every byte classified. Sorted, gapless. */
export function classifyMemory(core: Core): (MemRange & { cls: MemClass })[] {
  const out: (MemRange & { cls: MemClass })[] = [];
  const page = core.constant("PAGE_SIZE");
  const fixed = [...DEVICE_WRITABLE_PAGES, ...FROZEN_PAGES].map((n) => ({ n, at: core.constant(n) })).sort((a, b) => a.at - b.at);
  let at = 0;
  for (const { n, at: base } of fixed) {
    if (base > at) out.push({ name: `unused ${hex(at)}..${hex(base)}`, start: at, end: base, cls: "poisoned" });
    out.push({ name: n.replace("_BASE", "") + " page", start: base, end: base + page, cls: (DEVICE_WRITABLE_PAGES as readonly string[]).includes(n) ? "writable" : "frozen" });
    at = base + page;
  }
  const regionsStart = core.constant("REGIONS_START");
  out.push({ name: `unused ${hex(at)}..${hex(regionsStart)} (below the regions)`, start: at, end: regionsStart, cls: "poisoned" });
  at = regionsStart;
  const regions = [...core.constantsWithPrefix("REGION_")]
    .filter(([n]) => n !== "COUNT")
    .map(([n, id]) => ({ n, base: core.exports.regionBase(id) >>> 0, bytes: core.exports.regionBytes(id) >>> 0 }))
    .sort((a, b) => a.base - b.base);
  for (const r of regions) {
    if (r.base > at) out.push({ name: `guard/gap before ${r.n}`, start: at, end: r.base, cls: "poisoned" });
    const cls: MemClass = DEVICE_WRITABLE_REGIONS.includes(r.n) ? "writable" : POISONED_REGIONS.includes(r.n) ? "poisoned" : "frozen";
    out.push({ name: r.n, start: r.base, end: r.base + r.bytes, cls });
    at = r.base + r.bytes;
  }
  const total = core.memory.buffer.byteLength;
  if (total > at) out.push({ name: "guard after the last region", start: at, end: total, cls: "poisoned" });
  return out.filter((r) => r.end > r.start);
}

const hex = (n: number) => "0x" + n.toString(16);

export class MemoryWatch {
  readonly ranges: (MemRange & { cls: MemClass })[];
  private snapshots = new Map<MemRange, Uint8Array>();
  private poisonImage = new Uint8Array(0);

  constructor(private readonly core: Core) {
    this.ranges = classifyMemory(core);
  }

  get poisoned(): MemRange[] {
    return this.ranges.filter((r) => r.cls === "poisoned");
  }

  /** Fills every poisoned range with POISON (call once, before traffic). */
  poison(): void {
    const u8 = this.core.u8;
    let longest = 0;
    for (const r of this.poisoned) {
      fillPoison(u8, r.start, r.end);
      longest = Math.max(longest, r.end - r.start);
    }
    // A pattern image phase-aligned with address 0, for memcmp-speed checks.
    this.poisonImage = new Uint8Array(longest + 8);
    fillPoison(this.poisonImage, 0, this.poisonImage.length);
  }

  /** Snapshots every frozen range (call after the host/guest wrote what it wanted to). */
  freeze(): void {
    const u8 = this.core.u8;
    for (const r of this.ranges) if (r.cls === "frozen") this.snapshots.set(r, u8.slice(r.start, r.end));
  }

  /** One line per range the device changed: which range, first changed address, how many bytes.
   *  `ignore`: range names someone other than the device legitimately wrote since freeze(). */
  check(ignore: string[] = []): string[] {
    const u8 = this.core.u8;
    const problems: string[] = [];
    for (const r of this.ranges) {
      if (ignore.includes(r.name)) continue;
      let expected: Uint8Array | undefined;
      if (r.cls === "poisoned") {
        const phase = r.start & 7;
        expected = this.poisonImage.subarray(phase, phase + (r.end - r.start));
      } else if (r.cls === "frozen") {
        expected = this.snapshots.get(r);
      }
      if (!expected) continue;
      const actual = u8.subarray(r.start, r.end);
      if (Buffer.compare(actual, expected) === 0) continue;
      let first = -1;
      let count = 0;
      for (let i = 0; i < actual.length; i++) {
        if (actual[i] !== expected[i]) {
          if (first < 0) first = i;
          count++;
        }
      }
      problems.push(`${r.cls} ${r.name} [${hex(r.start)}, ${hex(r.end)}): ${count} byte(s) changed, first at ${hex(r.start + first)}`);
    }
    return problems;
  }
}

/** Offset of the first 8-byte run of POISON (any phase) in `bytes`, or -1. */
export function findPoison(bytes: Uint8Array): number {
  const n = bytes.length - 7;
  for (let i = 0; i < n; i++) {
    const p = POISON_PHASE[bytes[i]];
    if (p < 0) continue;
    let k = 1;
    while (k < 8 && bytes[i + k] === POISON[(p + k) & 7]) k++;
    if (k === 8) return i;
  }
  return -1;
}
