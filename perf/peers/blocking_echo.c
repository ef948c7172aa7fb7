/* perf/peers/blocking_echo.c — the latency floor for one connection: a plain blocking
 * C echo server, one thread per connection, blocking read() then write(). Issue 3's
 * single-connection goal compares gev's p50 with this (same load generator).
 * Run: blocking_echo PORT [SECONDS] */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void* serve(void* arg) {
    int fd = (int)(intptr_t)arg;
    char buf[1024];   /* the same buffer size as examples/echo_server */
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0) {
        ssize_t off = 0;
        while (off < r) {
            ssize_t w = write(fd, buf + off, r - off);
            if (w <= 0) goto done;
            off += w;
        }
    }
done:
    close(fd);
    return NULL;
}

static void* stop_after(void* arg) {
    usleep((useconds_t)(*(double*)arg * 1e6));
    exit(0);
}

int main(int argc, char** argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8005;
    static double seconds;
    seconds = argc > 2 ? atof(argv[2]) : 0;
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(ls, (struct sockaddr*)&a, sizeof a) || listen(ls, 4096)) { perror("listen"); return 1; }
    pthread_t t;
    if (seconds > 0) pthread_create(&t, NULL, stop_after, &seconds);
    for (;;) {
        int c = accept(ls, NULL, NULL);
        if (c < 0) continue;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (pthread_create(&t, NULL, serve, (void*)(intptr_t)c) != 0) { close(c); continue; }
        pthread_detach(t);
    }
}
