/* perf/tls_loadgen.c — the TLS load generator for perf/tls_bench.py (plain C, OpenSSL
 * and epoll, independent of gev so it cannot hide a gev problem). Two modes:
 *   echo: N TLS 1.3 connections, each keeping one S-byte message in flight; every echoed
 *         byte checked; prints round trips/s, p50/p99 and the server's CPU per round trip.
 *   handshake: one connection at a time, each a fresh TLS 1.3 handshake (no session
 *         reuse) plus one small request (64 B echoed, or `GET /` with Connection: close
 *         under --request http) and close_notify; prints handshakes/s and the server's
 *         CPU per handshake.
 * Server CPU is utime+stime from /proc/PID/stat across the measured window.
 * Run: tls_loadgen --port P --mode echo|handshake [--connections 100] [--size 64]
 *                  [--seconds 3] [--warmup 0.5] [--server-pid PID] [--cpu N] [--request echo|http] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct opts {
    int port, conns, pid, cpu, http;
    size_t size;
    double seconds, warmup;
    const char* mode;
};

struct conn {
    int fd;
    SSL* ssl;
    unsigned long seq;
    size_t got;
    int want_write;
    double started;
    char msg[4096], in[4096];
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double server_cpu(int pid) {
    if (pid <= 0) return 0;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE* f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char* p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return 0;
    return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static void die(const char* what) {
    fprintf(stderr, "tls_loadgen: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* A blocking TCP connection with a completed TLS 1.3 handshake. */
static SSL* dial(SSL_CTX* ctx, int port, int* fd_out) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr*)&a, sizeof a) != 0) die("connect failed");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "localhost");
    if (SSL_connect(ssl) != 1) die("handshake failed");
    if (SSL_version(ssl) != TLS1_3_VERSION) die("the server did not negotiate TLS 1.3");
    *fd_out = fd;
    return ssl;
}

static void fill(struct conn* c, size_t size) {
    for (size_t i = 0; i < size; ++i) c->msg[i] = (char)('a' + (c->fd * 7 + c->seq * 13 + i) % 26);
    c->got = 0;
    c->started = now();
}

static int cmp(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

/* Sends the connection's message; 0 when sent, 1 when the socket wants room first. */
static int send_msg(struct conn* c, size_t size) {
    int n = SSL_write(c->ssl, c->msg, (int)size);
    if (n == (int)size) return 0;
    int e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return 1;
    die("write failed");
    return 1;
}

static void set_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) die("fcntl failed");
}

/* Reads what the connection has; 1 when its whole echo is in (checked), 0 otherwise. */
static int recv_msg(struct conn* c, size_t size) {
    for (;;) {
        int n = SSL_read(c->ssl, c->in + c->got, (int)(size - c->got));
        if (n > 0) {
            c->got += (size_t)n;
            if (c->got < size) continue;
            if (memcmp(c->in, c->msg, size) != 0) die("the echo differs from what was sent");
            return 1;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
        die("read failed (the server closed?)");
    }
}

/* Records whether the message still waits for room, and has epoll watch for what comes next. */
static void sent(int ep, struct conn* c, int want_write) {
    if (want_write == c->want_write) return;
    c->want_write = want_write;
    struct epoll_event ev = {.events = want_write ? EPOLLOUT : EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void echo(SSL_CTX* ctx, const struct opts* o) {
    int ep = epoll_create1(0);
    struct conn* cs = calloc((size_t)o->conns, sizeof *cs);
    for (int i = 0; i < o->conns; ++i) {
        struct conn* c = &cs[i];
        c->ssl = dial(ctx, o->port, &c->fd);
        set_nonblock(c->fd);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        fill(c, o->size);
        sent(ep, c, send_msg(c, o->size));
    }
    size_t cap = 1 << 20, count = 0;
    double* lat = malloc(cap * sizeof *lat);
    double start = now(), measure = start + o->warmup, end = measure + o->seconds, cpu0 = -1;
    struct epoll_event evs[256];
    while (now() < end) {
        if (cpu0 < 0 && now() >= measure) cpu0 = server_cpu(o->pid), count = 0;
        int n = epoll_wait(ep, evs, 256, 100);
        for (int i = 0; i < n; ++i) {
            struct conn* c = evs[i].data.ptr;
            if (c->want_write) {
                sent(ep, c, send_msg(c, o->size));
                continue;
            }
            if (!recv_msg(c, o->size)) continue;
            double t = now();
            if (count == cap) lat = realloc(lat, (cap *= 2) * sizeof *lat);
            lat[count++] = (t - c->started) * 1e6;
            c->seq++;
            fill(c, o->size);
            sent(ep, c, send_msg(c, o->size));
        }
    }
    double cpu = server_cpu(o->pid) - (cpu0 < 0 ? 0 : cpu0);
    if (count == 0) die("no round trip completed");
    qsort(lat, count, sizeof *lat, cmp);
    printf("round_trips=%zu rps=%.0f p50_us=%.1f p99_us=%.1f server_cpu_ns_per_rt=%.0f\n", count, count / o->seconds,
           lat[count / 2], lat[(size_t)(count * 0.99)], cpu * 1e9 / count);
}

/* One fresh connection: handshake, one request, its answer checked, close_notify. */
static void one_handshake(SSL_CTX* ctx, const struct opts* o) {
    int fd;
    SSL* ssl = dial(ctx, o->port, &fd);
    char req[128], buf[4096];
    size_t want, got = 0;
    if (o->http) {
        want = (size_t)snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    } else {
        want = 64;
        memset(req, 'h', want);
    }
    if (SSL_write(ssl, req, (int)want) != (int)want) die("request write failed");
    for (;;) {   /* echo: until 64 bytes; http: until the server closes */
        int n = SSL_read(ssl, buf + got, (int)(sizeof buf - 1 - got));
        if (n <= 0) break;
        got += (size_t)n;
        if (!o->http && got >= want) break;
    }
    buf[got] = 0;
    if (o->http ? strstr(buf, "Hello, world!") == NULL : (got != want || memcmp(buf, req, want) != 0))
        die("the answer to the request was wrong");
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
}

static void handshakes(SSL_CTX* ctx, const struct opts* o) {
    double start = now(), measure = start + o->warmup, end = measure + o->seconds, cpu0 = -1;
    long count = 0;
    while (now() < end) {
        if (cpu0 < 0 && now() >= measure) cpu0 = server_cpu(o->pid), count = 0;
        one_handshake(ctx, o);
        count++;
    }
    double cpu = server_cpu(o->pid) - (cpu0 < 0 ? 0 : cpu0);
    printf("handshakes=%ld hps=%.0f server_cpu_ns_per_handshake=%.0f\n", count, count / o->seconds,
           cpu * 1e9 / (double)count);
}

int main(int argc, char** argv) {
    struct opts o = {.port = 8443, .conns = 100, .size = 64, .seconds = 3, .warmup = 0.5, .cpu = -1, .mode = "echo"};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--port")) o.port = atoi(v);
        else if (!strcmp(k, "--mode")) o.mode = v;
        else if (!strcmp(k, "--connections")) o.conns = atoi(v);
        else if (!strcmp(k, "--size")) o.size = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--seconds")) o.seconds = atof(v);
        else if (!strcmp(k, "--warmup")) o.warmup = atof(v);
        else if (!strcmp(k, "--server-pid")) o.pid = atoi(v);
        else if (!strcmp(k, "--cpu")) o.cpu = atoi(v);
        else if (!strcmp(k, "--request")) o.http = !strcmp(v, "http");
        else die("unknown option");
    }
    if (o.size == 0 || o.size > sizeof ((struct conn*)0)->msg) die("--size must be 1..4096");
    if (o.cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(o.cpu, &set);
        sched_setaffinity(0, sizeof set, &set);
    }
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);   /* every handshake a full one */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);   /* the server's costs are measured, not ours */
    if (!strcmp(o.mode, "echo")) echo(ctx, &o);
    else if (!strcmp(o.mode, "handshake")) handshakes(ctx, &o);
    else die("--mode is echo or handshake");
    return 0;
}
