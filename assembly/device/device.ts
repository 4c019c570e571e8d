// The device thread's turn: the stages in order, each (input ring, output ring, budget) →
// count, wired here and nowhere else.

import { RING_GUEST_TX, RING_PHYS_TX, STATE_DEVICE_SLEEPING } from "../shared/layout";
import { ringAvailable } from "../shared/ring";
import { countAdd, C_deviceSleeps } from "../shared/counters";
import { translateStage } from "../backend/translate";
import { nicHeldForWire, nicStage } from "../nic/nic";

/** One turn of the device: translate a burst, then transmit a burst. Returns work done. */
export function deviceStep(budget: u32): u32 {
  return translateStage(budget) + nicStage(budget);
}

/** Says the device is about to sleep, then re-checks its input (see guest.ts kickDevice).
 *  Returns 1 if it may sleep now. */
export function devicePrepareSleep(): u32 {
  atomic.store<u32>(STATE_DEVICE_SLEEPING, 1);
  if (ringAvailable(RING_GUEST_TX, 1) > 0 || ringAvailable(RING_PHYS_TX, 1) > 0) {
    atomic.store<u32>(STATE_DEVICE_SLEEPING, 0);
    return 0;
  }
  countAdd(C_deviceSleeps, 1);
  return 1;
}

export function deviceWoke(): void {
  atomic.store<u32>(STATE_DEVICE_SLEEPING, 0);
}

/** devicePrepareSleep under --wire-gather kernel: while completions wait for the wire tail
 *  (gather.ts), nothing would wake the device when the pump passes them (it cannot notify a
 *  V8 waiter), so it does not sleep: the loop waits 50 µs and looks again. */
export function devicePrepareSleepGather(): u32 {
  if (nicHeldForWire() != 0) return 0;
  return devicePrepareSleep();
}
