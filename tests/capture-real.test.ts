// Issue 15 on real captures written by others (../shared/captures/real, SOURCES.md there):
// captures people have replay, and checksums are never made wrong. Skipped with one line when
// the folder is absent.

import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { RELINK_DST, readCaptureFile, relinkFrame, type CaptureFrame } from "../src/capture/index.js";
import { readForReplay } from "../src/replay/replay.js";
import { pseudoAddressesV6 } from "../src/reference/checksum.js";

const root = path.resolve(import.meta.dirname, "..");
const vnic = path.join(root, "bin", "vnic.js");
const real = path.join(root, "..", "shared", "captures", "real");
const present = existsSync(real);
const tshark = spawnSync("tshark", ["--version"]).status === 0;
const dir = mkdtempSync(path.join(tmpdir(), "vnic-real-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
if (!present) console.log("capture-real: ../shared/captures/real is absent: skipped");

const cap = (name: string) => path.join(real, name);

function replayJson(args: string[]) {
  const r = spawnSync(process.execPath, [vnic, "replay", ...args, "--json"], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stderr: r.stderr, j: r.status === 0 || r.status === 1 ? JSON.parse(r.stdout) : undefined };
}

function frames(file: string): CaptureFrame[] {
  const out: CaptureFrame[] = [];
  readCaptureFile(file, (f) => out.push({ data: Uint8Array.prototype.slice.call(f.data), tsNs: f.tsNs, origLen: f.origLen })); // a copy: f.data is a view
  return out;
}

/** tshark's TCP/UDP checksum verdicts (1 good, 0 bad, 2 unverified) per frame. */
function checksumStatus(file: string): string[] {
  const r = spawnSync("tshark", ["-n", "-r", file, "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
    "-T", "fields", "-e", "tcp.checksum.status", "-e", "udp.checksum.status", "-e", "_ws.malformed"], { encoding: "utf8" });
  return r.stdout.trim().split("\n");
}

/** Frames tshark calls malformed or gives a bad TCP/UDP checksum. */
function badFrames(file: string): number {
  return checksumStatus(file).filter((line) => {
    const [tcp, udp, malformed] = line.split("\t");
    return tcp === "0" || udp === "0" || (malformed ?? "") !== "";
  }).length;
}

describe.skipIf(!present)("captures people have", () => {
  it.each([
    ["sll-websocket.pcap", 19],
    ["sll-tcp-handshake-ns.pcap", 3],
    ["sll-mptcp-tso.pcap", 20],
    ["sll2-small.pcap", 6],
    ["sll2-large.pcap", 159],
    ["raw-ipv4-228.pcap", 1],
    ["raw-ipv6-101.pcap", 1],
    ["raw-ipv6-mldv2-229.pcap", 5],
    ["raw-pfcp-opb.pcap", 200],
    ["null-loopback.pcap", 24],
    ["big-smb-length.pcap", 3519],
  ])("%s is relinked to Ethernet: every frame replays, counted", (name, n) => {
    const out = path.join(dir, `relinked-${name}`);
    const { code, j, stderr } = replayJson([cap(name), "--out", out]);
    expect(code, stderr).toBe(0);
    expect(j.packets.read).toBe(n);
    expect(j.packets.relinked).toBe(n);
    expect(j.books.balanced).toBe(true);
    for (const f of frames(out).slice(0, 20)) {
      expect(Array.from(f.data.subarray(0, 6))).toEqual(Array.from(RELINK_DST)); // documented MAC
      expect((f.data[12] << 8) | f.data[13]).toBeGreaterThanOrEqual(0x0600); // an ethertype (IPv4, IPv6, ARP...)
    }
  });

  it("SLL keeps the sender's MAC and its ethertype; raw IP takes the ethertype from the version", () => {
    const sll = new Uint8Array(16 + 20);
    sll.set([0, 4, 0, 1, 0, 6, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 0, 0x08, 0x00], 0);
    sll[16] = 0x45;
    const e = relinkFrame(113, sll)!;
    expect(Array.from(e.subarray(6, 14))).toEqual([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x08, 0x00]);
    expect(e.length).toBe(14 + 20);
    expect(relinkFrame(101, Uint8Array.of(0x60, 0, 0, 0))![12]).toBe(0x86);
    sll[14] = 0; // protocol 0x0004: LLC, not an ethertype
    sll[15] = 4;
    expect(relinkFrame(113, sll)).toBeNull();
  });

  it("pcapng with 126 declared interfaces (Ethernet, SLL, SLL2): the packets use one Ethernet interface, all replay", () => {
    const { code, j } = replayJson([cap("pcapng-ldap-126-ifaces.pcapng")]);
    expect(code).toBe(0);
    expect(j.packets.read).toBe(18);
    expect(j.packets.skippedLinkType).toBe(0);
  });

  it("pcapng mixing BSD loopback and Ethernet interfaces: both replay (loopback relinked)", () => {
    const { code, j, stderr } = replayJson([cap("pcapng-mixed-linktypes.pcapng")]);
    expect(code, stderr).toBe(0);
    expect(j.packets.relinked).toBeGreaterThan(0);
    expect(j.packets.read).toBe(8);
  });

  it("a pcapng whose only interface is 802.11 is refused in one line, naming its IDB", () => {
    const r = spawnSync(process.execPath, [vnic, "replay", cap("wlan-80211-beacon.pcapng")], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/at byte 28: the interface's link type 105 \(802.11\) is not Ethernet/);
  });

  it("records longer than the snap length are read (libpcap and tshark read them)", () => {
    for (const [name, n] of [["tso-smb2-krb-snap9999.pcap", 100], ["tso-pim-assortment-snap65535.pcap", 245], ["jumbo-udp-rand-snap2000.pcap", 50]] as const) {
      const { code, j } = replayJson([cap(name)]);
      expect(code).toBe(0);
      expect(j.packets.read, name).toBe(n);
    }
  });

  it("a damaged last record: the complete records replay, a warning names the offset; --strict refuses", () => {
    const r = spawnSync(process.execPath, [vnic, "replay", cap("trunc-trailing-bytes.pcap"), "--json"], { encoding: "utf8", timeout: 120_000 });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).packets.read).toBe(2696);
    expect(r.stderr).toMatch(/^vnic: warning: .*at byte 2715459: record header cut short: 1 of 16 bytes; replayed the 2696 complete frames/);
    const s = spawnSync(process.execPath, [vnic, "replay", cap("trunc-trailing-bytes.pcap"), "--strict"], { encoding: "utf8" });
    expect(s.status).toBe(2);
    expect(s.stderr.trim().split("\n")).toHaveLength(1);
    // A corrupt length in the middle of a file is not a damaged end: refused, as before.
    const mid = spawnSync(process.execPath, [vnic, "replay", cap("trunc-record-past-eof.pcap")], { encoding: "utf8" });
    expect(mid.status).toBe(2);
    expect(mid.stderr).toMatch(/at byte 3695: .*a corrupt length/);
  });

  it("frames cut by the snap length keep their original length in --out, counted, and tshark finds nothing malformed", () => {
    const input = cap("trunc-tcp-timestamp-96.pcap");
    const out = path.join(dir, "trunc.pcap");
    const { code, j } = replayJson([input, "--out", out]);
    expect(code).toBe(0);
    expect(j.packets.truncated).toBe(691);
    expect(frames(out).map((f) => f.origLen)).toEqual(frames(input).map((f) => f.origLen));
    if (tshark) expect(badFrames(out)).toBe(0);
  });

  it("triple VLAN tags are parsed like two: the NIC computes their checksums", () => {
    const { code, j } = replayJson([cap("vlan-qinqinq.pcap")]);
    expect(code).toBe(0);
    expect(j.checksum.requested).toBeGreaterThan(0); // with 2 tags at most, none was
  });

  it("if_tsresol 2^-8 is converted exactly, kept in nanoseconds", () => {
    const r = readForReplay(cap("pcapng-tsresol-2pow.pcapng"), {}, (f) => {
      expect(f.tsNs % 3_906_250n).toBe(0n); // a whole number of 1/256 s
    });
    expect(r.info.nanosecond).toBe(true);
  });

  it("a simple packet block gets the previous packet's time", () => {
    const f = frames(cap("trunc-pcapng-test012.pcapng"));
    expect(f.length).toBe(4);
    for (let i = 1; i < f.length; i++) expect(f[i].tsNs >= f[i - 1].tsNs).toBe(true);
  });

  it("a time past 2106 is one clear line with --out (the JS writer says the same); 2106's last second replays", () => {
    const r = spawnSync(process.execPath, [vnic, "replay", cap("time-2107.pcapng"), "--out", path.join(dir, "t.pcap")], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/timestamp 2107-01-01T00:00:00.000Z .* is past 2106-02-07T06:28:15Z/);
    expect(replayJson([cap("time-2107.pcapng")]).code).toBe(0); // without --out nothing needs the 32-bit seconds
    const max = path.join(dir, "max.pcap");
    expect(replayJson([cap("time-2106-max.pcap"), "--out", max]).code).toBe(0);
    expect(frames(max)[0].tsNs / 1_000_000_000n).toBe(0xffffffffn);
  });
});

describe.skipIf(!present)("checksums never made wrong", () => {
  it.skipIf(!tshark).each([
    "ipv6-hoa-tcp-good.pcap", // Home Address option: the pseudo-header source is the home address
    "ipv6-route0-udp-good.pcap", // routing header: the pseudo-header destination is the final one
    "ipv6-srh.pcap",
    "ipv6-ext-headers.pcap",
  ])("%s: every checksum good in the input is good in the output", (name) => {
    const out = path.join(dir, `v6-${name}`);
    expect(replayJson([cap(name), "--out", out]).code).toBe(0);
    const before = checksumStatus(cap(name));
    const after = checksumStatus(out);
    expect(after.length).toBe(before.length);
    after.forEach((v, i) => {
      if (before[i].includes("1")) expect(v, `frame ${i + 1}`).toBe(before[i]);
    });
  });

  it("the reference names the same pseudo-header addresses (routing header, home address)", () => {
    const route = frames(cap("ipv6-route0-udp-good.pcap"))[0].data;
    expect(pseudoAddressesV6(route, 14).dst).not.toBe(14 + 24);
    const hoa = frames(cap("ipv6-hoa-tcp-good.pcap"))[0].data;
    expect(pseudoAddressesV6(hoa, 14).src).not.toBe(14 + 8);
  });

  it("a jumbo SYN carrying data is dropped as oversize, not as a bad large send", () => {
    // Built from a real SYN: the handshake's first frame, padded with data past the MTU.
    const syn = frames(cap("sll-tcp-handshake-ns.pcap"))[0];
    expect(syn).toBeDefined();
    const file = path.join(dir, "jumbo-syn.pcap");
    const eth = readForReplay(cap("sll-tcp-handshake-ns.pcap"), {}, () => {});
    expect(eth.counts.relinked).toBe(3);
    const w = spawnSync(process.execPath, ["-e", `
      const { readCaptureFile, PcapWriter, relinkFrame } = await import(${JSON.stringify(path.join(root, "dist", "src", "capture", "index.js"))});
      let first; readCaptureFile(${JSON.stringify(cap("sll-tcp-handshake-ns.pcap"))}, (f) => { first ??= relinkFrame(113, f.data); });
      const ipLen = first.length - 14, big = new Uint8Array(14 + ipLen + 3000); big.set(first);
      const v = new DataView(big.buffer);
      if ((v.getUint8(14) >> 4) === 4) v.setUint16(16, ipLen + 3000); else v.setUint16(18, ipLen - 40 + 3000);
      const w = new PcapWriter(${JSON.stringify(file)}); w.write(big, 0n); w.close();`], { encoding: "utf8", input: "" });
    expect(w.status, w.stderr).toBe(0);
    const { code, j } = replayJson([file]);
    expect(code).toBe(0);
    expect(j.dropped.oversize).toBe(1);
    expect(j.dropped.lsoBadFlags).toBe(0);
  });
});
