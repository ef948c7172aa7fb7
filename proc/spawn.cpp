// proc/spawn.cpp — posix_spawn with file actions: glibc starts the child with
// clone(CLONE_VM|CLONE_VFORK) and reports a failed exec as posix_spawn's result, so a
// missing program is an error here, in the parent, before Popen returns. Every fd of ours
// is close-on-exec; the child gets its 0/1/2 by dup2 (which clears that flag) and,
// with close_fds, nothing else. The pidfd is opened while the child cannot have been
// reaped yet, so it names this child and no other.
#include "proc/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

extern char** environ;

namespace gev::subprocess::proc_detail {
namespace {

[[noreturn]] void fail(int err, const std::string& what) {
    throw std::system_error(err, std::generic_category(), what);
}

// The fds made for one start; what is not handed to Child is closed on the way out.
struct Fds {
    int parent[3] = {-1, -1, -1};
    std::vector<int> temp;   // the child's ends and dups: closed once the child has them
    ~Fds() {
        for (int fd : parent)
            if (fd >= 0) ::close(fd);
        for (int fd : temp) ::close(fd);
    }
    // fd itself, or a close-on-exec copy above 2 when it is one of 0/1/2 (a dup2 onto
    // a lower target could otherwise overwrite it before its own dup2 runs).
    int high(int fd) {
        if (fd > 2) return fd;
        int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (d < 0) fail(errno, "gev::subprocess::Popen: dup fd " + std::to_string(fd));
        temp.push_back(d);
        return d;
    }
};

struct Actions {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    Actions() {
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
    }
    ~Actions() {
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
    }
    void check(int err, const char* what) {
        if (err != 0) fail(err, std::string("gev::subprocess::Popen: ") + what);
    }
};

// The file action that gives the child its fd `target` (0, 1 or 2).
void redirect(Actions& a, Fds& fds, int target, const Redirect& r) {
    using K = Redirect::Kind;
    switch (r.kind) {
        case K::inherit: return;
        case K::devnull:
            a.check(posix_spawn_file_actions_addopen(&a.fa, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0),
                    "/dev/null");
            return;
        case K::to_stdout:
            if (target != 2) fail(EINVAL, "gev::subprocess::Popen: STDOUT is only for stderr");
            a.check(posix_spawn_file_actions_adddup2(&a.fa, 1, 2), "stderr=STDOUT");
            return;
        case K::fd:
            if (r.fd < 0) fail(EBADF, "gev::subprocess::Popen: fd " + std::to_string(r.fd));
            if (r.fd != target) a.check(posix_spawn_file_actions_adddup2(&a.fa, fds.high(r.fd), target), "dup2");
            return;
        case K::pipe: {
            int p[2];
            if (::pipe2(p, O_CLOEXEC) != 0) fail(errno, "gev::subprocess::Popen: pipe");
            int ours = target == 0 ? p[1] : p[0], theirs = target == 0 ? p[0] : p[1];
            fds.temp.push_back(theirs);
            fds.parent[target] = ours;
            int fl = ::fcntl(ours, F_GETFL);
            if (fl < 0 || ::fcntl(ours, F_SETFL, fl | O_NONBLOCK) < 0) fail(errno, "gev::subprocess::Popen: fcntl");
            a.check(posix_spawn_file_actions_adddup2(&a.fa, fds.high(theirs), target), "dup2");
            return;
        }
    }
}

// The signals a child starts with: none blocked, SIGPIPE back to its default (a parent
// that ignores SIGPIPE must not pass that on; Python's restore_signals does the same).
void reset_signals(Actions& a) {
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGXFSZ);
    a.check(posix_spawnattr_setsigmask(&a.attr, &none), "sigmask");
    a.check(posix_spawnattr_setsigdefault(&a.attr, &def), "sigdefault");
    a.check(posix_spawnattr_setflags(&a.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF), "flags");
}

std::vector<std::string> env_strings(const PopenOptions& o) {
    std::vector<std::string> v;
    for (const auto& [k, val] : *o.env) v.push_back(k + "=" + val);
    return v;
}

}  // namespace

Child spawn_child(const std::vector<std::string>& args, const PopenOptions& o) {
    if (args.empty()) fail(EINVAL, "gev::subprocess::Popen: no program to run (empty args)");
    Fds fds;
    Actions a;
    redirect(a, fds, 0, o.stdin);
    redirect(a, fds, 1, o.stdout);
    redirect(a, fds, 2, o.stderr);
    if (!o.cwd.empty()) a.check(posix_spawn_file_actions_addchdir_np(&a.fa, o.cwd.c_str()), "chdir");
    if (o.close_fds) a.check(posix_spawn_file_actions_addclosefrom_np(&a.fa, 3), "closefrom");
    reset_signals(a);

    std::vector<char*> argv;
    for (const std::string& s : args) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> env_store = o.env ? env_strings(o) : std::vector<std::string>{};
    std::vector<char*> envp;
    for (std::string& s : env_store) envp.push_back(s.data());
    envp.push_back(nullptr);

    pid_t pid = -1;
    bool search = args[0].find('/') == std::string::npos;
    int err = (search ? posix_spawnp : posix_spawn)(&pid, args[0].c_str(), &a.fa, &a.attr, argv.data(),
                                                    o.env ? envp.data() : environ);
    if (err != 0) fail(err, "posix_spawn " + args[0]);

    Child c;
    c.pid = pid;
    c.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));   // close-on-exec by itself
    if (c.pidfd < 0) {
        int e = errno;
        ::kill(pid, SIGKILL);
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        fail(e, "pidfd_open " + args[0]);
    }
    for (int i = 0; i < 3; ++i) c.parent[i] = std::exchange(fds.parent[i], -1);
    return c;
}

}  // namespace gev::subprocess::proc_detail
