// Translation queue: guest TX descriptors in, physical TX descriptors out (US 7,620,955).
//
// Shape: (guest TX ring, physical TX ring, budget) → descriptors moved.
//
// For each guest descriptor the device reads every field exactly once (the guest may rewrite
// the slot at any time), checks that all of [gpa, gpa + len) lies in guest RAM, copies the
// first part into the pool buffer that belongs to the physical slot, and describes the rest
// as machine-address SG entries split at guest page boundaries (merged where two guest pages
// happen to be machine-contiguous). A descriptor that fails a check still takes a physical
// slot, carrying its drop reason, so that the NIC completes every descriptor in posting order.

import { MAX_SG, PAGE_SIZE, SG_ENTRY_SIZE, RING_GUEST_TX, RING_PHYS_TX, SG_TABLE_SIZE,
  guestRamBytes, machineAddress, ringSlots, sgTablesBase } from "./layout";
import { ringAvailable, ringHead, ringPublish, ringRelease, ringReserve, ringSlot, ringTail } from "./ring";
import * as D from "./descriptors";
import { countAdd, C_bytesCopied, C_bytesReferenced, C_deviceDescriptors, C_translations,
  C_translationsAvoided, DROP_badAddress, DROP_empty, DROP_tooManySegments, STATUS_OK } from "./counters";
import { pagesSpanned } from "./guestmem";
import { copyFirstPart, copiedAt } from "./hdrcopy";

// Per-burst tallies, added to the shared counters once per burst.
let burstCopied: u64 = 0;
let burstReferenced: u64 = 0;
let burstTranslations: u64 = 0;
let burstAvoided: u64 = 0;

/** Moves up to `budget` descriptors from the guest TX ring to the physical TX ring. */
export function translateStage(budget: u32): u32 {
  const avail = ringAvailable(RING_GUEST_TX, budget);
  if (avail == 0) return 0;
  const n = ringReserve(RING_PHYS_TX, avail);
  if (n == 0) return 0;
  const gTail = ringTail(RING_GUEST_TX);
  const pHead = ringHead(RING_PHYS_TX);
  burstCopied = burstReferenced = burstTranslations = burstAvoided = 0;
  for (let i: u32 = 0; i < n; i++) {
    translateOne(ringSlot(RING_GUEST_TX, gTail + i), ringSlot(RING_PHYS_TX, pHead + i), pHead + i);
  }
  ringPublish(RING_PHYS_TX, n);
  ringRelease(RING_GUEST_TX, n);
  countAdd(C_deviceDescriptors, n);
  countAdd(C_bytesCopied, burstCopied);
  countAdd(C_bytesReferenced, burstReferenced);
  countAdd(C_translations, burstTranslations);
  countAdd(C_translationsAvoided, burstAvoided);
  return n;
}

/** Status of a guest buffer [gpa, gpa + len): in guest RAM, or the reason it is not.
 *  Computed in 64 bits so gpa + len cannot wrap past 2^32. */
export function checkGuestRange(gpa: u32, len: u32): u32 {
  if (len == 0) return DROP_empty;
  if (<u64>gpa + <u64>len > <u64>guestRamBytes) return DROP_badAddress;
  return STATUS_OK;
}

function translateOne(gd: u32, pd: u32, physIndex: u32): void {
  const gpa = load<u32>(gd + D.GD_GPA);
  const len = load<u32>(gd + D.GD_LEN);
  store<u32>(pd + D.PD_COOKIE, load<u32>(gd + D.GD_COOKIE));
  store<u64>(pd + D.PD_TIMESTAMP, load<u64>(gd + D.GD_TIMESTAMP));
  // The offload request travels as posted; the NIC validates it against its own parse.
  store<u8>(pd + D.PD_FLAGS, load<u8>(gd + D.GD_FLAGS));
  store<u8>(pd + D.PD_GSO_TYPE, load<u8>(gd + D.GD_GSO_TYPE));
  store<u16>(pd + D.PD_PROTO_HDR_LEN, load<u16>(gd + D.GD_HDR_LEN));
  store<u16>(pd + D.PD_GSO_SIZE, load<u16>(gd + D.GD_GSO_SIZE));
  store<u16>(pd + D.PD_CSUM_START, load<u16>(gd + D.GD_CSUM_START));
  store<u16>(pd + D.PD_CSUM_OFFSET, load<u16>(gd + D.GD_CSUM_OFFSET));
  store<u8>(pd + D.PD_LAST, 1);
  let status = checkGuestRange(gpa, len);
  if (status == STATUS_OK) status = translateFrame(pd, physIndex, gpa, len);
  store<u32>(pd + D.PD_STATUS, status);
  if (status != STATUS_OK) {
    store<u32>(pd + D.PD_TOTAL_LEN, 0);
    store<u16>(pd + D.PD_HDR_COPIED, 0);
    store<u16>(pd + D.PD_NSG, 0);
  }
}

/** Copies the first part into the slot's pool buffer and translates the rest into SG entries. */
function translateFrame(pd: u32, physIndex: u32, gpa: u32, len: u32): u32 {
  const copied = copyFirstPart(physIndex, gpa, len);
  const rest = len - copied;
  if (rest > 0 && pagesSpanned(gpa + copied, rest) > MAX_SG) return DROP_tooManySegments;
  const table = sgTablesBase + (physIndex & (ringSlots - 1)) * SG_TABLE_SIZE;
  const nsg = rest > 0 ? buildSgList(table, gpa + copied, rest) : 0;
  store<u32>(pd + D.PD_HDR_ADDR, copiedAt);
  store<u16>(pd + D.PD_HDR_COPIED, <u16>copied);
  store<u16>(pd + D.PD_NSG, <u16>nsg);
  store<u32>(pd + D.PD_SG_ADDR, table);
  store<u32>(pd + D.PD_TOTAL_LEN, len);
  burstCopied += copied;
  burstReferenced += rest;
  if (nsg == 0) burstAvoided++;
  return STATUS_OK;
}

/** Writes SG entries for guest-physical [gpa, gpa + len) into `table`; returns the count. */
function buildSgList(table: u32, gpa: u32, len: u32): u32 {
  let count: u32 = 0;
  let last: u32 = table - SG_ENTRY_SIZE;
  while (len > 0) {
    const room = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
    const n = len < room ? len : room;
    const maddr = machineAddress(gpa);
    burstTranslations++;
    if (count > 0 && load<u32>(last + D.SG_ADDR) + load<u32>(last + D.SG_LEN) == maddr) {
      store<u32>(last + D.SG_LEN, load<u32>(last + D.SG_LEN) + n);
    } else {
      last = table + count * SG_ENTRY_SIZE;
      store<u32>(last + D.SG_ADDR, maddr);
      store<u32>(last + D.SG_LEN, n);
      count++;
    }
    gpa += n;
    len -= n;
  }
  return count;
}
