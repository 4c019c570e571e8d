// The device's half of the wire pump's sleep/wake protocol (native/vnic_wire.c has both halves):
// after a step that may have published frames, look at the pump's sleeping flag; only if it is
// set, bump its bell and FUTEX_WAKE it. Atomics.notify cannot do it: V8's Atomics.wait is not
// a futex, so a C thread waiting on a real futex would never see it.

import type { Core } from "../core/core.js";
import { loadWireNative } from "./native.js";

export function pumpKicker(core: Core): () => void {
  const native = loadWireNative();
  const i32 = new Int32Array(core.memory.buffer);
  const u8 = new Uint8Array(core.memory.buffer);
  const sleeping = (core.constant("STATE_WIRE_PUMP") + 4) >> 2;
  const bellAt = core.constant("STATE_WIRE_PUMP_BELL");
  return () => {
    // Atomics.load is sequentially consistent, as the NIC's store of the head before it: the
    // pump either sees the new head or is seen sleeping (Dekker).
    if (Atomics.load(i32, sleeping) === 0) return;
    Atomics.add(i32, bellAt >> 2, 1);
    native.kick(u8, bellAt);
  };
}
