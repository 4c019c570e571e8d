// Types for the parts of pcap-parser 0.2 (lib/pcap-parser.js) that parser-stream.ts uses.
declare module "pcap-parser" {
  import type { EventEmitter } from "node:events";
  import type { Readable } from "node:stream";
  export interface PacketHeader {
    timestampSeconds: number;
    /** The fraction field as stored: µs, or ns when the file is nanosecond pcap. */
    timestampMicroseconds: number;
    capturedLength: number;
    originalLength: number;
  }
  export interface Parser extends EventEmitter {
    stream: Readable;
  }
  export function parse(input: string | Readable): Parser;
  const _default: { parse: typeof parse };
  export default _default;
}
