"""The gofer protocol: every message, with its explicit numeric id, in one file.

Transport: one SOCK_SEQPACKET message per request and per response; descriptors
travel as SCM_RIGHTS beside R_FD, beside a request's fields of kind FD (LinkFd), and
beside AtBase/AtBases. Ids are append-only: never renumber or reuse one.

A path is a list of names from the sandbox root. Every name is checked on decode
(non-empty, at most NAME_MAX bytes, no '/', no NUL, not '.' or '..'): dots and symlinks
are resolved by the sentry's VFS, never by the gofer, which walks one name at a time
without following symlinks. Every request carries the caller's filesystem credentials,
which the gofer takes on (setfsuid/setfsgid/setgroups) before touching a file.
"""

from __future__ import annotations

import enum
import struct
import collections
from typing import ClassVar, NamedTuple

NAME_MAX = 255
PATH_MAX = 4096
MAX_COMPONENTS = PATH_MAX // 2
MAX_GROUPS = 65536
MAX_DATA = 1 << 16


class ProtocolError(Exception):
    """A message that does not decode: the peer is broken or hostile."""


class MsgId(enum.IntEnum):
    # requests
    WALK_OPEN = 1
    STAT = 2
    STATX = 3
    MKDIR = 4
    MKNOD = 5
    SYMLINK = 6
    LINK = 7
    UNLINK = 8
    RENAME = 9
    CHMOD = 10
    CHOWN = 11
    UTIMENS = 12
    TRUNCATE = 13
    GETXATTR = 14
    LISTXATTR = 15
    SETXATTR = 16
    REMOVEXATTR = 17
    ACCESS = 18
    READLINK = 19
    SHOW_CGROUPS = 20
    # 21 retired (DONATE_ROOT: the root now comes with the gofer's ready message)
    AT_BASE = 22
    AT_BASES = 23
    SEARCH = 24
    LINK_FD = 25
    # responses
    R_OK = 100
    R_ERROR = 101
    R_FD = 102
    R_SYMLINK = 103
    R_DATA = 104


# Field kinds. Fixed-size kinds map to struct codes; the rest are length-prefixed.
U8, U32, I32, U64, I64 = "B", "I", "i", "Q", "q"
BYTES = "bytes"          # u32 length + raw bytes, at most MAX_DATA
NAME = "name"            # u16 length + one checked name
PATH = "path"            # u16 count + names
GROUPS = "groups"        # u32 count + u32 each
# A descriptor: encoded as nothing, it travels as SCM_RIGHTS beside the message (the
# message's own in field order, then any AtBase's). Decoded as -1: the server fills it
# in from what came (gofer.server.Gofer.handle).
FD = "fd"


class Creds(NamedTuple):
    uid: int = 0
    gid: int = 0
    groups: tuple[int, ...] = ()
    # capabilities file access depends on that the caller (fsuid 0) has dropped: the
    # server drops them from its own effective set while it acts for the caller
    drop: int = 0


_REGISTRY: dict[int, type] = {}


def message(msg_id: MsgId, *kinds: str):
    """Register a message class as the message `msg_id` with one kind per field (its
    annotations, in order). The class becomes an immutable named tuple: cheap to build
    per request and at import (a dataclass costs about 1 ms to create)."""
    def wrap(cls):
        names = list(cls.__dict__.get("__annotations__", {}))
        if len(names) != len(kinds):
            raise TypeError(f"{cls.__name__}: {len(names)} fields, {len(kinds)} kinds")
        if msg_id in _REGISTRY:
            raise TypeError(f"message id {msg_id} registered twice")
        base = collections.namedtuple(cls.__name__, names)
        body = {"__slots__": (), "__doc__": cls.__doc__, "__module__": cls.__module__,
                "__qualname__": cls.__qualname__, "ID": msg_id,
                "KINDS": tuple(zip(names, kinds)),
                "FD_FIELDS": tuple(n for n, k in zip(names, kinds) if k == FD)}
        new = type(cls.__name__, (Message, base), body)  # Message first: its __eq__
        _REGISTRY[msg_id] = new
        return new
    return wrap


class Message:
    __slots__ = ()
    ID: ClassVar[MsgId]
    KINDS: ClassVar[tuple[tuple[str, str], ...]]
    FD_FIELDS: ClassVar[tuple[str, ...]]   # its fields of kind FD, in order

    # as tuples, two messages of different types with equal fields would compare equal
    def __eq__(self, other):
        return type(self) is type(other) and tuple.__eq__(self, other)

    def __ne__(self, other):
        return not self == other

    __hash__ = tuple.__hash__


@message(MsgId.WALK_OPEN, "creds", PATH, U8, I32, U32)
class WalkOpen(Message):
    """Open the object at `path` with open(2) `flags` (O_NOFOLLOW is implied for the
    last name unless `follow`); answer R_FD, R_SYMLINK or R_ERROR."""
    creds: Creds
    path: tuple[bytes, ...]
    follow: int
    flags: int
    mode: int


@message(MsgId.STAT, "creds", PATH, U8)
class Stat(Message):
    creds: Creds
    path: tuple[bytes, ...]
    follow: int


@message(MsgId.STATX, "creds", PATH, U8, U32, U32)
class Statx(Message):
    creds: Creds
    path: tuple[bytes, ...]
    follow: int
    sync_flags: int
    mask: int


@message(MsgId.MKDIR, "creds", PATH, U32)
class Mkdir(Message):
    creds: Creds
    path: tuple[bytes, ...]
    mode: int


@message(MsgId.MKNOD, "creds", PATH, U32, U64)
class Mknod(Message):
    creds: Creds
    path: tuple[bytes, ...]
    mode: int
    dev: int


@message(MsgId.SYMLINK, "creds", PATH, BYTES)
class Symlink(Message):
    creds: Creds
    path: tuple[bytes, ...]
    target: bytes


@message(MsgId.LINK, "creds", PATH, PATH)
class Link(Message):
    creds: Creds
    old: tuple[bytes, ...]
    new: tuple[bytes, ...]


@message(MsgId.UNLINK, "creds", PATH, U8)
class Unlink(Message):
    creds: Creds
    path: tuple[bytes, ...]
    rmdir: int


@message(MsgId.RENAME, "creds", PATH, PATH, U32)
class Rename(Message):
    creds: Creds
    old: tuple[bytes, ...]
    new: tuple[bytes, ...]
    flags: int


@message(MsgId.CHMOD, "creds", PATH, U8, U32)
class Chmod(Message):
    creds: Creds
    path: tuple[bytes, ...]
    follow: int
    mode: int


@message(MsgId.CHOWN, "creds", PATH, U8, I64, I64)
class Chown(Message):
    creds: Creds
    path: tuple[bytes, ...]
    follow: int
    uid: int
    gid: int


@message(MsgId.UTIMENS, "creds", PATH, U8, I64, I64, I64, I64)
class Utimens(Message):
    creds: Creds
    path: tuple[bytes, ...]
    follow: int
    atime_sec: int
    atime_nsec: int
    mtime_sec: int
    mtime_nsec: int


@message(MsgId.TRUNCATE, "creds", PATH, I64)
class Truncate(Message):
    creds: Creds
    path: tuple[bytes, ...]
    length: int


@message(MsgId.GETXATTR, "creds", PATH, U8, BYTES)
class Getxattr(Message):
    creds: Creds
    path: tuple[bytes, ...]
    follow: int
    name: bytes


@message(MsgId.LISTXATTR, "creds", PATH, U8)
class Listxattr(Message):
    creds: Creds
    path: tuple[bytes, ...]
    follow: int


@message(MsgId.SETXATTR, "creds", PATH, U8, BYTES, BYTES, U32)
class Setxattr(Message):
    creds: Creds
    path: tuple[bytes, ...]
    follow: int
    name: bytes
    value: bytes
    flags: int


@message(MsgId.REMOVEXATTR, "creds", PATH, U8, BYTES)
class Removexattr(Message):
    creds: Creds
    path: tuple[bytes, ...]
    follow: int
    name: bytes


@message(MsgId.ACCESS, "creds", PATH, U8, U32)
class Access(Message):
    """access(2) with `mode`, checked against the ids in creds (the sentry sends the
    real or the effective ids, as the syscall asks)."""
    creds: Creds
    path: tuple[bytes, ...]
    follow: int
    mode: int


@message(MsgId.READLINK, "creds", PATH)
class Readlink(Message):
    creds: Creds
    path: tuple[bytes, ...]


@message(MsgId.SEARCH, "creds", PATH)
class Search(Message):
    """Whether the caller may look names up in directory `path` (walked as directories,
    a symlink reported): Linux checks that for every lookup in a directory, '.' and
    '..' included, and the VFS resolves dots itself."""
    creds: Creds
    path: tuple[bytes, ...]


@message(MsgId.SHOW_CGROUPS, "creds")
class ShowCgroups(Message):
    """Sent by the sentry itself once the sandbox's sysfs is mounted: mount the
    sandbox's cgroup directories read-only at /sys/fs/cgroup/CONTROLLER."""
    creds: Creds


@message(MsgId.LINK_FD, "creds", PATH, FD)
class LinkFd(Message):
    """Give the object behind descriptor `fd` the new name `path`: linkat(2) of a
    /proc/PID/fd link followed (AT_SYMLINK_FOLLOW) or of a descriptor (AT_EMPTY_PATH),
    such as an O_TMPFILE file's, which has no name to walk."""
    creds: Creds
    path: tuple[bytes, ...]
    fd: int


@message(MsgId.AT_BASE, U32, U32, BYTES)
class AtBase(Message):
    """Request `inner` (encoded), whose path's first `depth` names are the directory
    `up` times '..' from the one that travels beside this message as SCM_RIGHTS (the
    caller's cwd or dirfd): a relative lookup from there needs no search permission on
    its ancestors (gofer.server.Gofer.dispatch_at checks it is the directory those
    names name)."""
    depth: int
    up: int
    inner: bytes


@message(MsgId.AT_BASES, U32, U32, U32, U32, BYTES)
class AtBases(Message):
    """AtBase for a rename or link: a base for each of its two paths (a depth of 0:
    none), their descriptors beside it in that order, one per base."""
    old_depth: int
    old_up: int
    new_depth: int
    new_up: int
    inner: bytes


@message(MsgId.R_OK)
class ROk(Message):
    pass


@message(MsgId.R_ERROR, I32)
class RError(Message):
    errno: int


@message(MsgId.R_FD)
class RFd(Message):
    """The descriptor travels beside the message as SCM_RIGHTS."""


@message(MsgId.R_SYMLINK, U8, U32, BYTES)
class RSymlink(Message):
    """Name `index` of path `which` (0 or 1) is a symlink whose target is `target`."""
    which: int
    index: int
    target: bytes


@message(MsgId.R_DATA, BYTES)
class RData(Message):
    data: bytes


_HDR = struct.Struct("=H")
_U16 = struct.Struct("=H")
_U32 = struct.Struct("=I")
_CRED_HDR = struct.Struct("=IIQI")  # uid, gid, drop, ngroups
_FIXED = {k: struct.Struct("=" + k) for k in (U8, U32, I32, U64, I64)}


def check_name(name: bytes) -> bytes:
    if not name or len(name) > NAME_MAX or b"/" in name or b"\0" in name \
            or name in (b".", b".."):
        raise ProtocolError(f"bad name {name[:64]!r}")
    return name


def encode(msg: Message) -> bytes:
    out = [_HDR.pack(msg.ID)]
    for name, kind in msg.KINDS:
        value = getattr(msg, name)
        if kind in _FIXED:
            out.append(_FIXED[kind].pack(value))
        elif kind == BYTES:
            out.append(_U32.pack(len(value)))
            out.append(value)
        elif kind == PATH:
            out.append(_U16.pack(len(value)))
            for part in value:
                out.append(_U16.pack(len(part)))
                out.append(part)
        elif kind == "creds":
            out.append(_CRED_HDR.pack(value.uid, value.gid, value.drop, len(value.groups)))
            out.append(struct.pack(f"={len(value.groups)}I", *value.groups))
        # FD: nothing in the bytes
    return b"".join(out)


def decode(buf: bytes) -> Message:
    """Decode one message; anything malformed raises ProtocolError, never more."""
    try:
        return _decode(memoryview(buf))
    except (struct.error, ValueError, IndexError) as exc:
        raise ProtocolError(f"malformed message: {exc}") from None


def _decode(view: memoryview) -> Message:
    (msg_id,) = _HDR.unpack_from(view, 0)
    cls = _REGISTRY.get(msg_id)
    if cls is None:
        raise ProtocolError(f"unknown message id {msg_id}")
    off = _HDR.size
    values = []
    for _name, kind in cls.KINDS:
        if kind in _FIXED:
            st = _FIXED[kind]
            values.append(st.unpack_from(view, off)[0])
            off += st.size
        elif kind == BYTES:
            (n,) = _U32.unpack_from(view, off)
            off += 4
            if n > MAX_DATA or off + n > len(view):
                raise ProtocolError("data field out of bounds")
            values.append(bytes(view[off:off + n]))
            off += n
        elif kind == PATH:
            (count,) = _U16.unpack_from(view, off)
            off += 2
            if count > MAX_COMPONENTS:
                raise ProtocolError("path too long")
            parts = []
            for _ in range(count):
                (n,) = _U16.unpack_from(view, off)
                off += 2
                if off + n > len(view):
                    raise ProtocolError("name out of bounds")
                parts.append(check_name(bytes(view[off:off + n])))
                off += n
            values.append(tuple(parts))
        elif kind == "creds":
            uid, gid, drop, ngroups = _CRED_HDR.unpack_from(view, off)
            off += _CRED_HDR.size
            if ngroups > MAX_GROUPS:
                raise ProtocolError("too many groups")
            groups = struct.unpack_from(f"={ngroups}I", view, off)
            off += 4 * ngroups
            values.append(Creds(uid, gid, groups, drop))
        elif kind == FD:
            values.append(-1)   # filled in by the server from the descriptors that came
    if off != len(view):
        raise ProtocolError(f"{len(view) - off} trailing bytes after {cls.__name__}")
    return cls(*values)


def all_messages() -> dict[int, type]:
    return dict(_REGISTRY)
