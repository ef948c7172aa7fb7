/* perf/peers/epoll_echo.c — the floor for echo: a plain single-threaded epoll echo
 * server in C (edge-triggered, non-blocking, read until EAGAIN, write back).
 * Run: epoll_echo PORT [SECONDS] */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8002;
    double seconds = argc > 2 ? atof(argv[2]) : 0;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(ls, (struct sockaddr*)&a, sizeof a) || listen(ls, 4096)) { perror("listen"); return 1; }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    struct epoll_event evs[256];
    char buf[1024];   /* examples/echo_server's and the other peers' size: the same system calls */
    double stop = seconds > 0 ? now() + seconds : 0;
    for (;;) {
        int n = epoll_wait(ep, evs, 256, 100);
        if (stop && now() > stop) break;
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int c;
                while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event ce = {.events = EPOLLIN | EPOLLET, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            for (;;) {
                ssize_t r = read(fd, buf, sizeof buf);
                if (r > 0) {
                    ssize_t off = 0;
                    while (off < r) {   /* the load keeps one message in flight: a write fits */
                        ssize_t w = write(fd, buf + off, r - off);
                        if (w < 0) { if (errno == EAGAIN) continue; break; }
                        off += w;
                    }
                    continue;
                }
                if (r < 0 && errno == EAGAIN) break;
                close(fd);
                break;
            }
        }
    }
    return 0;
}
