#ifndef INSTAVERSE_CLIBUV_SHIM_H
#define INSTAVERSE_CLIBUV_SHIM_H
#include <uv.h>
#include <errno.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <malloc.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* Names the calling thread (at most 15 bytes are kept); shows in top -H and debuggers. */
static inline int instaverse_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, name, 0, 0, 0);
}

/* Sets an int socket option on the socket of an initialised libuv handle.
   Returns 0 or a negative libuv error code (never errno). */
static inline int instaverse_uv_setsockopt_int(uv_handle_t *handle, int level, int name, int value) {
    uv_os_fd_t fd;
    int rc = uv_fileno(handle, &fd);
    if (rc != 0) return rc;
    if (setsockopt(fd, level, name, &value, sizeof value) != 0) return uv_translate_sys_error(errno);
    return 0;
}

/* SO_REUSEPORT: several listening sockets share one port; the kernel spreads accepts. */
static inline int instaverse_uv_set_reuseport(uv_handle_t *handle) {
    return instaverse_uv_setsockopt_int(handle, SOL_SOCKET, SO_REUSEPORT, 1);
}

/* IP_BIND_ADDRESS_NO_PORT: a bind to a source IP before connect picks the port at connect
   time, so each (source, destination) pair gets its own 28k ephemeral ports. */
static inline int instaverse_uv_set_bind_address_no_port(uv_handle_t *handle) {
    return instaverse_uv_setsockopt_int(handle, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
}

/* Raises the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force,
   or -1 when it cannot be read. */
static inline long instaverse_raise_nofile_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = rl;
        want.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
    }
    return rl.rlim_cur == RLIM_INFINITY ? (long)0x7fffffff : (long)rl.rlim_cur;
}
#endif
