// The metered build of the core: the same module, rewritten so that it counts the WebAssembly
// instructions it executes (the gate's exact cost per packet, src/perf/gate-ops.ts).
//
// The rewriting runs on binaryen's IR (binaryen ships with assemblyscript; its tree IR is the
// module's instructions, one node per instruction). Every straight-line run — a function body,
// each statement of a block, a loop body, an if arm — starts with `meter += n`, n being the
// instructions that run evaluates up to the next nested block, loop or if (those count
// themselves). Each loop iteration re-enters its body, so it counts again; a `select` evaluates
// both operands and counts both. The counter is a mutable i64 global: per instance, so the one
// thread that runs the rig owns it.
//
// What the count is: deterministic — the same module, fed the same frames in the same order,
// counts the same number, on any machine, at any load. Exact to the statement: a branch out of
// the middle of a nested expression (rare in AssemblyScript output) still counts the rest of
// that one statement. Never compared with a build metered by another version of this file
// without re-recording (README "The gate").
//
// The metered module is for counting only (about 2-4x slower); the normal build is untouched.

import binaryen from "binaryen";

export const METER_READ = "__vnic_meter_read";
export const METER_RESET = "__vnic_meter_reset";
const METER_GLOBAL = "__vnic_meter";

// The expression wrapper classes (binaryen.Block.getChildren, …) exist in binaryen.js but not in
// its index.d.ts.
type Wrapper = Record<string, (...a: any[]) => any>;
const B = binaryen as typeof binaryen & { Block: Wrapper; If: Wrapper; Loop: Wrapper; Function: Wrapper };

// The expression children of each node kind (binaryen.getExpressionInfo's field names). Blocks,
// loops and ifs are handled apart; a kind missing from both tables makes the pass refuse the
// module (an unmetered kind would undercount in silence).
const CHILDREN: Record<number, string[]> = {
  [B.NopId]: [], [B.LocalGetId]: [], [B.GlobalGetId]: [], [B.ConstId]: [], [B.MemorySizeId]: [],
  [B.UnreachableId]: [], [B.AtomicFenceId]: [], [B.DataDropId]: [],
  [B.BreakId]: ["condition", "value"], [B.SwitchId]: ["condition", "value"],
  [B.CallId]: ["operands"], [B.CallIndirectId]: ["target", "operands"],
  [B.LocalSetId]: ["value"], [B.GlobalSetId]: ["value"],
  [B.LoadId]: ["ptr"], [B.StoreId]: ["ptr", "value"],
  [B.AtomicRMWId]: ["ptr", "value"], [B.AtomicCmpxchgId]: ["ptr", "expected", "replacement"],
  [B.AtomicWaitId]: ["ptr", "expected", "timeout"], [B.AtomicNotifyId]: ["ptr", "notifyCount"],
  [B.SIMDExtractId]: ["vec"], [B.SIMDReplaceId]: ["vec", "value"], [B.SIMDShuffleId]: ["left", "right"],
  [B.SIMDTernaryId]: ["a", "b", "c"], [B.SIMDShiftId]: ["vec", "shift"], [B.SIMDLoadId]: ["ptr"],
  [B.SIMDLoadStoreLaneId]: ["ptr", "vec"],
  [B.MemoryInitId]: ["dest", "offset", "size"], [B.MemoryCopyId]: ["dest", "source", "size"], [B.MemoryFillId]: ["dest", "value", "size"],
  [B.UnaryId]: ["value"], [B.BinaryId]: ["left", "right"], [B.SelectId]: ["ifTrue", "ifFalse", "condition"],
  [B.DropId]: ["value"], [B.ReturnId]: ["value"], [B.MemoryGrowId]: ["delta"],
};

function childrenOf(e: number): number[] {
  const id = B.getExpressionId(e);
  const fields = CHILDREN[id];
  if (!fields) throw new Error(`vnic meter: no metering rule for binaryen expression kind ${id}`);
  if (fields.length === 0) return [];
  const info = B.getExpressionInfo(e) as unknown as Record<string, unknown>;
  const out: number[] = [];
  for (const f of fields) {
    const v = info[f];
    if (Array.isArray(v)) out.push(...(v as number[]).filter(Boolean));
    else if (typeof v === "number" && v !== 0) out.push(v);
  }
  return out;
}

class Meter {
  constructor(private readonly mod: binaryen.Module) {}

  /** `meter += n` */
  private bump(n: number): number {
    const m = this.mod;
    return m.global.set(METER_GLOBAL, m.i64.add(m.global.get(METER_GLOBAL, B.i64), (m.i64.const as unknown as (v: bigint) => number)(BigInt(n))));
  }

  /** Instructions `e` evaluates itself, before any nested block/loop/if arm (which count
   *  themselves); instruments those nested structures on the way. */
  private straight(e: number): number {
    const id = B.getExpressionId(e);
    if (id === B.BlockId) {
      this.block(e);
      return 1;
    }
    if (id === B.LoopId) {
      B.Loop.setBody(e, this.run(B.Loop.getBody(e)));
      return 1;
    }
    if (id === B.IfId) {
      const n = 1 + this.straight(B.If.getCondition(e));
      B.If.setIfTrue(e, this.run(B.If.getIfTrue(e)));
      const no = B.If.getIfFalse(e);
      if (no) B.If.setIfFalse(e, this.run(no));
      return n;
    }
    let n = 1;
    for (const c of childrenOf(e)) n += this.straight(c);
    return n;
  }

  /** Each statement of a block is preceded by its own count (a `br` out of the block between two
   *  statements then counts exactly what ran). */
  private block(e: number): void {
    const out: number[] = [];
    for (const c of B.Block.getChildren(e)) {
      const n = this.straight(c);
      if (n > 0) out.push(this.bump(n));
      out.push(c);
    }
    B.Block.setChildren(e, out);
  }

  /** `e` as a counted straight-line run (an arm, a loop body, a function body). */
  run(e: number): number {
    if (B.getExpressionId(e) === B.BlockId && !B.Block.getName(e)) {
      this.block(e);
      return e;
    }
    const n = this.straight(e);
    return this.mod.block(null, [this.bump(n), e], B.getExpressionType(e));
  }
}

/** The metered module's bytes, from a normal build's. */
export function meterWasm(bytes: Uint8Array): Uint8Array {
  const mod = B.readBinary(bytes);
  try {
    mod.setFeatures(B.Features.All);
    mod.addGlobal(METER_GLOBAL, B.i64, true, (mod.i64.const as unknown as (v: bigint) => number)(0n));
    const meter = new Meter(mod);
    const n = mod.getNumFunctions();
    for (let i = 0; i < n; i++) {
      const f = mod.getFunctionByIndex(i);
      const body = B.getFunctionInfo(f).body;
      if (body) B.Function.setBody(f, meter.run(body)); // imports have no body
    }
    mod.addFunction(METER_READ, B.none, B.i64, [], mod.global.get(METER_GLOBAL, B.i64));
    mod.addFunctionExport(METER_READ, METER_READ);
    mod.addFunction(METER_RESET, B.none, B.none, [], mod.global.set(METER_GLOBAL, (mod.i64.const as unknown as (v: bigint) => number)(0n)));
    mod.addFunctionExport(METER_RESET, METER_RESET);
    if (!mod.validate()) throw new Error("vnic meter: the metered module does not validate");
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

/** True when `exports` are a metered core's. */
export function isMetered(exports: Record<string, unknown>): boolean {
  return typeof exports[METER_READ] === "function";
}
