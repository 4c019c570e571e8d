// Two network namespaces joined by a veth pair, for the --iface tests and the wire benchmark
// (bench/wire-peers.ts): vnic sends into one end (`tx`), the other end (`rx`) receives.
// Names carry the prefix vnw and this process's pid, so parallel runs never collide; the
// caller removes the pair (deleting the namespaces deletes the veth with them).

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export interface VethPair {
  txNs: string;
  rxNs: string;
  tx: string;
  rx: string;
}

function sh(args: string[]): { ok: boolean; err: string } {
  const r = spawnSync(args[0], args.slice(1), { encoding: "utf8" });
  return { ok: r.status === 0, err: (r.stderr ?? "").trim() };
}

function must(args: string[]): void {
  const r = sh(args);
  if (!r.ok) throw new Error(`${args.join(" ")}: ${r.err}`);
}

/** Why these tests cannot run here (one line), or undefined when they can. */
export function vethUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not root: the veth tests need CAP_NET_ADMIN and CAP_NET_RAW (CI runs them as root)";
  if (!existsSync("/usr/sbin/tcpdump") && !existsSync("/usr/bin/tcpdump")) return "tcpdump is not installed (apt-get install tcpdump)";
  const probe = `vnw-probe-${process.pid}`;
  const r = sh(["ip", "netns", "add", probe]);
  if (!r.ok) return `cannot create a network namespace (${r.err}): no CAP_NET_ADMIN?`;
  sh(["ip", "netns", "del", probe]);
  return undefined;
}

let serial = 0;

/** Creates the pair, both ends up, IPv6 off (no router solicitations in the capture). */
export function createVethPair(mtu = 1500): VethPair {
  const id = `${process.pid}-${serial++}`;
  const pair = { txNs: `vnw-tx-${id}`, rxNs: `vnw-rx-${id}`, tx: `vnwt${serial}-${process.pid}`.slice(0, 15), rx: `vnwr${serial}-${process.pid}`.slice(0, 15) };
  try {
    must(["ip", "netns", "add", pair.txNs]);
    must(["ip", "netns", "add", pair.rxNs]);
    for (const ns of [pair.txNs, pair.rxNs]) must(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
    must(["ip", "link", "add", pair.tx, "netns", pair.txNs, "mtu", String(mtu), "type", "veth", "peer", "name", pair.rx, "netns", pair.rxNs, "mtu", String(mtu)]);
    must(["ip", "-n", pair.txNs, "link", "set", pair.tx, "up"]);
    must(["ip", "-n", pair.rxNs, "link", "set", pair.rx, "up"]);
  } catch (e) {
    removeVethPair(pair);
    throw e;
  }
  return pair;
}

/** Deleting the namespaces deletes the veth pair with them. */
export function removeVethPair(pair: VethPair): void {
  sh(["ip", "netns", "del", pair.txNs]);
  sh(["ip", "netns", "del", pair.rxNs]);
}

/** Runs a command inside a namespace. */
export function inNs(ns: string, args: string[]): string[] {
  return ["ip", "netns", "exec", ns, ...args];
}

/** Packets the rx end has received so far (ip -s -j link). */
export function rxPackets(pair: VethPair): number {
  const r = spawnSync("ip", ["-n", pair.rxNs, "-s", "-j", "link", "show", "dev", pair.rx], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip -s link show ${pair.rx}: ${r.stderr.trim()}`);
  return Number(JSON.parse(r.stdout)[0].stats64.rx.packets);
}
