// Byte copies into and out of guest RAM through the guest page table.
//
// Guest RAM is contiguous in guest-physical space but its 4 KiB frames sit at shuffled
// machine frames, so every copy is split at guest page boundaries. Callers check that
// [gpa, gpa + len) lies inside guest RAM before calling.

import { PAGE_SIZE, PAGE_SHIFT, machineAddress } from "./layout";
import { copyBytes } from "./copy-small";

/** Copies `len` bytes from machine address `src` to guest-physical `gpa`. */
export function copyToGuest(gpa: u32, src: u32, len: u32): void {
  while (len > 0) {
    const room = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
    const n = len < room ? len : room;
    copyBytes(machineAddress(gpa), src, n);
    gpa += n;
    src += n;
    len -= n;
  }
}

/** Copies `len` bytes from guest-physical `gpa` to machine address `dst`. */
// @ts-ignore: decorator (inlined: on the per-packet path; translate.ts says why)
@inline export function copyFromGuest(dst: u32, gpa: u32, len: u32): void {
  while (len > 0) {
    const room = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
    const n = len < room ? len : room;
    copyBytes(dst, machineAddress(gpa), n);
    gpa += n;
    dst += n;
    len -= n;
  }
}

/** Guest pages touched by [gpa, gpa + len), len > 0. */
// @ts-ignore: decorator
@inline export function pagesSpanned(gpa: u32, len: u32): u32 {
  return ((gpa + len - 1) >> PAGE_SHIFT) - (gpa >> PAGE_SHIFT) + 1;
}
