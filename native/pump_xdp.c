// The pump's loop on the AF_XDP backend (af_xdp.c): frames are queued on the TX ring as
// (offset, length) into the shared memory — a gather list as a chain of such descriptors — and their wire space is given back only when the
// completion ring returns them. Refused frames (longer than the device takes) never reach the
// ring; they wait in the same in-order queue as the sent ones, so the cursor still moves in
// wire order. Sleep/wake and refusal accounting as in vnic_wire.c.

#define _GNU_SOURCE
#include "pump.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// No completion for this long while frames are queued and the kernel is kicked: the frames are
// counted as refused (ETIMEDOUT, under `other`) rather than hanging the run.
#define STUCK_NS 2000000000LL

typedef struct {
  uint8_t *rec;   // its wire record (NULL for a wrap)
  uint32_t end;   // the wire tail just past this frame
  uint32_t len;
  uint8_t refused;
} pending;

typedef struct {
  pending q[RING_FRAMES];
  uint32_t head, tail;  // free-running
  uint32_t credit;      // frames the kernel completed, not yet matched to the queue
} pending_queue;

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/** Gives back the wire space of every finished frame at the front of the queue. */
static void retire(pump *p, pending_queue *pq) {
  pq->credit += xsk_reap(p->xsk);
  uint32_t cursor = 0;
  int moved = 0;
  while (pq->tail != pq->head) {
    pending *f = &pq->q[pq->tail % RING_FRAMES];
    if (!f->refused) {
      if (pq->credit == 0) break;
      pq->credit--;
      atomic_fetch_add(&p->st.sent, 1);
      atomic_fetch_add(&p->st.bytes, f->len);
    }
    cursor = f->end;
    moved = 1;
    pq->tail++;
  }
  if (moved) atomic_store(p->cursor, cursor);
}

static int queue_full(const pending_queue *pq) {
  return pq->head - pq->tail >= RING_FRAMES;
}

static void push(pending_queue *pq, uint8_t *rec, uint32_t end, uint32_t len, int refused) {
  pending *f = &pq->q[pq->head++ % RING_FRAMES];
  f->rec = rec;
  f->end = end;
  f->len = len;
  f->refused = (uint8_t)refused;
}

/** Everything still queued in the kernel is lost with the device: count it gone. */
static void abandon(pump *p, pending_queue *pq, int err) {
  uint32_t cursor = 0;
  int moved = 0;
  for (; pq->tail != pq->head; pq->tail++) {
    pending *f = &pq->q[pq->tail % RING_FRAMES];
    if (!f->refused) {
      count_refusal(p, err);
      mark_refused(f->rec, err);
    }
    cursor = f->end;
    moved = 1;
  }
  if (moved) atomic_store(p->cursor, cursor);
}

/** Whether message i of the batch fits one descriptor chain of the device. */
static int sendable(const pump *p, const batch *b, int i) {
  const struct msghdr *m = &b->msgs[i].msg_hdr;
  return b->frame_len[i] <= p->max_frame && xsk_descs_for(p->xsk, m->msg_iov, m->msg_iovlen) > 0;
}

/** Queues the batch (refusing what the device cannot take); returns the wire position reached.
 *  A frame goes as the pieces collect() found for it: its bytes in the wire record, or the
 *  pieces of a gather list (the header buffer, then each SG entry), one descriptor chain each. */
static uint32_t submit(pump *p, batch *b, uint32_t next, pending_queue *pq, struct iovec **iovs, size_t *niovs) {
  int i = 0;
  while (i < b->n && !queue_full(pq)) {
    int lost = atomic_load(&p->iface_gone);
    if (lost) {
      count_refusal(p, lost);
      mark_refused(b->rec[i], lost);
      push(pq, b->rec[i], b->end[i], 0, 1);
      next = b->end[i++];
      continue;
    }
    if (b->bad[i] || !sendable(p, b, i)) {  // bad: a malformed gather list (pump.h)
      int err = b->bad[i] ? EINVAL : EMSGSIZE;
      count_refusal(p, err);
      mark_refused(b->rec[i], err);
      push(pq, b->rec[i], b->end[i], 0, 1);
      next = b->end[i++];
      continue;
    }
    // A run of sendable frames, handed over in one submit.
    int n = 0;
    while (i + n < b->n && !b->bad[i + n] && sendable(p, b, i + n) && n < BATCH_MAX) {
      iovs[n] = b->msgs[i + n].msg_hdr.msg_iov;
      niovs[n] = b->msgs[i + n].msg_hdr.msg_iovlen;
      n++;
    }
    if (pq->head - pq->tail + (uint32_t)n > RING_FRAMES) n = (int)(RING_FRAMES - (pq->head - pq->tail));
    int taken = xsk_submit(p->xsk, p->mem, iovs, niovs, n);
    for (int k = 0; k < taken; k++) push(pq, b->rec[i + k], b->end[i + k], b->frame_len[i + k], 0);
    if (taken > 0) next = b->end[i + taken - 1];
    i += taken;
    if (taken < n) break;  // TX ring full: the rest is collected again once completions free it
  }
  return next;
}

/** Kicks the kernel; returns 0, or 1 once the interface is gone. */
static int kick(pump *p, pending_queue *pq) {
  atomic_fetch_add(&p->st.syscalls, 1);
  int e = xsk_kick(p->xsk);
  if (e == 0 || e == EINTR) return 0;
  if (e == EAGAIN || e == ENOBUFS || e == EBUSY) {
    atomic_fetch_add(&p->st.backpressure, 1);
    return 0;
  }
  // ENETDOWN/ENXIO: the device went away (xsk_notifier unbinds the socket); anything else is
  // counted as it comes. Frames still in the kernel's ring will not complete.
  atomic_store(&p->iface_gone, e == ENODEV ? ENXIO : e);
  abandon(p, pq, e == ENODEV ? ENXIO : e);
  return 1;
}

void pump_loop_xdp(pump *p, batch *b) {
  pending_queue *queue = calloc(1, sizeof *queue);
  if (!queue) return;
  struct iovec *iovs[BATCH_MAX];
  size_t niovs[BATCH_MAX];
  uint32_t next = atomic_load(p->cursor);
  int idle = 0;
  long long last_progress = now_ns();
  for (;;) {
    uint32_t before = queue->tail;
    retire(p, queue);
    if (queue->tail != before) last_progress = now_ns();
    uint32_t head = atomic_load(p->head);
    // Once the device is gone what the kernel held was abandoned (counted): nothing is queued.
    int queued = !atomic_load(&p->iface_gone) && xsk_outstanding(p->xsk) > 0;
    if (queued) {
      kick(p, queue);
      if (now_ns() - last_progress > STUCK_NS) {
        atomic_store(&p->iface_gone, ETIMEDOUT);
        abandon(p, queue, ETIMEDOUT);
      }
    }
    if (next == head) {
      if (queued || queue->tail != queue->head) continue;
      if (atomic_load(&p->finishing) && atomic_load(p->head) == next) break;
      if (++idle < SPIN_TURNS) continue;
      idle = 0;
      sleep_on_bell(p, next);
      continue;
    }
    idle = 0;
    if (queue_full(queue)) continue;
    collect(p, next, head, b);
    if (b->n == 0) {
      push(queue, NULL, head, 0, 1);  // only a wrap was left: it moves the cursor when its turn comes
      next = head;
      continue;
    }
    uint32_t reached = submit(p, b, next, queue, iovs, niovs);
    if (reached != next) last_progress = now_ns();
    next = reached;
    if (!atomic_load(&p->iface_gone)) kick(p, queue);
  }
  free(queue);
}
