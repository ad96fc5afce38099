"""WAIT (server/cmd_wait.c) on a server without replicas: 0 at once for 0
replicas or inside MULTI, else 0 after the timeout, an endless wait ended
by CLIENT UNBLOCK, Redis's argument errors; compared with redis-server."""

import threading
import time

import pytest
import redis


def _outcomes(port):
    c = redis.Redis(port=port, socket_timeout=5)
    out = []
    for args in [(0, 0), (0, 100), (-1, 0), (1, 150), (2, 50), ("x", 0), (1, "x"), (1, -1),
                 (1, 1.5)]:
        t = time.time()
        try:
            got = c.execute_command("WAIT", *args)
        except redis.ResponseError as e:
            got = "error: " + str(e)
        out.append((args, got, time.time() - t >= args[1] / 1000 * 0.9
                    if isinstance(args[1], int) and args[0] == 1 and args[1] > 0 else None))
    p = c.pipeline(transaction=True)
    p.execute_command("WAIT", 1, 0)
    p.ping()
    out.append(p.execute())
    blocked = redis.Redis(port=port, socket_timeout=5)
    bid = blocked.client_id()
    for error in (False, True):
        res = []

        def wait_forever():
            try:
                res.append(blocked.execute_command("WAIT", 1, 0))
            except redis.ResponseError as e:
                res.append("error: " + str(e))

        th = threading.Thread(target=wait_forever)
        th.start()
        deadline = time.time() + 5
        while c.info("clients")["blocked_clients"] != 1 and time.time() < deadline:
            time.sleep(0.01)
        out.append(c.client_unblock(bid, error=error))
        th.join(5)
        out.append(res)
    out.append(c.execute_command("COMMAND", "INFO", "wait"))
    return out


def test_wait_without_replicas(server, reference):
    mine = _outcomes(server.port)
    assert mine[0] == ((0, 0), 0, None)
    assert mine[3] == ((1, 150), 0, True)
    assert mine[9] == [0, True]
    assert mine[11] == [0]
    if reference is None:
        pytest.skip("redis-server not installed")
    ref_port = reference.connection_pool.connection_kwargs["port"]
    assert mine == _outcomes(ref_port)
