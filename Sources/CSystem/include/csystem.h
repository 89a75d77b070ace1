#ifndef WARDEN_CSYSTEM_H
#define WARDEN_CSYSTEM_H

/*
 * A thin C shim over the Linux calls that Swift's Glibc module does not export
 * (epoll, eventfd, accept4) or that are awkward from Swift (socket options,
 * sockaddr casts, flag-typed enums). Every function returns -1 and leaves errno
 * set on failure unless documented otherwise. Callers retry EINTR themselves,
 * except where a function says it does so.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* epoll event bits and control operations (checked against <sys/epoll.h> in csystem.c). */
#define CS_EPOLLIN 0x001u
#define CS_EPOLLOUT 0x004u
#define CS_EPOLLERR 0x008u
#define CS_EPOLLHUP 0x010u
#define CS_EPOLL_CTL_ADD 1
#define CS_EPOLL_CTL_DEL 2
#define CS_EPOLL_CTL_MOD 3

/* The most events one cs_epoll_wait call returns. */
#define CS_EPOLL_MAX_BATCH 256

/* An unpacked `struct epoll_event` (the kernel's is packed on x86_64). */
typedef struct {
    uint32_t events;
    uint64_t data;
} cs_epoll_event;

/* epoll_create1(EPOLL_CLOEXEC). */
int cs_epoll_create(void);
/* epoll_ctl with the event mask and 64-bit user data; `events`/`data` are ignored for DEL. */
int cs_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
/* epoll_wait into `out` (at most min(maxevents, CS_EPOLL_MAX_BATCH) entries). */
int cs_epoll_wait(int epfd, cs_epoll_event *out, int maxevents, int timeout_ms);

/* eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC). */
int cs_eventfd_create(void);
/* Adds 1 to the eventfd counter (retries EINTR). */
int cs_eventfd_signal(int fd);
/* Resets the eventfd counter to zero (retries EINTR; EAGAIN when already zero). */
int cs_eventfd_drain(int fd);

/* socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0). */
int cs_socket_stream(int family);
/* accept4(..., SOCK_NONBLOCK | SOCK_CLOEXEC); `addr` has room for `*addrlen` bytes. */
int cs_accept(int fd, void *addr, uint32_t *addrlen);
/* bind / connect taking any sockaddr. */
int cs_bind(int fd, const void *addr, uint32_t addrlen);
int cs_connect(int fd, const void *addr, uint32_t addrlen);
/* send(..., MSG_NOSIGNAL). */
ssize_t cs_send(int fd, const void *buf, size_t len);
/* sendmsg of `count` buffers (at most CS_SENDV_MAX), with MSG_NOSIGNAL: writev without SIGPIPE. */
ssize_t cs_sendv(int fd, const struct iovec *iov, int count);
#define CS_SENDV_MAX 64

/* SO_REUSEADDR on. */
int cs_set_reuseaddr(int fd);
/* IPV6_V6ONLY on or off. */
int cs_set_v6only(int fd, int on);
/* TCP_NODELAY, SO_KEEPALIVE, and keepalive probes after `idle_seconds` of silence
 * (then every idle/3 seconds, 3 probes), like Redis's tcp-keepalive. With
 * `idle_seconds` 0 or less, TCP_NODELAY only (tcp-keepalive 0: no keepalive). */
int cs_set_tcp_options(int fd, int idle_seconds);
/* The pending socket error (SO_ERROR): 0, an errno value, or errno of getsockopt itself. */
int cs_socket_error(int fd);
/* The local port the socket is bound to, or -1. */
int cs_local_port(int fd);
/* The local address of a socket as text in buf (IPv4-mapped shown as IPv4); returns the port or -1. */
int cs_local_address(int fd, char *buf, size_t buflen);

/* Fills `storage` (a struct sockaddr_storage) from an IPv4 or IPv6 literal and port.
 * Returns the address family (AF_INET / AF_INET6), or -1 with errno EINVAL. */
int cs_parse_address(const char *host, int port, void *storage, uint32_t *len);
/* Writes the numeric host of a sockaddr into `buf` (IPv4-mapped IPv6 addresses as plain
 * IPv4) and returns its port, or -1. */
int cs_format_address(const void *storage, char *buf, size_t buflen);

/* malloc_trim(0): hands the allocator's free pages back to the kernel. Returns 1 if any were. */
int cs_malloc_trim(void);

/* Fills `storage` with a sockaddr_un for `path`. Returns AF_UNIX, or -1 with errno
 * ENAMETOOLONG when the path is empty or does not fit. */
int cs_parse_unix_address(const char *path, void *storage, uint32_t *len);

/* signal(SIGPIPE, SIG_IGN). */
int cs_ignore_sigpipe(void);

#endif
