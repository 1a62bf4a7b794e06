/* xattr family: set/get/list/remove on paths, links and descriptors (user.* namespace). */
#include "common.h"
#include <sys/xattr.h>

/* Sorted, so the listing order of the filesystem does not matter. */
static void show_list(const char *label, const char *buf, long n)
{
    const char *names[32];
    int k = 0;
    for (long i = 0; i < n && k < 32; i += strlen(buf + i) + 1)
        names[k++] = buf + i;
    qsort(names, k, sizeof *names, name_cmp);
    out("  %s:", label);
    for (int i = 0; i < k; i++)
        out(" %s", names[i]);
    out("\n");
}

CASE(setxattr_getxattr_roundtrip, "setxattr getxattr")
{
    put("f", "");
    R(setxattr("f", "user.color", "blue", 4, 0));
    char buf[32] = {0};
    R(getxattr("f", "user.color", buf, sizeof buf));
    out("  value=%s\n", buf);
    R(getxattr("f", "user.color", NULL, 0));
    R(getxattr("f", "user.color", buf, 2));
    R(getxattr("f", "user.none", buf, sizeof buf));
}

CASE(setxattr_create_replace_flags, "setxattr")
{
    put("f", "");
    R(setxattr("f", "user.k", "1", 1, XATTR_REPLACE));
    R(setxattr("f", "user.k", "1", 1, XATTR_CREATE));
    R(setxattr("f", "user.k", "2", 1, XATTR_CREATE));
    R(setxattr("f", "user.k", "3", 1, XATTR_REPLACE));
    char v = 0;
    R(getxattr("f", "user.k", &v, 1));
    out("  value=%c\n", v);
    R(setxattr("f", "user.k", "3", 1, 0x10));
}

CASE(setxattr_bad_names, "setxattr")
{
    put("f", "");
    R(setxattr("f", "nonamespace", "v", 1, 0));
    R(setxattr("f", "bogus.name", "v", 1, 0));
    R(setxattr("f", "", "v", 1, 0));
    R(setxattr("missing", "user.x", "v", 1, 0));
}

CASE(setxattr_empty_value, "setxattr getxattr")
{
    put("f", "");
    R(setxattr("f", "user.empty", "", 0, 0));
    char buf[4];
    R(getxattr("f", "user.empty", buf, sizeof buf));
}

CASE(listxattr_sorted, "listxattr")
{
    put("f", "");
    setxattr("f", "user.b", "2", 1, 0);
    setxattr("f", "user.a", "1", 1, 0);
    char buf[256];
    long n = R(listxattr("f", buf, sizeof buf));
    show_list("names", buf, n);
    R(listxattr("f", NULL, 0));
    R(listxattr("f", buf, 3));
}

CASE(removexattr_basic, "removexattr")
{
    put("f", "");
    setxattr("f", "user.gone", "x", 1, 0);
    R(removexattr("f", "user.gone"));
    R(removexattr("f", "user.gone"));
    char buf[64];
    R(listxattr("f", buf, sizeof buf));
}

CASE(lsetxattr_on_symlink, "lsetxattr lgetxattr")
{
    put("f", "");
    symlink("f", "l");
    R(lsetxattr("l", "user.x", "v", 1, 0));
    R(lsetxattr("l", "trusted.x", "v", 1, 0) == 0);
    char buf[8] = {0};
    R(lgetxattr("l", "trusted.x", buf, sizeof buf));
    R(lgetxattr("l", "user.x", buf, sizeof buf));
    R(setxattr("l", "user.via_link", "v", 1, 0));
    R(getxattr("f", "user.via_link", buf, sizeof buf));
}

CASE(llistxattr_lremovexattr, "llistxattr lremovexattr")
{
    put("f", "");
    setxattr("f", "user.one", "1", 1, 0);
    symlink("f", "l");
    char buf[128];
    R(llistxattr("l", buf, sizeof buf) >= 0);
    R(lremovexattr("l", "user.one"));
    long n = R(listxattr("l", buf, sizeof buf));
    show_list("via follow", buf, n);
}

CASE(fsetxattr_fgetxattr, "fsetxattr fgetxattr")
{
    int fd = MUST(open("f", O_CREAT | O_RDWR, 0644));
    R(fsetxattr(fd, "user.fd", "val", 3, 0));
    char buf[8] = {0};
    R(fgetxattr(fd, "user.fd", buf, sizeof buf));
    out("  value=%s\n", buf);
    R(fgetxattr(-1, "user.fd", buf, sizeof buf));
}

CASE(flistxattr_fremovexattr, "flistxattr fremovexattr")
{
    int fd = MUST(open("f", O_CREAT | O_RDWR, 0644));
    fsetxattr(fd, "user.a", "1", 1, 0);
    fsetxattr(fd, "user.b", "2", 1, 0);
    char buf[128];
    long n = R(flistxattr(fd, buf, sizeof buf));
    show_list("names", buf, n);
    R(fremovexattr(fd, "user.a"));
    n = R(flistxattr(fd, buf, sizeof buf));
    show_list("names", buf, n);
}

CASE(getxattr_directory, "getxattr setxattr")
{
    mkdir("d", 0755);
    R(setxattr("d", "user.dir", "yes", 3, 0));
    char buf[8] = {0};
    R(getxattr("d", "user.dir", buf, sizeof buf));
    out("  value=%s\n", buf);
}

CASE(getxattr_large_value, "getxattr setxattr")
{
    put("f", "");
    static char big[4000], back[4000];
    memset(big, 'q', sizeof big);
    R(setxattr("f", "user.big", big, sizeof big, 0));
    R(getxattr("f", "user.big", back, sizeof back));
    out("  equal=%d\n", memcmp(big, back, sizeof big) == 0);
    static char huge[70000];
    R(setxattr("f", "user.huge", huge, sizeof huge, 0));
}
