// Hand-over: a new device attaches to the memory a previous one left — cleanly (a cooperative
// hand-over) or at any instruction (a worker terminated) — and reconciles before its first
// step, from the in-flight records alone (inflight.ts says which store is each burst's commit
// point and why a death between any two stores is safe).
//
// What attach does, in order (itself safe to die in: every store is idempotent, and a record
// is marked clean only after its ring indices are right):
//   translate record   uncommitted: counters back from the snapshot, OPEN = CLOSE = COMMIT
//                      (the descriptors are still on the guest TX ring and are taken again);
//                      committed, not closed: physical head and guest TX tail stored again.
//   NIC record         uncommitted: counters back; the wire records past the published head
//                      are overwritten by the next burst (never seen by the host);
//                      committed, not closed: wire head, physical tail, used head again.
//   NIC state          loaded from the committed slot: a chunk cut part-way resumes at the
//                      segment where the last device stopped (lso-segment.ts).
//   interrupts         the policy restarts from held = 0 and one interrupt is raised: the
//                      completions the last device published but never signalled (it may
//                      have died before its policy ran) are signalled now, none stranded.
// Then it notes what it found (the hand-over line of inflight.ts) for the host's report.

import { RING_GUEST_TX, RING_PHYS_TX, RING_USED } from "../shared/layout";
import { ringCount, ringHead, ringSetHead, ringSetTail } from "../shared/ring";
import { wireRepublish } from "../nic/wire-ring";
import { nicLoadState } from "../nic/nic";
import { coalesceReset, raiseInterrupt } from "../nic/coalesce";
import { IF_ATTACHES, IF_HELD_AT_ATTACH, IF_MID_SEGMENT, IF_N_CLOSE, IF_N_COMMIT, IF_N_OPEN, IF_N_PHYS_TAIL,
  IF_N_REDONE, IF_N_UNDONE, IF_N_USED_HEAD, IF_N_WIRE_HEAD, IF_T_CLOSE, IF_T_COMMIT, IF_T_GUEST_TAIL,
  IF_T_OPEN, IF_T_PHYS_HEAD, IF_T_REDONE, IF_T_UNDONE, PH_LOOP, PH_RECONCILE, nicCommittedSlot,
  restoreCounters, setPhase } from "./inflight";

function bump(at: u32): void {
  store<u32>(at, load<u32>(at) + 1);
}

function reconcileTranslate(): void {
  const commit = load<u32>(IF_T_COMMIT);
  if (load<u32>(IF_T_OPEN) != commit) {
    restoreCounters();
    store<u32>(IF_T_CLOSE, commit);
    store<u32>(IF_T_OPEN, commit);
    bump(IF_T_UNDONE);
  } else if (load<u32>(IF_T_CLOSE) != commit) {
    ringSetHead(RING_PHYS_TX, load<u32>(IF_T_PHYS_HEAD));
    ringSetTail(RING_GUEST_TX, load<u32>(IF_T_GUEST_TAIL));
    store<u32>(IF_T_CLOSE, commit);
    bump(IF_T_REDONE);
  }
}

function reconcileNic(): void {
  const commit = load<u32>(IF_N_COMMIT);
  if (load<u32>(IF_N_OPEN) != commit) {
    restoreCounters();
    store<u32>(IF_N_CLOSE, commit);
    store<u32>(IF_N_OPEN, commit);
    bump(IF_N_UNDONE);
  } else if (load<u32>(IF_N_CLOSE) != commit) {
    wireRepublish(load<u32>(IF_N_WIRE_HEAD));
    ringSetTail(RING_PHYS_TX, load<u32>(IF_N_PHYS_TAIL));
    ringSetHead(RING_USED, load<u32>(IF_N_USED_HEAD));
    store<u32>(IF_N_CLOSE, commit);
    bump(IF_N_REDONE);
  }
}

/** A new device's first call, before any step. Returns the guest TX descriptors it found
 *  waiting (the holding queue). */
export function deviceAttach(): u32 {
  setPhase(PH_RECONCILE);
  reconcileTranslate();
  reconcileNic();
  const slot = nicCommittedSlot();
  nicLoadState(slot);
  if (load<u32>(slot + 12) != 0) bump(IF_MID_SEGMENT); // resumeSegment: a chunk cut part-way
  coalesceReset(ringHead(RING_USED));
  raiseInterrupt();
  const held = ringCount(RING_GUEST_TX);
  store<u32>(IF_HELD_AT_ATTACH, held);
  bump(IF_ATTACHES);
  setPhase(PH_LOOP);
  return held;
}

/** 1 when the device holds nothing in flight of its own: the physical ring is empty and no
 *  chunk is cut part-way (a cooperative hand-over waits for this, so that a new configuration
 *  applies from the next guest descriptor on). */
export function deviceQuiescent(): u32 {
  return ringCount(RING_PHYS_TX) == 0 ? 1 : 0;
}
