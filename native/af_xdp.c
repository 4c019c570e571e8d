// The AF_XDP backend of the wire pump (vnic_wire.c): raw syscalls, no libxdp (TX only needs
// none of its XDP-program loading). Documentation/networking/af_xdp.rst is the reference.
//
// UMEM: the shared WebAssembly.Memory itself (page-aligned: V8 maps it), registered in
// unaligned chunk mode (XDP_UMEM_UNALIGNED_CHUNK_FLAG), so a frame is handed to the kernel as
// (offset of its bytes in the memory, length) wherever its wire record lies: no copy in user
// space. The kernel pins those pages (RLIMIT_MEMLOCK unless CAP_IPC_LOCK).
// Rings: TX (we produce descriptors), completion (the kernel returns them once sent: only then
// may the wire space be reused), and a fill ring, which the kernel requires at bind time even
// for a socket that never receives (xp_assign_dev).
// Bind: XDP_COPY (a veth, and most drivers without AF_XDP zero-copy support, take only copy
// mode: xsk_generic_xmit builds an skb per frame), with XDP_USE_SG when the kernel has it
// (6.6+): a frame longer than a chunk goes as a chain of descriptors, all but the last marked
// XDP_PKT_CONTD; a gather list (the header buffer, then each SG entry in guest memory) goes the
// same way, one descriptor per piece, so the kernel gathers. Completions come back in the order of submission (the completion slots are
// reserved as skbs are built, xsk_cq_reserve_addr_locked), so counting them is enough.

#define _GNU_SOURCE
#include "af_xdp.h"

#include <errno.h>
#include <linux/if_xdp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9  // Linux 6.17+: frames one sendto may transmit in copy mode
#endif

#define RING_SIZE 4096u  // descriptors in the TX and completion rings (powers of two)
#define CHUNK 4096u      // UMEM chunk size: the longest one descriptor may be
#define XSK_MAX_DESCS 17u  // descriptors in one frame's chain (xsk_build_skb: a linear part, then page frags up to MAX_SKB_FRAGS)

typedef struct {
  _Atomic uint32_t *producer, *consumer;
  void *desc;
  void *map;
  size_t map_len;
} ring;

struct xsk {
  int fd;
  int sg;  // XDP_USE_SG bound: frames longer than CHUNK go as descriptor chains
  ring tx, cq;
  uint32_t tx_head;   // our producer index (published after each submit)
  uint32_t cq_tail;   // our consumer index
  // Descriptors per submitted frame, oldest first, so completions can be counted in frames.
  uint8_t descs_of[RING_SIZE];
  uint32_t frames_out_head, frames_out_tail;
  uint32_t descs_left_in_oldest;
};

static int map_ring(int fd, ring *r, const struct xdp_ring_offset *off, size_t entry, off_t pgoff) {
  r->map_len = off->desc + RING_SIZE * entry;
  r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, pgoff);
  if (r->map == MAP_FAILED) return -errno;
  r->producer = (_Atomic uint32_t *)((uint8_t *)r->map + off->producer);
  r->consumer = (_Atomic uint32_t *)((uint8_t *)r->map + off->consumer);
  r->desc = (uint8_t *)r->map + off->desc;
  return 0;
}

static xsk *fail(xsk *x, int err, int *err_out, char *why, size_t n, const char *what) {
  *err_out = err;
  snprintf(why, n, "%s: %s", what, strerror(err));
  xsk_close(x);
  return NULL;
}

xsk *xsk_open(uint8_t *mem, size_t mem_len, unsigned ifindex, int *err, char *why, size_t n) {
  xsk *x = calloc(1, sizeof *x);
  if (!x) return fail(NULL, ENOMEM, err, why, n, "out of memory");
  x->fd = socket(AF_XDP, SOCK_RAW, 0);
  if (x->fd < 0) return fail(x, errno, err, why, n, "socket(AF_XDP)");
  struct xdp_umem_reg reg = {.addr = (uint64_t)(uintptr_t)mem, .len = mem_len & ~(uint64_t)4095, .chunk_size = CHUNK,
                             .headroom = 0, .flags = XDP_UMEM_UNALIGNED_CHUNK_FLAG};
  if (setsockopt(x->fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof reg) < 0) {
    int e = errno;
    struct rlimit rl;
    getrlimit(RLIMIT_MEMLOCK, &rl);
    *err = e;
    snprintf(why, n, "registering the shared memory (%zu MiB) as UMEM: %s; RLIMIT_MEMLOCK is %s: raise it (ulimit -l unlimited, or LimitMEMLOCK=infinity for a service)",
             mem_len >> 20, strerror(e), rl.rlim_cur == RLIM_INFINITY ? "unlimited" : "limited");
    xsk_close(x);
    return NULL;
  }
  unsigned size = RING_SIZE;
  unsigned fill = 64;  // never used: the kernel insists on one at bind
  if (setsockopt(x->fd, SOL_XDP, XDP_UMEM_FILL_RING, &fill, sizeof fill) < 0) return fail(x, errno, err, why, n, "XDP_UMEM_FILL_RING");
  if (setsockopt(x->fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &size, sizeof size) < 0) return fail(x, errno, err, why, n, "XDP_UMEM_COMPLETION_RING");
  if (setsockopt(x->fd, SOL_XDP, XDP_TX_RING, &size, sizeof size) < 0) return fail(x, errno, err, why, n, "XDP_TX_RING");
  // Copy mode transmits at most 32 frames per sendto by default (xsk_generic_xmit's budget);
  // a larger one makes one kick per batch and spares the EAGAIN returns. Older kernels say ENOPROTOOPT:
  // the default stands.
  unsigned budget = XSK_TX_BUDGET;
  setsockopt(x->fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget, sizeof budget);
  struct xdp_mmap_offsets off;
  socklen_t optlen = sizeof off;
  if (getsockopt(x->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &optlen) < 0) return fail(x, errno, err, why, n, "XDP_MMAP_OFFSETS");
  int e = map_ring(x->fd, &x->tx, &off.tx, sizeof(struct xdp_desc), XDP_PGOFF_TX_RING);
  if (e == 0) e = map_ring(x->fd, &x->cq, &off.cr, sizeof(uint64_t), XDP_UMEM_PGOFF_COMPLETION_RING);
  if (e != 0) return fail(x, -e, err, why, n, "mmap of the AF_XDP rings");
  struct sockaddr_xdp sxdp = {.sxdp_family = AF_XDP, .sxdp_ifindex = ifindex, .sxdp_queue_id = 0, .sxdp_flags = XDP_COPY | XDP_USE_SG};
  x->sg = 1;
  if (bind(x->fd, (struct sockaddr *)&sxdp, sizeof sxdp) < 0) {
    // Kernels before 6.6 do not know XDP_USE_SG: bind without it (frames then fit one chunk).
    sxdp.sxdp_flags = XDP_COPY;
    x->sg = 0;
    if (bind(x->fd, (struct sockaddr *)&sxdp, sizeof sxdp) < 0) return fail(x, errno, err, why, n, "bind(AF_XDP, XDP_COPY)");
  }
  x->tx_head = atomic_load(x->tx.producer);
  x->cq_tail = atomic_load(x->cq.consumer);
  return x;
}

uint32_t xsk_max_frame(const xsk *x) {
  return x->sg ? CHUNK * XSK_MAX_DESCS : CHUNK;
}

uint32_t xsk_descs_for(const xsk *x, const struct iovec *pieces, size_t n) {
  uint32_t descs = 0;
  for (size_t k = 0; k < n; k++) descs += (uint32_t)((pieces[k].iov_len + CHUNK - 1) / CHUNK);
  if (descs == 0 || descs > (x->sg ? XSK_MAX_DESCS : 1u)) return 0;
  return descs;
}

int xsk_submit(xsk *x, uint8_t *mem, struct iovec *const *iovs, const size_t *niovs, int n) {
  uint32_t free_slots = RING_SIZE - (x->tx_head - atomic_load(x->tx.consumer));
  struct xdp_desc *ring_desc = x->tx.desc;
  int taken = 0;
  for (; taken < n; taken++) {
    uint32_t descs = xsk_descs_for(x, iovs[taken], niovs[taken]);  // the caller refused 0 already
    if (descs > free_slots || x->frames_out_head - x->frames_out_tail >= RING_SIZE) break;
    // One chain per frame: every descriptor but the frame's last is marked XDP_PKT_CONTD; a
    // piece longer than a chunk is cut at chunk boundaries (a descriptor may not exceed one).
    uint32_t left = descs;
    for (size_t k = 0; k < niovs[taken]; k++) {
      uint64_t addr = (uint64_t)((uint8_t *)iovs[taken][k].iov_base - mem);
      uint64_t len = iovs[taken][k].iov_len;
      while (len > 0) {
        uint32_t piece = len < CHUNK ? (uint32_t)len : CHUNK;
        struct xdp_desc *desc = &ring_desc[x->tx_head++ & (RING_SIZE - 1)];
        desc->addr = addr;
        desc->len = piece;
        desc->options = --left > 0 ? XDP_PKT_CONTD : 0;
        addr += piece;
        len -= piece;
      }
    }
    free_slots -= descs;
    x->descs_of[x->frames_out_head++ & (RING_SIZE - 1)] = (uint8_t)descs;
  }
  atomic_store(x->tx.producer, x->tx_head);  // release: the descriptors before the index
  return taken;
}

int xsk_kick(xsk *x) {
  if (x->tx_head == atomic_load(x->tx.consumer)) return 0;
  if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0) return 0;
  return errno;
}

uint32_t xsk_reap(xsk *x) {
  uint32_t ready = atomic_load(x->cq.producer) - x->cq_tail;
  uint32_t frames = 0;
  while (ready > 0 && x->frames_out_tail != x->frames_out_head) {
    if (x->descs_left_in_oldest == 0) x->descs_left_in_oldest = x->descs_of[x->frames_out_tail & (RING_SIZE - 1)];
    uint32_t take = ready < x->descs_left_in_oldest ? ready : x->descs_left_in_oldest;
    x->descs_left_in_oldest -= take;
    ready -= take;
    x->cq_tail += take;
    if (x->descs_left_in_oldest == 0) {
      x->frames_out_tail++;
      frames++;
    }
  }
  atomic_store(x->cq.consumer, x->cq_tail);
  return frames;
}

uint32_t xsk_outstanding(const xsk *x) {
  return x->frames_out_head - x->frames_out_tail;
}

int xsk_multibuffer(const xsk *x) {
  return x->sg;
}

void xsk_close(xsk *x) {
  if (!x) return;
  if (x->tx.map && x->tx.map != MAP_FAILED) munmap(x->tx.map, x->tx.map_len);
  if (x->cq.map && x->cq.map != MAP_FAILED) munmap(x->cq.map, x->cq.map_len);
  if (x->fd > 0) close(x->fd);
  free(x);
}
