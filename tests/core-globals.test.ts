// The hand-over's new device reuses the core instance and restores its globals
// (src/core/core-globals.ts) instead of instantiating the core again: the restored instance must be
// indistinguishable from a new one, global by global, after real traffic.

import { describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { compileCore, Core, wasmPath } from "../src/core/core.js";
import { exportAllGlobals, GLOBAL_EXPORT_PREFIX, mutableGlobalIndices } from "../src/core/core-globals.js";
import { InlineRig } from "../src/perf/bench-inline.js";
import { benchCaptures } from "../src/perf/bench-frames.js";

function globalValues(core: Core): Map<string, number | bigint> {
  const out = new Map<string, number | bigint>();
  for (const [name, v] of Object.entries(core.exports)) if (v instanceof WebAssembly.Global) out.set(name, v.value);
  return out;
}

function isMutable(g: WebAssembly.Global): boolean {
  try {
    g.value = g.value;
    return true;
  } catch {
    return false;
  }
}

describe("core globals", () => {
  const raw = new Uint8Array(readFileSync(wasmPath()));

  it("are all exported: one export per mutable global of the global section, nothing else changed", () => {
    const before = WebAssembly.Module.exports(new WebAssembly.Module(raw));
    const after = WebAssembly.Module.exports(new WebAssembly.Module(exportAllGlobals(raw)));
    const added = after.filter((e) => e.name.startsWith(GLOBAL_EXPORT_PREFIX));
    expect(after.filter((e) => !e.name.startsWith(GLOBAL_EXPORT_PREFIX))).toEqual(before);
    expect(added.every((e) => e.kind === "global")).toBe(true);
    const instance = new Core(compileCore(), new WebAssembly.Memory({ initial: 32, maximum: 32, shared: true }));
    const mutable = Object.values(instance.exports).filter((v) => v instanceof WebAssembly.Global && isMutable(v));
    expect(mutable.length).toBe(mutableGlobalIndices(raw).length);
    // Independently of this file's parser: the text form asc writes beside the module.
    const wat = wasmPath().replace(/\.wasm$/, ".wat");
    if (existsSync(wat)) expect(mutable.length).toBe(readFileSync(wat, "utf8").match(/^ \(global \S+ \(mut /gm)!.length);
    expect(mutable.length).toBeGreaterThan(50);
  });

  it("restored after traffic equal a new instance's, global by global", () => {
    const module = compileCore();
    const captures = benchCaptures().filter((c) => c.name === "imix" || c.name === "tso64k");
    for (const capture of captures) {
      for (const copy of ["headers", "full"]) {
        const rig = new InlineRig(module, capture);
        rig.run({ capture: capture.name, coalesce: "adaptive", copy }, 2, 0);
        const fresh = new Core(module, rig.core.memory);
        fresh.exports.attach();
        const want = globalValues(fresh);
        const used = globalValues(rig.core);
        const changed = [...want].filter(([name, v]) => used.get(name) !== v).map(([name]) => name);
        expect(changed.length, `${capture.name}/${copy}: traffic changed no global`).toBeGreaterThan(5);
        rig.core.resetToFresh();
        rig.core.exports.attach();
        expect(globalValues(rig.core)).toEqual(want);
      }
    }
  });
});
