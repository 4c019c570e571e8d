// Scatter-gather lists: guest-physical ranges turned into machine-address entries.
//
// A range is split at every guest page boundary (guest-contiguous is not machine-contiguous),
// and two pieces are merged again when their machine frames happen to be adjacent. Every page
// looked up counts as one translation (burst-tally.ts).

import { PAGE_SIZE, SG_ENTRY_SIZE, SG_TABLE_SIZE, machineAddress, ringSlots, sgTablesBase } from "../shared/layout";
import * as D from "../shared/descriptors";
import { tallyTranslation } from "./burst-tally";

/** The SG table that belongs to physical ring slot index `physIndex` (free-running). */
// @ts-ignore: decorator
@inline export function sgTableFor(physIndex: u32): u32 {
  return sgTablesBase + (physIndex & (ringSlots - 1)) * SG_TABLE_SIZE;
}

/** Writes SG entries for guest-physical [gpa, gpa + len) into `table`; returns the count. The
 *  caller has checked the range lies in guest RAM and spans at most MAX_SG pages. */
// @ts-ignore: decorator (inlined: on the per-packet path; translate.ts says why)
@inline export function buildSgList(table: u32, gpa: u32, len: u32): u32 {
  let count: u32 = 0;
  let last: u32 = table;
  while (len > 0) {
    const room = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
    const n = len < room ? len : room;
    const maddr = machineAddress(gpa);
    tallyTranslation();
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
