/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control socket (ctlsock.h has the wire format).  The server follows
 * the privilege-separation monitors it learned from (OpenSSH's monitor,
 * chrony's privops): a closed table of request types, every length bounded
 * before anything is read into a handler, the caller's credentials checked
 * by the kernel's SO_PEERCRED rather than by anything the caller says, and
 * no way for a client to make the daemon wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "autosec/buf.h"
#include "autosec/ctlsock.h"
#include "autosec/err.h"

/* Kernel send buffer of a server-side client socket: the whole largest reply
 * (17 records of 64 KiB) with room for the per-record overhead, so that a
 * reply is queued at once and sending never waits for the client. */
#define CTL_SNDBUF (2 * 1024 * 1024)
#define CTL_MAX_FDS 4 /* room to see (and close) a few descriptors too many */

static const char *const status_text[] = {
	[AS_CTL_ST_OK] = "ok",
	[AS_CTL_ST_UNKNOWN_TYPE] = "unknown request type",
	[AS_CTL_ST_BAD_LENGTH] = "malformed request (length)",
	[AS_CTL_ST_TOO_LONG] = "request too long",
	[AS_CTL_ST_DENIED] = "permission denied",
	[AS_CTL_ST_BAD_FLAGS] = "unknown request flags",
	[AS_CTL_ST_NEED_FD] = "request needs a file descriptor",
	[AS_CTL_ST_BAD_ARG] = "invalid argument",
	[AS_CTL_ST_FAILED] = "request failed",
	[AS_CTL_ST_BUSY] = "too many clients",
};

const char *as_ctl_status_text(int status)
{
	if (status < 0 || (size_t)status >= sizeof(status_text) / sizeof(status_text[0]) ||
	    !status_text[status])
		return "unknown status";
	return status_text[status];
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fill_sun(struct sockaddr_un *sa, const char *path, struct as_diag *d)
{
	size_t n = path ? strlen(path) : 0;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (!n || n >= sizeof(sa->sun_path)) {
		char q[80];

		as_quote(q, sizeof(q), path ? path : "", n);
		return as_diag_set(d, AS_E_INVAL, "control socket path \"%s\" is %s", q,
				   n ? "too long" : "empty");
	}
	memcpy(sa->sun_path, path, n);
	return AS_OK;
}

/* ---- server */

static int mkdir_parents(const char *path, struct as_diag *d)
{
	char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t n = strlen(path);
	struct stat st;

	if (n >= sizeof(buf))
		return as_diag_set(d, AS_E_INVAL, "control socket path too long");
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i < n; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) == 0) {
			/* exactly 0755 whatever the umask: the group must reach the socket */
			(void)chmod(buf, 0755);
		} else if (errno != EEXIST) {
			int e = errno;

			as_diag_set(d, AS_E_IO, "cannot create %s: %s", buf, strerror(e));
			errno = e;
			return AS_E_IO;
		}
		if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
			as_diag_set(d, AS_E_IO, "%s is not a directory", buf);
			errno = ENOTDIR;
			return AS_E_IO;
		}
		buf[i] = '/';
	}
	return AS_OK;
}

/* A socket file left by a helper that died is replaced; one that still has
 * a listener means another helper runs, which we must not steal from. */
static int remove_stale(const struct sockaddr_un *sa, struct as_diag *d)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) != 0)
		return errno == ENOENT ? AS_OK
				       : as_diag_set(d, AS_E_IO, "cannot check %s: %s",
						     sa->sun_path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return as_diag_set(d, AS_E_IO, "%s exists and is not a socket; not replacing it",
				   sa->sun_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return as_diag_set(d, AS_E_IO, "socket: %s", strerror(errno));
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	if (rc == 0 || errno == EAGAIN) {
		close(fd);
		errno = EADDRINUSE;
		return as_diag_set(d, AS_E_IO,
				   "another autosec-helper is already listening at %s",
				   sa->sun_path);
	}
	close(fd);
	if (unlink(sa->sun_path) != 0 && errno != ENOENT)
		return as_diag_set(d, AS_E_IO, "cannot remove stale %s: %s", sa->sun_path,
				   strerror(errno));
	return AS_OK;
}

int as_ctl_listen(const char *path, int *fd_out, struct as_diag *d)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd = -1, rc, e;

	if (!fd_out)
		return AS_E_INVAL;
	*fd_out = -1;
	if ((rc = fill_sun(&sa, path, d)))
		return rc;
	if ((rc = mkdir_parents(path, d)) || (rc = remove_stale(&sa, d)))
		return rc;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return as_diag_set(d, AS_E_IO, "socket: %s", strerror(errno));
	/* Created 0660 from the start (the umask is process-wide, but this
	 * runs once, at start-up, before any thread). */
	old = umask(0117);
	rc = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	umask(old);
	if (rc != 0) {
		rc = as_diag_set(d, AS_E_IO, "cannot bind %s: %s", path, strerror(e));
		goto fail;
	}
	if (chmod(path, 0660) != 0) {
		e = errno;
		rc = as_diag_set(d, AS_E_IO, "cannot chmod %s: %s", path, strerror(e));
		goto fail_unlink;
	}
	if (listen(fd, AS_CTL_MAX_CLIENTS) != 0) {
		e = errno;
		rc = as_diag_set(d, AS_E_IO, "cannot listen on %s: %s", path, strerror(e));
		goto fail_unlink;
	}
	*fd_out = fd;
	return AS_OK;
fail_unlink:
	unlink(path);
fail:
	close(fd);
	errno = e;
	return rc;
}

int as_ctl_accept(int lfd, int *cfd, struct as_diag *d)
{
	int fd, sz = CTL_SNDBUF;

	*cfd = -1;
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		as_diag_set(d, AS_E_IO, "accept: %s", strerror(e));
		errno = e;
		return AS_E_IO;
	}
	/* FORCE passes net.core.wmem_max with CAP_NET_ADMIN, which the helper
	 * keeps; without it the plain option is the best we get, and a client
	 * whose reply does not fit is dropped rather than waited for. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	*cfd = fd;
	return AS_OK;
}

int as_ctl_peer_allowed(const struct ucred *cred)
{
	return cred->uid == 0 || cred->uid == geteuid() || cred->uid == getuid();
}

/*
 * Reply record: Status(1) Flags(1) Total Length(4) Chunk; see ctlsock.h.
 * Sent without waiting: a record that does not fit now is a failed reply.
 */
int as_ctl_send_reply(int fd, uint8_t status, const void *payload, size_t len)
{
	const uint8_t *p = payload;
	size_t off = 0;

	if (len > AS_CTL_REPLY_MAX || (len && !payload))
		return AS_E_INVAL;
	do {
		size_t chunk = len - off > AS_CTL_CHUNK_MAX ? AS_CTL_CHUNK_MAX : len - off;
		uint8_t hdr[AS_CTL_REPLY_HDR];
		struct as_wbuf w;
		struct iovec iov[2];
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = chunk ? 2 : 1 };
		ssize_t r;

		as_wbuf_init(&w, hdr, sizeof(hdr));
		as_wbuf_u8(&w, status);
		as_wbuf_u8(&w, off + chunk < len ? AS_CTL_MORE : 0);
		as_wbuf_u32(&w, (uint32_t)len);
		if (as_wbuf_error(&w))
			return AS_E_NOSPACE;
		iov[0].iov_base = hdr;
		iov[0].iov_len = sizeof(hdr);
		iov[1].iov_base = (void *)(p + off);
		iov[1].iov_len = chunk;
		do
			r = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		while (r < 0 && errno == EINTR);
		if (r != (ssize_t)(sizeof(hdr) + chunk))
			return AS_E_IO;
		off += chunk;
	} while (off < len);
	return AS_OK;
}

static int reply_text(int fd, uint8_t status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int reply_text(int fd, uint8_t status, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	return as_ctl_send_reply(fd, status, msg, (size_t)n);
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

int as_ctl_serve_one(int cfd, const struct as_ctl_cmd *table, size_t n, void *ctx)
{
	uint8_t buf[AS_CTL_REQ_HDR + AS_CTL_REQ_MAX];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
	} cm;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
			     .msg_controllen = sizeof(cm.b) };
	int fds[CTL_MAX_FDS] = { -1, -1, -1, -1 };
	size_t nfds = 0;
	struct as_ctl_req req = { .fd = -1 };
	const struct as_ctl_cmd *cmd = NULL;
	socklen_t cl = sizeof(req.cred);
	struct as_rbuf r;
	struct as_wbuf w;
	uint8_t *out = NULL;
	uint16_t plen;
	ssize_t got;
	int rc = AS_OK, hrc;
	uint8_t st;

	do
		got = recvmsg(cfd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? AS_OK : AS_E_IO;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k && nfds < CTL_MAX_FDS; i++)
			memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	if (got == 0) { /* end of file (an empty record is no request either) */
		rc = AS_E_IO;
		goto out;
	}
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &req.cred, &cl) != 0) {
		rc = AS_E_IO;
		goto out;
	}
	if (!as_ctl_peer_allowed(&req.cred)) {
		reply_text(cfd, AS_CTL_ST_DENIED, "uid %u may not use the control socket",
			   (unsigned)req.cred.uid);
		rc = AS_E_IO;
		goto out;
	}
	/* Request: Type(1) Flags(1) Length(2) Payload; see ctlsock.h. */
	as_rbuf_init(&r, buf, (size_t)got);
	if (as_rbuf_u8(&r, &req.type) || as_rbuf_u8(&r, &req.flags) || as_rbuf_u16(&r, &plen)) {
		rc = reply_text(cfd, AS_CTL_ST_BAD_LENGTH, "request of %zd octets has no header",
				got);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (table[i].type == req.type) {
			cmd = &table[i];
			break;
		}
	if (!cmd) {
		rc = reply_text(cfd, AS_CTL_ST_UNKNOWN_TYPE, "unknown request type %u", req.type);
		goto out;
	}
	if (mh.msg_flags & MSG_TRUNC || plen > cmd->max_payload || plen > AS_CTL_REQ_MAX) {
		rc = reply_text(cfd, AS_CTL_ST_TOO_LONG, "%s: payload over %zu octets", cmd->name,
				cmd->max_payload < AS_CTL_REQ_MAX ? cmd->max_payload
								  : (size_t)AS_CTL_REQ_MAX);
		goto out;
	}
	if (as_rbuf_left(&r) != plen) {
		rc = reply_text(cfd, AS_CTL_ST_BAD_LENGTH,
				"%s: length field says %u, the record has %zu", cmd->name, plen,
				as_rbuf_left(&r));
		goto out;
	}
	if (req.flags & ~cmd->flags_allowed) {
		rc = reply_text(cfd, AS_CTL_ST_BAD_FLAGS, "%s: unknown flags 0x%02x", cmd->name,
				req.flags & ~cmd->flags_allowed);
		goto out;
	}
	if (mh.msg_flags & MSG_CTRUNC || nfds > 1 || (cmd->needs_fd && nfds != 1)) {
		rc = reply_text(cfd, cmd->needs_fd ? AS_CTL_ST_NEED_FD : AS_CTL_ST_BAD_ARG,
				"%s: %s", cmd->name,
				cmd->needs_fd ? "needs exactly one file descriptor"
					      : "takes no file descriptor");
		goto out;
	}
	if (cmd->needs_fd) {
		req.fd = fds[0];
		fds[0] = -1;
	} else {
		close_fds(fds, nfds); /* never looked at */
	}
	as_rbuf_rest(&r, &req.payload, &req.len);
	out = malloc(AS_CTL_REPLY_MAX);
	if (!out) {
		rc = reply_text(cfd, AS_CTL_ST_FAILED, "%s: out of memory", cmd->name);
		goto out;
	}
	as_wbuf_init(&w, out, AS_CTL_REPLY_MAX);
	hrc = cmd->fn(ctx, &req, &w);
	if (as_wbuf_error(&w)) {
		rc = reply_text(cfd, AS_CTL_ST_FAILED, "%s: reply longer than %d octets",
				cmd->name, AS_CTL_REPLY_MAX);
		goto out;
	}
	st = hrc == AS_OK ? AS_CTL_ST_OK : hrc == AS_E_INVAL ? AS_CTL_ST_BAD_ARG
							      : AS_CTL_ST_FAILED;
	if (st != AS_CTL_ST_OK && !as_wbuf_len(&w))
		rc = reply_text(cfd, st, "%s: %s", cmd->name, as_strerror(hrc));
	else
		rc = as_ctl_send_reply(cfd, st, as_wbuf_data(&w), as_wbuf_len(&w));
out:
	free(out);
	if (req.fd >= 0)
		close(req.fd);
	close_fds(fds, nfds);
	return rc;
}

/* ---- a whole server for a poll loop */

int as_ctl_server_open(struct as_ctl_server *s, const char *path, const struct as_ctl_cmd *table,
		       size_t n, void *ctx, struct as_diag *d)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->lfd = -1;
	for (size_t i = 0; i < AS_CTL_MAX_CLIENTS; i++)
		s->cfd[i] = -1;
	if (!path || strlen(path) >= sizeof(s->path))
		return fill_sun(&(struct sockaddr_un){ 0 }, path, d);
	if ((rc = as_ctl_listen(path, &s->lfd, d)))
		return rc;
	memcpy(s->path, path, strlen(path) + 1);
	s->table = table;
	s->n = n;
	s->ctx = ctx;
	return AS_OK;
}

size_t as_ctl_server_pollfds(const struct as_ctl_server *s, struct pollfd *pfd, size_t cap)
{
	size_t k = 0;

	if (s->lfd >= 0 && k < cap)
		pfd[k++] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
	for (size_t i = 0; i < AS_CTL_MAX_CLIENTS && k < cap; i++)
		if (s->cfd[i] >= 0)
			pfd[k++] = (struct pollfd){ .fd = s->cfd[i], .events = POLLIN };
	return k;
}

static void drop_client(struct as_ctl_server *s, size_t i)
{
	close(s->cfd[i]);
	s->cfd[i] = -1;
}

static void accept_clients(struct as_ctl_server *s, int64_t now)
{
	/* Bounded: at most one backlog's worth per call. */
	for (int round = 0; round < AS_CTL_MAX_CLIENTS; round++) {
		struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
		socklen_t cl = sizeof(cred);
		size_t slot = AS_CTL_MAX_CLIENTS;
		int fd;

		if (as_ctl_accept(s->lfd, &fd, NULL) != AS_OK)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
		    !as_ctl_peer_allowed(&cred)) {
			reply_text(fd, AS_CTL_ST_DENIED, "uid %u may not use the control socket",
				   (unsigned)cred.uid);
			close(fd);
			continue;
		}
		for (size_t i = 0; i < AS_CTL_MAX_CLIENTS; i++)
			if (s->cfd[i] < 0) {
				slot = i;
				break;
			}
		if (slot == AS_CTL_MAX_CLIENTS) {
			reply_text(fd, AS_CTL_ST_BUSY, "too many clients (%d)", AS_CTL_MAX_CLIENTS);
			close(fd);
			continue;
		}
		s->cfd[slot] = fd;
		s->last[slot] = now;
	}
}

void as_ctl_server_run(struct as_ctl_server *s, const struct pollfd *pfd, size_t n)
{
	int64_t now = now_ms();

	for (size_t k = 0; k < n; k++) {
		if (!pfd[k].revents || pfd[k].fd < 0)
			continue;
		if (pfd[k].fd == s->lfd) {
			if (pfd[k].revents & POLLIN)
				accept_clients(s, now);
			continue;
		}
		for (size_t i = 0; i < AS_CTL_MAX_CLIENTS; i++) {
			if (s->cfd[i] != pfd[k].fd)
				continue;
			if (pfd[k].revents & POLLIN) {
				if (as_ctl_serve_one(s->cfd[i], s->table, s->n, s->ctx) != AS_OK)
					drop_client(s, i);
				else
					s->last[i] = now;
			} else if (pfd[k].revents & (POLLHUP | POLLERR | POLLNVAL)) {
				drop_client(s, i);
			}
			break;
		}
	}
	for (size_t i = 0; i < AS_CTL_MAX_CLIENTS; i++)
		if (s->cfd[i] >= 0 && now - s->last[i] > AS_CTL_IDLE_MS)
			drop_client(s, i);
}

void as_ctl_server_close(struct as_ctl_server *s)
{
	for (size_t i = 0; i < AS_CTL_MAX_CLIENTS; i++)
		if (s->cfd[i] >= 0)
			drop_client(s, i);
	if (s->lfd >= 0) {
		close(s->lfd);
		s->lfd = -1;
		if (s->path[0])
			unlink(s->path);
	}
	s->path[0] = '\0';
}

/* ---- client */

static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = ev };
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -1;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == 0 || errno != EINTR)
			return -1;
	}
}

int as_ctl_call(int fd, uint8_t type, uint8_t flags, const void *payload, size_t len,
		int pass_fd, int timeout_ms, uint8_t *status, char **reply, size_t *reply_len,
		struct as_diag *d)
{
	uint8_t req[AS_CTL_REQ_HDR + AS_CTL_REQ_MAX];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : AS_CTL_TIMEOUT_MS);
	uint8_t *rec = NULL;
	char *acc = NULL;
	size_t total = 0, have = 0;
	int first = 1, rc, send_err = 0, reset_seen = 0;
	uint8_t st0 = 0;
	struct as_wbuf w;
	ssize_t r;

	*reply = NULL;
	*reply_len = 0;
	if (len > AS_CTL_REQ_MAX || (len && !payload))
		return as_diag_set(d, AS_E_INVAL, "request payload of %zu octets (at most %d)",
				   len, AS_CTL_REQ_MAX);
	as_wbuf_init(&w, req, sizeof(req));
	as_wbuf_u8(&w, type);
	as_wbuf_u8(&w, flags);
	as_wbuf_u16(&w, (uint16_t)len);
	if (len)
		as_wbuf_put(&w, payload, len);
	if (as_wbuf_error(&w))
		return as_diag_set(d, AS_E_INVAL, "request does not fit");
	{
		struct iovec iov = { .iov_base = req, .iov_len = as_wbuf_len(&w) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (pass_fd >= 0) {
			struct cmsghdr *c;

			memset(&cm, 0, sizeof(cm));
			mh.msg_control = cm.b;
			mh.msg_controllen = sizeof(cm.b);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
		}
		for (;;) {
			r = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (r >= 0)
				break;
			if (errno == EINTR)
				continue;
			/* The server may have answered (BUSY, DENIED) and closed
			 * before reading: its reply is still there to read. */
			if (errno == EPIPE || errno == ECONNRESET) {
				send_err = errno;
				break;
			}
			if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
			    wait_fd(fd, POLLOUT, deadline))
				return as_diag_set(d, AS_E_IO, "cannot send the request: %s",
						   errno == EAGAIN ? "timed out" : strerror(errno));
		}
	}
	rec = malloc(AS_CTL_REPLY_HDR + AS_CTL_CHUNK_MAX);
	if (!rec)
		return as_diag_set(d, AS_E_NOMEM, "out of memory");
	/* Reply records: Status(1) Flags(1) Total Length(4) Chunk; see ctlsock.h. */
	for (;;) {
		struct iovec iov = { .iov_base = rec,
				     .iov_len = AS_CTL_REPLY_HDR + AS_CTL_CHUNK_MAX };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		const uint8_t *chunk;
		size_t clen;
		struct as_rbuf rb;
		uint8_t st, fl;
		uint32_t tot;

		r = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* A server that closed with our request unread (BUSY,
			 * DENIED) leaves ECONNRESET pending, which Linux reports
			 * once, before the reply still queued for us. */
			if (errno == ECONNRESET && !reset_seen) {
				reset_seen = 1;
				continue;
			}
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    !wait_fd(fd, POLLIN, deadline))
				continue;
			rc = as_diag_set(d, AS_E_IO, "no reply from autosec-helper: %s",
					 errno == EAGAIN ? "timed out" : strerror(errno));
			goto fail;
		}
		if (r == 0) {
			rc = send_err ? as_diag_set(d, AS_E_IO, "cannot send the request: %s",
						    strerror(send_err))
				      : as_diag_set(d, AS_E_IO,
						    "autosec-helper closed the connection");
			goto fail;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			rc = as_diag_set(d, AS_E_MSG_LENGTH, "reply record over %d octets",
					 AS_CTL_REPLY_HDR + AS_CTL_CHUNK_MAX);
			goto fail;
		}
		as_rbuf_init(&rb, rec, (size_t)r);
		if (as_rbuf_u8(&rb, &st) || as_rbuf_u8(&rb, &fl) || as_rbuf_u32(&rb, &tot)) {
			rc = as_diag_set(d, AS_E_TRUNCATED, "reply record of %zd octets", r);
			goto fail;
		}
		as_rbuf_rest(&rb, &chunk, &clen);
		if (first) {
			if (tot > AS_CTL_REPLY_MAX) {
				rc = as_diag_set(d, AS_E_MSG_LENGTH,
						 "reply of %u octets (at most %d)", tot,
						 AS_CTL_REPLY_MAX);
				goto fail;
			}
			acc = malloc((size_t)tot + 1);
			if (!acc) {
				rc = as_diag_set(d, AS_E_NOMEM, "out of memory");
				goto fail;
			}
			total = tot;
			st0 = st;
			first = 0;
		} else if (tot != total || st != st0) {
			rc = as_diag_set(d, AS_E_MSG_LENGTH, "reply records disagree");
			goto fail;
		}
		if (clen > total - have) {
			rc = as_diag_set(d, AS_E_MSG_LENGTH, "reply longer than announced (%zu)",
					 total);
			goto fail;
		}
		if (clen)
			memcpy(acc + have, chunk, clen);
		have += clen;
		if (!(fl & AS_CTL_MORE))
			break;
	}
	if (have != total) {
		rc = as_diag_set(d, AS_E_MSG_LENGTH, "reply of %zu octets announced %zu", have,
				 total);
		goto fail;
	}
	acc[have] = '\0';
	free(rec);
	*status = st0;
	*reply = acc;
	*reply_len = have;
	return AS_OK;
fail:
	free(rec);
	free(acc);
	return rc;
}

int as_ctl_request(const char *path, uint8_t type, uint8_t flags, const void *payload,
		   size_t len, uint8_t *status, char **reply, size_t *reply_len,
		   struct as_diag *d)
{
	struct timeval tv = { .tv_sec = AS_CTL_TIMEOUT_MS / 1000,
			      .tv_usec = (AS_CTL_TIMEOUT_MS % 1000) * 1000 };
	struct sockaddr_un sa;
	int fd, rc, e;

	*reply = NULL;
	*reply_len = 0;
	if ((rc = fill_sun(&sa, path, d)))
		return rc;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return as_diag_set(d, AS_E_IO, "socket: %s", strerror(errno));
	/* A full backlog makes connect() wait; SO_SNDTIMEO bounds that. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
		e = errno;
		close(fd);
		if (e == EAGAIN || e == EINPROGRESS)
			rc = as_diag_set(d, AS_E_IO, "autosec-helper at %s is busy: %s", path,
					 strerror(e));
		else if (e == EACCES || e == EPERM)
			rc = as_diag_set(d, AS_E_IO,
					 "cannot reach autosec-helper at %s: %s "
					 "(root and the socket's group only)", path, strerror(e));
		else
			rc = as_diag_set(d, AS_E_IO,
					 "cannot reach autosec-helper at %s: %s \xe2\x80\x94 "
					 "is it running?", path, strerror(e));
		errno = e;
		return rc;
	}
	rc = as_ctl_call(fd, type, flags, payload, len, -1, AS_CTL_TIMEOUT_MS, status, reply,
			 reply_len, d);
	close(fd);
	return rc;
}
