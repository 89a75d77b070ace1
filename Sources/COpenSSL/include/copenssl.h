#ifndef WARDEN_COPENSSL_H
#define WARDEN_COPENSSL_H

/*
 * Warden's whole use of the system OpenSSL (libssl, libcrypto), behind a few plain C
 * functions so that Swift never sees OpenSSL's macros, varargs or struct layouts.
 * Contexts and sessions are opaque pointers. Nothing here blocks: sessions run on
 * non-blocking sockets and report what they wait for (CT_WANT_READ / CT_WANT_WRITE).
 *
 * Every function that can fail writes a one-line reason into `err` (at most
 * `errlen` bytes, NUL-terminated) and clears OpenSSL's per-thread error queue,
 * so one failure never leaks into the next call's report.
 */

#include <stddef.h>
#include <sys/types.h>

/* tls-protocols bits. */
#define CT_PROTO_TLSv1 (1 << 0)
#define CT_PROTO_TLSv1_1 (1 << 1)
#define CT_PROTO_TLSv1_2 (1 << 2)
#define CT_PROTO_TLSv1_3 (1 << 3)

/* Results of ct_handshake / ct_read / ct_write. */
#define CT_OK 0
#define CT_WANT_READ 1
#define CT_WANT_WRITE 2
/* The peer closed the TLS session (close_notify) or the socket (EOF). */
#define CT_CLOSED 3
/* A protocol or certificate failure; `err` says which. */
#define CT_ERROR 4
/* A system call failed; errno is set and `err` holds strerror. */
#define CT_SYSCALL 5

/* Peer-certificate policy of a server-side session (tls-auth-clients). */
#define CT_VERIFY_NONE 0
#define CT_VERIFY_OPTIONAL 1
#define CT_VERIFY_REQUIRED 2

typedef struct {
    const char *cert_file;      /* PEM chain; required */
    const char *key_file;       /* PEM private key; required */
    const char *key_pass;       /* NULL: the key is not encrypted */
    const char *ca_file;        /* NULL unless given */
    const char *ca_dir;         /* NULL unless given */
    const char *ciphers;        /* TLSv1.2 and below; NULL: OpenSSL's default */
    const char *ciphersuites;   /* TLSv1.3; NULL: OpenSSL's default */
    const char *dh_params_file; /* server only; NULL: automatic DH parameters */
    int protocols;              /* CT_PROTO_* bits; 0 is refused */
    int server;                 /* 1: the context also accepts (session cache, DH, server preference) */
    int prefer_server_ciphers;
    int session_caching;
    long session_cache_size;
    long session_cache_timeout; /* seconds */
} ct_options;

/* Initializes the library once (idempotent, thread-safe). Returns 0, or -1 with err. */
int ct_init(char *err, size_t errlen);

/* A new SSL_CTX built from `options`, or NULL with the reason in err. */
void *ct_context_new(const ct_options *options, char *err, size_t errlen);
/* Drops one reference; sessions made from it keep their own. */
void ct_context_free(void *context);

/* A client context for HTTPS (webhooks): no certificate of its own; trusts the system's
 * CA store (OpenSSL's default locations, which the SSL_CERT_FILE and SSL_CERT_DIR
 * environment variables override) plus ca_file / ca_dir when given; TLSv1.2 and later;
 * the server's chain must verify. NULL with err on failure. */
void *ct_client_context_new(const char *ca_file, const char *ca_dir, char *err, size_t errlen);

/* For a client session before its handshake: the name the server must prove. A DNS name
 * is sent as SNI and checked against the certificate's names (no partial wildcards); an
 * IP literal (`is_ip`) is not sent (SNI carries names only) and must be one of the
 * certificate's IP addresses. Returns 0, or -1 with err. */
int ct_session_set_peer_name(void *session, const char *host, int is_ip, char *err, size_t errlen);

/* A session on connected socket `fd`: server side (accepting) with the given
 * CT_VERIFY_* policy, or client side (verify_mode ignored: the context verifies the
 * server's chain against its CA). NULL with err on failure. */
void *ct_session_new(void *context, int fd, int server, int verify_mode, char *err, size_t errlen);
void ct_session_free(void *session);

/* One step of the handshake: CT_OK once done, CT_WANT_READ / CT_WANT_WRITE to be
 * called again when the socket is ready, CT_ERROR / CT_SYSCALL / CT_CLOSED on failure. */
int ct_handshake(void *session, char *err, size_t errlen);

/* Reads decrypted bytes. Returns the count (> 0) with *status CT_OK, or 0 with *status
 * one of CT_WANT_READ, CT_WANT_WRITE, CT_CLOSED, CT_ERROR, CT_SYSCALL. */
size_t ct_read(void *session, void *buf, size_t len, int *status, char *err, size_t errlen);

/* Writes up to `len` bytes (partial writes allowed). Returns the count (> 0) with
 * *status CT_OK, or 0 with *status as for ct_read. After CT_WANT_READ/CT_WANT_WRITE
 * the next call must offer the same bytes again (possibly more after them, possibly
 * at another address). */
size_t ct_write(void *session, const void *buf, size_t len, int *status, char *err, size_t errlen);

/* True when the session holds bytes read from the socket and not yet returned. */
int ct_has_pending(void *session);

/* Sends close_notify if the session is established; never waits for the answer. */
void ct_shutdown(void *session);

#endif
