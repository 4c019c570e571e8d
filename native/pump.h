// The wire pump's shared state and helpers (vnic_wire.c: the protocol and AF_PACKET;
// pump_xdp.c: the AF_XDP loop).
#pragma once
#include <node_api.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include "af_xdp.h"

// Frames per sendmmsg, or per AF_XDP kick (with a TX budget to match, af_xdp.c): 256 took
// 3 % more frames per second than 64 on a veth at 64 bytes (README: Sending to an interface).
#define BATCH_MAX XSK_TX_BUDGET
#define PUMP_NICE (-5)
#define RING_FRAMES 4096u  // AF_XDP: frames in flight at most (the TX ring's size)
#define WIRE_RECORD_HEADER 16u
#define WIRE_WRAP 0xffffffffu
#define SPIN_TURNS 2000
#define SLEEP_TIMEOUT_NS 2000000L
#define BACKPRESSURE_WAIT_MS 1
// The wire record's flags word (assembly/nic/passthrough.ts): the frame is preceded by its
// virtio_net_hdr. Refusals are marked above bit 8, so the flag survives.
#define WIRE_FLAG_VNET_HDR 1u
#define VNET_HDR_LEN 10
// Kernel gather: a record flagged WIRE_FLAG_GATHER holds no frame bytes but a
// gather list, [u32 count][u32 0][count x (u32 offset, u32 length)], offsets into the shared
// memory (the header buffer, then each SG entry): AF_PACKET gets one iovec per piece, AF_XDP
// one multi-buffer descriptor chain (pump_xdp.c), and the kernel does the gather. The record's length is the list's (8 + 8 * count). The NIC stage
// emits them under --wire-gather kernel (assembly/nic/gather.ts) and gives the pieces back only
// once the wire tail has passed the record: our cursor store, after sendmmsg copied them
// (or, with --out, the capture writer's tail behind it); on AF_XDP the cursor moves only once
// the completion ring returned the chain.
#define WIRE_FLAG_GATHER 2u
#define GATHER_MAX 16

typedef struct {
  _Atomic uint64_t sent, bytes, oversize, down, gone, other, backpressure, syscalls, sleeps;
  _Atomic int last_other_errno;
} pump_stats;

typedef struct {
  uint8_t *mem;
  size_t mem_len;
  uint32_t wire_base, wire_bytes;
  _Atomic uint32_t *head;      // producer's published head (free-running bytes)
  _Atomic uint32_t *cursor;    // our progress: the wire tail, or the "sent" gate before --out
  _Atomic uint32_t *sleeping;  // 1 while the pump is about to wait
  _Atomic uint32_t *bell;      // bumped by the device before kick()
  int fd;
  int vnet_hdr;                // PACKET_VNET_HDR: every message starts with a virtio_net_hdr
  pthread_t thread;
  int thread_started;
  _Atomic int finishing;       // host: the producer is done; drain what is published, then exit
  _Atomic int nice;            // the pump thread's nice value (raise_priority)
  _Atomic int iface_gone;      // 0, or the errno that lost the interface (ENETDOWN, ENXIO, ...)
  pump_stats st;
  napi_ref memory_ref;
  xsk *xsk;                    // the AF_XDP backend, or NULL for AF_PACKET
  uint32_t max_frame;          // AF_XDP: longest frame the device takes (MTU + tagged Ethernet header)
} pump;

typedef struct {
  struct mmsghdr msgs[BATCH_MAX];
  struct iovec iov[(GATHER_MAX + 1) * BATCH_MAX];
  uint8_t *rec[BATCH_MAX];      // message i's wire record
  uint32_t frame_len[BATCH_MAX];  // its frame bytes (no virtio_net_hdr)
  uint32_t end[BATCH_MAX];  // the tail value just past message i (wraps included)
  int bad[BATCH_MAX];       // a gather list that cannot be sent (EINVAL: bad count or piece outside the memory)
  int n;
} batch;

// With PACKET_VNET_HDR every message needs a header: an emulated frame gets this one (no
// offload asked: the kernel sends it as it is, virtio_net_hdr_to_skb).
/** Collects up to BATCH_MAX published records from `tail` (stops at `head`). */
void collect(pump *p, uint32_t tail, uint32_t head, batch *b);
/** Marks a refused frame's record (errno << 8 in its flags word). */
void mark_refused(uint8_t *rec, int err);
/** Counts one refused frame by its errno; returns 1 when the interface is gone. */
int count_refusal(pump *p, int err);
/** Sleeps until kicked (or the safety timeout) unless something was published meanwhile. */
void sleep_on_bell(pump *p, uint32_t tail);
/** The AF_XDP pump loop (pump_xdp.c). */
void pump_loop_xdp(pump *p, batch *b);
