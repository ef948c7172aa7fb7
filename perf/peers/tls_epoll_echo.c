/* perf/peers/tls_epoll_echo.c — the TLS echo floor for perf/tls_bench.py: one thread,
 * level-triggered epoll, non-blocking sockets driven straight through OpenSSL
 * (SSL_accept / SSL_read / SSL_write and their WANT_READ / WANT_WRITE), no framework.
 * What a TLS echo server costs when nothing but the kernel and OpenSSL run; OpenSSL's
 * defaults otherwise (TLS 1.3 offered, two session tickets per handshake, as gev's).
 * Run: tls_epoll_echo PORT CERT KEY */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 16384

struct conn {
    int fd;
    SSL* ssl;
    int handshaken;
    char out[BUF];   /* bytes read but not yet written: a write that wanted more room */
    int out_len;
    unsigned events;   /* what epoll watches now: changed only when it must be */
};

static int ep;

static void drop(struct conn* c) {
    close(c->fd);   /* no close_notify: a benchmark client that vanished gets none */
    SSL_free(c->ssl);
    free(c);
}

static void watch(struct conn* c, unsigned events) {
    if (c->events == events) return;
    c->events = events;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Flushes c->out; 1 when done, 0 when the socket is full (wait for EPOLLOUT), -1 on error. */
static int flush(struct conn* c) {
    while (c->out_len > 0) {
        int n = SSL_write(c->ssl, c->out, c->out_len);
        if (n > 0) {
            c->out_len = 0;   /* SSL_write without partial writes writes everything */
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return 0;
        return -1;
    }
    return 1;
}

/* Reads what is there and echoes it; the connection goes when the peer does. */
static void serve(struct conn* c) {
    if (!c->handshaken) {
        int r = SSL_accept(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ) { watch(c, EPOLLIN); return; }
            if (e == SSL_ERROR_WANT_WRITE) { watch(c, EPOLLOUT); return; }
            drop(c);
            return;
        }
        c->handshaken = 1;
    }
    for (;;) {
        int f = flush(c);
        if (f < 0) { drop(c); return; }
        if (f == 0) { watch(c, EPOLLOUT); return; }
        int n = SSL_read(c->ssl, c->out, BUF);
        if (n > 0) { c->out_len = n; continue; }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ) { watch(c, EPOLLIN); return; }
        if (e == SSL_ERROR_WANT_WRITE) { watch(c, EPOLLOUT); return; }
        drop(c);
        return;
    }
}

int main(int argc, char** argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: tls_epoll_echo PORT CERT KEY\n");
        return 2;
    }
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(ls, (struct sockaddr*)&a, sizeof a) || listen(ls, 4096)) {
        perror("tls_epoll_echo: bind/listen");
        return 1;
    }
    ep = epoll_create1(0);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &lev);
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; ++i) {
            struct conn* c = evs[i].data.ptr;
            if (c != NULL) {
                serve(c);
                continue;
            }
            int fd;
            while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                c = calloc(1, sizeof *c);
                c->fd = fd;
                c->ssl = SSL_new(ctx);
                c->events = EPOLLIN;
                SSL_set_fd(c->ssl, fd);
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            }
        }
    }
}
