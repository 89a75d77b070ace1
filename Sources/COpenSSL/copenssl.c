#include "copenssl.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#if OPENSSL_VERSION_NUMBER < 0x10101000L
#error "Warden needs OpenSSL 1.1.1 or later"
#endif

/* Copies `text` into err, truncated and NUL-terminated. */
static void put_text(char *err, size_t errlen, const char *text) {
    if (!err || errlen == 0) return;
    snprintf(err, errlen, "%s", text);
}

/* "<what>: <first queued OpenSSL error>", then empties the queue. */
static void put_openssl_error(char *err, size_t errlen, const char *what) {
    unsigned long code = ERR_get_error();
    char reason[256];
    if (code != 0) {
        ERR_error_string_n(code, reason, sizeof reason);
    } else {
        snprintf(reason, sizeof reason, "unknown error");
    }
    ERR_clear_error();
    if (!err || errlen == 0) return;
    if (what && *what) {
        snprintf(err, errlen, "%s: %s", what, reason);
    } else {
        snprintf(err, errlen, "%s", reason);
    }
}

int ct_init(char *err, size_t errlen) {
    if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1) {
        put_openssl_error(err, errlen, "OpenSSL initialization failed");
        return -1;
    }
    return 0;
}

/* Hands the key password (the userdata) to OpenSSL; fails when there is none, so that
 * OpenSSL never falls back to prompting on the terminal. */
static int password_callback(char *buf, int size, int rwflag, void *userdata) {
    (void)rwflag;
    const char *pass = userdata;
    if (!pass || size <= 0) return -1;
    size_t len = strlen(pass);
    if (len > (size_t)size) return -1;
    memcpy(buf, pass, len);
    return (int)len;
}

static int load_dh_params(SSL_CTX *ctx, const char *path, char *err, size_t errlen) {
    BIO *bio = BIO_new_file(path, "r");
    if (!bio) {
        char what[512];
        snprintf(what, sizeof what, "Failed to load %s: %s", path, strerror(errno));
        ERR_clear_error();
        put_text(err, errlen, what);
        return -1;
    }
    char what[512];
    snprintf(what, sizeof what, "%s: failed to read DH params", path);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_PKEY *params = PEM_read_bio_Parameters(bio, NULL);
    BIO_free(bio);
    if (!params || !EVP_PKEY_is_a(params, "DH")) {
        EVP_PKEY_free(params);
        put_openssl_error(err, errlen, what);
        return -1;
    }
    if (SSL_CTX_set0_tmp_dh_pkey(ctx, params) != 1) {
        EVP_PKEY_free(params);
        put_openssl_error(err, errlen, what);
        return -1;
    }
#else
    DH *dh = PEM_read_bio_DHparams(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!dh) {
        put_openssl_error(err, errlen, what);
        return -1;
    }
    int ok = SSL_CTX_set_tmp_dh(ctx, dh) == 1;
    DH_free(dh);
    if (!ok) {
        put_openssl_error(err, errlen, what);
        return -1;
    }
#endif
    return 0;
}

void *ct_context_new(const ct_options *o, char *err, size_t errlen) {
    char what[1200];
    ERR_clear_error();
    if ((o->protocols & (CT_PROTO_TLSv1 | CT_PROTO_TLSv1_1 | CT_PROTO_TLSv1_2 | CT_PROTO_TLSv1_3)) == 0) {
        put_text(err, errlen, "no TLS protocol version enabled");
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (!ctx) {
        put_openssl_error(err, errlen, "SSL_CTX_new");
        return NULL;
    }
    uint64_t options = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION;
#ifdef SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS
    options |= SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS;
#endif
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    /* A peer that closes the socket without close_notify is an ordinary close. */
    options |= SSL_OP_IGNORE_UNEXPECTED_EOF;
#endif
    if (!(o->protocols & CT_PROTO_TLSv1)) options |= SSL_OP_NO_TLSv1;
    if (!(o->protocols & CT_PROTO_TLSv1_1)) options |= SSL_OP_NO_TLSv1_1;
    if (!(o->protocols & CT_PROTO_TLSv1_2)) options |= SSL_OP_NO_TLSv1_2;
    if (!(o->protocols & CT_PROTO_TLSv1_3)) options |= SSL_OP_NO_TLSv1_3;
    if (o->server && o->prefer_server_ciphers) options |= SSL_OP_CIPHER_SERVER_PREFERENCE;
    if (o->server) options |= SSL_OP_SINGLE_DH_USE;
    SSL_CTX_set_options(ctx, options);
    /* Partial writes and a buffer that may move between retries: the connection's
     * output queue grows and compacts while a write waits for the socket. Idle
     * sessions give their record buffers back. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);

    SSL_CTX_set_default_passwd_cb(ctx, password_callback);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)o->key_pass);
    if (!o->cert_file || SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
        snprintf(what, sizeof what, "Failed to load certificate: %s", o->cert_file ? o->cert_file : "(none)");
        put_openssl_error(err, errlen, what);
        goto fail;
    }
    if (!o->key_file || SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(what, sizeof what, "Failed to load private key: %s", o->key_file ? o->key_file : "(none)");
        put_openssl_error(err, errlen, what);
        goto fail;
    }
    /* The password is only needed while loading; do not keep a pointer to it. */
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);

    if ((o->ca_file || o->ca_dir) && SSL_CTX_load_verify_locations(ctx, o->ca_file, o->ca_dir) != 1) {
        put_openssl_error(err, errlen, "Failed to configure CA certificate(s) file/directory");
        goto fail;
    }
    if (o->ciphers && SSL_CTX_set_cipher_list(ctx, o->ciphers) != 1) {
        snprintf(what, sizeof what, "Failed to configure ciphers: %s", o->ciphers);
        put_openssl_error(err, errlen, what);
        goto fail;
    }
    if (o->ciphersuites && SSL_CTX_set_ciphersuites(ctx, o->ciphersuites) != 1) {
        snprintf(what, sizeof what, "Failed to configure ciphersuites: %s", o->ciphersuites);
        put_openssl_error(err, errlen, what);
        goto fail;
    }

    if (o->server) {
        static const unsigned char session_id_context[] = "warden";
        SSL_CTX_set_session_id_context(ctx, session_id_context, sizeof session_id_context - 1);
        if (o->session_caching) {
            SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
            SSL_CTX_sess_set_cache_size(ctx, o->session_cache_size);
            SSL_CTX_set_timeout(ctx, o->session_cache_timeout);
        } else {
            SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        }
        if (o->dh_params_file) {
            if (load_dh_params(ctx, o->dh_params_file, err, errlen) != 0) goto fail;
        } else {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
            SSL_CTX_set_dh_auto(ctx, 1);
#endif
        }
    }
    ERR_clear_error();
    return ctx;

fail:
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return NULL;
}

void ct_context_free(void *context) { SSL_CTX_free(context); }

void *ct_client_context_new(const char *ca_file, const char *ca_dir, char *err, size_t errlen) {
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        put_openssl_error(err, errlen, "SSL_CTX_new");
        return NULL;
    }
    uint64_t options = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
                       SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION;
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    options |= SSL_OP_IGNORE_UNEXPECTED_EOF;
#endif
    SSL_CTX_set_options(ctx, options);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        put_openssl_error(err, errlen, "Failed to load the system's CA certificates");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if ((ca_file || ca_dir) && SSL_CTX_load_verify_locations(ctx, ca_file, ca_dir) != 1) {
        put_openssl_error(err, errlen, "Failed to configure CA certificate(s) file/directory");
        SSL_CTX_free(ctx);
        return NULL;
    }
    ERR_clear_error();
    return ctx;
}

int ct_session_set_peer_name(void *session, const char *host, int is_ip, char *err, size_t errlen) {
    SSL *ssl = session;
    ERR_clear_error();
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    if (is_ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1) {
            put_openssl_error(err, errlen, "Invalid IP address for certificate verification");
            return -1;
        }
        return 0;
    }
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (X509_VERIFY_PARAM_set1_host(param, host, 0) != 1) {
        put_openssl_error(err, errlen, "Invalid host name for certificate verification");
        return -1;
    }
    if (SSL_set_tlsext_host_name(ssl, host) != 1) {
        put_openssl_error(err, errlen, "Failed to set the server name (SNI)");
        return -1;
    }
    return 0;
}

void *ct_session_new(void *context, int fd, int server, int verify_mode, char *err, size_t errlen) {
    ERR_clear_error();
    SSL *ssl = SSL_new(context);
    if (!ssl) {
        put_openssl_error(err, errlen, "SSL_new");
        return NULL;
    }
    if (SSL_set_fd(ssl, fd) != 1) {
        put_openssl_error(err, errlen, "SSL_set_fd");
        SSL_free(ssl);
        return NULL;
    }
    if (server) {
        switch (verify_mode) {
        case CT_VERIFY_NONE:
            SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
            break;
        case CT_VERIFY_OPTIONAL:
            SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
            break;
        default:
            SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
            break;
        }
        SSL_set_accept_state(ssl);
    } else {
        SSL_set_connect_state(ssl);
    }
    return ssl;
}

void ct_session_free(void *session) { SSL_free(session); }

/* Maps the outcome of a failed SSL call to CT_*, filling err for real failures. */
static int classify(SSL *ssl, int ret, char *err, size_t errlen) {
    int saved_errno = errno;
    int code = SSL_get_error(ssl, ret);
    switch (code) {
    case SSL_ERROR_WANT_READ:
        return CT_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return CT_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        ERR_clear_error();
        return CT_CLOSED;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() != 0) {
            put_openssl_error(err, errlen, "");
            return CT_ERROR;
        }
        if (saved_errno == 0) {
            /* EOF in the middle of the protocol, with no close_notify. */
            put_text(err, errlen, "connection closed by the peer");
            return CT_CLOSED;
        }
        put_text(err, errlen, strerror(saved_errno));
        errno = saved_errno;
        return CT_SYSCALL;
    default: {
        long verify = SSL_get_verify_result(ssl);
        put_openssl_error(err, errlen, "");
        if (verify != X509_V_OK && err && errlen > 0) {
            size_t used = strlen(err);
            snprintf(err + used, errlen - used, " (%s)", X509_verify_cert_error_string(verify));
        }
        return CT_ERROR;
    }
    }
}

int ct_handshake(void *session, char *err, size_t errlen) {
    SSL *ssl = session;
    ERR_clear_error();
    errno = 0;
    int ret = SSL_do_handshake(ssl);
    if (ret == 1) return CT_OK;
    return classify(ssl, ret, err, errlen);
}

size_t ct_read(void *session, void *buf, size_t len, int *status, char *err, size_t errlen) {
    SSL *ssl = session;
    size_t count = 0;
    ERR_clear_error();
    errno = 0;
    int ret = SSL_read_ex(ssl, buf, len, &count);
    if (ret == 1 && count > 0) {
        *status = CT_OK;
        return count;
    }
    *status = classify(ssl, ret, err, errlen);
    return 0;
}

size_t ct_write(void *session, const void *buf, size_t len, int *status, char *err, size_t errlen) {
    SSL *ssl = session;
    size_t count = 0;
    ERR_clear_error();
    errno = 0;
    int ret = SSL_write_ex(ssl, buf, len, &count);
    if (ret == 1 && count > 0) {
        *status = CT_OK;
        return count;
    }
    *status = classify(ssl, ret, err, errlen);
    return 0;
}

int ct_has_pending(void *session) { return SSL_has_pending(session); }

void ct_shutdown(void *session) {
    SSL *ssl = session;
    if (SSL_is_init_finished(ssl)) {
        (void)SSL_shutdown(ssl);
    }
    ERR_clear_error();
}
