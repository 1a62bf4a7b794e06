/* inotify family: init, watches and the events they deliver. */
#include "common.h"
#include <sys/inotify.h>

/* Read whatever is queued and print mask names and file names (cookies vary). */
static void drain(int fd)
{
    char buf[4096] __attribute__((aligned(8)));
    long n = read(fd, buf, sizeof buf);
    if (n < 0) {
        out("  read: %s\n", errname(errno));
        return;
    }
    for (long off = 0; off < n;) {
        struct inotify_event *ev = (struct inotify_event *)(buf + off);
        static const struct { uint32_t bit; const char *name; } bits[] = {
            {IN_ACCESS, "ACCESS"}, {IN_MODIFY, "MODIFY"}, {IN_ATTRIB, "ATTRIB"},
            {IN_CLOSE_WRITE, "CLOSE_WRITE"}, {IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"},
            {IN_OPEN, "OPEN"}, {IN_MOVED_FROM, "MOVED_FROM"}, {IN_MOVED_TO, "MOVED_TO"},
            {IN_CREATE, "CREATE"}, {IN_DELETE, "DELETE"}, {IN_DELETE_SELF, "DELETE_SELF"},
            {IN_MOVE_SELF, "MOVE_SELF"}, {IN_IGNORED, "IGNORED"}, {IN_ISDIR, "ISDIR"}};
        out("  event wd=%d", ev->wd);
        for (unsigned i = 0; i < sizeof bits / sizeof *bits; i++)
            if (ev->mask & bits[i].bit)
                out(" %s", bits[i].name);
        out(" name=%s\n", ev->len ? ev->name : "");
        off += sizeof *ev + ev->len;
    }
}

CASE(inotify_init1_flags, "inotify_init1 inotify_init")
{
    int fd = R(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    R(fcntl(fd, F_GETFD));
    drain(fd);
    R(inotify_init1(0x1));
    R(SC(SYS_inotify_init) >= 0);
}

CASE(inotify_add_watch_create_delete, "inotify_add_watch")
{
    int fd = MUST(inotify_init1(IN_NONBLOCK));
    mkdir("d", 0755);
    R(inotify_add_watch(fd, "d", IN_CREATE | IN_DELETE));
    put("d/f", "");
    mkdir("d/sub", 0755);
    unlink("d/f");
    drain(fd);
}

CASE(inotify_add_watch_modify_close, "inotify_add_watch")
{
    int fd = MUST(inotify_init1(IN_NONBLOCK));
    put("f", "");
    R(inotify_add_watch(fd, "f", IN_MODIFY | IN_CLOSE_WRITE | IN_OPEN));
    int w = MUST(open("f", O_WRONLY));
    write(w, "x", 1);
    close(w);
    drain(fd);
}

CASE(inotify_add_watch_moves, "inotify_add_watch rename")
{
    int fd = MUST(inotify_init1(IN_NONBLOCK));
    mkdir("d", 0755);
    put("d/a", "");
    R(inotify_add_watch(fd, "d", IN_MOVED_FROM | IN_MOVED_TO));
    rename("d/a", "d/b");
    drain(fd);
}

CASE(inotify_add_watch_errors, "inotify_add_watch")
{
    int fd = MUST(inotify_init1(0));
    R(inotify_add_watch(fd, "missing", IN_ALL_EVENTS));
    R(inotify_add_watch(fd, ".", 0));
    put("f", "");
    R(inotify_add_watch(fd, "f", IN_ALL_EVENTS | IN_ONLYDIR));
    int plain = MUST(open("f", O_RDONLY));
    R(inotify_add_watch(plain, ".", IN_ALL_EVENTS));
}

CASE(inotify_add_watch_same_inode, "inotify_add_watch")
{
    int fd = MUST(inotify_init1(0));
    put("f", "");
    link("f", "g");
    R(inotify_add_watch(fd, "f", IN_MODIFY));
    R(inotify_add_watch(fd, "g", IN_ATTRIB));
    symlink("f", "l");
    R(inotify_add_watch(fd, "l", IN_MODIFY));
    R(inotify_add_watch(fd, "l", IN_MODIFY | IN_DONT_FOLLOW));
}

CASE(inotify_rm_watch_ignored, "inotify_rm_watch")
{
    int fd = MUST(inotify_init1(IN_NONBLOCK));
    int wd = MUST(inotify_add_watch(fd, ".", IN_CREATE));
    R(inotify_rm_watch(fd, wd));
    drain(fd);
    R(inotify_rm_watch(fd, wd));
    R(inotify_rm_watch(fd, 12345));
}

CASE(inotify_add_watch_delete_self, "inotify_add_watch")
{
    int fd = MUST(inotify_init1(IN_NONBLOCK));
    mkdir("d", 0755);
    R(inotify_add_watch(fd, "d", IN_DELETE_SELF));
    rmdir("d");
    drain(fd);
}

CASE(inotify_add_watch_attrib, "inotify_add_watch chmod")
{
    int fd = MUST(inotify_init1(IN_NONBLOCK));
    put("f", "");
    R(inotify_add_watch(fd, "f", IN_ATTRIB));
    chmod("f", 0600);
    drain(fd);
}
