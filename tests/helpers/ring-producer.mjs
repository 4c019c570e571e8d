// Producer thread for the two-thread ring test: pushes `total` sequence numbers through a ring
// in random burst sizes (seeded), each slot holding [seq, ~seq] so the consumer can tell a
// torn or stale slot from a good one.
import { parentPort, workerData } from "node:worker_threads";

const { module, memory, ring, total, seed, maxBurst } = workerData;
const x = new WebAssembly.Instance(module, { env: { memory, nowUs: () => (performance.timeOrigin + performance.now()) * 1000 } }).exports;
x.attach();
const view = new DataView(memory.buffer);
let s = seed >>> 0;
const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) >>> 8);
let seq = 0;
let fullSpins = 0;
while (seq < total) {
  const want = Math.min(1 + (rand() % maxBurst), total - seq);
  const n = x.ringReserve(ring, want) >>> 0;
  if (n === 0) {
    fullSpins++;
    continue;
  }
  const head = x.ringHead(ring) >>> 0;
  for (let i = 0; i < n; i++) {
    const slot = x.ringSlot(ring, (head + i) >>> 0) >>> 0;
    view.setUint32(slot, seq + i, true);
    view.setUint32(slot + 4, ~(seq + i) >>> 0, true);
  }
  x.ringPublish(ring, n);
  seq += n;
}
parentPort.postMessage({ produced: seq, fullSpins });
