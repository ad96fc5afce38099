"""Pub/sub (server/pubsub.c): delivery to channel, pattern and shard
subscribers, RESP2 subscribed-mode restrictions, RESP3 pushes, PUBSUB
introspection, cleanup on disconnect, and the pubsub output-buffer limit."""

import time

from lodis_testlib import ErrorReply, RawConn, RespNull, RespPush


class Conn(RawConn):
    def call(self, *args):
        self.send_command(*args)
        return self.read_reply()


def test_publish_reaches_channel_and_pattern_subscribers(server, r):
    with Conn(server.port) as a, Conn(server.port) as b:
        assert a.call("SUBSCRIBE", "news", "sport") == [b"subscribe", b"news", 1]
        assert a.read_reply() == [b"subscribe", b"sport", 2]
        assert b.call("PSUBSCRIBE", "n*") == [b"psubscribe", b"n*", 1]
        assert r.publish("news", "hello") == 2
        assert a.read_reply() == [b"message", b"news", b"hello"]
        assert b.read_reply() == [b"pmessage", b"n*", b"news", b"hello"]
        assert r.publish("nothing-here", "x") == 1      # pattern only
        assert b.read_reply() == [b"pmessage", b"n*", b"nothing-here", b"x"]
        assert r.publish("other", "x") == 0
        assert r.pubsub_numsub("news", "zzz") == [(b"news", 1), (b"zzz", 0)]
        assert r.pubsub_numpat() == 1
        assert sorted(r.pubsub_channels()) == [b"news", b"sport"]
        assert r.pubsub_channels("s*") == [b"sport"]


def test_resp2_subscribed_mode_restrictions(server):
    with Conn(server.port) as a:
        a.call("SUBSCRIBE", "c")
        err = a.call("GET", "k")
        assert err == ErrorReply(
            "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
            "RESET are allowed in this context")
        assert a.call("PING") == [b"pong", b""]
        assert a.call("UNSUBSCRIBE") == [b"unsubscribe", b"c", 0]
        assert a.call("SET", "k", "v") == b"OK"        # out of subscribed mode


def test_resp3_push_messages_and_normal_commands(server, r):
    with Conn(server.port) as a:
        a.call("HELLO", "3")
        sub = a.call("SUBSCRIBE", "c")
        assert isinstance(sub, RespPush) and sub == [b"subscribe", b"c", 1]
        assert a.call("SET", "k", "v") == b"OK"
        r.publish("c", "m")
        msg = a.read_reply()
        assert isinstance(msg, RespPush) and msg == [b"message", b"c", b"m"]
        un = a.call("PUNSUBSCRIBE")
        assert un[0] == b"punsubscribe" and isinstance(un[1], RespNull) and un[2] == 1


def test_shard_channels(server, r):
    with Conn(server.port) as a:
        assert a.call("SSUBSCRIBE", "s1") == [b"ssubscribe", b"s1", 1]
        assert r.execute_command("SPUBLISH", "s1", "m") == 1
        assert a.read_reply() == [b"smessage", b"s1", b"m"]
        assert r.publish("s1", "plain") == 0            # separate name space
        assert r.execute_command("PUBSUB", "SHARDCHANNELS") == [b"s1"]
        assert r.execute_command("PUBSUB", "SHARDNUMSUB", "s1") == [b"s1", 1]


def test_disconnect_and_reset_drop_subscriptions(server, r):
    a = Conn(server.port)
    a.call("SUBSCRIBE", "gone")
    a.call("PSUBSCRIBE", "g*")
    a.close()
    for _ in range(50):
        if r.pubsub_numsub("gone") == [(b"gone", 0)] and r.pubsub_numpat() == 0:
            break
        time.sleep(0.02)
    assert r.pubsub_numsub("gone") == [(b"gone", 0)] and r.pubsub_numpat() == 0
    with Conn(server.port) as b:
        b.call("SUBSCRIBE", "x")
        assert b.call("RESET") == b"RESET"
        assert r.pubsub_numsub("x") == [(b"x", 0)]
        assert b.call("GET", "nokey").kind == "$"


def test_slow_subscriber_is_disconnected(server, r):
    r.config_set("client-output-buffer-limit", "pubsub 65536 0 0")
    slow = Conn(server.port)
    slow.sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_RCVBUF, 4096)
    slow.call("SUBSCRIBE", "flood")
    payload = "x" * 10000
    for _ in range(400):
        r.publish("flood", payload)
        if r.pubsub_numsub("flood") == [(b"flood", 0)]:
            break
    deadline = time.time() + 5
    while time.time() < deadline and r.pubsub_numsub("flood") != [(b"flood", 0)]:
        r.publish("flood", payload)
        time.sleep(0.01)
    assert r.pubsub_numsub("flood") == [(b"flood", 0)]
    slow.close()
