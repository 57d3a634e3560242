/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control socket between autosec-helper and its clients (autosec-ctl,
 * later the LD_PRELOAD shim): a SOCK_SEQPACKET Unix socket, by default
 * /run/autosec/control.sock, mode 0660.  One request per SEQPACKET record,
 * one reply per request.  All integers are big-endian.
 *
 * Request, exactly one record of 4 + Length octets:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------+---------------+-------------------------------+
 *  |     Type      |     Flags     |            Length             |
 *  +---------------+---------------+-------------------------------+
 *  ~                Payload (Length octets, <= the type's cap)     ~
 *  +---------------------------------------------------------------+
 *
 *  A record shorter than 4 octets, or whose size is not 4 + Length, is
 *  refused (AS_CTL_ST_BAD_LENGTH); Length over the type's cap is refused
 *  (AS_CTL_ST_TOO_LONG) before any handler runs; no record larger than
 *  4 + AS_CTL_REQ_MAX is ever read (the excess is cut off by the kernel and
 *  seen as MSG_TRUNC).  A type that passes a descriptor (needs_fd) carries
 *  exactly one in SCM_RIGHTS with the record; a descriptor that comes with
 *  any other type is closed unread.
 *
 * Reply, one or more records:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------+---------------+-------------------------------+
 *  |    Status     |  Flags  |M|   |      Total Length (4) ...     |
 *  +---------------+---------------+-------------------------------+
 *  |   ... Total Length            |  Chunk (the rest of the       ~
 *  +-------------------------------+  record, <= AS_CTL_CHUNK_MAX) ~
 *
 *  A reply payload (text, or JSON when asked for) of Total Length octets,
 *  at most AS_CTL_REPLY_MAX (1 MiB), is cut into chunks; each chunk is one
 *  record with the same 6-octet header (same Status, same Total Length).
 *  M (AS_CTL_MORE, 0x01) is set on every record but the last.  The client
 *  concatenates the chunks and checks that they add up to Total Length, the
 *  last has M clear and Status never changes.  Other Flags bits are zero.
 *
 * Server side: a closed table of struct as_ctl_cmd; a type not in it gets
 * AS_CTL_ST_UNKNOWN_TYPE.  The peer's credentials (SO_PEERCRED) are checked
 * on every request: uid 0, the helper's real or effective uid.  Sockets are
 * non-blocking and a reply is sent with MSG_DONTWAIT into a send buffer made
 * large enough for the largest reply, so a client that does not read can
 * never make the helper wait: it is disconnected instead.  At most
 * AS_CTL_MAX_CLIENTS connections at once; one idle for AS_CTL_IDLE_MS is
 * closed.
 *
 * struct ucred needs _GNU_SOURCE, which the build defines for every file.
 */
#ifndef AUTOSEC_CTLSOCK_H
#define AUTOSEC_CTLSOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct as_diag;
struct as_wbuf;
struct pollfd;

#define AS_CTL_DEFAULT_PATH "/run/autosec/control.sock"
#define AS_CTL_REQ_HDR 4
#define AS_CTL_REPLY_HDR 6
#define AS_CTL_REQ_MAX 4096            /* payload cap of any request type */
#define AS_CTL_REPLY_MAX (1024 * 1024)  /* reply payload */
#define AS_CTL_CHUNK_MAX (65536 - AS_CTL_REPLY_HDR) /* payload per reply record */
#define AS_CTL_MAX_CLIENTS 16
#define AS_CTL_IDLE_MS 10000
#define AS_CTL_TIMEOUT_MS 2000          /* client: whole request, connect to last chunk */
#define AS_CTL_MORE 0x01

/* Request types. */
enum as_ctl_type {
	AS_CTL_SHOW = 1,  /* flags: AS_CTL_SHOW_JSON; no payload; reply: the state */
	AS_CTL_PING = 2,  /* no flags, no payload; reply: a short text */
};
#define AS_CTL_SHOW_JSON 0x01

/* Reply status. */
enum as_ctl_status {
	AS_CTL_ST_OK = 0,
	AS_CTL_ST_UNKNOWN_TYPE = 1, /* no such request type */
	AS_CTL_ST_BAD_LENGTH = 2,   /* record shorter than its header or than Length says */
	AS_CTL_ST_TOO_LONG = 3,     /* payload over the type's cap */
	AS_CTL_ST_DENIED = 4,       /* the peer's uid is not allowed */
	AS_CTL_ST_BAD_FLAGS = 5,    /* a flag bit the type does not define */
	AS_CTL_ST_NEED_FD = 6,      /* a descriptor-passing type came without one */
	AS_CTL_ST_BAD_ARG = 7,      /* the handler refused its argument (AS_E_INVAL) */
	AS_CTL_ST_FAILED = 8,       /* the handler failed; the payload says why */
	AS_CTL_ST_BUSY = 9,         /* too many clients */
};
/* "ok", "unknown request type", ... */
const char *as_ctl_status_text(int status);

struct as_ctl_req {
	uint8_t type, flags;
	const uint8_t *payload;  /* len octets, valid during the handler only */
	size_t len;
	struct ucred cred;       /* the peer (SO_PEERCRED) */
	int fd;                  /* the passed descriptor for needs_fd types, else -1;
				  * closed after the handler returns (dup() to keep) */
};

/*
 * A handler writes its reply payload into reply (capacity AS_CTL_REPLY_MAX)
 * and returns AS_OK (status OK), AS_E_INVAL (BAD_ARG) or another code
 * (FAILED); with an error, what it wrote is the message sent.  A handler
 * still validates its own payload: the table only bounds its length.
 */
typedef int (*as_ctl_handler)(void *ctx, const struct as_ctl_req *req, struct as_wbuf *reply);

struct as_ctl_cmd {
	uint8_t type;
	const char *name;        /* for logs */
	size_t max_payload;      /* <= AS_CTL_REQ_MAX */
	uint8_t flags_allowed;   /* other flag bits: AS_CTL_ST_BAD_FLAGS */
	uint8_t needs_fd;        /* exactly one SCM_RIGHTS descriptor required */
	as_ctl_handler fn;
};

/*
 * Server: mkdir -p the parent (0755), replace a stale socket (one nobody
 * listens on; a live one is AS_E_IO "already listening"; a path that is not
 * a socket is refused), bind, chmod 0660, listen.  *fd is non-blocking.
 */
int as_ctl_listen(const char *path, int *fd, struct as_diag *d);
/* Accept one client: non-blocking, close-on-exec, send buffer sized for a
 * whole reply.  AS_E_IO with errno EAGAIN when nobody is waiting. */
int as_ctl_accept(int listen_fd, int *client_fd, struct as_diag *d);
/* Whether the peer's credentials may use the socket. */
int as_ctl_peer_allowed(const struct ucred *cred);
/*
 * Read one request from client_fd (non-blocking), check it against the
 * table, run the handler, send the reply.  AS_OK when a request was served
 * or refused with a status (or nothing was waiting); AS_E_IO when the peer
 * is gone, sent garbage beyond repair, or did not take its reply: the caller
 * closes client_fd then.
 */
int as_ctl_serve_one(int client_fd, const struct as_ctl_cmd *table, size_t n, void *ctx);
/* Send a reply with a status (what serve_one does; exposed for BUSY/DENIED). */
int as_ctl_send_reply(int fd, uint8_t status, const void *payload, size_t len);

/*
 * A whole server for a poll() loop: the listening socket and up to
 * AS_CTL_MAX_CLIENTS clients.  pollfds fills at most 1 + AS_CTL_MAX_CLIENTS
 * entries and returns how many; run handles what poll reported in them and
 * closes idle clients.  Neither ever blocks.
 */
struct as_ctl_server {
	int lfd;
	int cfd[AS_CTL_MAX_CLIENTS];
	int64_t last[AS_CTL_MAX_CLIENTS]; /* ms, CLOCK_MONOTONIC */
	const struct as_ctl_cmd *table;
	size_t n;
	void *ctx;
	char path[108];
};
int as_ctl_server_open(struct as_ctl_server *s, const char *path, const struct as_ctl_cmd *table,
		       size_t n, void *ctx, struct as_diag *d);
size_t as_ctl_server_pollfds(const struct as_ctl_server *s, struct pollfd *pfd, size_t cap);
void as_ctl_server_run(struct as_ctl_server *s, const struct pollfd *pfd, size_t n);
/* Close everything and remove the socket file. */
void as_ctl_server_close(struct as_ctl_server *s);

/*
 * Client: one request on a connected socket, and its reply, within
 * timeout_ms altogether.  pass_fd >= 0 is sent with SCM_RIGHTS.  *reply is
 * malloc'ed and NUL-terminated (*reply_len excludes the NUL); free() it.
 * AS_E_IO (timeout, hang-up), AS_E_TRUNCATED / AS_E_MSG_LENGTH for a
 * malformed reply, AS_E_INVAL for a request too long.
 */
int as_ctl_call(int fd, uint8_t type, uint8_t flags, const void *payload, size_t len,
		int pass_fd, int timeout_ms, uint8_t *status, char **reply, size_t *reply_len,
		struct as_diag *d);
/*
 * Connect to path and as_ctl_call with AS_CTL_TIMEOUT_MS.  When nobody
 * listens, AS_E_IO with "cannot reach autosec-helper at PATH: <errno text>
 * — is it running?".
 */
int as_ctl_request(const char *path, uint8_t type, uint8_t flags, const void *payload,
		   size_t len, uint8_t *status, char **reply, size_t *reply_len,
		   struct as_diag *d);

#endif
