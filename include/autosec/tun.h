/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The helper's TUN device: the kernel hands it every packet that policy
 * routing steers there (see route.h) and takes back every decrypted inner
 * packet the helper writes.
 *
 * The descriptor is opened with IFF_TUN | IFF_NO_PI, so one read() returns
 * exactly one IP packet (IPv4 or IPv6: look at the version nibble) and one
 * write() injects exactly one; there is no packet-information prefix.  It is
 * O_NONBLOCK (read/write fail with EAGAIN instead of waiting: poll first)
 * and O_CLOEXEC.  A read buffer of the device MTU is enough; a shorter buffer
 * truncates the packet silently, so use at least the MTU.
 *
 * The device is not persistent: it disappears, with every route through it,
 * when the last descriptor is closed (also when the helper crashes).  The
 * policy rules of route.h survive that; as_route_setup removes them.
 */
#ifndef AUTOSEC_TUN_H
#define AUTOSEC_TUN_H

#include "autosec/err.h"

/* Smallest MTU as_tun_open accepts: IPv6 needs 1280 (RFC 8200 section 5). */
#define AS_TUN_MIN_MTU 1280u
#define AS_TUN_MAX_MTU 65535u

/*
 * Create (or take over) the TUN device called name, set its MTU, quieten
 * IPv6 on it (addr_gen_mode none, accept_ra 0: no link-local address, no
 * router solicitation, no DAD probe ever appears on the descriptor; IPv6
 * itself stays enabled on the device so IPv6 routes through it work), and
 * bring it up.
 *
 * name: 1..15 bytes, a valid interface name; the kernel's "%d" template
 * (e.g. "autosec%d") is allowed and ifname_out then holds the real name.
 * mtu: AS_TUN_MIN_MTU..AS_TUN_MAX_MTU, or 0 to keep the kernel's default.
 *
 * Left-overs: a persistent TUN of that name (made by `ip tuntap add`, or
 * by a tool that crashed) is taken over and recreated as a fresh, non-
 * persistent device; a persistent TAP (or a TUN with other incompatible
 * features) of that name is deleted and recreated.  A device of that name
 * that some other process still has open is left alone (AS_E_IO, "in use"),
 * as is a device of another kind (veth, bridge, ...): we never delete an
 * interface that is not a TUN/TAP.
 *
 * On success *fd is the descriptor and ifname_out the NUL-terminated device
 * name.  Errors: AS_E_INVAL (bad name, MTU or NULL argument), AS_E_IO (the
 * kernel refused; d names the step and strerror).  On error nothing is left
 * open.
 */
int as_tun_open(const char *name, unsigned mtu, int *fd, char ifname_out[16], struct as_diag *d);

/* Close the descriptor (the device goes away with it); fd < 0 is a no-op. */
void as_tun_close(int fd);

#endif
