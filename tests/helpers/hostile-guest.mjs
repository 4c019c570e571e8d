// The hostile guest of the partial-copy test: posts frames, then, as soon as the device has
// taken each descriptor off the guest TX ring, scribbles over the frame's header bytes in guest
// RAM and says how many it has scribbled (a word in the shared memory the test chose).
import { parentPort, workerData } from "node:worker_threads";

const { module, memory, frames, signalAddr, headerBytes, C } = workerData;
const x = new WebAssembly.Instance(module, { env: { memory, nowUs: () => (performance.timeOrigin + performance.now()) * 1000 } }).exports;
x.attach();
const u8 = new Uint8Array(memory.buffer);
const view = new DataView(memory.buffer);
const i32 = new Int32Array(memory.buffer);
const ring = C.RING_GUEST_TX;

function machine(gpa) {
  return x.machineAddress(gpa) >>> 0;
}
function writeGuest(gpa, bytes) {
  for (let i = 0; i < bytes.length; i++) u8[machine(gpa + i)] = bytes[i];
}

let posted = 0;
let scribbled = 0;
const gpaOf = (i) => 4096 * i + 4000; // every frame crosses a page boundary, headers included
while (scribbled < frames.length) {
  if (posted < frames.length && x.ringReserve(ring, 1) === 1) {
    const gpa = gpaOf(posted);
    writeGuest(gpa, frames[posted]);
    const gd = x.ringSlot(ring, x.ringHead(ring) >>> 0) >>> 0;
    view.setUint32(gd + C.GD_GPA, gpa, true);
    view.setUint32(gd + C.GD_LEN, frames[posted].length, true);
    view.setUint32(gd + C.GD_COOKIE, posted, true);
    for (let k = 12; k < 32; k++) view.setUint8(gd + k, 0);
    x.ringPublish(ring, 1);
    posted++;
  }
  // Descriptors the device has taken: rewrite their headers now.
  const taken = x.ringTailSeen(ring) >>> 0;
  while (scribbled < taken) {
    writeGuest(gpaOf(scribbled), new Uint8Array(headerBytes).fill(0xee));
    scribbled++;
    Atomics.store(i32, signalAddr >> 2, scribbled);
  }
}
parentPort.postMessage({ posted, scribbled });
