// Test support: a configured core on its own shared memory, and small builders.
import { Core, createCore } from "../../src/core/core.js";

export interface TestCoreOptions {
  guestRamBytes?: number;
  ringSlots?: number;
  wireBytes?: number;
  arenaBytes?: number;
  seed?: number;
  flavor?: "release" | "debug";
}

export function testCore(o: TestCoreOptions = {}): Core {
  const core = createCore(
    {
      guestRamBytes: o.guestRamBytes ?? 1 << 20,
      ringSlots: o.ringSlots ?? 64,
      wireBytes: o.wireBytes ?? 1 << 20,
      arenaBytes: o.arenaBytes ?? 1 << 16,
    },
    o.flavor ?? "debug",
  );
  core.exports.initDatapath(o.seed ?? 1234);
  core.setParam("mtu", 1500);
  core.setParam("wireDiscard", 1);
  return core;
}

/** u32 from an export that returns an i32-typed value. */
export const u32 = (v: number) => v >>> 0;

/** A deterministic byte pattern that tells every position apart (for copy checks). */
export function pattern(len: number, seed = 0): Uint8Array {
  const b = new Uint8Array(len);
  let x = (seed * 2654435761 + 1) >>> 0;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}
