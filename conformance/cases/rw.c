/* rw family: read/write, pread/pwrite, vectored I/O, sendfile, splice, sync. */
#include "common.h"
#include <sys/sendfile.h>
#include <sys/uio.h>

static int rw_file(const char *content)
{
    put("f", content);
    return MUST(open("f", O_RDWR));
}

CASE(read_basic_eof, "read")
{
    int fd = rw_file("hello");
    char buf[16] = {0};
    R(read(fd, buf, 3));
    R(read(fd, buf + 3, 10));
    R(read(fd, buf, 10));
    out("  buf=%s\n", buf);
    R(read(fd, buf, 0));
}

CASE(read_errors, "read")
{
    char buf[4];
    R(read(-1, buf, 1));
    int wo = MUST(open("w", O_CREAT | O_WRONLY, 0644));
    R(read(wo, buf, 1));
    int d = MUST(open(".", O_RDONLY));
    R(read(d, buf, 1));
    int fd = rw_file("x");
    R(read(fd, NULL, 1));
}

CASE(write_basic, "write")
{
    int fd = MUST(open("f", O_CREAT | O_WRONLY, 0644));
    R(write(fd, "abc", 3));
    R(write(fd, "", 0));
    R(lseek(fd, 10, SEEK_SET));
    R(write(fd, "z", 1));
    close(fd);
    show_lstat("f");
    int ro = MUST(open("f", O_RDONLY));
    R(write(ro, "x", 1));
    R(write(ro, NULL, 1));
}

CASE(write_closed_pipe_epipe, "write pipe2")
{
    signal(SIGPIPE, SIG_IGN);
    int p[2];
    MUST(pipe(p));
    close(p[0]);
    R(write(p[1], "x", 1));
}

CASE(pread64_no_offset_change, "pread64")
{
    int fd = rw_file("0123456789");
    char buf[8] = {0};
    R(pread(fd, buf, 4, 3));
    out("  buf=%s\n", buf);
    R(lseek(fd, 0, SEEK_CUR));
    R(pread(fd, buf, 4, 100));
    R(pread(fd, buf, 4, -1));
}

CASE(pwrite64_basic, "pwrite64")
{
    int fd = rw_file("aaaaaaaa");
    R(pwrite(fd, "BB", 2, 3));
    R(lseek(fd, 0, SEEK_CUR));
    R(pwrite(fd, "Z", 1, 12));
    show_lstat("f");
    int p[2];
    MUST(pipe(p));
    R(pwrite(p[1], "x", 1, 0));
}

CASE(pwrite64_append_ignores_offset, "pwrite64")
{
    put("f", "abc");
    int fd = MUST(open("f", O_WRONLY | O_APPEND));
    R(pwrite(fd, "Z", 1, 0));
    close(fd);
    show_file("f");
}

CASE(readv_scatter, "readv")
{
    int fd = rw_file("abcdefghij");
    char a[4] = {0}, b[8] = {0};
    struct iovec iov[2] = {{a, 3}, {b, 7}};
    R(readv(fd, iov, 2));
    out("  a=%s b=%s\n", a, b);
    R(readv(fd, iov, -1));
    R(readv(fd, iov, 0));
}

CASE(writev_gather, "writev")
{
    int fd = MUST(open("f", O_CREAT | O_WRONLY, 0644));
    struct iovec iov[3] = {{"one ", 4}, {"", 0}, {"two", 3}};
    R(writev(fd, iov, 3));
    close(fd);
    show_file("f");
}

CASE(preadv_offset, "preadv")
{
    int fd = rw_file("0123456789");
    char a[3] = {0}, b[3] = {0};
    struct iovec iov[2] = {{a, 2}, {b, 2}};
    R(preadv(fd, iov, 2, 5));
    out("  a=%s b=%s\n", a, b);
    R(lseek(fd, 0, SEEK_CUR));
}

CASE(pwritev_offset, "pwritev")
{
    int fd = rw_file("..........");
    struct iovec iov[2] = {{"AB", 2}, {"CD", 2}};
    R(pwritev(fd, iov, 2, 4));
    close(fd);
    show_file("f");
}

CASE(preadv2_current_offset, "preadv2")
{
    int fd = rw_file("0123456789");
    char a[4] = {0};
    struct iovec iov = {a, 3};
    lseek(fd, 2, SEEK_SET);
    R(preadv2(fd, &iov, 1, -1, 0));
    out("  a=%s\n", a);
    R(lseek(fd, 0, SEEK_CUR));
    R(preadv2(fd, &iov, 1, 0, 0x1000));
}

CASE(pwritev2_append_flag, "pwritev2")
{
    int fd = rw_file("abc");
    struct iovec iov = {"Z", 1};
    long r = pwritev2(fd, &iov, 1, 0, RWF_APPEND);
    out("pwritev2(RWF_APPEND) = %s\n", r < 0 ? errname(errno) : "1");
    close(fd);
    show_file("f");
}

CASE(sendfile_file_to_file, "sendfile")
{
    put("src", "0123456789");
    int in = MUST(open("src", O_RDONLY));
    int o = MUST(open("dst", O_CREAT | O_WRONLY, 0644));
    off_t off = 2;
    R(sendfile(o, in, &off, 5));
    out("  off=%ld\n", (long)off);
    R(sendfile(o, in, NULL, 3));
    close(o);
    show_file("dst");
}

CASE(splice_pipe_to_file, "splice pipe2")
{
    int p[2];
    MUST(pipe(p));
    write(p[1], "spliced!", 8);
    int o = MUST(open("out", O_CREAT | O_WRONLY, 0644));
    R(splice(p[0], NULL, o, NULL, 8, 0));
    R(splice(o, NULL, o, NULL, 8, 0));
    close(o);
    show_file("out");
}

CASE(tee_duplicates_pipe, "tee")
{
    int a[2], b[2];
    MUST(pipe(a));
    MUST(pipe(b));
    write(a[1], "teedata", 7);
    R(tee(a[0], b[1], 7, 0));
    char buf[8] = {0};
    R(read(b[0], buf, 7));
    out("  copy=%s\n", buf);
    R(read(a[0], buf, 7));
    R(tee(a[0], a[1], 1, 0));
}

CASE(vmsplice_to_pipe, "vmsplice")
{
    int p[2];
    MUST(pipe(p));
    static char data[] = "from memory";
    struct iovec iov = {data, 11};
    R(vmsplice(p[1], &iov, 1, 0));
    char buf[16] = {0};
    R(read(p[0], buf, 15));
    out("  %s\n", buf);
}

CASE(copy_file_range_basic, "copy_file_range")
{
    put("src", "abcdefgh");
    int in = MUST(open("src", O_RDONLY));
    int o = MUST(open("dst", O_CREAT | O_WRONLY, 0644));
    loff_t off_in = 2;
    R(copy_file_range(in, &off_in, o, NULL, 4, 0));
    out("  off_in=%ld\n", (long)off_in);
    R(copy_file_range(in, NULL, o, NULL, 4, 1));
    close(o);
    show_file("dst");
}

CASE(fsync_kinds, "fsync fdatasync")
{
    int fd = rw_file("x");
    R(fsync(fd));
    R(fdatasync(fd));
    R(fsync(-1));
    int p[2];
    MUST(pipe(p));
    R(fsync(p[0]));
}

CASE(sync_syncfs, "sync syncfs")
{
    int fd = rw_file("x");
    sync();
    out("sync done\n");
    R(syncfs(fd));
    R(syncfs(-1));
}

CASE(sync_file_range_flags, "sync_file_range")
{
    int fd = rw_file("data");
    R(sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
    R(sync_file_range(fd, -1, 0, 0));
    R(sync_file_range(fd, 0, 0, 0x100));
}

CASE(fadvise64_advice, "fadvise64")
{
    int fd = rw_file("data");
    R(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL));
    R(posix_fadvise(fd, 0, 0, 99));
    int p[2];
    MUST(pipe(p));
    R(posix_fadvise(p[0], 0, 0, POSIX_FADV_NORMAL));
}

CASE(readahead_file_and_pipe, "readahead")
{
    int fd = rw_file("data");
    R(readahead(fd, 0, 4096));
    int p[2];
    MUST(pipe(p));
    R(readahead(p[0], 0, 4096));
}
