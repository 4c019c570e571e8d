// Drives the native wire pump with WIRE_FLAG_GATHER records (native/pump.h) on an interface,
// in the namespace it runs in: frames are scattered over a shared memory, each record lists
// its pieces. Once the pump's cursor is past a record, its pieces are overwritten (a guest
// reusing a completed buffer): the wire must still carry the original bytes.
// argv: iface frames-json-file [af_packet|af_xdp]. Prints the pump's stats as JSON.
"use strict";
const fs = require("node:fs");
const native = require("vnic-wire");
const [iface, file, backend = "af_packet"] = process.argv.slice(2);
const frames = JSON.parse(fs.readFileSync(file, "utf8")).map((h) => Buffer.from(h, "hex"));
// A shared WebAssembly.Memory, as in a run: page-aligned, so AF_XDP can register it as UMEM.
const mem = new Uint8Array(new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true }).buffer);
const dv = new DataView(mem.buffer);
const i32 = new Int32Array(mem.buffer);
const WIRE_BASE = 1 << 16, WIRE_BYTES = 1 << 16, HEAD = 0, CURSOR = 4, BELL = 12;
let data = 1 << 20; // where pieces go
const ends = [];
let head = 0;
const handle = native.start(mem, iface, { wireBase: WIRE_BASE, wireBytes: WIRE_BYTES, headAt: HEAD, cursorAt: CURSOR, sleepingAt: 8, bellAt: BELL, vnetHdr: 0, afXdp: backend === "af_xdp" ? 1 : 0 }).handle;
const pieces = [];
for (const f of frames) {
  // A 14-byte "header buffer", then SG entries of 7..300 bytes, each at its own place.
  const cuts = [14];
  for (let at = 14; at < f.length; ) { const n = Math.min(f.length - at, 7 + ((at * 31) % 294)); cuts.push(n); at += n; }
  const list = [];
  let at = 0;
  for (const n of cuts) { mem.set(f.subarray(at, at + n), data); list.push([data, n]); at += n; data += n + 40; }
  const len = 8 + 8 * list.length;
  const pos = head & (WIRE_BYTES - 1);
  const rec = WIRE_BASE + pos;
  dv.setUint32(rec, len, true); dv.setUint32(rec + 4, 2, true); // WIRE_FLAG_GATHER
  dv.setUint32(rec + 16, list.length, true); dv.setUint32(rec + 20, 0, true);
  list.forEach(([a, n], k) => { dv.setUint32(rec + 24 + 8 * k, a, true); dv.setUint32(rec + 28 + 8 * k, n, true); });
  head += 16 + ((len + 7) & ~7);
  ends.push(head);
  pieces.push(list);
}
if (head > WIRE_BYTES) throw new Error("too many frames for the test ring");
Atomics.store(i32, HEAD >> 2, head);
Atomics.add(i32, BELL >> 2, 1);
native.kick(mem, BELL);
// Reuse: as soon as the cursor is past a record, scribble over its pieces.
let reused = 0;
const t0 = Date.now();
while (reused < frames.length && Date.now() - t0 < 10000) {
  const cursor = Atomics.load(i32, CURSOR >> 2) >>> 0;
  while (reused < frames.length && cursor >= ends[reused]) { for (const [a, n] of pieces[reused]) mem.fill(0xee, a, a + n); reused++; }
}
native.finish(handle);
process.stdout.write(JSON.stringify({ ...native.stats(handle), reused }));
