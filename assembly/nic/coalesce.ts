// Interrupt coalescing: when the device tells the guest about the completions it published.
//
// An interrupt is a bump of the guest's doorbell word plus an Atomics.notify on it
// (memory.atomic.notify). Waking a thread parked in Atomics.wait costs tens of µs — far more
// than a frame's work — so one interrupt should carry many completions, but a completion must
// never wait for an interrupt that will not come.
//
// The policy (`adaptive`, the default) follows the commands in flight (CIF: posted by the
// guest, not yet completed), after US 8,478,924 and vIC (Ahmad, Gulati, Mashtizadeh, USENIX
// ATC 2011): while CIF ≥ threshold, the commands still in flight will complete and each
// completion runs the policy again, so held completions are certain to be carried by a later
// interrupt: deliver one interrupt per CIF/ratio completions (the batch grows with CIF, as
// vIC's delivery ratio does). Below the threshold nothing may be left behind: deliver at once,
// everything held included. No timer anywhere; CIF = 0 always delivers, so nothing strands.
//
// Baselines, same harness (P_coalescePolicy): `none` (an interrupt per completion), `count:N`
// (every N completions, no timer: strands the tail, shown in tests/), `count:N,usecs:U`
// (ethtool rx-frames/rx-usecs: a timer — the time is passed in, the device loop or the
// simulator calls coalesceTimer/coalesceTick), `virtio` (used_event armed at 3/4 of the outstanding
// buffers, Linux virtqueue_enable_cb_delayed; vring_need_event, virtio 1.2 §2.7.10).
//
// The arm-then-recheck race (virtio 1.2 §2.7.10; enable_cb_delayed): the guest arms — stores
// STATE_GUEST_SLEEPING = 1, or for virtio writes used_event — and then re-reads the used index;
// the device publishes the used index with a sequentially consistent store and only then runs
// the policy and reads what the guest armed. Of the two store→load pairs at least one sees the
// other, so a completion racing the re-arm is either seen by the guest's re-check or signalled
// by the device; the guest waits on the doorbell *value* it read before arming, so a bump in
// between makes its wait return at once. vring_need_event tests a range [old, new), so a burst
// that jumps past used_event still interrupts. Stale inputs only err towards delivering: CIF
// is read after the publish, and the guest's posted index only grows.
//
// Pure functions first (the simulator in src/sim/ calls these very exports), then the
// device-side state (one writer: the device thread), then delivery.

import { COUNTERS_BASE, RING_GUEST_TX, RING_USED, STATE_DEVICE, STATE_GUEST_DOORBELL } from "../shared/layout";
import { countAdd, counter, C_deviceCompleted, C_deviceDescriptors, C_interrupts, C_stranded,
  C_wakeups } from "../shared/counters";
import { param, P_coalesceCount, P_coalescePolicy, P_coalesceRatio, P_coalesceThreshold,
  P_coalesceUsecs } from "../shared/params";
import { ringCount, ringHead } from "../shared/ring";

// P_coalescePolicy values. Zeroed parameters mean the default: adaptive, default thresholds.
export const POLICY_ADAPTIVE: u32 = 0;
export const POLICY_NONE: u32 = 1;
export const POLICY_COUNT: u32 = 2;
export const POLICY_COUNT_USECS: u32 = 3;
export const POLICY_VIRTIO: u32 = 4;
export const COALESCE_DEFAULT_THRESHOLD: u32 = 4;
export const COALESCE_DEFAULT_RATIO: u32 = 4;

// ---- the policies: pure, no clock, no memory ----

/** adaptive: deliver now (true) or hold. `cif`: commands in flight after this burst;
 *  `held`: completions not yet signalled, this burst's included. Below `threshold` (or at
 *  CIF 0) no later completion is certain to come, so everything goes now; above it, one
 *  interrupt per cif/ratio completions. Held completions exist only while CIF ≥ threshold ≥ 1,
 *  and each of those CIF commands runs this again when it completes: nothing strands. */
export function adaptiveDeliver(cif: u32, held: u32, threshold: u32, ratio: u32): bool {
  if (cif == 0 || cif < threshold) return true;
  return <u64>held * <u64>ratio >= <u64>cif;
}

/** count:N — no timer, so the last held < N completions of a run wait forever. */
export function countDeliver(held: u32, n: u32): bool {
  return held >= n;
}

/** count:N,usecs:U — ethtool rx-frames / rx-usecs; `elapsedUs` since the oldest held one. */
export function countUsecsDeliver(held: u32, n: u32, elapsedUs: f64, usecs: u32): bool {
  return held >= n || elapsedUs >= <f64>usecs;
}

/** virtio's vring_need_event (u16 indices, virtio 1.2 §2.7.10): did publishing [old, new)
 *  pass the index the driver asked to be interrupted at? Correct across the 2^16 wrap. */
export function vringNeedEvent(event: u32, newIdx: u32, oldIdx: u32): bool {
  return <u16>(newIdx - event - 1) < <u16>(newIdx - oldIdx);
}

/** virtqueue_enable_cb_delayed's used_event: interrupt after 3/4 of the `outstanding`. */
export function virtioUsedEvent(usedIdx: u32, outstanding: u32): u32 {
  return <u16>(usedIdx + <u32>((<u64>outstanding * 3) >> 2));
}

// ---- device-side state: the last line of STATE_DEVICE, written by the device thread only ----

const CO_HELD: u32 = STATE_DEVICE + 0xc0; // u32 completions published, not yet signalled
const CO_EVENT: u32 = STATE_DEVICE + 0xc4; // u32 virtio used_event (a u16 value)
const CO_SINCE: u32 = STATE_DEVICE + 0xc8; // f64 µs when the oldest held one was published
const CO_NOW: u32 = STATE_DEVICE + 0xd0; // f64 µs: the time the device loop last passed in

/** Forgets held completions and arms virtio's used_event at `usedIdx` (first completion
 *  interrupts). Zeroed memory is the same state for a used ring starting at 0. */
export function coalesceReset(usedIdx: u32): void {
  store<u32>(CO_HELD, 0);
  store<u32>(CO_EVENT, <u16>usedIdx);
  store<f64>(CO_SINCE, 0);
  store<f64>(CO_NOW, 0);
  atomic.store<u64>(COUNTERS_BASE + (C_stranded << 3), 0);
}

export function coalesceHeld(): u32 {
  return load<u32>(CO_HELD);
}

function setHeld(held: u32): void {
  store<u32>(CO_HELD, held);
  // interrupts.stranded = completions held right now: exact once the device has stopped.
  atomic.store<u64>(COUNTERS_BASE + (C_stranded << 3), held);
}

function usecsDue(held: u32, nowUs: f64): bool {
  return countUsecsDeliver(held, param(P_coalesceCount), nowUs - load<f64>(CO_SINCE), param(P_coalesceUsecs));
}

/**
 * After the device published `burst` completions: `cif` commands are still in flight, the used
 * index is now `usedIdx`, the time is `nowUs` (read by the caller once per burst, and only the
 * usecs policy looks at it). Returns how many interrupts to raise now (0: hold).
 */
export function coalesceStep(burst: u32, cif: u32, usedIdx: u32, nowUs: f64): u32 {
  const policy = param(P_coalescePolicy);
  const held = load<u32>(CO_HELD) + burst;
  if (held == burst) store<f64>(CO_SINCE, nowUs);
  let raise: u32 = 0;
  if (policy == POLICY_ADAPTIVE) {
    const t = param(P_coalesceThreshold), r = param(P_coalesceRatio);
    raise = adaptiveDeliver(cif, held, t != 0 ? t : COALESCE_DEFAULT_THRESHOLD,
      r != 0 ? r : COALESCE_DEFAULT_RATIO) ? 1 : 0;
  } else if (policy == POLICY_COUNT) {
    raise = countDeliver(held, param(P_coalesceCount)) ? 1 : 0;
  } else if (policy == POLICY_COUNT_USECS) {
    raise = usecsDue(held, nowUs) ? 1 : 0;
  } else if (policy == POLICY_VIRTIO) {
    raise = vringNeedEvent(load<u32>(CO_EVENT), usedIdx, usedIdx - burst) ? 1 : 0;
    // The guest's handler consumes everything and re-enables at 3/4 of what is outstanding;
    // armed here on its behalf (the used ring is all published, so its re-check is empty).
    if (raise != 0) store<u32>(CO_EVENT, virtioUsedEvent(usedIdx, cif));
  } else {
    raise = burst; // none: one interrupt per completion
  }
  setHeld(raise != 0 ? 0 : held);
  return raise;
}

/** The usecs policy's timer, with the time passed in: 1 if it fires now (0 otherwise). */
export function coalesceTimer(nowUs: f64): u32 {
  const held = load<u32>(CO_HELD);
  if (param(P_coalescePolicy) != POLICY_COUNT_USECS || held == 0 || !usecsDue(held, nowUs)) return 0;
  setHeld(0);
  return 1;
}

/** When the usecs timer is due (µs, same clock as nowUs), or -1 when no timer is armed. */
export function coalesceTimerDueUs(): f64 {
  if (param(P_coalescePolicy) != POLICY_COUNT_USECS || load<u32>(CO_HELD) == 0) return -1;
  return load<f64>(CO_SINCE) + <f64>param(P_coalesceUsecs);
}

// ---- delivery in the real datapath (device thread) ----

/** Raises one interrupt; returns how many sleeping guest threads it woke. */
export function raiseInterrupt(): u32 {
  atomic.add<u32>(STATE_GUEST_DOORBELL, 1);
  const woke = <u32>atomic.notify(STATE_GUEST_DOORBELL, 1);
  countAdd(C_interrupts, 1);
  if (woke > 0) countAdd(C_wakeups, woke);
  return woke;
}

/** Called by the NIC after it publishes `count` completions (one atomic store, before this).
 *  CIF = posted − completed: the guest TX ring's count (atomic) plus the device's own taken −
 *  completed; both u32 differences, exact across the 2^32 wrap. The time is the one the device
 *  loop last passed to coalesceTick (no clock read here: an early stamp only fires sooner). */
export function deliverCompletions(count: u32): void {
  const cif = ringCount(RING_GUEST_TX) + <u32>(counter(C_deviceDescriptors) - counter(C_deviceCompleted));
  const n = coalesceStep(count, cif, ringHead(RING_USED), load<f64>(CO_NOW));
  for (let i: u32 = 0; i < n; i++) raiseInterrupt();
}

/** Device loop, once per turn (cheap): passes the time in, fires the usecs timer if due.
 *  Before sleeping, bound the wait by coalesceTimerDueUs(). Returns interrupts raised. */
export function coalesceTick(nowUs: f64): u32 {
  store<f64>(CO_NOW, nowUs);
  const n = coalesceTimer(nowUs);
  if (n != 0) raiseInterrupt();
  return n;
}
