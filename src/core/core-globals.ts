// Every mutable global of the core, reachable from the host, so that an instance can be put
// back into the state a fresh instance starts in (the hand-over's "new device", src/handover/).
//
// Why: a new device used to be a new WebAssembly.Instance. Creating one on the device thread
// costs 0.4–5 ms (V8 builds the instance and its export wrappers; the device loop's call sites
// see new functions and re-optimise), which at a hand-over every 10^5 frames cost 14 % of the
// run's rate (README "Hand-over"). The core's per-instance state is its globals and nothing
// else: the memory is shared by every instance on every thread, so nothing per-instance can
// live there, and the start function only sets globals (assembly/ keeps no per-instance data
// in memory: the guest and the device run two instances on one memory at the same time).
// So "fresh" is exactly "every mutable global holds the value it had right after
// instantiation", and that is what `GlobalSnapshot.restore` writes back.
//
// AssemblyScript exports only the globals the source exports, so `exportAllGlobals` rewrites
// the module's export section (WebAssembly core spec §5.5.10) to add an export `__vnic_g<i>`
// for every defined mutable global that has none. The code of the module is untouched: V8
// keeps a defined global in the instance's globals buffer whether or not it is exported.
// tests/core-globals.test.ts checks the count against the global section and that a restored
// instance equals a fresh one, global by global, after real traffic.

const SECTION_IMPORT = 2;
const SECTION_GLOBAL = 6;
const SECTION_EXPORT = 7;
const KIND_GLOBAL = 3;
export const GLOBAL_EXPORT_PREFIX = "__vnic_g";

class Reader {
  constructor(readonly bytes: Uint8Array, public pos: number) {}
  byte(): number {
    if (this.pos >= this.bytes.length) throw new Error("vnic core: truncated module");
    return this.bytes[this.pos++];
  }
  /** Unsigned LEB128 (spec §5.2.2), up to 32 bits. */
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new Error("vnic core: bad LEB128 in module");
  }
  /** Skips a signed LEB128 of any width. */
  skipLeb(): void {
    while (this.byte() & 0x80);
  }
  skip(n: number): void {
    this.pos += n;
  }
  name(): string {
    const len = this.u32();
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
}

function encodeU32(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function encodeName(s: string): number[] {
  const utf8 = new TextEncoder().encode(s);
  return [...encodeU32(utf8.length), ...utf8];
}

/** Skips a constant expression (spec §3.3.10: the instructions a global's init may use). */
function skipConstExpr(r: Reader): void {
  for (;;) {
    const op = r.byte();
    if (op === 0x0b) return; // end
    if (op === 0x41 || op === 0x42 || op === 0x23 || op === 0xd2) r.skipLeb(); // i32/i64.const, global.get, ref.func
    else if (op === 0x43) r.skip(4); // f32.const
    else if (op === 0x44) r.skip(8); // f64.const
    else if (op === 0xd0) r.byte(); // ref.null t
    else if (op === 0xfd && r.u32() === 12) r.skip(16); // v128.const
    else throw new Error(`vnic core: unexpected opcode 0x${op.toString(16)} in a global's initializer`);
  }
}

interface Section {
  id: number;
  start: number; // first byte of the section (its id)
  body: number; // first byte of its contents
  end: number;
}

function sections(bytes: Uint8Array): Section[] {
  const out: Section[] = [];
  const r = new Reader(bytes, 8); // magic and version
  while (r.pos < bytes.length) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    out.push({ id, start, body: r.pos, end: r.pos + size });
    r.pos += size;
  }
  return out;
}

/** How many globals the module imports (they come first in the global index space). */
function importedGlobals(bytes: Uint8Array, s: Section | undefined): number {
  if (!s) return 0;
  const r = new Reader(bytes, s.body);
  let globals = 0;
  for (let n = r.u32(); n > 0; n--) {
    r.name();
    r.name();
    const kind = r.byte();
    if (kind === 0) r.u32(); // function: type index
    else if (kind === 1) { r.byte(); skipLimits(r); } // table: reftype, limits
    else if (kind === 2) skipLimits(r); // memory
    else if (kind === KIND_GLOBAL) { r.byte(); r.byte(); globals++; } // valtype, mutability
    else throw new Error(`vnic core: unknown import kind ${kind}`);
  }
  return globals;
}

function skipLimits(r: Reader): void {
  const flags = r.byte();
  r.u32();
  if (flags & 1) r.u32();
}

/** Indices (in the global index space) of the module's own mutable globals. */
export function mutableGlobalIndices(bytes: Uint8Array): number[] {
  const all = sections(bytes);
  const base = importedGlobals(bytes, all.find((s) => s.id === SECTION_IMPORT));
  const g = all.find((s) => s.id === SECTION_GLOBAL);
  if (!g) return [];
  const r = new Reader(bytes, g.body);
  const out: number[] = [];
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    r.byte(); // value type
    if (r.byte() === 1) out.push(base + i);
    skipConstExpr(r);
  }
  return out;
}

/** The module with an export added for every mutable global it does not export yet. */
export function exportAllGlobals(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const all = sections(bytes);
  const exp = all.find((s) => s.id === SECTION_EXPORT);
  if (!exp) throw new Error("vnic core: the module has no export section");
  const r = new Reader(bytes, exp.body);
  const count = r.u32();
  const entriesStart = r.pos;
  const exported = new Set<number>();
  for (let i = 0; i < count; i++) {
    r.name();
    const kind = r.byte();
    const index = r.u32();
    if (kind === KIND_GLOBAL) exported.add(index);
  }
  const added: number[] = [];
  let extra = 0;
  for (const index of mutableGlobalIndices(bytes)) {
    if (exported.has(index)) continue;
    added.push(...encodeName(GLOBAL_EXPORT_PREFIX + index), KIND_GLOBAL, ...encodeU32(index));
    extra++;
  }
  const body = encodeU32(count + extra);
  const entries = bytes.subarray(entriesStart, exp.end);
  const content = new Uint8Array(body.length + entries.length + added.length);
  content.set(body, 0);
  content.set(entries, body.length);
  content.set(added, body.length + entries.length);
  const header = [SECTION_EXPORT, ...encodeU32(content.length)];
  const out = new Uint8Array(exp.start + header.length + content.length + (bytes.length - exp.end));
  out.set(bytes.subarray(0, exp.start), 0);
  out.set(header, exp.start);
  out.set(content, exp.start + header.length);
  out.set(bytes.subarray(exp.end), exp.start + header.length + content.length);
  return out;
}

/** The values every global of an instance had when the snapshot was taken (right after
 *  instantiation: the Core constructor takes it before any call into the instance). */
export class GlobalSnapshot {
  private globals: WebAssembly.Global[] = [];
  private values: (number | bigint)[] = [];
  private mutableOnly = false;

  constructor(exports: WebAssembly.Exports) {
    for (const v of Object.values(exports)) {
      if (!(v instanceof WebAssembly.Global)) continue;
      this.globals.push(v);
      this.values.push(v.value);
    }
  }

  /** Writes every mutable global back. The first call also learns which globals are mutable
   *  (setting an immutable one throws; it still holds its snapshot value, it cannot change). */
  restore(): void {
    if (this.mutableOnly) {
      for (let i = 0; i < this.globals.length; i++) this.globals[i].value = this.values[i];
      return;
    }
    const globals: WebAssembly.Global[] = [];
    const values: (number | bigint)[] = [];
    for (let i = 0; i < this.globals.length; i++) {
      try {
        this.globals[i].value = this.values[i];
      } catch {
        continue;
      }
      globals.push(this.globals[i]);
      values.push(this.values[i]);
    }
    this.globals = globals;
    this.values = values;
    this.mutableOnly = true;
  }

  /** How many mutable globals `restore` writes (after its first call). */
  get mutableCount(): number {
    return this.mutableOnly ? this.globals.length : -1;
  }
}
