#define _GNU_SOURCE
#include "csystem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

_Static_assert(CS_EPOLLIN == EPOLLIN, "EPOLLIN");
_Static_assert(CS_EPOLLOUT == EPOLLOUT, "EPOLLOUT");
_Static_assert(CS_EPOLLERR == EPOLLERR, "EPOLLERR");
_Static_assert(CS_EPOLLHUP == EPOLLHUP, "EPOLLHUP");
_Static_assert(CS_EPOLL_CTL_ADD == EPOLL_CTL_ADD, "EPOLL_CTL_ADD");
_Static_assert(CS_EPOLL_CTL_DEL == EPOLL_CTL_DEL, "EPOLL_CTL_DEL");
_Static_assert(CS_EPOLL_CTL_MOD == EPOLL_CTL_MOD, "EPOLL_CTL_MOD");

int cs_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int cs_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}

int cs_epoll_wait(int epfd, cs_epoll_event *out, int maxevents, int timeout_ms) {
    struct epoll_event evs[CS_EPOLL_MAX_BATCH];
    if (maxevents > CS_EPOLL_MAX_BATCH) maxevents = CS_EPOLL_MAX_BATCH;
    int n = epoll_wait(epfd, evs, maxevents, timeout_ms);
    for (int i = 0; i < n; i++) {
        out[i].events = evs[i].events;
        out[i].data = evs[i].data.u64;
    }
    return n;
}

int cs_eventfd_create(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int cs_eventfd_signal(int fd) {
    int rc;
    do { rc = eventfd_write(fd, 1); } while (rc < 0 && errno == EINTR);
    return rc;
}

int cs_eventfd_drain(int fd) {
    eventfd_t value;
    int rc;
    do { rc = eventfd_read(fd, &value); } while (rc < 0 && errno == EINTR);
    return rc;
}

int cs_socket_stream(int family) {
    return socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

int cs_accept(int fd, void *addr, uint32_t *addrlen) {
    socklen_t len = *addrlen;
    int rc = accept4(fd, (struct sockaddr *)addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    *addrlen = len;
    return rc;
}

int cs_bind(int fd, const void *addr, uint32_t addrlen) {
    return bind(fd, (const struct sockaddr *)addr, addrlen);
}

int cs_connect(int fd, const void *addr, uint32_t addrlen) {
    return connect(fd, (const struct sockaddr *)addr, addrlen);
}

ssize_t cs_send(int fd, const void *buf, size_t len) { return send(fd, buf, len, MSG_NOSIGNAL); }

ssize_t cs_sendv(int fd, const struct iovec *iov, int count) {
    if (count < 0 || count > CS_SENDV_MAX) { errno = EINVAL; return -1; }
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = (struct iovec *)iov;
    msg.msg_iovlen = (size_t)count;
    return sendmsg(fd, &msg, MSG_NOSIGNAL);
}

int cs_set_reuseaddr(int fd) {
    int on = 1;
    return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
}

int cs_set_v6only(int fd, int on) {
    return setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
}

int cs_set_tcp_options(int fd, int idle_seconds) {
    int on = 1;
    if (idle_seconds <= 0) return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    int idle = idle_seconds;
    int interval = idle_seconds / 3 > 0 ? idle_seconds / 3 : 1;
    int count = 3;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) < 0) return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) < 0) return -1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) < 0) return -1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval) < 0) return -1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count) < 0) return -1;
    return 0;
}

int cs_socket_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
    return err;
}

int cs_local_address(int fd, char *buf, size_t buflen) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return -1;
    return cs_format_address(&ss, buf, buflen);
}

int cs_local_port(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

int cs_parse_address(const char *host, int port, void *storage, uint32_t *len) {
    memset(storage, 0, sizeof(struct sockaddr_storage));
    if (port < 0 || port > 65535) { errno = EINVAL; return -1; }
    struct sockaddr_in *v4 = storage;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof *v4;
        return AF_INET;
    }
    struct sockaddr_in6 *v6 = storage;
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof *v6;
        return AF_INET6;
    }
    errno = EINVAL;
    return -1;
}

int cs_format_address(const void *storage, char *buf, size_t buflen) {
    const struct sockaddr *sa = storage;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = storage;
        if (!inet_ntop(AF_INET, &v4->sin_addr, buf, (socklen_t)buflen)) return -1;
        return ntohs(v4->sin_port);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = storage;
        if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
            if (!inet_ntop(AF_INET, &v6->sin6_addr.s6_addr[12], buf, (socklen_t)buflen)) return -1;
        } else if (!inet_ntop(AF_INET6, &v6->sin6_addr, buf, (socklen_t)buflen)) {
            return -1;
        }
        return ntohs(v6->sin6_port);
    }
    errno = EAFNOSUPPORT;
    return -1;
}

int cs_malloc_trim(void) { return malloc_trim(0); }

int cs_parse_unix_address(const char *path, void *storage, uint32_t *len) {
    memset(storage, 0, sizeof(struct sockaddr_storage));
    struct sockaddr_un *un = storage;
    size_t length = strlen(path);
    if (length == 0 || length >= sizeof un->sun_path) { errno = ENAMETOOLONG; return -1; }
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, length);
    *len = (uint32_t)sizeof *un;
    return AF_UNIX;
}

int cs_ignore_sigpipe(void) { return signal(SIGPIPE, SIG_IGN) == SIG_ERR ? -1 : 0; }
