"""Real programs give the same stdout, stderr and exit status inside as natively."""

from __future__ import annotations

import json
import os
import shutil
import textwrap

import pytest

from tests.conftest import run_do, run_native

FILE_WORK = r"""
set -e
mkdir -p a/b/c d
echo one > a/b/c/f1; echo two > a/b/f2; printf 'z\ny\nx\n' > a/list
cp -r a e
mv e/b/f2 e/b/f2.moved
ln -s ../a/list d/link
cat d/link | sort
find a e d | sort
sed -i 's/y/Y/' a/list; cat a/list
tar cf t.tar a e; rm -r a e; tar xf t.tar; ls -R a e | sort
rm -r a e d t.tar
ls -A
"""


@pytest.fixture
def workdir(tmp_path):
    return str(tmp_path)


def _same(argv, workdir, *, input=None, timeout=120, extra=()):
    native = run_native(argv, cwd=workdir, input=input, timeout=timeout)
    inside = run_do([*extra, "--cwd", workdir, "--", *argv], input=input, timeout=timeout)
    assert (inside.returncode, inside.stdout, inside.stderr) == \
        (native.returncode, native.stdout, native.stderr)
    return inside


def test_busybox_sh_file_work(workdir):
    res = _same(["busybox", "sh", "-c", FILE_WORK], workdir)
    assert "a/b/c/f1" in res.stdout and "Y" in res.stdout


def test_python_stdlib_and_sqlite(workdir):
    script = textwrap.dedent("""
        import json, sqlite3, asyncio, subprocess, multiprocessing, os, tempfile
        db = os.path.join(tempfile.mkdtemp(dir="/tmp"), "t.db")
        con = sqlite3.connect(db)
        con.execute("create table t(x)")
        con.executemany("insert into t values (?)", [(i,) for i in range(100)])
        con.commit()
        print(con.execute("select sum(x) from t").fetchone())
        print(json.dumps({"a": [1, 2]}))
        print(subprocess.run(["echo", "sub"], capture_output=True, text=True).stdout.strip())
        async def f():
            await asyncio.sleep(0.01)
            return 5
        print(asyncio.run(f()))
        with multiprocessing.Pool(2) as pool:
            print(pool.map(abs, [-1, -2, 3]))
    """)
    res = _same(["python3", "-c", script], workdir)
    assert "(4950,)" in res.stdout


def test_gcc_compiles_and_runs_in_tmp(workdir):
    script = textwrap.dedent("""
        set -e
        d=$(mktemp -d /tmp/cc.XXXXXX)
        cat > $d/p.c <<'EOC'
        #include <stdio.h>
        int main(void) { printf("built %d\\n", 6 * 7); return 7; }
        EOC
        gcc -O0 -o $d/p $d/p.c
        $d/p || echo "status $?"
    """)
    res = _same(["sh", "-c", script], workdir)
    assert "built 42" in res.stdout and "status 7" in res.stdout


def test_shebang_script_in_tmp(workdir):
    script = 'f=$(mktemp /tmp/s.XXXXXX); printf "#!/bin/sh\\necho from script \\$1\\nexit 4\\n" > $f; chmod +x $f; $f arg; echo "rc=$?"'
    res = _same(["sh", "-c", script], workdir)
    assert "from script arg" in res.stdout and "rc=4" in res.stdout


def test_make_j2(workdir):
    lines = ["all: " + " ".join(f"out{i}" for i in range(8)), "\tcat out* | sort | tail -3"]
    for i in range(8):
        lines += [f"out{i}:", f"\techo target{i} > $@"]
    with open(os.path.join(workdir, "Makefile"), "w") as f:
        f.write("\n".join(lines) + "\n")
    if shutil.which("make") is None:
        pytest.fail("make is not installed: run ./setup/install.sh")
    _same(["sh", "-c", "make -s -j2 && make -s -j2 && rm out*"], workdir)


def test_pipeline_with_background_jobs(workdir):
    script = "(sleep 0.2; echo late) & (echo early) & wait; seq 1 2000 | grep 7 | sort -r | head -3; echo done"
    res = _same(["sh", "-c", script], workdir)
    assert res.stdout.splitlines()[-1] == "done"


def test_fork_50_children(workdir):
    script = textwrap.dedent("""
        import os
        pids = []
        for i in range(50):
            pid = os.fork()
            if pid == 0:
                os._exit(i % 7)
            pids.append(pid)
        print(sum(os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids))
    """)
    res = _same(["python3", "-c", script], workdir)
    assert res.stdout.strip() == str(sum(i % 7 for i in range(50)))


def test_multithreaded_file_io(workdir):
    script = textwrap.dedent("""
        import os, threading, tempfile
        d = tempfile.mkdtemp(dir="/tmp")
        def work(n):
            for i in range(40):
                p = os.path.join(d, f"{n}-{i}")
                with open(p, "w") as f:
                    f.write(str(i))
                os.stat(p)
                os.unlink(p)
        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        print(len(os.listdir(d)), "left")
    """)
    res = _same(["python3", "-c", script], workdir)
    assert res.stdout.strip() == "0 left"


@pytest.mark.parametrize("code", [0, 3, 42])
def test_exit_status_is_the_applications(code, workdir):
    _same(["sh", "-c", f"exit {code}"], workdir)


def test_killed_by_signal_is_128_plus_n(workdir):
    res = run_do(["--", "sh", "-c", "kill -9 $$"])
    assert res.returncode == 137


GETCWD = textwrap.dedent("""
    import errno, os
    here = os.getcwd()
    print(here)
    os.mkdir("gw")
    os.symlink("gw", "gw-link")
    os.chdir("gw-link")
    print(os.getcwd())                    # the directory's path, not the link's
    fd = os.open(os.path.join(here, "gw"), os.O_RDONLY)
    os.chdir("/")
    os.fchdir(fd)
    print(os.getcwd())
    os.rmdir(os.path.join(here, "gw"))
    try:
        os.getcwd()
    except OSError as exc:
        print(errno.errorcode[exc.errno])  # ENOENT, as natively
    os.unlink(os.path.join(here, "gw-link"))
""")


@pytest.mark.parametrize("platform", ["unotify", "ptrace"])
def test_getcwd_runs_on_the_host_and_names_sandbox_paths(platform, workdir, tmp_path):
    """getcwd is not trapped: the application's root is the view (one mount namespace,
    DESIGN.md), so the kernel's own answer is the sandbox path; the audit log, which
    lists every trapped call, must not show it."""
    log = tmp_path / "audit.jsonl"
    res = _same(["python3", "-c", GETCWD], workdir,
                extra=("--platform", platform, "--audit-log", str(log)))
    assert res.stdout == f"{workdir}\n{workdir}/gw\n{workdir}/gw\nENOENT\n"
    calls = [json.loads(line).get("syscall") for line in log.read_text().splitlines()]
    assert "chdir" in calls and "getcwd" not in calls


# the programs' one helper: prints "NAME ok [RESULT]" or "NAME ERRNO"
TRY = textwrap.dedent("""\
    import errno


    def t(name, f):
        try:
            r = f()
            print(name, "ok", "" if r is None else r)
        except OSError as e:
            print(name, errno.errorcode[e.errno])
""")

RELATIVE_AFTER_SETUID = TRY + textwrap.dedent("""
    import errno, os, tempfile
    os.chdir(tempfile.mkdtemp(dir="."))   # natively first, then in the sandbox: apart
    os.chmod(".", 0o755)
    os.mkdir("lock", 0o700)               # uid 1000 cannot search it
    for d in ("lock/w", "lock/w/sub"):
        os.mkdir(d)
        os.chmod(d, 0o777)
    os.symlink("sub", "lock/w/rel")
    os.symlink(os.path.abspath("lock/w/sub"), "lock/w/abs")
    os.chdir("lock/w")
    dfd = os.open("sub", os.O_RDONLY | os.O_DIRECTORY)
    os.mkdir("nox", 0o700)                # root's: uid 1000 will not search it
    nfd = os.open("nox", os.O_RDONLY | os.O_DIRECTORY)
    os.setgroups([])
    os.setresgid(1000, 1000, 1000)
    os.setresuid(1000, 1000, 1000)

    t("create", lambda: os.close(os.open("f", os.O_WRONLY | os.O_CREAT, 0o644)))
    t("stat-dot", lambda: oct(os.stat(".").st_mode & 0o777))
    t("stat-own", lambda: os.stat("f").st_uid)
    t("mkdir", lambda: os.mkdir("d"))
    t("rmdir", lambda: os.rmdir("d"))
    t("dirfd-create", lambda: os.close(os.open("g", os.O_WRONLY | os.O_CREAT, 0o600,
                                               dir_fd=dfd)))
    t("dirfd-stat", lambda: os.stat("g", dir_fd=dfd).st_uid)
    t("relative-symlink", lambda: os.stat("rel/g").st_uid)
    t("absolute-symlink", lambda: os.stat("abs/g").st_uid)
    t("dotdot-locked", lambda: os.stat("../w").st_uid)
    t("dotdot-itself", lambda: oct(os.stat("..").st_mode & 0o777))
    t("dot-in-unsearchable", lambda: os.stat(".", dir_fd=nfd).st_uid)
    t("dotdot-from-unsearchable", lambda: os.stat("..", dir_fd=nfd).st_uid)
    t("fstat-unsearchable", lambda: os.stat(nfd).st_uid)
    t("dotdot-back", lambda: os.stat("sub/../f").st_uid)
    t("listdir", lambda: sorted(os.listdir(".")))
    t("rename", lambda: os.rename("f", "f2"))
    t("rename-dirfd", lambda: os.rename("g", "g2", src_dir_fd=dfd, dst_dir_fd=dfd))
    t("link", lambda: os.link("f2", "f3"))
    t("rename-into-sub", lambda: os.rename("f3", "sub/f3"))
    t("rename-to-absolute", lambda: os.rename("f2", os.path.abspath("f4")))
    t("chdir", lambda: os.chdir("sub"))
    t("dotdot-up", lambda: os.stat("../f2").st_uid)
    t("create-in-new-cwd", lambda: os.close(os.open("h", os.O_WRONLY | os.O_CREAT)))
    t("unlink", lambda: os.unlink("h"))
    t("absolute", lambda: os.stat(os.path.abspath("g2")).st_uid)
    t("listdir-sub", lambda: sorted(os.listdir(".")))
""")


@pytest.mark.parametrize("mode", ["direct", "gofer"])
@pytest.mark.parametrize("platform", ["unotify", "ptrace"])
def test_relative_paths_after_setuid_need_no_search_on_the_cwd_ancestors(
        platform, mode, workdir):
    """Linux starts a relative lookup at the cwd (or dirfd) and checks no search
    permission on its ancestors: a process that chdir'ed and then dropped its
    privileges still works there, and '..' from there goes up without looking further
    up. An absolute path or symlink walks from the root, and a name looked up in a
    directory uid 1000 cannot search is refused, as natively."""
    res = _same(["python3", "-c", RELATIVE_AFTER_SETUID], workdir,
                extra=("--platform", platform, "--file-access", mode))
    lines = res.stdout.splitlines()
    for ok in ("create ok ", "dirfd-create ok ", "relative-symlink ok 1000", "chdir ok ",
               "dotdot-up ok 1000", "create-in-new-cwd ok ", "rename ok ",
               "rename-dirfd ok ", "link ok ", "rename-into-sub ok ",
               "listdir-sub ok ['f3', 'g2']", "dotdot-itself ok 0o700",
               "fstat-unsearchable ok 0"):
        assert ok in lines, res.stdout
    for refused in ("absolute-symlink", "dotdot-locked", "absolute", "rename-to-absolute",
                    "dot-in-unsearchable", "dotdot-from-unsearchable"):
        assert f"{refused} EACCES" in lines, res.stdout


LINK_OBJECTS = TRY + textwrap.dedent("""
    import ctypes, errno, os, tempfile
    libc = ctypes.CDLL(None, use_errno=True)
    AT_FDCWD, AT_SYMLINK_FOLLOW, AT_EMPTY_PATH = -100, 0x400, 0x1000
    os.chdir(tempfile.mkdtemp(dir="."))   # natively first, then in the sandbox: apart
    os.chmod(".", 0o777)

    def linkat(olddir, old, new, flags):
        if libc.linkat(olddir, old.encode(), AT_FDCWD, new.encode(), flags) < 0:
            raise OSError(ctypes.get_errno(), new)

    def via_proc(fd, new, flags=AT_SYMLINK_FOLLOW):
        linkat(AT_FDCWD, f"/proc/self/fd/{fd}", new, flags)

    def content(name):
        with open(name) as f:
            return f.read()

    tmp = os.open(".", os.O_TMPFILE | os.O_RDWR, 0o640)
    os.write(tmp, b"anon")
    t("tmpfile-listed", lambda: sorted(os.listdir(".")))
    t("tmpfile-proc", lambda: via_proc(tmp, "named"))
    t("tmpfile-named", lambda: content("named"))
    t("tmpfile-again", lambda: via_proc(tmp, "named"))
    t("tmpfile-empty-path", lambda: linkat(tmp, "", "named2", AT_EMPTY_PATH))
    t("tmpfile-nlink", lambda: os.fstat(tmp).st_nlink)
    t("empty-path-without-flag", lambda: linkat(tmp, "", "named3", 0))
    t("proc-without-follow", lambda: via_proc(tmp, "named4", 0))
    t("into-missing-dir", lambda: via_proc(tmp, "nodir/x"))
    excl = os.open(".", os.O_TMPFILE | os.O_RDWR | os.O_EXCL, 0o600)
    t("tmpfile-excl", lambda: via_proc(excl, "excl"))
    with open("r1", "w") as f:
        f.write("moved")
    moved = os.open("r1", os.O_RDONLY)
    os.rename("r1", "r2")
    t("renamed", lambda: via_proc(moved, "r3"))
    t("renamed-same", lambda: os.stat("r3").st_ino == os.stat("r2").st_ino)
    gone = os.open("r2", os.O_RDONLY)
    os.unlink("r2")
    os.unlink("r3")
    t("deleted", lambda: via_proc(gone, "back"))
    t("directory", lambda: via_proc(os.open(".", os.O_RDONLY | os.O_DIRECTORY), "dir"))
    t("cwd-empty-path", lambda: linkat(AT_FDCWD, "", "cwd", AT_EMPTY_PATH))
    t("bad-fd", lambda: linkat(999, "", "bad", AT_EMPTY_PATH))
    os.mkdir("pub", 0o777)
    os.chmod("pub", 0o777)
    os.setgroups([])
    os.setresgid(1000, 1000, 1000)
    os.setresuid(1000, 1000, 1000)
    # root's file, mode 0640: protected_hardlinks refuses uid 1000 a link to it
    t("others-file", lambda: via_proc(tmp, "pub/taken"))
    own = os.open("pub", os.O_TMPFILE | os.O_RDWR, 0o600)
    t("own-tmpfile", lambda: via_proc(own, "pub/mine"))
    t("own-owner", lambda: os.stat("pub/mine").st_uid)
    t("listed", lambda: sorted(os.listdir(".")) + sorted(os.listdir("pub")))
""")


@pytest.mark.parametrize("mode", ["direct", "gofer"])
def test_linkat_names_the_object_behind_a_descriptor(mode, workdir):
    """linkat of /proc/self/fd/N (AT_SYMLINK_FOLLOW) or of a descriptor (AT_EMPTY_PATH)
    links the object, not a name read from the link: an O_TMPFILE file (which has
    none), a renamed file; a deleted one, an O_EXCL tmpfile, a directory are refused,
    and uid 1000 gets protected_hardlinks' answer, as natively."""
    res = _same(["python3", "-c", LINK_OBJECTS], workdir, extra=("--file-access", mode))
    lines = res.stdout.splitlines()
    for want in ("tmpfile-proc ok ", "tmpfile-named ok anon", "tmpfile-again EEXIST",
                 "tmpfile-empty-path ok ", "tmpfile-nlink ok 2", "tmpfile-excl ENOENT",
                 "renamed ok ", "renamed-same ok True", "deleted ENOENT",
                 "directory EPERM", "others-file EPERM", "own-tmpfile ok ",
                 "own-owner ok 1000"):
        assert want in lines, res.stdout


ACCESS_REAL_IDS = textwrap.dedent("""
    import ctypes, errno, os, shutil, tempfile
    libc = ctypes.CDLL(None, use_errno=True)
    # under /tmp: every ancestor searchable, so a walk from the root is not refused
    # before the dots are (natively and in the sandbox: each its own)
    top = tempfile.mkdtemp()
    os.chdir(top)
    os.chmod(".", 0o755)
    os.makedirs("c/sub")
    os.makedirs("d/sub")
    for d, mode in (("c", 0o700), ("c/sub", 0o700), ("d", 0o711), ("d/sub", 0o700)):
        os.chmod(d, mode)
    for f in ("x", "c/y", "d/x"):
        open(f, "w").close()
        os.chmod(f, 0o644)
    os.chdir("c")                          # root's, 0700: the real uid cannot search it
    os.setgroups([])
    os.setresgid(1000, 0, 0)               # a set-uid-root program: real ids 1000,
    os.setresuid(1000, 0, 0)               # effective and filesystem ids 0
    for q in ("../x", "./y", "y", ".", "sub/../y", "sub/.", "../d/sub/../x", "../d/x"):
        for flags in (0, 0x200):           # AT_EACCESS: the effective ids instead
            rc = libc.faccessat(-100, q.encode(), os.R_OK, flags)
            print(q, flags, "ok" if rc == 0 else errno.errorcode[ctypes.get_errno()])
    shutil.rmtree(top)
""")


@pytest.mark.parametrize("mode", ["direct", "gofer"])
def test_access_walks_with_the_real_ids_dots_included(mode, workdir):
    """access(2) without AT_EACCESS looks the whole path up as the real uid, '.' and
    '..' included: a set-uid-root caller whose real uid cannot search its cwd, or a
    directory before a '..', is refused, as natively (found in review: the dots were
    checked with the filesystem ids)."""
    res = _same(["python3", "-c", ACCESS_REAL_IDS], workdir, extra=("--file-access", mode))
    lines = res.stdout.splitlines()
    for want in ("../x 0 EACCES", "../x 512 ok", "./y 0 EACCES", "y 0 EACCES", "y 512 ok",
                 "sub/../y 0 EACCES", "../d/sub/../x 0 EACCES", "../d/sub/../x 512 ok"):
        assert want in lines, res.stdout


OWN_PROC_AFTER_SETUID = TRY + textwrap.dedent("""
    import errno, os
    f = os.open("/etc/hostname", os.O_RDONLY)
    r, w = os.pipe()                       # root's, 0600
    os.setgroups([])
    os.setresgid(1000, 1000, 1000)
    os.setresuid(1000, 1000, 1000)         # no exec after: not dumpable, /proc/self root's

    t("listdir", lambda: str(f) in os.listdir("/proc/self/fd"))
    t("readlink", lambda: os.readlink(f"/proc/self/fd/{f}"))
    t("stat", lambda: os.stat(f"/proc/self/fd/{f}").st_size > 0)
    t("lstat", lambda: oct(os.lstat(f"/proc/self/fd/{f}").st_mode))
    t("open", lambda: os.read(os.open(f"/proc/self/fd/{f}", os.O_RDONLY), 2))
    t("dev-fd", lambda: os.stat(f"/dev/fd/{f}").st_size > 0)
    t("fdinfo", lambda: open(f"/proc/self/fdinfo/{f}").read().startswith("pos:"))
    t("thread", lambda: os.readlink(f"/proc/thread-self/fd/{f}"))
    t("task", lambda: os.readlink(f"/proc/{os.getpid()}/task/{os.getpid()}/fd/{f}"))
    t("dotdot", lambda: os.stat("/proc/self/fd/../status").st_size)
    t("cwd", lambda: os.readlink("/proc/self/cwd") == os.getcwd())
    t("exe", lambda: os.path.basename(os.readlink("/proc/self/exe")).startswith("python"))
    t("environ", lambda: len(open("/proc/self/environ", "rb").read()))
    t("init-fd", lambda: os.listdir("/proc/1/fd"))
    t("roots-pipe", lambda: os.open(f"/proc/self/fd/{w}", os.O_WRONLY))
    r2, w2 = os.pipe()                     # its own
    t("own-pipe", lambda: os.write(os.open(f"/proc/self/fd/{w2}", os.O_WRONLY), b"x"))
""")


@pytest.mark.parametrize("mode", ["direct", "gofer"])
@pytest.mark.parametrize("platform", ["unotify", "ptrace"])
def test_own_proc_fd_after_setuid_without_exec(platform, mode, workdir):
    """A process that dropped its ids and did not exec is not dumpable: its /proc/PID
    is root's, yet Linux lets it into its own fd and fdinfo directories and links (by
    thread group, not by ids), not into others' nor its root-only files; reopening a
    pipe through its link checks the pipe's mode against the caller's ids."""
    res = _same(["python3", "-c", OWN_PROC_AFTER_SETUID], workdir,
                extra=("--platform", platform, "--file-access", mode))
    lines = res.stdout.splitlines()
    for want in ("listdir ok True", "readlink ok /etc/hostname", "stat ok True",
                 "open ok b'vm'", "fdinfo ok True", "thread ok /etc/hostname",
                 "task ok /etc/hostname", "cwd ok True", "environ EACCES",
                 "init-fd EACCES", "roots-pipe EACCES", "own-pipe ok 1"):
        assert want in lines, res.stdout


NAMELESS_THROUGH_PROC_FD = TRY + textwrap.dedent("""
    import os, subprocess, tempfile
    path = os.path.join(tempfile.mkdtemp(dir="/tmp"), "f")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.write(fd, b"hi")
    os.unlink(path)
    t("reopen-deleted", lambda: open(f"/proc/self/fd/{fd}").read())
    t("dev-fd-deleted", lambda: open(f"/dev/fd/{fd}", "rb").read())
    t("stat-deleted", lambda: os.stat(f"/proc/self/fd/{fd}").st_size)
    t("write-deleted", lambda: open(f"/proc/self/fd/{fd}", "w").write("again"))
    t("reread", lambda: os.pread(fd, 16, 0))
    os.close(fd)
    t("closed", lambda: os.stat(f"/proc/self/fd/{fd}"))
    m = os.memfd_create("m", 0)
    with open("/bin/true", "rb") as src:
        os.write(m, src.read())
    os.fchmod(m, 0o755)
    t("stat-memfd", lambda: os.stat(f"/dev/fd/{m}").st_size == os.path.getsize("/bin/true"))
    t("exec-memfd", lambda: subprocess.run([f"/proc/self/fd/{m}"], pass_fds=[m]).returncode)
""")


SELF_REEXEC = textwrap.dedent("""
    import os, subprocess, sys
    if sys.argv[1:] == ["child"]:
        print("open", open("/proc/self/exe", "rb").read(4))
        print("stat", os.stat("/proc/self/exe").st_size == os.path.getsize(sys.executable))
        again = subprocess.run(["/proc/self/exe", "-c", "print('again')"],
                               capture_output=True, text=True)
        print("reexec", again.stdout.strip())
        sys.exit(0)
    m = os.memfd_create("py", 0)
    with open(sys.executable, "rb") as src:
        os.sendfile(m, src.fileno(), 0, os.path.getsize(sys.executable))
    sys.stdout.flush()
    os.execve(m, [sys.executable, "-c", SCRIPT, "child"], dict(os.environ))
""")


def test_proc_self_exe_of_a_memfd_program_reopens_it():
    """A program run from a memfd (or deleted since) reads, stats and runs itself again
    through /proc/self/exe, whose text "/memfd:py (deleted)" names nothing."""
    script = SELF_REEXEC.replace("SCRIPT", repr(SELF_REEXEC.replace("SCRIPT", "''")))
    res = run_do(["--", "python3", "-c", script])
    assert res.stdout.splitlines() == ["open b'\\x7fELF'", "stat True", "reexec again"], \
        res.stdout + res.stderr
    assert run_native(["python3", "-c", script]).stdout == res.stdout


def test_proc_fd_link_to_a_nameless_file_reopens_it(workdir):
    """/proc/self/fd/N of a deleted file or a memfd reads "... (deleted)": Linux reopens
    (stats, executes) the object itself, where following the text finds nothing."""
    res = _same(["python3", "-c", NAMELESS_THROUGH_PROC_FD], workdir)
    assert res.stdout.splitlines() == [
        "reopen-deleted ok hi", "dev-fd-deleted ok b'hi'", "stat-deleted ok 2",
        "write-deleted ok 5", "reread ok b'again'", "closed ENOENT", "stat-memfd ok True",
        "exec-memfd ok 0"], res.stdout


MQUEUE = textwrap.dedent("""
    import ctypes, os
    rt = ctypes.CDLL("librt.so.1", use_errno=True)
    rt.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
    q = rt.mq_open(b"/sv-queue", os.O_CREAT | os.O_RDWR, 0o600, None)
    print("mq_open", "ok" if q >= 0 else os.strerror(ctypes.get_errno()))
    print("listed", os.listdir("/dev/mqueue"))
    print("status", open("/dev/mqueue/sv-queue").read().split()[0])
    rt.mq_unlink(b"/sv-queue")
    print("after", os.listdir("/dev/mqueue"))
""")


def test_mq_open_queues_show_in_dev_mqueue():
    """The sandbox's own IPC namespace's queues, at /dev/mqueue as in a container, and
    mq_open allowed by the Landlock rules (its queues lie beneath no directory of the
    view but that mount's)."""
    res = run_do(["--", "python3", "-c", MQUEUE])
    assert res.stdout.splitlines() == ["mq_open ok", "listed ['sv-queue']",
                                       "status QSIZE:0", "after []"], res.stdout + res.stderr


def test_getcwd_is_relative_to_the_sandbox_root(busybox_root):
    # another root: the host's path of that directory must not show through
    res = run_do(["--root", str(busybox_root), "--cwd", "/data", "--",
                  "sh", "-c", "cd /usr/bin && pwd -P && cd /data && pwd -P"])
    assert (res.returncode, res.stdout) == (0, "/usr/bin\n/data\n"), res.stderr


def test_tar_extracts_with_o_path_directory_handles(workdir):
    # GNU tar fixes directory modes through O_PATH descriptors (openat O_PATH|O_NOFOLLOW)
    script = ("mkdir -p src/tree/d1 && echo x > src/tree/d1/f && chmod 750 src/tree/d1 && "
              "tar -C src -cf t.tar tree && mkdir out && tar -C out -xf t.tar && "
              "stat -c '%a %n' out/tree/d1 && cat out/tree/d1/f; rm -rf src out t.tar")
    res = _same(["sh", "-c", script], workdir)
    assert res.stdout == "750 out/tree/d1\nx\n"


def test_open_leaves_the_callers_cpu_affinity_as_it_set_it(workdir):
    # an injected descriptor holds the caller on the sentry's CPU while it is installed
    # (native.c, sv_addfd): the application's own mask is back before open returns
    script = textwrap.dedent("""
        import os
        cpus = sorted(os.sched_getaffinity(0))
        for mask in ({cpus[-1]}, {cpus[0]}, set(cpus)):
            os.sched_setaffinity(0, mask)
            for _ in range(300):
                os.close(os.open("/etc/passwd", os.O_RDONLY))
                got = os.sched_getaffinity(0)
                assert got == mask, (got, mask)
        print("ok", len(cpus))
    """)
    res = _same(["python3", "-c", script], workdir)
    assert res.stdout == f"ok {len(os.sched_getaffinity(0))}\n"
