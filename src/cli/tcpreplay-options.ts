// tcpreplay's habits (tcpreplay(1), 4.x): its options, translated to vnic's before the replay
// parses its command line, so `vnic replay -t -l 3 big.pcap` does what tcpreplay users expect.
//
// Two tables, one line per option, so adding an alias is adding a row:
//   ALIASES   tcpreplay options vnic has the feature for: rewritten to vnic's own option
//             (a value is carried over, in either "-p 1000", "--pps=1000" or "-p1000" form);
//   INSTEAD   tcpreplay options vnic has no feature for: refused with one line that says what
//             to use instead.
// Options vnic spells the same way (--topspeed, --pps, --mbps, --multiplier, --loop, --limit,
// --duration, --stats) need no row. `-i`/`--intf1` is deliberately absent: it is vnic's own
// option (the interface to transmit on), not an alias.

import { UsageError } from "./cli-errors.js";

export interface Alias {
  /** tcpreplay's spellings. */
  names: string[];
  /** vnic's option it becomes. */
  to: string;
  /** True when it takes a value. */
  value: boolean;
  /** A fixed value to pass instead of one from the command line. */
  fixed?: string;
}

export const ALIASES: Alias[] = [
  { names: ["-t"], to: "--topspeed", value: false },
  { names: ["-p"], to: "--pps", value: true },
  { names: ["-M"], to: "--mbps", value: true },
  { names: ["-x"], to: "--multiplier", value: true },
  { names: ["-l"], to: "--loop", value: true },
  { names: ["-L"], to: "--limit", value: true },
  // -K: preload the whole capture before sending. vnic preloads up to --preload-limit and
  // streams beyond it; -K lifts the limit (to vnic's maximum, 1 TiB).
  { names: ["-K", "--preload-pcap"], to: "--preload-limit", value: false, fixed: String(1 << 20) },
  { names: ["-q", "--quiet"], to: "--quiet", value: false },
  { names: ["-v"], to: "--verbose", value: false },
];

/** tcpreplay options vnic does not have, and what to do instead. */
export const INSTEAD: { names: string[]; use: string }[] = [
  { names: ["-I", "--intf2", "-c", "--cachefile", "--dualfile"], use: "vnic transmits on one path: split the capture first (tcpprep + tcprewrite) and run vnic once per side" },
  { names: ["-T", "--timer"], use: "vnic paces with its own timer (a sleep/busy-wait hybrid); use --pps, --mbps or --multiplier" },
  { names: ["--maxsleep", "--sleep-accel"], use: "use --pps, --mbps or --multiplier to set the rate" },
  { names: ["-o", "--oneatatime"], use: "vnic has no interactive stepping; use --limit N to send N packets" },
  { names: ["--pps-multi"], use: "vnic posts one frame per pacing slot; use --pps alone" },
  { names: ["--mtu-trunc"], use: "vnic does not cut frames; use --mtu N (longer frames are dropped and counted as oversize)" },
  { names: ["--unique-ip", "--unique-ip-loops", "--fuzz-seed", "--fuzz-factor"], use: "rewrite the capture with tcprewrite first, then replay the result" },
  { names: ["-P", "--pid"], use: "vnic's PID is the node process's: use $! in the shell" },
  { names: ["-N", "--netmap", "--nm-delay"], use: "vnic is its own NIC model; there is no netmap mode" },
  { names: ["-F", "--flow-expiry", "--no-flow-stats"], use: "vnic prints no per-flow statistics; tshark -z conv,tcp -r OUT reads them from --out" },
  { names: ["-W", "--preload-pcap-filename"], use: "use --preload-limit MIB" },
];

/** An option that cannot be translated: one line for the user. */
export class TcpreplayOptionError extends UsageError {}

/** Rewrites tcpreplay spellings in `argv` to vnic's; throws TcpreplayOptionError for INSTEAD rows. */
export function translateTcpreplayOptions(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const [name, inline] = splitInline(arg);
    const instead = INSTEAD.find((r) => r.names.includes(name));
    if (instead) throw new TcpreplayOptionError(`${name} (tcpreplay) is not a vnic option: ${instead.use}`);
    const alias = ALIASES.find((a) => a.names.includes(name));
    if (!alias) {
      out.push(arg);
      continue;
    }
    out.push(alias.to);
    if (alias.fixed !== undefined) out.push(alias.fixed);
    else if (alias.value) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new TcpreplayOptionError(`${name} (tcpreplay's ${alias.to}) needs a value`);
      out.push(v);
    }
  }
  return out;
}

/** "--pps=5" → ["--pps", "5"]; "-p5" → ["-p", "5"]; otherwise [arg, undefined]. */
function splitInline(arg: string): [string, string | undefined] {
  if (arg.startsWith("--")) {
    const eq = arg.indexOf("=");
    return eq < 0 ? [arg, undefined] : [arg.slice(0, eq), arg.slice(eq + 1)];
  }
  if (/^-[A-Za-z0-9]./.test(arg) && ALIASES.some((a) => a.value && a.names.includes(arg.slice(0, 2)))) return [arg.slice(0, 2), arg.slice(2)];
  return [arg, undefined];
}
