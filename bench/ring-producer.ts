// Producer thread of the ring-handoff benchmark (bench/stages.ts): for each round the main
// thread posts, pushes `total` items through the ring in bursts of `burst`, each slot's first
// word holding its sequence number (the consumer checks it), then reports how long it took.
import { parentPort, workerData } from "node:worker_threads";
import { attachCore } from "../src/core/core.js";

const { module, memory, ring, burst } = workerData as { module: WebAssembly.Module; memory: WebAssembly.Memory; ring: number; burst: number };
const core = attachCore(module, memory);
const x = core.exports;
const view = new DataView(memory.buffer);
// Slot address computed here from the ring's control block (base, mask, log2 slot size: see
// assembly/shared/ring.ts), as a JS driver would, instead of one wasm call per item.
const base = view.getUint32(ring, true), mask = view.getUint32(ring + 4, true), shift = view.getUint32(ring + 8, true);

parentPort!.on("message", ({ total, start }: { total: number; start: number }) => {
  let seq = start;
  const end = start + total;
  const t0 = performance.now();
  while (seq < end) {
    const n = x.ringReserve(ring, Math.min(burst, end - seq)) >>> 0;
    if (n === 0) continue;
    const head = x.ringHead(ring) >>> 0;
    for (let i = 0; i < n; i++) view.setUint32(base + (((head + i) & mask) << shift), seq + i, true);
    x.ringPublish(ring, n);
    seq += n;
  }
  parentPort!.postMessage({ ms: performance.now() - t0 });
});
