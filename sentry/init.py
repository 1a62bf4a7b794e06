"""The sandbox's pid 1 and the application child it starts.

init runs in the new pid, uts, ipc (and net) namespaces, joins the gofer's mount
namespace (the sandbox view), mounts a procfs for its pid namespace and a sysfs, then
forks the application: that child takes its credentials and cwd, sets no_new_privs,
installs the platform's trap and execs the command. init reaps orphans and reports
the application's exit status to the sentry on a pipe; when it exits the kernel
kills everything left in the pid namespace. init dies with the sentry
(PR_SET_PDEATHSIG), so a killed sentry never leaves an application running.
"""

from __future__ import annotations

import errno
import fcntl
import os
import resource as resource_mod
import select
import signal
import socket
import struct

from sentry import ffi
from sentry.child import close_all_but
from sentry.config import SandboxConfig
from sentry.platform.bpf import HANDOVER_SENDMSG_FLAGS

EXIT_CANNOT_EXEC = 126
EXIT_NOT_FOUND = 127
EXIT_SANDBOX_ERROR = 125
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_DEFAULT_SIGNALS = [s for s in signal.Signals if s not in (signal.SIGKILL, signal.SIGSTOP)]


def _fail(status_fd: int, message: str, code: int = EXIT_SANDBOX_ERROR) -> None:
    try:
        os.write(status_fd, f"error {code} {message}\n".encode())
    finally:
        os._exit(code)


def run_init(cfg: SandboxConfig, mntns_fd: int, trap_sock: socket.socket,
             status_fd: int, platform, bpf: bytes, gate_fd: int = -1) -> None:
    """Never returns."""
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        close_all_but({0, 1, 2, mntns_fd, trap_sock.fileno(), status_fd, gate_fd})
        flags = ffi.CLONE_NEWUTS | ffi.CLONE_NEWIPC | ffi.CLONE_NEWNS
        if cfg.network == "none":
            flags |= ffi.CLONE_NEWNET
        ffi.unshare(flags)
        trees = _kernel_filesystems()
        ffi.setns(mntns_fd, ffi.CLONE_NEWNS)
        os.close(mntns_fd)
        os.chdir("/")
        for where, tree in trees.items():
            target = os.open(where, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                ffi.move_mount_fd(tree, target)
            finally:
                os.close(target)
                os.close(tree)
        _protect_proc()
        _mount_mqueue()
        ffi.sethostname(cfg.hostname)
        if cfg.network == "none":
            _loopback_up()
    except OSError as exc:
        _fail(status_fd, f"cannot set up the sandbox: {exc}")
    # wait for the sentry's go (it has put this process in the sandbox's cgroup)
    if trap_sock.recv(1) != b"g":
        _fail(status_fd, "the sentry went away during start-up")
    # only now: a rootless init's parent was a launcher until the go (it has exited)
    ffi.prctl(ffi.PR_SET_PDEATHSIG, signal.SIGKILL)
    if select.select([trap_sock], [], [], 0)[0]:
        _fail(status_fd, "the sentry went away during start-up")  # its end has closed
    if not cfg.reaper:
        os.close(status_fd)  # the sentry reads this process's own exit status
        _exec_app(cfg, trap_sock, -1, platform, bpf, gate_fd)
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):
        signal.signal(sig, signal.SIG_IGN)  # the terminal's signals are for the application
    pid = os.fork()
    if pid == 0:
        _exec_app(cfg, trap_sock, status_fd, platform, bpf, gate_fd)
    trap_sock.close()
    # init runs unfiltered: the application (same uid) must not be able to ptrace it or
    # write its memory through /proc/1/mem, and it needs no privilege to reap
    ffi.prctl(ffi.PR_SET_DUMPABLE, 0)
    ffi.drop_bounding_except(0)
    ffi.capset(0, 0, 0)
    app_status = None
    while True:
        try:
            wpid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if wpid == pid:
            app_status = status
            break
    if app_status is None:
        _fail(status_fd, "lost the application process")
    if os.WIFSIGNALED(app_status):
        os.write(status_fd, f"signal {os.WTERMSIG(app_status)}\n".encode())
        os._exit(128 + os.WTERMSIG(app_status))
    code = os.waitstatus_to_exitcode(app_status)
    os.write(status_fd, f"exit {code}\n".encode())
    os._exit(code & 0xFF)


def _kernel_filesystems() -> dict[str, int]:
    """procfs for the new pid namespace and (with a network namespace of our own) sysfs,
    mounted in a private copy of the sentry's mount namespace and returned as detached
    trees for the view. In a user namespace the kernel mounts them only where one is
    already fully visible (mount_too_revealing), which the gofer's pivoted view is not;
    the copy still shows the host's /proc and /sys."""
    ffi.mount(None, "/", None, ffi.MS_REC | ffi.MS_PRIVATE)  # nothing goes back to the host
    flags = ffi.MS_NOSUID | ffi.MS_NODEV | ffi.MS_NOEXEC
    ffi.mount("proc", "/proc", "proc", flags)
    trees = {"/proc": ffi.open_tree_clone("/proc")}
    try:
        ffi.mount("sysfs", "/sys", "sysfs", flags | ffi.MS_RDONLY)
        trees["/sys"] = ffi.open_tree_clone("/sys")
    except OSError:
        pass  # sysfs needs a network namespace of our own; without it, no /sys
    return trees


def _mount_mqueue() -> None:
    """The sandbox's own POSIX message queues at /dev/mqueue, as a container has them
    (mounted here: the queues are those of the IPC namespace that mounts them). The
    view leaves the directory empty for it; without one, nothing is mounted."""
    try:
        ffi.mount("mqueue", "/dev/mqueue", "mqueue",
                  ffi.MS_NOSUID | ffi.MS_NODEV | ffi.MS_NOEXEC)
    except OSError:
        pass   # no /dev/mqueue in this view: under Landlock, mq_open is then refused


def _die(message: str, status_fd: int = -1, trap_sock: socket.socket | None = None) -> None:
    """The application cannot be started: say why to whoever waits for it (the
    sentry, on the trap socket, in place of the listener) and to stderr."""
    if trap_sock is not None:
        try:
            trap_sock.send(f"error {message}".encode())
        except OSError:
            pass
    if status_fd >= 0:
        _fail(status_fd, message)
    os.write(2, f"sandvisor: {message}\n".encode())
    os._exit(EXIT_SANDBOX_ERROR)


def _lookup(cmd: str, path: str) -> tuple[int, str] | None:
    """Whether `cmd` can be executed, worded as runc words it (podman maps "no such file
    or directory" and "not found" to 127, "permission denied" to 126)."""
    if "/" in cmd:
        candidates = [cmd]
    else:
        candidates = [os.path.join(d or ".", cmd) for d in path.split(":")]
    denied = None
    for cand in candidates:
        try:
            st = os.stat(cand)
        except OSError:
            continue
        if os.path.isdir(cand) or not os.access(cand, os.X_OK) or not st.st_mode & 0o111:
            denied = cand
            continue
        return None
    if denied is not None:
        return EXIT_CANNOT_EXEC, f'exec: "{cmd}": permission denied'
    if "/" in cmd:
        return EXIT_NOT_FOUND, f'exec: "{cmd}": stat {cmd}: no such file or directory'
    return EXIT_NOT_FOUND, f'exec: "{cmd}": executable file not found in $PATH: no such file or directory'


_TIOCSPTLCK, _TIOCGPTN, _TIOCSCTTY = 0x40045431, 0x80045430, 0x540E


def _new_terminal() -> int:
    """A pty from the sandbox's own devpts: the slave becomes this process's controlling
    terminal and stdio; the master is returned (to go out on the console socket)."""
    master = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    fcntl.ioctl(master, _TIOCSPTLCK, struct.pack("i", 0))
    number = struct.unpack("I", fcntl.ioctl(master, _TIOCGPTN, b"\0" * 4))[0]
    slave = os.open(f"/dev/pts/{number}", os.O_RDWR | os.O_NOCTTY)
    os.setsid()
    fcntl.ioctl(slave, _TIOCSCTTY, 0)
    for target in (0, 1, 2):
        os.dup2(slave, target)
    os.close(slave)
    return master


# Host-global kernel state reachable through procfs: read-only or covered, as container
# runtimes do (a uid-0 application could otherwise write kernel.core_pattern).
READONLY_PROC = ("sys", "sysrq-trigger", "irq", "bus", "fs")
MASKED_PROC = ("kcore", "keys", "timer_list", "sched_debug", "scsi", "acpi", "latency_stats",
               "kallsyms", "kmsg", "config.gz")


def _protect_proc() -> None:
    for name in READONLY_PROC:
        path = f"/proc/{name}"
        if os.path.lexists(path):
            ffi.mount(path, path, None, ffi.MS_BIND | ffi.MS_REC)
            ffi.mount(None, path, None, ffi.MS_BIND | ffi.MS_REMOUNT | ffi.MS_RDONLY
                      | ffi.MS_NOSUID | ffi.MS_NODEV | ffi.MS_NOEXEC)
    for name in MASKED_PROC:
        path = f"/proc/{name}"
        if os.path.isdir(path):
            ffi.mount("masked", path, "tmpfs", ffi.MS_RDONLY, "size=0")
        elif os.path.exists(path):
            ffi.mount("/dev/null", path, None, ffi.MS_BIND)


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, _SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(s, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


def _confine_to_view() -> None:
    """Landlock: no file outside the view can be opened or executed, not even one the
    application holds a descriptor of (its stdin from a host file) through its
    /proc/self/fd link. Opens are the sentry's, which never reopens such an object by
    its link; but the syscalls answered by CONTINUE (docs/DESIGN.md) are run by the
    kernel on a path the application can rewrite after the sentry read it, and a
    rewrite to /proc/self/fd/0 would reopen a read-only host file for writing (root's
    DAC override). Nothing where the kernel has no Landlock: SECURITY.md says what is
    then left open. /dev/mqueue gets a rule of its own: mq_open reaches its queues
    through the IPC namespace's internal mount of the same filesystem, beneath no
    directory of the view."""
    abi = ffi.landlock_abi()
    if not abi:
        return
    dirs = [os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)]
    try:
        if ffi.fs_type("/dev/mqueue") == ffi.MQUEUE_MAGIC:
            dirs.append(os.open("/dev/mqueue", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC))
        ffi.landlock_confine_beneath(dirs, abi)
    finally:
        for fd in dirs:
            os.close(fd)


def _exec_app(cfg: SandboxConfig, trap_sock: socket.socket, status_fd: int, platform,
              bpf: bytes, gate_fd: int = -1, deathsig: bool = True) -> None:
    try:
        for sig in _DEFAULT_SIGNALS:
            try:
                signal.signal(sig, signal.SIG_DFL)
            except (OSError, ValueError):
                pass
        rlimits = list(cfg.rlimits)
        if cfg.cpu_seconds:
            rlimits.append((resource_mod.RLIMIT_CPU, cfg.cpu_seconds, cfg.cpu_seconds + 1))
        for resource, soft, hard in rlimits:
            try:
                resource_mod.setrlimit(resource, (soft, hard))
            except (OSError, ValueError) as exc:
                _die(f"cannot set rlimit {resource} to {soft}:{hard}: {exc}", -1, trap_sock)
        caps = cfg.capabilities
        ffi.drop_bounding_except(ffi.cap_mask(caps.get("bounding", [])))
        ffi.prctl(ffi.PR_SET_KEEPCAPS, 1)  # keep what the config grants a non-root user
        if cfg.uid is not None:
            gid = cfg.gid if cfg.gid is not None else cfg.uid
            if cfg.additional_gids or not cfg.rootless:  # setgroups is denied rootless
                os.setgroups(cfg.additional_gids)
            os.setresgid(gid, gid, gid)
            os.setresuid(cfg.uid, cfg.uid, cfg.uid)
        ffi.capset(ffi.cap_mask(caps.get("effective", [])), ffi.cap_mask(caps.get("permitted", [])),
                   ffi.cap_mask(caps.get("inheritable", [])))
        if deathsig:  # after the credential change, which clears it: die with the sentry
            ffi.prctl(ffi.PR_SET_PDEATHSIG, signal.SIGKILL)
        master = _new_terminal() if cfg.terminal else -1
        cwd = cfg.cwd or "/"
        try:
            os.chdir(cwd)
        except OSError as exc:
            _die(f"cannot enter the working directory {cwd}: {exc.strerror}", status_fd,
                 trap_sock)
        env = dict(os.environ) if cfg.env is None else dict(cfg.env)
        # nothing of the sentry's may reach the application: only stdio and the
        # socket the trap is handed over on (closed before exec)
        close_all_but({trap_sock.fileno(), gate_fd, master})
        ffi.prctl(ffi.PR_SET_NO_NEW_PRIVS, 1)
        if cfg.confine_files:
            _confine_to_view()
        if cfg.app_seccomp:
            # the container's own profile first: the strictest action of all filters wins
            ffi.seccomp_load_filter(cfg.app_seccomp, 0)
        platform.child_install(trap_sock, bpf)
    except OSError as exc:
        _die(f"cannot start the application: {exc}", -1, trap_sock)
    except ValueError as exc:
        _die(f"bad capabilities: {exc}", -1, trap_sock)
    argv = cfg.argv
    if gate_fd >= 0:
        # OCI create: report whether the command can run, then wait for start
        problem = _lookup(argv[0], env.get("PATH", "/usr/local/bin:/usr/bin:/bin"))
        report = b"ok" if problem is None else f"error {problem[0]} {problem[1]}".encode()
        trap_sock.sendmsg([report], ffi.rights(*([master] if master >= 0 else [])))
        trap_sock.close()
        if master >= 0:
            os.close(master)
        if problem is not None:
            os._exit(problem[0])
        if os.read(gate_fd, 1) != b"s":
            os._exit(EXIT_SANDBOX_ERROR)  # deleted before start
        os.close(gate_fd)
    else:
        if master >= 0:
            # exec --tty: the master goes to the sentry right after the listener (not
            # trapped: nothing could answer it while the sentry waits for this message)
            trap_sock.sendmsg([b"T"], ffi.rights(master), HANDOVER_SENDMSG_FLAGS)
            os.close(master)
        trap_sock.close()
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        code = EXIT_NOT_FOUND if exc.errno in (errno.ENOENT, errno.ENOTDIR) else EXIT_CANNOT_EXEC
        reason = "no such file or directory" if code == EXIT_NOT_FOUND else \
            (exc.strerror or "cannot execute").lower()
        os.write(2, f"sandvisor: {argv[0]}: {reason}\n".encode())
        os._exit(code)
