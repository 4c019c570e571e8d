// Translation queue: guest TX descriptors in, physical TX descriptors out (US 7,620,955).
//
// Shape: (guest TX ring, physical TX ring, budget) → guest descriptors taken.
//
// For each guest descriptor the device reads every field exactly once (descriptor-snapshot.ts), checks that
// all of [gpa, gpa + len) lies in guest RAM, copies the first part into the pool buffer that
// belongs to the physical slot (header-copy.ts), and describes the rest as machine-address SG
// entries (sg-list.ts). A large send goes to LSO stage 1 (lso-split.ts), which may need several
// physical slots; a descriptor that does not fit in the free slots waits for the next turn.
// A descriptor that fails a check still takes a physical slot, carrying its drop reason, so
// that the NIC completes every descriptor in posting order.
//
// The per-frame path (translateOne, copyFirstPart, copyFromGuest, buildSgList) is inlined into
// the burst loop: in V8's optimized code each wasm call goes through the module's jump table
// and spills and reloads the caller's live values around it (a 64-byte profile had a tenth of
// the device thread's samples in that jump table), and these ran several times per frame.
// Inlined, the device's time per packet fell by 8–12 % (backend and NIC model alike: 1514-byte
// frames --guest-resident --no-csum-offload, 16 interleaved pairs, backend 110.0 → 100.9 ns,
// NIC 133.7 → 125.3 ns, 15 of 16 pairs faster; 64-byte 58.7 → 50.5 ns).

import { MAX_SG, RING_GUEST_TX, RING_PHYS_TX, guestRamBytes } from "../shared/layout";
import { ringAvailable, ringCapacity, ringHead, ringPublish, ringRelease, ringReserve, ringSlot, ringTail } from "../shared/ring";
import * as D from "../shared/descriptors";
import { countAdd, C_deviceDescriptors } from "../shared/counters";
import { DROP_badAddress, DROP_empty, DROP_tooManySegments, STATUS_OK } from "../shared/completion-status";
import { pagesSpanned } from "../shared/guest-memory";
import { copyFirstPart, copiedAt } from "./header-copy";
import { buildSgList, sgTableFor } from "./sg-list";
import { tallyTranslationAvoided, tallyFlush, tallyFrame, tallyReset } from "./burst-tally";
import { curGpa, curGsoType, curLen, readDescriptor, writeCommonFields, writeRefusal } from "./descriptor-snapshot";
import { isLargeSend } from "./gso-check";
import { touchHeaderLines } from "./header-touch";
import { translateLargeSend } from "./lso-split";
import { setPhase, translateClose, translateCommit, translateOpen, PH_STAGE1, PH_TRANSLATE } from "../device/inflight";

/** Moves up to `budget` guest descriptors onto the physical TX ring. */
export function translateStage(budget: u32): u32 {
  const avail = ringAvailable(RING_GUEST_TX, budget);
  if (avail == 0) return 0;
  const free = ringReserve(RING_PHYS_TX, ringCapacity(RING_PHYS_TX));
  if (free == 0) return 0;
  const gTail = ringTail(RING_GUEST_TX);
  const pHead = ringHead(RING_PHYS_TX);
  translateOpen();
  tallyReset();
  touchHeaderLines(gTail, avail < free ? avail : free);
  let taken: u32 = 0;
  let used: u32 = 0;
  while (taken < avail && used < free) {
    const n = translateOne(ringSlot(RING_GUEST_TX, gTail + taken), pHead + used, free - used);
    if (n == 0) break; // a large send that needs more physical slots than are free: wait
    used += n;
    taken++;
  }
  // Counters before the commit point (inflight.ts: a burst that dies uncommitted puts them back).
  countAdd(C_deviceDescriptors, taken);
  tallyFlush();
  translateCommit(gTail + taken, pHead + used);
  ringPublish(RING_PHYS_TX, used);
  ringRelease(RING_GUEST_TX, taken);
  translateClose();
  return taken;
}

/** Status of a guest buffer [gpa, gpa + len): in guest RAM, or the reason it is not.
 *  Computed in 64 bits so gpa + len cannot wrap past 2^32. */
export function checkGuestRange(gpa: u32, len: u32): u32 {
  if (len == 0) return DROP_empty;
  if (<u64>gpa + <u64>len > <u64>guestRamBytes) return DROP_badAddress;
  return STATUS_OK;
}

/** Translates one guest descriptor into physical slots from `physIndex` on (at most `room`).
 *  Returns the slots used, or 0 to wait. */
// @ts-ignore: decorator (inlined, as are the functions it calls per frame: see the top)
@inline function translateOne(gd: u32, physIndex: u32, room: u32): u32 {
  readDescriptor(gd);
  const pd = ringSlot(RING_PHYS_TX, physIndex);
  const range = checkGuestRange(curGpa, curLen);
  if (range != STATUS_OK) {
    writeRefusal(pd, range);
    return 1;
  }
  if (isLargeSend(curGsoType)) {
    setPhase(PH_STAGE1);
    const n = translateLargeSend(physIndex, room);
    setPhase(PH_TRANSLATE);
    return n;
  }
  const status = translateFrame(pd, physIndex);
  if (status != STATUS_OK) writeRefusal(pd, status);
  return 1;
}

/** A frame without a large send: first part into the slot's buffer, the rest as SG entries. */
function translateFrame(pd: u32, physIndex: u32): u32 {
  const copied = copyFirstPart(physIndex, curGpa, curLen);
  const rest = curLen - copied;
  if (rest > 0 && pagesSpanned(curGpa + copied, rest) > MAX_SG) return DROP_tooManySegments;
  const table = sgTableFor(physIndex);
  const nsg = rest > 0 ? buildSgList(table, curGpa + copied, rest) : 0;
  writeCommonFields(pd, true);
  store<u32>(pd + D.PD_STATUS, STATUS_OK);
  store<u32>(pd + D.PD_HDR_ADDR, copiedAt);
  store<u16>(pd + D.PD_HDR_COPIED, <u16>copied);
  store<u16>(pd + D.PD_NSG, <u16>nsg);
  store<u32>(pd + D.PD_SG_ADDR, table);
  store<u32>(pd + D.PD_TOTAL_LEN, curLen);
  tallyFrame(copied, rest);
  if (nsg == 0) tallyTranslationAvoided();
  return STATUS_OK;
}
