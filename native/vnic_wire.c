// vnic's wire pump: a thread that drains the NIC model's wire ring (assembly/nic/wire-ring.ts) out
// of a Linux interface, through an AF_PACKET socket (here) or AF_XDP (pump_xdp.c, af_xdp.c).
// N-API only (node_api.h from the node-api-headers package), no libpcap.
// Over 400 lines because it holds three things that share one struct and are short each: the
// sleep/wake protocol, the AF_PACKET send loop, and the N-API glue (start/stats/finish/kick and
// the interface's ethtool features).
//
// The wire ring lives in the shared WebAssembly.Memory. The host hands us a Uint8Array over it;
// napi_get_typedarray_info gives its data pointer, which stays valid for the run because the
// memory is created at its final size (src/core.ts: initial = maximum, it never grows) and we
// hold a reference to the array. Each frame's iovec points straight at its wire record: no copy
// in user space (the kernel copies once into its skb, packet_snd()).
//
// Socket: socket(AF_PACKET, SOCK_RAW, 0) bound to the interface. Protocol 0 registers no
// receive hook (packet_create/packet_do_bind only hook a non-zero protocol), so it never
// receives. skb->protocol is parsed from the Ethernet header by packet_parse_headers().
//
// Sleep/wake protocol (V8's Atomics.wait is not a futex, so JS cannot wake a C thread with
// Atomics.notify, nor C a JS waiter with FUTEX_WAKE; both sides here use real futexes):
//   pump:   finds the ring empty after a short spin -> reads BELL -> stores SLEEPING = 1
//           (seq_cst) -> re-reads the producer's head -> if still empty,
//           futex(BELL, FUTEX_WAIT, bell_seen, 2 ms) -> SLEEPING = 0.
//   device: after the NIC publishes (atomic store of head), loads SLEEPING; if 1, bumps BELL and
//           calls kick(), which is FUTEX_WAKE on BELL (src/workers/stage.ts).
// Both sides store then load with sequential consistency (Dekker), so either the pump sees the
// new head or the device sees SLEEPING; a bump between the pump's read of BELL and its wait
// makes FUTEX_WAIT return at once. The 2 ms timeout is only a safety net.
//
// Refusals: sendmmsg() stops at the first message that fails; if none went, it returns -1 with
// that message's errno. ENOBUFS/EAGAIN are backpressure (qdisc or socket buffer full): the same
// frame is retried after a short wait, never dropped. EMSGSIZE (longer than the device's MTU,
// packet_snd) is counted as oversize, ENETDOWN as interface down, ENXIO/ENODEV as interface
// gone (then every frame still published is counted gone without a syscall, and the host ends
// the run); anything else is counted under `other` with its errno. Every frame taken off the
// ring is exactly one of: sent, oversize, down, gone, other. A refused frame is marked in its
// record's flags word (errno << 8) so that the --out copy, written after us, leaves it out.
//
// --offload passthrough|auto: the socket takes PACKET_VNET_HDR, so every message starts with a
// struct virtio_net_hdr. A record the NIC flagged WIRE_FLAG_VNET_HDR carries its own (a large
// send or checksum request passed through, assembly/nic/passthrough.ts); any other frame gets a
// zeroed one as a separate iovec (no offload asked).

#define _GNU_SOURCE
#include "pump.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/futex.h>
#include <linux/sockios.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>


// ---- the pump thread ----

static long futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *timeout) {
  return syscall(SYS_futex, (uint32_t *)addr, op, val, timeout, NULL, 0);
}

static const uint8_t NO_OFFLOAD_HDR[VNET_HDR_LEN];

/** Collects up to BATCH_MAX published records from `tail` (stops at `head`). */
void collect(pump *p, uint32_t tail, uint32_t head, batch *b) {
  b->n = 0;
  while (tail != head && b->n < BATCH_MAX) {
    uint32_t pos = tail & (p->wire_bytes - 1);
    uint8_t *rec = p->mem + p->wire_base + pos;
    uint32_t len;
    memcpy(&len, rec, 4);
    if (len == WIRE_WRAP) {
      tail += p->wire_bytes - pos;
      continue;
    }
    uint32_t flags;
    memcpy(&flags, rec + 4, 4);
    struct iovec *iov = &b->iov[(GATHER_MAX + 1) * b->n];
    size_t niov = 0;
    if (p->vnet_hdr && !(flags & WIRE_FLAG_VNET_HDR)) {
      iov[niov].iov_base = (void *)NO_OFFLOAD_HDR;
      iov[niov++].iov_len = VNET_HDR_LEN;
    }
    // AF_XDP sends no virtio_net_hdr (pass-through is AF_PACKET's): such a record is refused.
    b->bad[b->n] = p->xsk && (flags & WIRE_FLAG_VNET_HDR);
    if (flags & WIRE_FLAG_GATHER) {
      uint32_t count, frame = 0;
      memcpy(&count, rec + WIRE_RECORD_HEADER, 4);
      if (count == 0 || count > GATHER_MAX || len != 8 + 8 * count) b->bad[b->n] = 1;  // AF_XDP: a descriptor chain (pump_xdp.c)
      for (uint32_t k = 0; k < count && !b->bad[b->n]; k++) {
        uint32_t piece[2];
        memcpy(piece, rec + WIRE_RECORD_HEADER + 8 + 8 * k, 8);
        if ((uint64_t)piece[0] + piece[1] > p->mem_len) b->bad[b->n] = 1;
        iov[niov].iov_base = p->mem + piece[0];
        iov[niov++].iov_len = piece[1];
        frame += piece[1];
      }
      if ((flags & WIRE_FLAG_VNET_HDR) && frame < VNET_HDR_LEN) b->bad[b->n] = 1;  // no room for its own header
      b->frame_len[b->n] = (flags & WIRE_FLAG_VNET_HDR) && !b->bad[b->n] ? frame - VNET_HDR_LEN : frame;
    } else {
      iov[niov].iov_base = rec + WIRE_RECORD_HEADER;
      iov[niov++].iov_len = len;
      b->frame_len[b->n] = (flags & WIRE_FLAG_VNET_HDR) ? len - VNET_HDR_LEN : len;
    }
    b->rec[b->n] = rec;
    memset(&b->msgs[b->n], 0, sizeof b->msgs[b->n]);
    b->msgs[b->n].msg_hdr.msg_iov = iov;
    b->msgs[b->n].msg_hdr.msg_iovlen = niov;
    tail += WIRE_RECORD_HEADER + ((len + 7u) & ~7u);
    b->end[b->n] = tail;
    b->n++;
  }
}

static void wait_writable(pump *p) {
  struct pollfd pfd = {.fd = p->fd, .events = POLLOUT};
  poll(&pfd, 1, BACKPRESSURE_WAIT_MS);
}

/** Counts one refused frame by its errno; returns 1 when the interface is lost (down or gone). */
int count_refusal(pump *p, int err) {
  switch (err) {
    case EMSGSIZE: atomic_fetch_add(&p->st.oversize, 1); return 0;
    case ENETDOWN: atomic_fetch_add(&p->st.down, 1); return 1;
    case ENXIO:
    case ENODEV: atomic_fetch_add(&p->st.gone, 1); return 1;
    default:
      atomic_fetch_add(&p->st.other, 1);
      atomic_store(&p->st.last_other_errno, err);
      return 0;
  }
}

/** Marks a refused frame in its record's reserved word, so the --out copy (assembly/host/pcap-out.ts)
 *  leaves it out: the copy is what was sent. */
void mark_refused(uint8_t *rec, int err) {
  uint32_t flags;
  memcpy(&flags, rec + 4, 4);
  flags |= ((uint32_t)err & 0xffu) << 8; /* the low half of the word: its high half is the snap-length extra (wire-ring.ts) */
  memcpy(rec + 4, &flags, 4);
}

/** Sends (or accounts for) every frame of the batch; returns the tail past them. */
static uint32_t send_batch(pump *p, batch *b, uint32_t tail) {
  int i = 0;
  while (i < b->n) {
    int lost = atomic_load(&p->iface_gone);
    if (lost) {
      // The device is down or gone: the rest of what is published can only be counted (the
      // host ends the run).
      for (; i < b->n; i++) {
        count_refusal(p, lost);
        mark_refused(b->rec[i], lost);
      }
      return b->end[b->n - 1];
    }
    if (b->bad[i]) {
      count_refusal(p, EINVAL);
      mark_refused(b->rec[i], EINVAL);
      tail = b->end[i];
      i++;
      continue;
    }
    int run = 0;  // up to the next bad gather list
    while (i + run < b->n && !b->bad[i + run]) run++;
    atomic_fetch_add(&p->st.syscalls, 1);
    int r = sendmmsg(p->fd, &b->msgs[i], (unsigned)run, 0);
    if (r > 0) {
      uint64_t bytes = 0;
      for (int k = i; k < i + r; k++) bytes += b->frame_len[k];
      atomic_fetch_add(&p->st.sent, (uint64_t)r);
      atomic_fetch_add(&p->st.bytes, bytes);
      i += r;
      tail = b->end[i - 1];
      continue;
    }
    int err = r < 0 ? errno : EIO;
    if (err == EINTR) continue;
    if (err == ENOBUFS || err == EAGAIN || err == EWOULDBLOCK) {
      atomic_fetch_add(&p->st.backpressure, 1);
      wait_writable(p);
      continue;
    }
    if (count_refusal(p, err)) atomic_store(&p->iface_gone, err == ENODEV ? ENXIO : err);
    mark_refused(b->rec[i], err);
    tail = b->end[i];
    i++;
  }
  return tail;
}

/** Sleeps until kicked (or the safety timeout) unless something was published meanwhile. */
void sleep_on_bell(pump *p, uint32_t tail) {
  uint32_t seen = atomic_load(p->bell);
  atomic_store(p->sleeping, 1);
  if (atomic_load(p->head) == tail && !atomic_load(&p->finishing)) {
    struct timespec t = {0, SLEEP_TIMEOUT_NS};
    atomic_fetch_add(&p->st.sleeps, 1);
    futex(p->bell, FUTEX_WAIT, seen, &t);
  }
  atomic_store(p->sleeping, 0);
}

// The pump is the wire: when it is the bottleneck (a veth or a fast NIC at small frames), every
// millisecond the scheduler gives its core to the guest or the device thread is lost for good,
// while they have a full ring of slack. So it asks for nice PUMP_NICE (this thread only: Linux
// keeps a nice value per thread). Needs CAP_SYS_NICE; without it the thread keeps its nice,
// and stats() says which it got. Not a real-time class: a spinning SCHED_FIFO thread could
// starve the machine.
static void raise_priority(pump *p) {
  pid_t tid = gettid();
  int now = getpriority(PRIO_PROCESS, (id_t)tid);  // never fails for our own thread
  if (now > PUMP_NICE && setpriority(PRIO_PROCESS, (id_t)tid, PUMP_NICE) == 0) now = PUMP_NICE;
  atomic_store(&p->nice, now);
}

static void *pump_main(void *arg) {
  pump *p = arg;
  raise_priority(p);
  batch *b = malloc(sizeof *b);
  if (!b) return NULL;
  if (p->xsk) {
    pump_loop_xdp(p, b);
    free(b);
    return NULL;
  }
  uint32_t tail = atomic_load(p->cursor);
  int idle = 0;
  for (;;) {
    uint32_t head = atomic_load(p->head);
    if (head == tail) {
      if (atomic_load(&p->finishing) && atomic_load(p->head) == tail) break;
      if (++idle < SPIN_TURNS) continue;
      idle = 0;
      sleep_on_bell(p, tail);
      continue;
    }
    idle = 0;
    collect(p, tail, head, b);
    tail = b->n > 0 ? send_batch(p, b, tail) : head;  // n == 0: only a wrap was left
    atomic_store(p->cursor, tail);
  }
  free(b);
  return NULL;
}

// ---- N-API glue ----

#define CHECK(call)                                                      \
  do {                                                                   \
    if ((call) != napi_ok) {                                             \
      napi_throw_error(env, NULL, "vnic-wire: N-API call failed: " #call); \
      return NULL;                                                       \
    }                                                                    \
  } while (0)

static napi_value throw_errno(napi_env env, const char *code, const char *msg) {
  napi_value c, m, e;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, c, m, &e);
  napi_throw(env, e);
  return NULL;
}

static uint32_t get_u32(napi_env env, napi_value obj, const char *key, int *ok) {
  napi_value v;
  uint32_t out = 0;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_get_value_uint32(env, v, &out) != napi_ok) *ok = 0;
  return out;
}

static int memory_of(napi_env env, napi_value arr, uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  size_t length, offset;
  void *ptr;
  napi_value ab;
  if (napi_get_typedarray_info(env, arr, &type, &length, &ptr, &ab, &offset) != napi_ok) return 0;
  if (type != napi_uint8_array || ptr == NULL) return 0;
  *data = ptr;
  *len = length;
  return 1;
}

/** Opens the packet socket on `name`; on failure throws and returns -1. Also reads the MTU. */
static int open_socket(napi_env env, const char *name, int *mtu, int vnet_hdr) {
  unsigned ifindex = if_nametoindex(name);
  char msg[256];
  if (ifindex == 0) {
    snprintf(msg, sizeof msg, "no interface named %s", name);
    throw_errno(env, "ENODEV", msg);
    return -1;
  }
  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) {
    int e = errno;
    throw_errno(env, e == EPERM || e == EACCES ? "EPERM" : "ESOCKET", strerror(e));
    return -1;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, IFNAMSIZ, "%.15s", name);
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
    close(fd);
    snprintf(msg, sizeof msg, "interface %s is down", name);
    throw_errno(env, "ENETDOWN", msg);
    return -1;
  }
  *mtu = ioctl(fd, SIOCGIFMTU, &ifr) == 0 ? ifr.ifr_mtu : 0;
  int one = 1;
  if (vnet_hdr && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0) {
    int e = errno;
    close(fd);
    snprintf(msg, sizeof msg, "PACKET_VNET_HDR refused on %s: %s", name, strerror(e));
    throw_errno(env, "EVNETHDR", msg);
    return -1;
  }
  struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = 0, .sll_ifindex = (int)ifindex};
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
    int e = errno;
    close(fd);
    snprintf(msg, sizeof msg, "cannot bind a packet socket to %s: %s", name, strerror(e));
    throw_errno(env, "EBIND", msg);
    return -1;
  }
  return fd;
}

static void pump_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  pump *p = data;
  if (p->thread_started) {
    atomic_store(&p->finishing, 1);
    atomic_fetch_add(p->bell, 1);
    futex(p->bell, FUTEX_WAKE, 1, NULL);
    pthread_join(p->thread, NULL);
  }
  if (p->fd >= 0) close(p->fd);
  xsk_close(p->xsk);
  if (p->memory_ref) napi_delete_reference(env, p->memory_ref);
  free(p);
}

/** start(memory: Uint8Array, iface: string, layout: {wireBase, wireBytes, headAt, cursorAt,
 *  sleepingAt, bellAt}) -> { handle, mtu }. */
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_errno(env, "EINVAL", "start(memory, iface, layout)");
  uint8_t *mem;
  size_t mem_len;
  if (!memory_of(env, argv[0], &mem, &mem_len)) return throw_errno(env, "EINVAL", "memory must be a Uint8Array");
  char name[IFNAMSIZ + 1];
  size_t name_len;
  if (napi_get_value_string_utf8(env, argv[1], name, sizeof name, &name_len) != napi_ok || name_len >= IFNAMSIZ) {
    return throw_errno(env, "EINVAL", "interface name must be a string of at most 15 bytes");
  }
  int ok = 1;
  uint32_t wire_base = get_u32(env, argv[2], "wireBase", &ok), wire_bytes = get_u32(env, argv[2], "wireBytes", &ok);
  uint32_t head_at = get_u32(env, argv[2], "headAt", &ok), cursor_at = get_u32(env, argv[2], "cursorAt", &ok);
  uint32_t sleeping_at = get_u32(env, argv[2], "sleepingAt", &ok), bell_at = get_u32(env, argv[2], "bellAt", &ok);
  uint32_t vnet_hdr = get_u32(env, argv[2], "vnetHdr", &ok);
  uint32_t use_xdp = get_u32(env, argv[2], "afXdp", &ok);
  // Everything the thread will touch must lie inside the memory: check once, here.
  if (!ok || wire_bytes == 0 || (wire_bytes & (wire_bytes - 1)) || (uint64_t)wire_base + wire_bytes > mem_len ||
      head_at + 4 > mem_len || cursor_at + 4 > mem_len || sleeping_at + 4 > mem_len || bell_at + 4 > mem_len ||
      ((head_at | cursor_at | sleeping_at | bell_at) & 3)) {
    return throw_errno(env, "EINVAL", "layout outside the memory");
  }
  int mtu = 0;
  int fd = open_socket(env, name, &mtu, vnet_hdr != 0);
  if (fd < 0) return NULL;
  pump *p = calloc(1, sizeof *p);
  if (!p) {
    close(fd);
    return throw_errno(env, "ENOMEM", "out of memory");
  }
  p->mem = mem;
  p->mem_len = mem_len;
  p->wire_base = wire_base;
  p->wire_bytes = wire_bytes;
  p->head = (_Atomic uint32_t *)(mem + head_at);
  p->cursor = (_Atomic uint32_t *)(mem + cursor_at);
  p->sleeping = (_Atomic uint32_t *)(mem + sleeping_at);
  p->bell = (_Atomic uint32_t *)(mem + bell_at);
  p->fd = fd;
  p->vnet_hdr = vnet_hdr != 0;
  if (use_xdp) {
    // AF_XDP: the packet socket above stays open only for the checks it made (and is unused).
    int e = 0;
    char why[400];
    p->xsk = xsk_open(mem, mem_len, if_nametoindex(name), &e, why, sizeof why);
    if (!p->xsk) {
      close(fd);
      free(p);
      return throw_errno(env, e == ENOMEM || e == ENOBUFS || e == EPERM ? "EMEMLOCK" : "EXDP", why);
    }
    uint32_t by_mtu = (uint32_t)mtu + 18;  // ETH_HLEN + one VLAN tag, as packet_snd allows
    p->max_frame = xsk_max_frame(p->xsk) < by_mtu ? xsk_max_frame(p->xsk) : by_mtu;
  }
  napi_value handle, out, v;
  if (napi_create_reference(env, argv[0], 1, &p->memory_ref) != napi_ok ||
      napi_create_external(env, p, pump_finalize, NULL, &handle) != napi_ok) {
    close(fd);
    free(p);
    return throw_errno(env, "ENOMEM", "cannot hold the memory");
  }
  int e = pthread_create(&p->thread, NULL, pump_main, p);
  if (e != 0) return throw_errno(env, "ETHREAD", strerror(e));
  p->thread_started = 1;
  pthread_setname_np(p->thread, "vnic-pump");  // so top -H, perf and /proc/PID/task name it
  CHECK(napi_create_object(env, &out));
  CHECK(napi_set_named_property(env, out, "handle", handle));
  CHECK(napi_create_int32(env, mtu, &v));
  CHECK(napi_set_named_property(env, out, "mtu", v));
  CHECK(napi_get_boolean(env, p->xsk && xsk_multibuffer(p->xsk), &v));
  CHECK(napi_set_named_property(env, out, "multiBuffer", v));
  return out;
}

static pump *pump_of(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return p;
}

static void set_u64(napi_env env, napi_value obj, const char *key, uint64_t value) {
  napi_value v;
  napi_create_double(env, (double)value, &v);  // counts stay far below 2^53
  napi_set_named_property(env, obj, key, v);
}

/** stats(handle) -> the pump's counters (readable while it runs). */
static napi_value stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out, v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  pump *p = argc ? pump_of(env, argv[0]) : NULL;
  if (!p) return throw_errno(env, "EINVAL", "stats(handle)");
  CHECK(napi_create_object(env, &out));
  set_u64(env, out, "sent", atomic_load(&p->st.sent));
  set_u64(env, out, "bytes", atomic_load(&p->st.bytes));
  set_u64(env, out, "oversize", atomic_load(&p->st.oversize));
  set_u64(env, out, "down", atomic_load(&p->st.down));
  set_u64(env, out, "gone", atomic_load(&p->st.gone));
  set_u64(env, out, "other", atomic_load(&p->st.other));
  set_u64(env, out, "otherErrno", (uint64_t)atomic_load(&p->st.last_other_errno));
  set_u64(env, out, "backpressure", atomic_load(&p->st.backpressure));
  set_u64(env, out, "syscalls", atomic_load(&p->st.syscalls));
  set_u64(env, out, "sleeps", atomic_load(&p->st.sleeps));
  CHECK(napi_create_int32(env, atomic_load(&p->nice), &v));
  CHECK(napi_set_named_property(env, out, "nice", v));
  set_u64(env, out, "ifaceGone", (uint64_t)atomic_load(&p->iface_gone));
  return out;
}

/** finish(handle): the producer is done; blocks until everything published is accounted for. */
static napi_value finish(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  pump *p = argc ? pump_of(env, argv[0]) : NULL;
  if (!p) return throw_errno(env, "EINVAL", "finish(handle)");
  if (p->thread_started) {
    atomic_store(&p->finishing, 1);
    atomic_fetch_add(p->bell, 1);
    futex(p->bell, FUTEX_WAKE, 1, NULL);
    pthread_join(p->thread, NULL);
    p->thread_started = 0;
  }
  if (p->fd >= 0) close(p->fd);
  p->fd = -1;
  xsk_close(p->xsk);
  p->xsk = NULL;
  return NULL;
}

/** kick(memory: Uint8Array, bellAt): FUTEX_WAKE on the bell (any thread, any isolate). */
static napi_value kick(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *mem;
  size_t len;
  uint32_t at = 0;
  if (argc < 2 || !memory_of(env, argv[0], &mem, &len) || napi_get_value_uint32(env, argv[1], &at) != napi_ok ||
      at + 4 > len || (at & 3)) {
    return throw_errno(env, "EINVAL", "kick(memory, bellAt)");
  }
  futex((_Atomic uint32_t *)(mem + at), FUTEX_WAKE, 1, NULL);
  return NULL;
}

/** features(iface) -> { "tx-tcp-segmentation": true, ... }: the interface's offload features,
 *  by the names `ethtool -k` prints (ETHTOOL_GSSET_INFO, ETHTOOL_GSTRINGS, ETHTOOL_GFEATURES). */
static napi_value features(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out, v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ + 1];
  size_t name_len;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &name_len) != napi_ok || name_len >= IFNAMSIZ) {
    return throw_errno(env, "EINVAL", "features(iface)");
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return throw_errno(env, "ESOCKET", strerror(errno));
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, IFNAMSIZ, "%.15s", name);
  struct { struct ethtool_sset_info hdr; uint32_t count; } sset = {.hdr = {.cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_FEATURES}};
  ifr.ifr_data = (void *)&sset;
  uint32_t n = ioctl(fd, SIOCETHTOOL, &ifr) == 0 && sset.hdr.sset_mask ? sset.count : 0;
  uint32_t blocks = (n + 31) / 32;
  struct ethtool_gstrings *strings = calloc(1, sizeof *strings + (size_t)n * ETH_GSTRING_LEN);
  struct ethtool_gfeatures *feats = calloc(1, sizeof *feats + blocks * sizeof(struct ethtool_get_features_block));
  int ok = n > 0 && strings && feats;
  if (ok) {
    strings->cmd = ETHTOOL_GSTRINGS;
    strings->string_set = ETH_SS_FEATURES;
    strings->len = n;
    ifr.ifr_data = (void *)strings;
    ok = ioctl(fd, SIOCETHTOOL, &ifr) == 0;
  }
  if (ok) {
    feats->cmd = ETHTOOL_GFEATURES;
    feats->size = blocks;
    ifr.ifr_data = (void *)feats;
    ok = ioctl(fd, SIOCETHTOOL, &ifr) == 0;
  }
  int e = errno;
  close(fd);
  if (!ok) {
    free(strings);
    free(feats);
    return throw_errno(env, "EETHTOOL", n == 0 ? "no feature list (ETHTOOL_GSSET_INFO)" : strerror(e));
  }
  napi_create_object(env, &out);
  for (uint32_t i = 0; i < n; i++) {
    char fname[ETH_GSTRING_LEN + 1];
    memcpy(fname, strings->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
    fname[ETH_GSTRING_LEN] = 0;
    if (!fname[0]) continue;
    napi_get_boolean(env, (feats->features[i / 32].active >> (i % 32)) & 1, &v);
    napi_set_named_property(env, out, fname, v);
  }
  free(strings);
  free(feats);
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"start", NULL, start, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, stats, NULL, NULL, NULL, napi_default, NULL},
      {"finish", NULL, finish, NULL, NULL, NULL, napi_default, NULL},
      {"kick", NULL, kick, NULL, NULL, NULL, napi_default, NULL},
      {"features", NULL, features, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
