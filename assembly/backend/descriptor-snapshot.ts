// The guest descriptor being translated, read exactly once into these per-instance globals:
// the guest may rewrite its descriptor slot at any moment, so no field is ever read twice.

import * as D from "../shared/descriptors";

export let curGpa: u32 = 0;
export let curLen: u32 = 0;
export let curCookie: u32 = 0;
export let curTimestamp: u64 = 0;
export let curFlags: u32 = 0;
export let curGsoType: u32 = 0;
export let curHdrLen: u32 = 0;
export let curGsoSize: u32 = 0;
export let curCsumStart: u32 = 0;
export let curCsumOffset: u32 = 0;
export let curOrigExtra: u32 = 0;

export function readDescriptor(gd: u32): void {
  curGpa = load<u32>(gd + D.GD_GPA);
  curLen = load<u32>(gd + D.GD_LEN);
  curCookie = load<u32>(gd + D.GD_COOKIE);
  curTimestamp = load<u64>(gd + D.GD_TIMESTAMP);
  curFlags = load<u8>(gd + D.GD_FLAGS);
  curGsoType = load<u8>(gd + D.GD_GSO_TYPE);
  curHdrLen = load<u16>(gd + D.GD_HDR_LEN);
  curGsoSize = load<u16>(gd + D.GD_GSO_SIZE);
  curCsumStart = load<u16>(gd + D.GD_CSUM_START);
  curCsumOffset = load<u16>(gd + D.GD_CSUM_OFFSET);
  curOrigExtra = load<u16>(gd + D.GD_ORIG_EXTRA);
}

/** Fills the fields every physical descriptor of this guest descriptor shares. */
export function writeCommonFields(pd: u32, last: bool): void {
  store<u32>(pd + D.PD_COOKIE, curCookie);
  store<u64>(pd + D.PD_TIMESTAMP, curTimestamp);
  store<u8>(pd + D.PD_FLAGS, <u8>curFlags);
  store<u8>(pd + D.PD_GSO_TYPE, <u8>curGsoType);
  store<u16>(pd + D.PD_PROTO_HDR_LEN, <u16>curHdrLen);
  store<u16>(pd + D.PD_GSO_SIZE, <u16>curGsoSize);
  store<u16>(pd + D.PD_CSUM_START, <u16>curCsumStart);
  store<u16>(pd + D.PD_CSUM_OFFSET, <u16>curCsumOffset);
  store<u8>(pd + D.PD_LAST, last ? 1 : 0);
  store<u16>(pd + D.PD_ORIG_EXTRA, <u16>curOrigExtra);
}

/** Marks `pd` as carrying drop reason `status` (no bytes, completes the guest descriptor). */
export function writeRefusal(pd: u32, status: u32): void {
  writeCommonFields(pd, true);
  store<u32>(pd + D.PD_STATUS, status);
  store<u32>(pd + D.PD_TOTAL_LEN, 0);
  store<u16>(pd + D.PD_HDR_COPIED, 0);
  store<u16>(pd + D.PD_NSG, 0);
}
