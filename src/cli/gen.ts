// `vnic gen`: make captures for people who have none. The CLI calls runGen(argv); this file
// also runs on its own (`node dist/src/cli/gen.js ...`), which `npm run gen:captures` uses.

import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateCapture, checkOptions, GEN_DEFAULTS, type GenOptions, type GenKind, type IpMode } from "../capture/generate.js";
import { UsageError } from "./cli-errors.js";

/** Super-packets `--kind tcp` writes without --count (about 16 MB at --super 65536). */
export const TCP_DEFAULT_COUNT = 256;

const HELP = `vnic gen — write a deterministic synthetic capture (classic pcap)

  vnic gen --kind udp --size 64 --out FILE [options]
  vnic gen --kind imix --out FILE [options]
  vnic gen --kind tcp --super 65536 --out FILE [options]
  vnic gen --bundled DIR            regenerate the captures shipped in captures/

Kinds
  udp    fixed-size UDP frames; --size is the L2 frame size: Ethernet header (and VLAN tag)
         included, FCS excluded. 64 → 22 bytes of UDP payload over IPv4 (default 64).
  imix   IMIX 7:4:1 of 64, 576 and 1500-byte L2 frames (same convention as --size: the
         Ethernet header counts, the FCS does not); each 12-frame cycle is shuffled by the seed.
         An IPv6 frame with a VLAN tag cannot be 64 bytes: it becomes 66, the smallest possible.
  tcp    TCP bulk flows posting TSO super-packets as Linux hands them to a NIC: TCP timestamps
         option, seq advancing by the payload, IPv4 ID advancing by the segment count, DF set,
         PSH on each flow's last super-packet, and a partial TCP checksum (the pseudo-header
         sum the NIC completes). --super N is the largest IP packet (like gso_max_size); the
         payload is the largest whole number of MSS that fits. Over 65535: BIG TCP (IPv4 total
         length 0, IPv6 payload length 0).

Options
  --out FILE         where to write (required)
  --count N          frames (udp, imix) or super-packets (tcp) in all (default ${GEN_DEFAULTS.count};
                     tcp: ${TCP_DEFAULT_COUNT})
  --seed N           0..4294967295; the same options and seed give a byte-identical file (default ${GEN_DEFAULTS.seed})
  --size N           udp frame size in bytes (default ${GEN_DEFAULTS.size})
  --super N          tcp super-packet size limit in bytes, e.g. 65536 or 185000 (default ${GEN_DEFAULTS.superSize})
  --mtu N            tcp: MTU the MSS derives from (default ${GEN_DEFAULTS.mtu}: MSS 1448 over IPv4, 1428 over IPv6)
  --ip 4|6|mix       IP version; mix makes every other flow IPv6 (default 4)
  --vlan ID          tag flows with this 802.1Q VLAN id
  --vlan-share F     share of flows tagged when --vlan is given, 0..1 (default 1)
  --flows N          flows, used round-robin (default ${GEN_DEFAULTS.flows})
  --jumbo-hbh        tcp over IPv6: carry a hop-by-hop Jumbo Payload option (RFC 2675) in
                     super-packets over 65535 bytes
  --rate-gbps G      timestamps space frames back to back at this line rate (default ${GEN_DEFAULTS.rateGbps})
  --ns               write nanosecond pcap (default: microsecond pcap)
  -h, --help         this text

Fully formed frames (udp, imix) carry correct IPv4 header and UDP checksums; tcp super-packets
carry a correct IPv4 header checksum and the partial TCP checksum described above.
Exit status: 0 written, 2 bad options, 1 could not write.
`;

/** The captures shipped in captures/, each with the exact arguments that made it. */
export const BUNDLED: { file: string; args: string[] }[] = [
  { file: "udp-64.pcap", args: ["--kind", "udp", "--size", "64", "--count", "10000", "--seed", "1"] },
  { file: "udp-1514.pcap", args: ["--kind", "udp", "--size", "1514", "--count", "1200", "--seed", "1"] },
  { file: "imix.pcap", args: ["--kind", "imix", "--count", "4800", "--seed", "1"] },
  { file: "udp-mix-vlan.pcap", args: ["--kind", "imix", "--count", "1200", "--ip", "mix", "--vlan", "100", "--vlan-share", "0.5", "--seed", "3"] },
  { file: "tcp-64k-v4.pcap", args: ["--kind", "tcp", "--super", "65536", "--count", "24", "--flows", "2", "--seed", "1"] },
  { file: "tcp-64k-v6.pcap", args: ["--kind", "tcp", "--super", "65536", "--count", "24", "--flows", "2", "--ip", "6", "--seed", "1"] },
  { file: "bigtcp-185k-v4.pcap", args: ["--kind", "tcp", "--super", "185000", "--count", "8", "--flows", "2", "--seed", "2"] },
  { file: "bigtcp-185k-v6.pcap", args: ["--kind", "tcp", "--super", "185000", "--count", "8", "--flows", "2", "--ip", "6", "--seed", "2"] },
  { file: "bigtcp-185k-v6-hbh.pcap", args: ["--kind", "tcp", "--super", "185000", "--count", "8", "--flows", "2", "--ip", "6", "--jumbo-hbh", "--seed", "2"] },
];

// A bad command line: printed as one line with a pointer to --help, exit code 2.
export { UsageError };

type Parsed = { opts: GenOptions; out?: string; nanosecond: boolean; bundled?: string; help: boolean };

const FLAGS_WITH_VALUE = new Set(["--out", "--count", "--seed", "--size", "--super", "--mtu", "--ip", "--vlan", "--vlan-share", "--flows", "--rate-gbps", "--kind", "--bundled"]);

/** Parses argv into options; throws UsageError on anything it does not know. */
export function parseGenArgs(argv: string[]): Parsed {
  const p: Parsed = { opts: { ...GEN_DEFAULTS }, nanosecond: false, help: false };
  const o = p.opts;
  const num = (flag: string, v: string) => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n)) throw new UsageError(`${flag} needs a number (got "${v}")`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h" || a === "--help") { p.help = true; continue; }
    if (a === "--jumbo-hbh") { o.jumboHbh = true; continue; }
    if (a === "--ns") { p.nanosecond = true; continue; }
    if (!FLAGS_WITH_VALUE.has(a)) throw new UsageError(`unknown argument "${a}"`);
    const v = argv[++i];
    if (v === undefined) throw new UsageError(`${a} needs a value`);
    switch (a) {
      case "--out": p.out = v; break;
      case "--bundled": p.bundled = v; break;
      case "--kind":
        if (v !== "udp" && v !== "imix" && v !== "tcp") throw new UsageError(`--kind must be udp, imix or tcp (got "${v}")`);
        o.kind = v as GenKind; break;
      case "--ip":
        if (v !== "4" && v !== "6" && v !== "mix") throw new UsageError(`--ip must be 4, 6 or mix (got "${v}")`);
        o.ip = v as IpMode; break;
      case "--count": o.count = num(a, v); break;
      case "--seed": o.seed = num(a, v); break;
      case "--size": o.size = num(a, v); break;
      case "--super": o.superSize = num(a, v); break;
      case "--mtu": o.mtu = num(a, v); break;
      case "--vlan": o.vlan = num(a, v); break;
      case "--vlan-share": o.vlanShare = num(a, v); break;
      case "--flows": o.flows = num(a, v); break;
      case "--rate-gbps": o.rateGbps = num(a, v); break;
    }
  }
  // A super-packet is up to --super bytes, not 64: 10,000 of them were 655 MB and minutes of
  // writing. tcp's own default keeps `vnic gen --kind tcp` to a few MB and well under a second.
  if (o.kind === "tcp" && !argv.includes("--count")) o.count = TCP_DEFAULT_COUNT;
  return p;
}

function writeBundled(dir: string): number {
  mkdirSync(dir, { recursive: true });
  for (const b of BUNDLED) {
    const p = parseGenArgs(b.args);
    const r = generateCapture(p.opts, join(dir, b.file), p.nanosecond);
    console.log(`${join(dir, b.file)}: ${r.frames} frames, ${r.bytes} bytes`);
  }
  return 0;
}

/** `vnic gen ...`: returns the exit code; prints its own help and errors. */
export async function runGen(argv: string[]): Promise<number> {
  let p: Parsed;
  try {
    p = parseGenArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`vnic gen: ${e.message} (see vnic gen --help)`);
    return 2;
  }
  if (p.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const bad = p.bundled === undefined ? (p.out === undefined ? "--out FILE is required" : checkOptions(p.opts)) : null;
  if (bad) {
    console.error(`vnic gen: ${bad} (see vnic gen --help)`);
    return 2;
  }
  try {
    if (p.bundled !== undefined) return writeBundled(p.bundled);
    const r = generateCapture(p.opts, p.out!, p.nanosecond);
    console.log(`${p.out}: ${r.frames} frames, ${r.bytes} bytes`);
    return 0;
  } catch (e) {
    console.error(`vnic gen: ${(e as Error).message}`);
    return 1;
  }
}

// Run directly: node dist/src/cli/gen.js ARGS
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runGen(process.argv.slice(2)).then((code) => process.exit(code));
}
