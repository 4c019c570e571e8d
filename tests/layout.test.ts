import { describe, expect, it } from "vitest";
import { compileCore, Core, createCore } from "../src/core/core.js";
import { testCore, u32 } from "./helpers/core.js";
import { ARENA_RECORD_HEADER } from "../src/datapath/datapath.js";

describe("memory map (assembly/shared/layout.ts)", () => {
  const core = testCore({ guestRamBytes: 4 << 20, ringSlots: 256 });
  const x = core.exports;
  const count = core.constant("REGION_COUNT");
  const regions = Array.from({ length: count }, (_, r) => ({ r, base: u32(x.regionBase(r)), bytes: u32(x.regionBytes(r)) }));

  it("places every region after the fixed part, page-aligned, in order, with a guard page between", () => {
    const page = core.constant("PAGE_SIZE");
    let end = core.constant("REGIONS_START");
    for (const { base, bytes } of regions) {
      expect(base % page).toBe(0);
      expect(base).toBeGreaterThanOrEqual(end + (end === core.constant("REGIONS_START") ? 0 : page));
      end = base + bytes;
    }
    expect(u32(x.totalBytes())).toBeGreaterThanOrEqual(end);
    expect(core.memory.buffer.byteLength).toBeGreaterThanOrEqual(u32(x.totalBytes()));
  });

  it("keeps the fixed areas below the AssemblyScript data segments (memoryBase 64 KiB) and above the low 1 KiB", () => {
    for (const name of ["CONFIG_BASE", "RINGS_BASE", "STATE_BASE", "COUNTERS_BASE", "PARAMS_BASE", "HISTOGRAM_BASE"]) {
      expect(core.constant(name)).toBeGreaterThanOrEqual(1024);
      expect(core.constant(name)).toBeLessThan(65536);
    }
  });

  it("puts each hot index and each sleeper flag on its own 64-byte line", () => {
    const lines = ["STATE_STOP", "STATE_GUEST_DOORBELL", "STATE_GUEST_SLEEPING", "STATE_DEVICE_DOORBELL", "STATE_DEVICE_SLEEPING", "STATE_WIRE", "STATE_WIRE_CONSUMER"]
      .map((n) => core.constant(n) >> 6);
    expect(new Set(lines).size).toBe(lines.length);
    for (const ring of ["RING_GUEST_TX", "RING_PHYS_TX", "RING_USED"]) {
      const r = core.constant(ring);
      expect(((r + 64) >> 6) !== ((r + 128) >> 6)).toBe(true); // head line != tail line
    }
  });

  it("sizes guest RAM as asked and the page table at one u32 per 4 KiB frame", () => {
    expect(regions[core.constant("REGION_GUEST_RAM")].bytes).toBe(4 << 20);
    expect(regions[core.constant("REGION_PAGE_TABLE")].bytes).toBe((4 << 20) / 4096 * 4);
  });

  it("maps guest frames to machine frames by a seeded permutation that is not the identity", () => {
    const pt = u32(x.pageTableBase.value);
    const frames = (4 << 20) / 4096;
    const table = Array.from({ length: frames }, (_, i) => core.view.getUint32(pt + i * 4, true));
    expect([...table].sort((a, b) => a - b)).toEqual(Array.from({ length: frames }, (_, i) => i));
    const fixedPoints = table.filter((m, g) => m === g).length;
    expect(fixedPoints).toBeLessThan(frames / 16);
    const contiguous = table.filter((m, g) => g > 0 && m === table[g - 1] + 1).length;
    expect(contiguous).toBeLessThan(frames / 16);
    // Same seed, same table; another seed, another table.
    const again = testCore({ guestRamBytes: 4 << 20, ringSlots: 256 });
    const other = testCore({ guestRamBytes: 4 << 20, ringSlots: 256, seed: 99 });
    const read = (c: Core) => Array.from({ length: frames }, (_, i) => c.view.getUint32(u32(c.exports.pageTableBase.value) + i * 4, true));
    expect(read(again)).toEqual(table);
    expect(read(other)).not.toEqual(table);
  });

  it("translates a guest-physical address through the page table", () => {
    const ram = u32(x.guestRamBase.value);
    const pt = u32(x.pageTableBase.value);
    for (const gpa of [0, 1, 4095, 4096, 123457, (4 << 20) - 1]) {
      const frame = core.view.getUint32(pt + (gpa >>> 12) * 4, true);
      expect(u32(x.machineAddress(gpa))).toBe(ram + frame * 4096 + (gpa & 4095));
    }
  });

  it("the host's arena record header (sized before any core exists) is the core's", () => {
    expect(ARENA_RECORD_HEADER).toBe(testCore().constant("ARENA_RECORD_HEADER"));
  });

  it("refuses unusable plans", () => {
    const probe = new Core(compileCore("debug"), new WebAssembly.Memory({ initial: 32, maximum: 32, shared: true }));
    const cfg = probe.exports.configure;
    expect(cfg(1 << 20, 1000, 1 << 20, 0)).toBe(0); // ring slots not a power of two
    expect(cfg(1000, 64, 1 << 20, 0)).toBe(0); // guest RAM not whole pages
    expect(cfg(1 << 20, 64, 1000, 0)).toBe(0); // wire not a power of two
    expect(cfg(0xfff00000, 64, 1 << 20, 0)).toBe(0); // past 4 GiB
    expect(() => createCore({ guestRamBytes: 1 << 20, ringSlots: 3, wireBytes: 1 << 20, arenaBytes: 0 })).toThrow(/unusable memory plan/);
  });
});

describe("pre-translated buffer pool (assembly/backend/tx-buffers.ts)", () => {
  it("pins the buffer header format: data address, index, magic; 16-byte header, 240 data bytes", () => {
    const core = testCore({ ringSlots: 64 });
    const x = core.exports;
    expect(core.constant("POOL_BUF_SIZE")).toBe(256);
    expect(core.constant("POOL_HDR_SIZE")).toBe(16);
    expect(core.constant("POOL_DATA_SIZE")).toBe(240);
    const base = u32(x.poolBase.value);
    for (const slot of [0, 1, 63, 64, 65, 0xffffffff]) {
      const buf = u32(x.poolBuffer(slot));
      const index = slot % 64;
      expect(buf).toBe(base + index * 256);
      expect(core.view.getUint32(buf + core.constant("PB_DATA_ADDR"), true)).toBe(buf + 16);
      expect(core.view.getUint32(buf + core.constant("PB_INDEX"), true)).toBe(index);
      expect(core.view.getUint32(buf + core.constant("PB_MAGIC"), true)).toBe(core.constant("POOL_BUF_MAGIC"));
    }
  });
});
