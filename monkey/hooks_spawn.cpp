// monkey/hooks_spawn.cpp — system, popen, pclose. The C library's versions wait for the
// child inside libc (no hook sees that waitpid), so on a hub's fiber they are made
// here: posix_spawn of /bin/sh -c, then the parked wait of child_wait.hpp. system()
// keeps its return value (the wait status; 127 << 8 when no shell could run; -1 when
// the wait failed) and its NULL rule (non-zero when a shell is available). It leaves
// SIGINT/SIGQUIT/SIGCHLD as they are: other fibers keep running meanwhile, and
// changing them for the process would change them for those fibers too. A popen
// stream made here reads and writes through the hooked read/write (a fopencookie
// stream: stdio's own reads bypass every hook), so fgets parks the fiber; its fileno
// is -1. pclose recognises such a stream on any thread. A kill or gev::Timeout during
// the wait of system() or pclose() kills the child (SIGKILL) and reaps it before it
// is thrown, as glibc's system() does when its thread is cancelled.
#include "monkey/child_wait.hpp"
#include "monkey/original.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

extern char** environ;

using gev::monkey::Patch;
namespace md = gev::monkey::detail;
namespace orig = gev::monkey::original;

namespace {

// One child of popen: the parent's end of its pipe, and its pid for pclose.
struct Child {
    FILE* stream = nullptr;
    int fd = -1;
    pid_t pid = -1;
};

// The live popen streams made here: pclose finds its child, and each new child closes
// the pipes of the others (POSIX asks popen for that).
std::mutex g_mu;
std::vector<Child*>& children() {
    static auto* v = new std::vector<Child*>;   // used until the process ends
    return *v;
}

// Parks until pid ends; on a kill or Timeout, kills and reaps it, then rethrows.
int wait_child(md::Hub* hub, pid_t pid) {
    int status = 0;
    pid_t r;
    if (hub == nullptr) {
        do r = orig::waitpid(pid, &status, 0);
        while (r < 0 && errno == EINTR);
        return r < 0 ? -1 : status;
    }
    try {
        r = md::wait4_parked(*hub, pid, &status, 0, nullptr);
    } catch (...) {
        ::kill(pid, SIGKILL);
        orig::waitpid(pid, nullptr, 0);
        throw;
    }
    return r < 0 ? -1 : status;
}

// Starts /bin/sh -c command; 0 or posix_spawn's error number.
int spawn_shell(pid_t* pid, const char* command, const posix_spawn_file_actions_t* actions) {
    char sh[] = "sh", c[] = "-c", dashes[] = "--";
    char* argv[] = {sh, c, dashes, const_cast<char*>(command), nullptr};
    return ::posix_spawn(pid, "/bin/sh", actions, nullptr, argv, environ);
}

int shell(md::Hub& hub, const char* command) {
    int saved = errno;
    pid_t pid;
    if (spawn_shell(&pid, command, nullptr) != 0) return 127 << 8;   // as if the shell ran _exit(127)
    int status = wait_child(&hub, pid);
    if (status != -1) errno = saved;
    return status;
}

ssize_t child_read(void* c, char* buf, size_t n) { return ::read(static_cast<Child*>(c)->fd, buf, n); }

ssize_t child_write(void* c, const char* buf, size_t n) {
    ssize_t r = ::write(static_cast<Child*>(c)->fd, buf, n);   // a whole blocking write
    return r < 0 ? 0 : r;
}

int child_close(void* c) { return ::close(static_cast<Child*>(c)->fd); }

// Spawns the child of popen with `child_end` as its stdin or stdout.
int spawn_piped(pid_t* pid, const char* command, int child_end, int target) {
    posix_spawn_file_actions_t fa;
    if (int e = ::posix_spawn_file_actions_init(&fa); e != 0) return e;
    int e = ::posix_spawn_file_actions_adddup2(&fa, child_end, target);
    {
        std::lock_guard lock(g_mu);
        for (Child* other : children())
            if (e == 0 && other->fd != target) e = ::posix_spawn_file_actions_addclose(&fa, other->fd);
        if (e == 0) e = spawn_shell(pid, command, &fa);
    }
    ::posix_spawn_file_actions_destroy(&fa);
    return e;
}

FILE* open_piped(const char* command, const char* mode) {
    bool reading = mode[0] == 'r';
    bool cloexec = std::strchr(mode + 1, 'e') != nullptr;
    if ((mode[0] != 'r' && mode[0] != 'w') || std::strspn(mode + 1, "e") != std::strlen(mode + 1)) {
        errno = EINVAL;
        return nullptr;
    }
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return nullptr;
    int mine = reading ? p[0] : p[1], theirs = reading ? p[1] : p[0];
    auto* child = new Child{nullptr, mine, -1};
    int e = spawn_piped(&child->pid, command, theirs, reading ? 1 : 0);
    ::close(theirs);
    if (e == 0 && !cloexec) orig::fcntl(mine, F_SETFD, nullptr);
    cookie_io_functions_t io{reading ? child_read : nullptr, reading ? nullptr : child_write, nullptr, child_close};
    if (e == 0) child->stream = ::fopencookie(child, reading ? "r" : "w", io);
    if (child->stream == nullptr) {
        if (e == 0) {   // fopencookie failed (ENOMEM): the child is ours to end
            e = errno;
            ::kill(child->pid, SIGKILL);
            orig::waitpid(child->pid, nullptr, 0);
        }
        ::close(mine);
        delete child;
        errno = e;
        return nullptr;
    }
    std::lock_guard lock(g_mu);
    children().push_back(child);
    return child->stream;
}

// The child behind a stream popen made here (taken off the list), or nullptr.
Child* take_child(FILE* f) {
    std::lock_guard lock(g_mu);
    auto& v = children();
    for (auto it = v.begin(); it != v.end(); ++it)
        if ((*it)->stream == f) {
            Child* c = *it;
            v.erase(it);
            return c;
        }
    return nullptr;
}

}  // namespace

extern "C" {

int system(const char* command) {
    md::Hub* hub = md::cooperative(Patch::subprocess);
    if (hub == nullptr) return orig::system(command);
    if (command == nullptr) return shell(*hub, "exit 0") == 0;
    return shell(*hub, command);
}

FILE* popen(const char* command, const char* mode) {
    if (md::cooperative(Patch::subprocess) == nullptr) return orig::popen(command, mode);
    return open_piped(command, mode);
}

int pclose(FILE* f) {
    Child* c = take_child(f);
    if (c == nullptr) return orig::pclose(f);
    pid_t pid = c->pid;
    std::fclose(f);
    delete c;
    return wait_child(md::fiber_hub(), pid);
}

}  // extern "C"
