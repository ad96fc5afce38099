"""Transactions (server/multi.c): MULTI/EXEC/DISCARD, WATCH invalidation by
other clients, by expiry, FLUSHALL and SWAPDB, CLIENT LIST state, RESET, and
the all-or-nothing durability of an EXEC across kill -9."""

import time

import pytest
import redis

from lodis_testlib import RawConn, RespNull


class Conn(RawConn):
    def call(self, *args):
        self.send_command(*args)
        return self.read_reply()


def raw(server):
    return Conn(server.port)


def is_null_array(reply):
    return isinstance(reply, RespNull) and reply.kind == "*"


def test_exec_replies_in_order_and_runtime_errors_do_not_roll_back(r):
    p = r.pipeline(transaction=True)
    p.set("a", "1").incr("a").sadd("a", "x").get("a")
    res = p.execute(raise_on_error=False)
    assert res[0] is True and res[1] == 2 and res[3] == b"2"
    assert isinstance(res[2], redis.ResponseError) and "WRONGTYPE" in str(res[2])


def test_queue_time_errors_abort(server):
    with raw(server) as c:
        assert c.call("MULTI") == b"OK"
        assert c.call("SET", "a", "1") == b"QUEUED"
        assert "unknown command" in c.call("NOSUCH").text
        assert "wrong number" in c.call("GET").text
        assert c.call("EXEC").text.startswith("EXECABORT Transaction discarded")
        assert c.call("EXISTS", "a") == 0


def test_nesting_and_misuse_errors(server):
    with raw(server) as c:
        assert c.call("EXEC").text == "ERR EXEC without MULTI"
        assert c.call("DISCARD").text == "ERR DISCARD without MULTI"
        c.call("MULTI")
        assert c.call("MULTI").text == "ERR MULTI calls can not be nested"
        assert c.call("WATCH", "x").text == "ERR WATCH inside MULTI is not allowed"
        assert c.call("PING") == b"QUEUED"
        assert c.call("EXEC") == [b"PONG"]


@pytest.mark.parametrize("action", ["set", "del", "expire0", "flushall", "flushdb", "swapdb",
                                    "rename", "incr_other_db_no"])
def test_watch_invalidated_by_other_client(server, action):
    r = server.client()
    other = server.client()
    r.set("w", "1")
    r.set("w2", "1")
    with raw(server) as c:
        assert c.call("WATCH", "w") == b"OK"
        if action == "set":
            other.set("w", "2")
        elif action == "del":
            other.delete("w")
        elif action == "expire0":
            other.pexpire("w", 1)
            time.sleep(0.05)
            other.get("w")          # lazy expiry deletes it
        elif action == "flushall":
            other.flushall()
        elif action == "flushdb":
            other.flushdb()
        elif action == "swapdb":
            other.swapdb(0, 1)
        elif action == "rename":
            other.rename("w", "w3")
        elif action == "incr_other_db_no":
            server.client(db=1).set("w", "x")   # same name, other db: no effect
        c.call("MULTI")
        c.call("SET", "res", "done")
        reply = c.call("EXEC")
        if action == "incr_other_db_no":
            assert reply == [b"OK"]
        else:
            assert is_null_array(reply), reply
            assert r.get("res") is None


def test_watch_other_key_and_unwatch_do_not_fail(server):
    other = server.client()
    with raw(server) as c:
        c.call("WATCH", "a", "b")
        other.set("c", "1")
        c.call("MULTI")
        c.call("PING")
        assert c.call("EXEC") == [b"PONG"]
        c.call("WATCH", "a")
        other.set("a", "1")
        assert c.call("UNWATCH") == b"OK"
        c.call("MULTI")
        c.call("PING")
        assert c.call("EXEC") == [b"PONG"]


def test_flushall_of_absent_watched_key_does_not_fail(server):
    other = server.client()
    other.set("unrelated", "1")
    with raw(server) as c:
        c.call("WATCH", "absent")
        other.flushall()
        c.call("MULTI")
        c.call("PING")
        assert c.call("EXEC") == [b"PONG"]


def test_watched_key_expiring_before_exec_fails_exec(server):
    r = server.client()
    r.set("e", "v", px=100)
    with raw(server) as c:
        c.call("WATCH", "e")
        time.sleep(0.3)                   # nobody touches it: it just expires
        c.call("MULTI")
        c.call("PING")
        reply = c.call("EXEC")
        assert is_null_array(reply), reply


def test_own_write_before_multi_invalidates(server):
    with raw(server) as c:
        c.call("WATCH", "k")
        c.call("SET", "k", "mine")
        c.call("MULTI")
        c.call("PING")
        reply = c.call("EXEC")
        assert is_null_array(reply), reply


def test_client_list_shows_multi_state_and_reset_discards(server):
    r = server.client()
    with raw(server) as c:
        c.call("CLIENT", "SETNAME", "tx")
        c.call("MULTI")
        c.call("SET", "a", "1")
        c.call("SET", "b", "1")
        line = [l for l in r.client_list() if l["name"] == "tx"][0]
        assert "x" in line["flags"] and line["multi"] == "2"
        assert c.call("RESET") == b"RESET"
        assert c.call("EXEC").text == "ERR EXEC without MULTI"
        assert r.exists("a") == 0


def test_watch_state_freed_on_disconnect(server):
    r = server.client()
    for _ in range(50):
        with raw(server) as c:
            c.call("WATCH", "k1", "k2")
            c.call("MULTI")
            c.call("SET", "k1", "x")
    r.set("k1", "y")     # touches keys whose watchers are gone
    assert r.get("k1") == b"y"


def test_exec_is_all_or_nothing_across_kill9(server_factory):
    """EXEC runs every queued command inside one event-loop tick, and all of a
    tick's writes are one WAL record, committed (fdatasync'd with
    appendfsync always) before any reply of the tick is written. So once the
    client has EXEC's reply, the whole transaction is on disk; and a crash
    before that commit loses the whole record: a partially applied
    transaction cannot be replayed because the WAL record is checksummed and
    accepted only whole."""
    server = server_factory(appendfsync="always")
    r = server.client()
    n = 3000
    p = r.pipeline(transaction=True)
    for i in range(n):
        p.set("tx:%d" % i, "v%d" % i)
    p.incr("tx:count")
    res = p.execute()
    assert len(res) == n + 1 and res[-1] == 1
    server.kill9()
    server.start()
    r = server.client()
    assert r.get("tx:count") == b"1"
    got = r.mget(["tx:%d" % i for i in range(n)])
    assert got == [b"v%d" % i for i in range(n)]


def test_exec_during_other_clients_load(server):
    """EXEC's commands run back to back: another client's writes never land
    in the middle of a transaction."""
    r = server.client()
    other = server.client()
    p = r.pipeline(transaction=True)
    for i in range(500):
        p.incr("ctr")
    other.set("ctr", "1000")
    res = p.execute()
    assert res == list(range(1001, 1501))


TRANSFER_LUA = """
local amount = tonumber(ARGV[1])
redis.call('DECRBY', KEYS[1], amount)
redis.call('INCRBY', KEYS[2], amount)
return redis.call('INCR', KEYS[3])
"""


@pytest.mark.lodis_only
def test_transfers_by_exec_and_script_survive_kill9(server_factory):
    """A crash in the middle of a stream of transfers (half of them
    MULTI/EXEC, half Lua scripts) leaves every invariant: the total is
    unchanged, and the operation counter, written by each transfer, holds
    every acknowledged transfer and at most the ones in flight besides."""
    import threading
    server = server_factory(appendfsync="always")
    r = server.client()
    accounts = ["acct:{%d}" % i for i in range(20)]
    r.mset({a: 1000 for a in accounts})
    sha = r.script_load(TRANSFER_LUA)
    acked = [0, 0]  # per worker
    stop = threading.Event()

    def worker(w):
        c = server.client()
        i = 0
        try:
            while not stop.is_set():
                a, b = accounts[(i * 7 + w) % 20], accounts[(i * 3 + w + 1) % 20]
                if i % 2:
                    p = c.pipeline(transaction=True)
                    p.decrby(a, 3)
                    p.incrby(b, 3)
                    p.incr("ops")
                    p.execute()
                else:
                    c.evalsha(sha, 3, a, b, "ops", 3)
                acked[w] += 1
                i += 1
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            pass  # the crash

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(2)]
    for t in threads:
        t.start()
    deadline = time.time() + 20
    while sum(acked) < 400 and time.time() < deadline:
        time.sleep(0.01)
    server.kill9()
    stop.set()
    for t in threads:
        t.join(10)
    assert sum(acked) >= 400, "transfers too slow to test a crash mid-stream"
    server.start()
    r = server.client()
    values = [int(v) for v in r.mget(accounts)]
    assert sum(values) == 20 * 1000
    ops = int(r.get("ops"))
    assert sum(acked) <= ops <= sum(acked) + len(threads)
