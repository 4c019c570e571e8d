// The AF_XDP backend's interface to the pump (af_xdp.c has the why).
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef struct xsk xsk;

/** Frames one kick may transmit in copy mode (XDP_MAX_TX_SKB_BUDGET, set by xsk_open): the
 *  pump's batch (pump.h BATCH_MAX is this), so one kick sends a whole batch. */
#define XSK_TX_BUDGET 256

/** Registers `mem` as the UMEM and binds a TX socket to `ifindex`; NULL with *err and `why` on failure. */
xsk *xsk_open(uint8_t *mem, size_t mem_len, unsigned ifindex, int *err, char *why, size_t n);
/** Longest frame one submit can carry (one chunk, or a chain with XDP_USE_SG). */
uint32_t xsk_max_frame(const xsk *x);
#include <sys/uio.h>
/** Descriptors a frame of these pieces takes (each piece split at the chunk size), or 0 when
 *  the kernel cannot take it as one chain (more than XSK_MAX_DESCS, or a chain without XDP_USE_SG). */
uint32_t xsk_descs_for(const xsk *x, const struct iovec *pieces, size_t n);
/** Queues up to n frames, frame i being the pieces iovs[i][0..niovs[i]) (pointers into mem),
 *  as one descriptor chain each; returns how many were taken (TX ring room). */
int xsk_submit(xsk *x, uint8_t *mem, struct iovec *const *iovs, const size_t *niovs, int n);
/** Asks the kernel to transmit what is queued; 0 or an errno (EAGAIN/ENOBUFS: try again). */
int xsk_kick(xsk *x);
/** Frames the kernel has finished with since the last call, oldest first. */
uint32_t xsk_reap(xsk *x);
uint32_t xsk_outstanding(const xsk *x);
int xsk_multibuffer(const xsk *x);
void xsk_close(xsk *x);
