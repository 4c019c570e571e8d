// What one translate burst did, added up by the backend files that do the work — translate.ts
// for single frames, lso-split.ts for the chunks of a large send, sg-list.ts per guest page
// looked up — and added to the shared counters once per burst (translateStage, before its
// commit point: a burst that dies uncommitted leaves the counters as they were, inflight.ts).
// One tally, reset and flushed in one place, instead of a tally per file for the caller to sum.

import { countAdd, C_bytesCopied, C_bytesReferenced, C_translations, C_translationsAvoided } from "../shared/counters";

let copied: u64 = 0; // bytes copied into pool buffers (first parts, chunk headers)
let referenced: u64 = 0; // bytes left where they lie in guest RAM, described by SG entries
let translations: u64 = 0; // guest pages looked up in the page table
let avoided: u64 = 0; // frames copied whole: no SG entry, no translation

export function tallyReset(): void {
  copied = referenced = translations = avoided = 0;
}

/** A frame or chunk: `headerBytes` copied, `restBytes` referenced. */
// @ts-ignore: decorator
@inline export function tallyFrame(headerBytes: u64, restBytes: u64): void {
  copied += headerBytes;
  referenced += restBytes;
}

// @ts-ignore: decorator
@inline export function tallyTranslation(): void {
  translations++;
}

// @ts-ignore: decorator
@inline export function tallyTranslationAvoided(): void {
  avoided++;
}

export function tallyFlush(): void {
  countAdd(C_bytesCopied, copied);
  countAdd(C_bytesReferenced, referenced);
  countAdd(C_translations, translations);
  countAdd(C_translationsAvoided, avoided);
}
