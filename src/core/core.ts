// Loads the AssemblyScript core and instantiates it against a shared WebAssembly.Memory.
//
// The core exports flat numeric functions and constants; this file gives the host a typed view
// of them and reads the memory map from the module (never from a copy in TypeScript).
// Names are discovered from the exports: `C_*` counters, `DROP_*` drop reasons, `P_*` params.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { exportAllGlobals, GlobalSnapshot } from "./core-globals.js";

export const WASM_PAGE = 65536;

/** The project root (holds package.json), from here in src/core/ or in dist/src/core/. */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      readFileSync(path.join(dir, "package.json"));
      return dir;
    } catch {
      dir = path.dirname(dir);
    }
  }
  throw new Error("vnic: cannot find the project root (package.json) above " + fileURLToPath(import.meta.url));
}

export type CoreFlavor = "release" | "debug";

export function wasmPath(flavor: CoreFlavor = "release"): string {
  return path.join(projectRoot(), "build", flavor === "release" ? "vnic.wasm" : "vnic.debug.wasm");
}

const moduleCache = new Map<string, WebAssembly.Module>();

/** Compiles (once per process) the core module. */
export function compileCore(flavor: CoreFlavor = "release"): WebAssembly.Module {
  const file = wasmPath(flavor);
  let mod = moduleCache.get(file);
  if (!mod) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      throw new Error(`vnic: ${file} is missing; run \`npm run build\` first`);
    }
    // Every mutable global exported too, so that an instance can be made fresh again
    // (core-globals.ts: the hand-over's new device).
    mod = new WebAssembly.Module(exportAllGlobals(new Uint8Array(bytes)));
    moduleCache.set(file, mod);
  }
  return mod;
}

/** The core's exports, typed from the core itself (scripts/core-types.mjs turns asc's
 *  `--bindings raw` declarations into src/core/core-exports.generated.ts at every build): a renamed
 *  or removed export is a compile error here, not a null in a report. */
import type { CoreExports } from "./core-exports.generated.js";
export type { CoreExports };

type ExportName = keyof CoreExports & string;
/** Names of the core's exported constants and counters (WebAssembly globals). */
export type ConstantName = { [K in ExportName]: CoreExports[K] extends WebAssembly.Global ? K : never }[ExportName];
type Suffix<P extends string, N> = N extends `${P}${infer R}` ? R : never;
/** Counter names as the report uses them: `C_wireFull` → "wireFull". */
export type CounterName = Suffix<"C_", ConstantName>;
/** Run parameter names: `P_mtu` → "mtu". */
export type ParamName = Suffix<"P_", ConstantName>;

export class Core {
  readonly exports: CoreExports;
  readonly memory: WebAssembly.Memory;
  readonly module: WebAssembly.Module;
  /** Every global as it was right after instantiation, before any call (core-globals.ts). */
  private readonly freshGlobals: GlobalSnapshot;

  /** `nowUs`: the clock the core reads (the gate's instruction count passes a fixed-step one,
   *  so that no branch depends on the time). */
  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, nowUs: () => number = () => (performance.timeOrigin + performance.now()) * 1000) {
    this.module = module;
    this.memory = memory;
    this.exports = new WebAssembly.Instance(module, { env: { memory, nowUs } }).exports as unknown as CoreExports;
    this.freshGlobals = new GlobalSnapshot(this.exports as unknown as WebAssembly.Exports);
  }

  /** Puts this instance back into the state a new instance starts in: every mutable global
   *  (the core's only per-instance state) holds its value from right after instantiation. */
  resetToFresh(): void {
    this.freshGlobals.restore();
  }

  /** The value of an exported constant (or mutable global). */
  constant(name: ConstantName): number {
    const g = this.exports[name];
    if (!(g instanceof WebAssembly.Global)) throw new Error(`vnic core: no exported constant ${name}`);
    return Number(g.value) >>> 0;
  }

  fn(name: ExportName): (...args: any[]) => any {
    const f = this.exports[name];
    if (typeof f !== "function") throw new Error(`vnic core: no exported function ${name}`);
    return f;
  }

  /** name → value of every export whose name starts with `prefix` (e.g. "C_", "DROP_"). */
  constantsWithPrefix(prefix: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, v] of Object.entries(this.exports)) {
      if (name.startsWith(prefix) && v instanceof WebAssembly.Global) out.set(name.slice(prefix.length), Number(v.value) >>> 0);
    }
    return out;
  }

  counter(name: CounterName): bigint {
    return BigInt.asUintN(64, this.exports.counter(this.constant(`C_${name}`)));
  }

  setParam(name: ParamName, value: number): void {
    this.exports.setParam(this.constant(`P_${name}`), value >>> 0);
  }
  /** Sets each parameter of a name → value table (option parsers build them); a name the core
   *  does not export is an error naming it. */
  setParams(params: Record<string, number>): void {
    for (const [name, value] of Object.entries(params)) this.setParam(name as ParamName, value);
  }


  get u8(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  get view(): DataView {
    return new DataView(this.memory.buffer);
  }
}

export interface MemoryPlan {
  guestRamBytes: number;
  ringSlots: number;
  wireBytes: number;
  arenaBytes: number;
}

export const DEFAULT_PLAN: Omit<MemoryPlan, "arenaBytes"> = {
  guestRamBytes: 64 << 20,
  ringSlots: 1024,
  wireBytes: 4 << 20,
};

/**
 * Sizes the memory for `plan` with a throwaway probe instance (the layout arithmetic lives in
 * the core), then creates the real shared memory (initial = maximum: it never grows),
 * instantiates the core on it and lays the regions out. `module`: another build of the core
 * (the gate's A/B); `nowUs`: the clock the core imports (default: the wall clock).
 */
export function createCore(plan: MemoryPlan, flavor: CoreFlavor = "release", module: WebAssembly.Module = compileCore(flavor), nowUs?: () => number): Core {
  const probeMemory = new WebAssembly.Memory({ initial: 32, maximum: 32, shared: true });
  const probe = new Core(module, probeMemory);
  const total = probe.exports.configure(plan.guestRamBytes, plan.ringSlots, plan.wireBytes, plan.arenaBytes) >>> 0;
  if (total === 0) {
    throw new Error(`vnic: unusable memory plan ${JSON.stringify(plan)} (ring slots and wire size must be powers of two, guest RAM a multiple of 4 KiB, and everything under 4 GiB)`);
  }
  const pages = Math.ceil(total / WASM_PAGE);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const core = new Core(module, memory, nowUs);
  core.exports.configure(plan.guestRamBytes, plan.ringSlots, plan.wireBytes, plan.arenaBytes);
  return core;
}

/** A worker's instance over memory someone else configured. */
export function attachCore(module: WebAssembly.Module, memory: WebAssembly.Memory): Core {
  const core = new Core(module, memory);
  core.exports.attach();
  return core;
}
