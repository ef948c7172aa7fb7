# tools/gev-gdb.py — gev's fibers in gdb. Load with `gdb -x tools/gev-gdb.py PROGRAM`
# (or `source tools/gev-gdb.py` at the gdb prompt), stop the program, then:
#   gev fibers        every fiber of every hub (each thread's gev::detail::t_hub):
#                     id, name, state, wait reason, stack bounds, spawn site
#   gev bt ID [N]     the backtrace of parked fiber ID: the registers Boost.Context saved
#                     on its stack are loaded into the current thread, `bt N` runs, and
#                     the thread's own registers are put back (a live process, not a core)
# x86-64 only: jump_fcontext (jump_x86_64_sysv_elf_gas.S, Boost 1.74) leaves at the
# fiber's saved ctx: +0x08 r12, +0x10 r13, +0x18 r14, +0x20 r15, +0x28 rbx, +0x30 rbp,
# +0x38 the return address (rip); the stack pointer after resuming is ctx + 0x40.
import gdb

STATES = ["created", "ready", "running", "parked", "suspended", "dead"]
KINDS = ["root", "hub", "raw"]
WAITS = ["none", "sleep", "join", "object", "fd", "idle"]
CTX_REGS = [("r12", 0x08), ("r13", 0x10), ("r14", 0x18), ("r15", 0x20), ("rbx", 0x28), ("rbp", 0x30)]


def std_string(v):
    try:
        return v["_M_dataplus"]["_M_p"].string(length=int(v["_M_string_length"]))
    except gdb.error:
        return str(v)


def display_name(f):
    name = std_string(f["name"])
    if name:
        return name
    return "main" if int(f["kind"]) == 0 else "Greenlet-%d" % int(f["id"])


def wait_text(f):
    r = f["reason"]
    kind = WAITS[int(r["kind"])] if int(r["kind"]) < len(WAITS) else "?"
    what = r["what"].string() if int(r["what"]) != 0 else ""
    if kind == "none":
        return ""
    if kind == "join":
        return "join fiber %d" % int(r["number"])
    if kind == "fd":
        return "%s fd %d" % (what, int(r["number"]))
    if kind == "object":
        return "%s 0x%x" % (what, int(r["object"]))
    return what or kind


def where(addr):
    if addr == 0:
        return "-"
    text = gdb.execute("info symbol 0x%x" % addr, to_string=True).strip()
    try:
        sal = gdb.find_pc_line(addr - 1)
        if sal.symtab is not None:
            text += " at %s:%d" % (sal.symtab.filename, sal.line)
    except gdb.error:
        pass
    return text


def hubs():
    """(thread, hub pointer) for every thread that runs a hub."""
    found = []
    selected = gdb.selected_thread()
    frame = gdb.selected_frame() if selected is not None else None
    try:
        for t in gdb.selected_inferior().threads():
            t.switch()
            hub = None
            # Without debug info for the library, the thread-local is a bare symbol: cast it.
            for expr in ("gev::detail::t_hub", "*(gev::detail::Hub**)&'gev::detail::t_hub'"):
                try:
                    hub = gdb.parse_and_eval(expr)
                    break
                except gdb.error:
                    continue
            if hub is None:
                continue
            if int(hub) != 0:
                found.append((t, hub))
    finally:
        if selected is not None:
            selected.switch()
            if frame is not None and frame.is_valid():
                frame.select()
    return found


def fibers():
    # The fibers' dynamic types are lambdas' Task<...>: without this gdb warns on each.
    gdb.execute("set print object off", to_string=True)
    for thread, hub in hubs():
        f = hub["all_"]
        while int(f) != 0:
            yield thread, hub, f
            f = f["all_next"]


class GevPrefix(gdb.Command):
    """gev's fibers: `gev fibers`, `gev bt ID [N]`."""

    def __init__(self):
        super().__init__("gev", gdb.COMMAND_USER, prefix=True)


class GevFibers(gdb.Command):
    """List every fiber of every hub: gev fibers"""

    def __init__(self):
        super().__init__("gev fibers", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        n = 0
        for thread, hub, f in fibers():
            state = STATES[int(f["state"])] if int(f["state"]) < len(STATES) else "?"
            line = "<%s id=%d> hub %d (thread %d), %s" % (display_name(f), int(f["id"]), int(hub["index_"]),
                                                          thread.num, state)
            why = wait_text(f)
            if why:
                line += ": " + why
            base = int(f["stack"]["base"])
            if base:
                line += ", stack 0x%x..0x%x" % (base, base + int(f["stack"]["size"]))
            line += ", spawned at " + where(int(f["spawn_site"]))
            print(line)
            n += 1
        if n == 0:
            print("no hub found: is the program stopped inside gev::run, and was libgev built with debug info"
                  " (meson buildtype debug or debugoptimized, or -Ddebug=true)?")


class GevBt(gdb.Command):
    """Backtrace of a parked (not running) fiber: gev bt ID [N frames]"""

    def __init__(self):
        super().__init__("gev bt", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        args = gdb.string_to_argv(arg)
        if not args:
            raise gdb.GdbError("usage: gev bt ID [N]")
        want = int(args[0])
        limit = args[1] if len(args) > 1 else ""
        for thread, hub, f in fibers():
            if int(f["id"]) != want:
                continue
            ctx = int(f["ctx"])
            if int(f["state"]) == 2 or ctx == 0:
                raise gdb.GdbError("fiber %d is running or has no saved context: use thread %d's own bt"
                                   % (want, thread.num))
            self.show(ctx, limit)
            return
        raise gdb.GdbError("no fiber with id %d" % want)

    @staticmethod
    def show(ctx, limit):
        ptr = gdb.lookup_type("unsigned long").pointer()
        saved = {r: int(gdb.parse_and_eval("$" + r)) for r in ["rsp", "rip"] + [r for r, _ in CTX_REGS]}
        try:
            for reg, off in CTX_REGS:
                gdb.execute("set $%s = %d" % (reg, int(gdb.Value(ctx + off).cast(ptr).dereference())))
            gdb.execute("set $rip = %d" % int(gdb.Value(ctx + 0x38).cast(ptr).dereference()))
            gdb.execute("set $rsp = %d" % (ctx + 0x40))
            gdb.execute("bt " + limit)
        finally:
            for reg, value in saved.items():
                gdb.execute("set $%s = %d" % (reg, value))
            gdb.execute("select-frame 0")


GevPrefix()
GevFibers()
GevBt()
