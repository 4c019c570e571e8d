// Named reasons a request is refused. A bad request is an error with one of these names, never
// a crash or a silently wrong frame. camelCase like the core's DROP_* names.

export const OFFLOAD_ERROR_REASONS = [
  "mssZero", //             gso_size 0
  "mssTooSmall", //         gso_size below the configured minimum (options.minMss)
  "mssExceedsMtu", //       headers + MSS would not fit the MTU (checked when an MTU is given)
  "mssExceedsNicLimit", //  stage 1: not even one MSS fits the NIC's large-send limit
  "headersBeyondFrame", //  an Ethernet, VLAN, IP, extension or TCP/UDP header runs past the frame
  "lengthBeyondFrame", //   the IP length fields claim more bytes than the frame holds
  "badIpHeader", //         wrong IP version, IHL < 5, total length shorter than the header, bad jumbo option
  "badTcpHeader", //        TCP data offset < 5
  "notIp", //               a large send that is not IPv4 or IPv6
  "notTcp", //              a large send whose transport is not TCP
  "ipv4Fragment", //        a large send with MF set or a fragment offset (or an IPv6 fragment header)
  "badTcpFlags", //         SYN, RST or URG in a large send
  "tooManySegments", //     more segments than options.maxSegments
  "notUdp", //              a UDP large send (USO) whose transport is not UDP
  "udpTooLong", //          a USO datagram longer than the UDP length field can say
  "notTunnel", //           a tunnel large send that is not VXLAN/Geneve with an inner Ethernet frame
  "oversize", //            longer than the MTU and no large send (a SYN, RST or URG segment): dropped
] as const;

export type OffloadErrorReason = (typeof OFFLOAD_ERROR_REASONS)[number];

export class OffloadError extends Error {
  constructor(
    readonly reason: OffloadErrorReason,
    detail: string,
  ) {
    super(`${reason}: ${detail}`);
    this.name = "OffloadError";
  }
}
