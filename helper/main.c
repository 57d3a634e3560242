/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * autosec-helper: the privileged daemon.  Reads its configuration (file,
 * then command line), sets up the TUN, policy routing and sockets, then runs
 * one poll() loop over the TUN, the outer sockets, DNS, the control socket
 * and a signalfd.  Everything it installed is removed on SIGTERM/SIGINT, and
 * a start after a crash removes what the crashed run left (route.c).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "autosec/buf.h"
#include "autosec/conf.h"
#include "autosec/ctlsock.h"
#include "autosec/err.h"
#include "autosec/log.h"
#include "engine.h"

#define MAX_POLL (8 + 1 + AS_CTL_MAX_CLIENTS + 32)

static struct engine eng;
static struct as_conf conf;

static int ctl_show(void *ctx, const struct as_ctl_req *req, struct as_wbuf *reply)
{
	return eng_show(ctx, req->flags & AS_CTL_SHOW_JSON, reply);
}

static int ctl_ping(void *ctx, const struct as_ctl_req *req, struct as_wbuf *reply)
{
	static const char pong[] = "autosec-helper " PACKAGE_VERSION " is running\n";

	(void)ctx;
	(void)req;
	return as_wbuf_put(reply, pong, sizeof(pong) - 1);
}

/* The closed table of what the control socket accepts. */
static const struct as_ctl_cmd ctl_table[] = {
	{ AS_CTL_SHOW, "show", 0, AS_CTL_SHOW_JSON, 0, ctl_show },
	{ AS_CTL_PING, "ping", 0, 0, 0, ctl_ping },
};

/*
 * After start-up the helper needs only CAP_NET_ADMIN (routes, rules, the
 * TUN at exit) and CAP_NET_RAW (raw sockets are open already, but a peer
 * route added later needs NET_ADMIN): drop every other capability from the
 * effective, permitted and bounding sets, and allow no regaining by exec.
 */
static int drop_privileges(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	uint32_t keep = 1u << CAP_NET_ADMIN | 1u << CAP_NET_RAW;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	for (int cap = 0; cap <= 63; cap++) {
		if (cap == CAP_NET_ADMIN || cap == CAP_NET_RAW)
			continue;
		/* EINVAL past the kernel's last capability */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -1;
	}
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &h, data) < 0)
		return -1;
	data[0].effective &= keep;
	data[0].permitted &= keep;
	data[0].inheritable = 0;
	data[1].effective = data[1].permitted = data[1].inheritable = 0;
	return syscall(SYS_capset, &h, data) < 0 ? -1 : 0;
}

static void usage(FILE *f)
{
	size_t n;
	const struct as_conf_key *k = as_conf_keys(&n);

	fprintf(f, "usage: autosec-helper [-c FILE] [--OPTION VALUE]...\n"
		   "\n"
		   "The AutoSEC daemon: encrypts the first packet to any peer that publishes an\n"
		   "AutoSEC key in DNS, then carries the flow as ESP.  Runs in the foreground.\n"
		   "\n"
		   "  -c, --config FILE   configuration file (default " AS_CONF_PATH ";\n"
		   "                      /dev/null for none); options below override it\n"
		   "  -t, --check         check the configuration, then exit\n"
		   "  -h, --help          this text\n"
		   "  -V, --version       the version\n"
		   "\n"
		   "Every configuration key is also an option (see autosec.conf(5)):\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  --%s %-*s %s\n", k[i].name, (int)(17 - strlen(k[i].name)), k[i].arg,
			k[i].help);
}

/* getopt_long table: the fixed options and one per configuration key. */
static struct option *build_options(void)
{
	static const struct option fixed[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
	};
	size_t n, nf = sizeof(fixed) / sizeof(fixed[0]);
	const struct as_conf_key *k = as_conf_keys(&n);
	struct option *o = calloc(nf + n + 1, sizeof(*o));

	if (!o)
		return NULL;
	memcpy(o, fixed, sizeof(fixed));
	for (size_t i = 0; i < n; i++) {
		o[nf + i].name = k[i].name;
		o[nf + i].has_arg = required_argument;
		o[nf + i].val = 1000 + (int)i;
	}
	return o;
}

static int configure(int argc, char **argv, int *check_only)
{
	const char *path = AS_CONF_PATH;
	const struct as_conf_key *k;
	struct as_diag d = { 0 };
	struct option *opts = build_options();
	size_t nk;
	int c, rc, setuid_mode = getuid() != geteuid();

	k = as_conf_keys(&nk);
	if (!opts)
		return 2;
	/* first pass: the file */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:thV", opts, NULL)) != -1) {
		if (c == 'c')
			path = optarg;
	}
	/* setuid: only root's own file, never one the caller names (a symlink
	 * to a secret would have its lines quoted back in error messages) */
	if (setuid_mode && strcmp(path, AS_CONF_PATH)) {
		fprintf(stderr, "autosec-helper: installed setuid, it reads only %s\n", AS_CONF_PATH);
		free(opts);
		return 2;
	}
	as_conf_default(&conf);
	if (strcmp(path, "/dev/null")) {
		rc = as_conf_load(&conf, path, setuid_mode, &d);
		/* the default file is optional; one named with -c is not */
		if (rc && !(rc == AS_E_IO && !strcmp(path, AS_CONF_PATH) && errno == ENOENT)) {
			fprintf(stderr, "autosec-helper: %s\n", as_diag_msg(&d, rc));
			free(opts);
			return 1;
		}
	}
	/* second pass: the command line overrides */
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "c:thV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			break;
		case 't':
			*check_only = 1;
			break;
		case 'h':
			usage(stdout);
			free(opts);
			exit(0);
		case 'V':
			printf("autosec-helper %s\n", PACKAGE_VERSION);
			free(opts);
			exit(0);
		default:
			if (c >= 1000 && (size_t)(c - 1000) < nk) {
				if (setuid_mode) {
					fprintf(stderr, "autosec-helper: installed setuid, it takes no "
							"options but -c (got --%s)\n", k[c - 1000].name);
					free(opts);
					return 2;
				}
				rc = as_conf_set(&conf, k[c - 1000].name, optarg, "command line", &d);
				if (rc) {
					fprintf(stderr, "autosec-helper: %s\n", as_diag_msg(&d, rc));
					free(opts);
					return 2;
				}
				break;
			}
			usage(stderr);
			free(opts);
			return 2;
		}
	}
	free(opts);
	if (optind != argc) {
		fprintf(stderr, "autosec-helper: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	rc = as_conf_finish(&conf, &d);
	if (rc) {
		fprintf(stderr, "autosec-helper: %s\n", as_diag_msg(&d, rc));
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct as_ctl_server ctl;
	struct as_diag d = { 0 };
	struct pollfd pfd[MAX_POLL];
	char err[512];
	sigset_t sigs;
	int sfd, rc, check_only = 0, running = 1, ret = 1;

	/* when installed setuid: nothing from the caller's environment */
	if (getuid() != geteuid() && clearenv() != 0)
		return 1;
	rc = configure(argc, argv, &check_only);
	if (rc)
		return rc;
	as_log_open("autosec-helper", conf.log_syslog, conf.log_level);
	if (check_only) {
		printf("configuration OK\n");
		return 0;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		as_err("signalfd: %s", strerror(errno));
		return 1;
	}
	if (eng_init(&eng, &conf, err, sizeof(err))) {
		as_err("cannot start: %s", err);
		goto out;
	}
	rc = as_ctl_server_open(&ctl, conf.control, ctl_table, sizeof(ctl_table) / sizeof(ctl_table[0]),
				&eng, &d);
	if (rc) {
		as_err("control socket %s: %s", conf.control, as_diag_msg(&d, rc));
		goto out;
	}
	if (drop_privileges() < 0) {
		as_err("cannot drop capabilities: %s", strerror(errno));
		goto out_ctl;
	}
	as_info("capabilities reduced to CAP_NET_ADMIN and CAP_NET_RAW");
	while (running) {
		int n = 0, timeout, dns_first, dns_n, ctl_first;
		size_t ctl_n;

		pfd[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = eng.tun_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = eng.udp4, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = eng.raw6_msg, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = eng.raw6_esp, .events = POLLIN };
		ctl_first = n;
		ctl_n = as_ctl_server_pollfds(&ctl, pfd + n, (size_t)(MAX_POLL - n));
		n += (int)ctl_n;
		dns_first = n;
		dns_n = as_dns_pollfds(eng.dns, pfd + n, MAX_POLL - n);
		n += dns_n;
		timeout = eng_tick(&eng);
		rc = as_dns_timeout_ms(eng.dns);
		if (rc >= 0 && rc < timeout)
			timeout = rc;
		rc = poll(pfd, (nfds_t)n, timeout);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			as_err("poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP)
					continue; /* keys and config are read at start only */
				as_notice("signal %u: shutting down", si.ssi_signo);
				running = 0;
			}
		}
		if (pfd[1].revents & POLLIN)
			eng_tun_input(&eng);
		for (int i = 2; i <= 4; i++)
			if (pfd[i].revents & POLLIN)
				net_input(&eng, pfd[i].fd);
		as_ctl_server_run(&ctl, pfd + ctl_first, ctl_n);
		as_dns_process(eng.dns, pfd + dns_first, dns_n);
	}
	ret = 0;
out_ctl:
	as_ctl_server_close(&ctl);
out:
	eng_fini(&eng);
	close(sfd);
	as_notice("stopped; routes, rules and the TUN removed");
	return ret;
}
