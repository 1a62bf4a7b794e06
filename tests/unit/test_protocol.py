"""The gofer protocol: every message round-trips; garbage is refused, never crashes."""


import pytest
from hypothesis import given, settings, strategies as st

from gofer import protocol as p

names = st.binary(min_size=1, max_size=40).filter(
    lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b".."))
paths = st.lists(names, max_size=6).map(tuple)
creds = st.builds(p.Creds, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1),
                  st.lists(st.integers(0, 2**32 - 1), max_size=4).map(tuple),
                  st.integers(0, 2**64 - 1))
KIND_STRATEGIES = {
    p.U8: st.integers(0, 255), p.U32: st.integers(0, 2**32 - 1),
    p.I32: st.integers(-2**31, 2**31 - 1), p.U64: st.integers(0, 2**64 - 1),
    p.I64: st.integers(-2**63, 2**63 - 1), p.BYTES: st.binary(max_size=200),
    p.PATH: paths, "creds": creds,
    p.FD: st.just(-1),   # travels beside the message, decoded as -1 (test_link_fd.py)
}


def message_strategy(cls):
    return st.builds(cls, *[KIND_STRATEGIES[kind] for _name, kind in cls.KINDS])


ALL = sorted(p.all_messages().items())


def test_message_ids_are_unique_and_explicit():
    ids = [msg_id for msg_id, _ in ALL]
    assert len(ids) == len(set(ids))
    assert {int(m) for m in p.MsgId} == set(ids)


@pytest.mark.parametrize("msg_id,cls", ALL, ids=[c.__name__ for _, c in ALL])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_message_round_trips(msg_id, cls, data):
    msg = data.draw(message_strategy(cls))
    raw = p.encode(msg)
    assert raw[:2] == msg_id.to_bytes(2, "little")
    assert p.decode(raw) == msg


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_decode_garbage_raises_protocol_error_only(raw):
    try:
        p.decode(raw)
    except p.ProtocolError:
        pass


@pytest.mark.parametrize("bad", [b"", b".", b"..", b"a/b", b"a\0b", b"x" * 256])
def test_decode_refuses_bad_names(bad):
    # a Mkdir forged by hand: header, creds, a path of the one name `bad`, mode
    empty = p.encode(p.Mkdir(p.Creds(), (), 0o755))
    prefix, mode = empty[:-6], empty[-4:]
    forged = prefix + (1).to_bytes(2, "little") + len(bad).to_bytes(2, "little") + bad + mode
    with pytest.raises(p.ProtocolError):
        p.decode(forged)


def test_decode_refuses_trailing_bytes():
    with pytest.raises(p.ProtocolError):
        p.decode(p.encode(p.ROk()) + b"x")


def test_decode_refuses_unknown_id():
    with pytest.raises(p.ProtocolError):
        p.decode((9999).to_bytes(2, "little"))


def test_every_request_carries_credentials():
    for msg_id, cls in ALL:
        if cls in (p.AtBase, p.AtBases):
            # a wrapper: the request it carries has them (and is decoded as one)
            assert cls.KINDS[-1] == ("inner", p.BYTES)
            assert all(kind == p.U32 for _name, kind in cls.KINDS[:-1]), cls.__name__
        elif msg_id < p.MsgId.R_OK:
            assert cls.KINDS[0] == ("creds", "creds"), cls.__name__
        # immutable, and only the declared fields
        assert issubclass(cls, tuple) and cls._fields == tuple(n for n, _ in cls.KINDS)
        assert not hasattr(cls(*[None] * len(cls.KINDS)), "__dict__")


def test_messages_of_different_types_never_compare_equal():
    path = (b"a",)
    assert p.Stat(p.Creds(), path, 1) != p.Unlink(p.Creds(), path, 1)
    assert p.Stat(p.Creds(), path, 1) == p.Stat(p.Creds(), path, 1)
    assert len({p.Stat(p.Creds(), path, 1), p.Stat(p.Creds(), path, 1)}) == 1
