// The wording of every capture error, in one place, so the native reader and the pcap-parser
// reader report a corrupt file identically (tests compare them).

import { MAX_RECORD } from "./types.js";

const hex32 = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, "0")}`;

export const reasons = {
  empty: () => "empty file, not a capture",
  badMagic: (magicBE: number) =>
    (magicBE >>> 16) === 0x1f8b
      ? `gzip-compressed (magic ${hex32(magicBE)}), not a pcap or pcapng file: gunzip it first`
      : `not a pcap or pcapng file (magic ${hex32(magicBE)})`,
  globalHeaderShort: (have: number) => `pcap global header cut short: ${have} of 24 bytes`,
  badVersion: (major: number, minor: number) => `unsupported pcap version ${major}.${minor} (expected 2.x)`,
  recordHeaderShort: (have: number) => `record header cut short: ${have} of 16 bytes`,
  recordShort: (incl: number, missing: number) => `record of ${incl} bytes cut short: ${missing} bytes missing`,
  lengthTopBit: (incl: number) => `record length ${incl} (${hex32(incl)}) has the top bit set: a corrupt length`,
  lengthOverMax: (incl: number) => `record length ${incl} exceeds the ${MAX_RECORD}-byte limit`,
  // pcapng (draft-ietf-opsawg-pcapng)
  blockHeaderShort: (have: number) => `block header cut short: ${have} of 12 bytes`,
  blockLengthSmall: (len: number) => `block length ${len} is below the 12-byte minimum`,
  blockLengthAlign: (len: number) => `block length ${len} is not a multiple of 4`,
  blockPastEnd: (len: number, missing: number) => `block of ${len} bytes runs past the end of the file: ${missing} bytes missing`,
  blockTooLong: (type: number, len: number, max: number) => `block type ${hex32(type)} of ${len} bytes exceeds the ${max}-byte limit`,
  blockTrailer: (len: number, trailer: number) => `block length ${len} does not match its trailing length ${trailer}`,
  badByteOrder: (bom: number) => `section header byte-order magic ${hex32(bom)} is neither 0x1a2b3c4d nor 0x4d3c2b1a`,
  badNgVersion: (major: number, minor: number) => `unsupported pcapng version ${major}.${minor} (expected 1.x)`,
  blockBodyShort: (what: string, len: number, need: number) => `${what} block of ${len} bytes is too short for its ${need}-byte fixed part`,
  capturedPastBlock: (incl: number, room: number) => `captured length ${incl} runs past the end of its block (${room} bytes of room)`,
  noInterface: (id: number, count: number) => `packet refers to interface ${id} but the section declares ${count}`,
  timestampPastPcap: (tsNs: bigint) =>
    `timestamp ${new Date(Number(tsNs / 1_000_000n)).toISOString()} (${tsNs / 1_000_000_000n} s) is past 2106-02-07T06:28:15Z, ` +
    `the last second pcap's unsigned 32-bit seconds can hold`,
  badTsResol: (v: number) => `if_tsresol ${v} gives a clock finer than 10^-18 s`,
};
