#!/usr/bin/python3
"""Runs <infinote-test> scenarios through the real libinfinity 0.7 in given delivery orders.

Reads JSON lines {"id", "xml", "orders": [[i, j, ...], ...]} on stdin (orders: 0-based request
indices; an empty order list means file order only) and writes one JSON line per scenario:
{"id", "results": [{"segments": [[author, text], ...], "errors": [...], "carets": [[user, caret,
selection], ...]}, ...]} in the order of "orders", or {"id", "abort": "..."} when libinfinity
aborted the process (g_assert). Each scenario runs in a forked child so that an abort costs only that scenario.

Uses the differential oracle of ../shared/tools/oracle (path in argv[1]), which drives
libinfinity exactly as its own inf-test-text-session.c does.
"""
import json
import os
import sys

sys.path.insert(0, sys.argv[1])
import oracle  # noqa: E402


def run(job):
    """Per order: the text, the errors, and every user's [id, caret, selection] at the end."""
    out = []
    orders = job["orders"] or [None]
    tf = oracle.TestFile(data=job["xml"].encode("utf-8"))
    try:
        for order in orders:
            sess = oracle.Session(tf.users_table_order, tf.initial, None)
            try:
                for i in (range(len(tf.requests)) if order is None else order):
                    sess.receive(tf.requests[i][0])
                carets = sorted([uid, u.get_caret_position(), u.get_selection_length()]
                                for uid, u in sess.users.items())
                out.append({"segments": sess.segments(), "errors": sess.errors, "carets": carets})
            finally:
                sess.close()
    finally:
        tf.close()
    return out


for line in sys.stdin:
    job = json.loads(line)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        # GLib reports a failed g_assert on stdout ("Bail out! ..."), which is our JSON stream:
        # the child's stdout goes to stderr (its result goes through the pipe).
        os.dup2(2, 1)
        try:
            payload = json.dumps({"id": job["id"], "results": run(job)}, ensure_ascii=False)
        except Exception as e:  # noqa: BLE001 - reported to the caller
            payload = json.dumps({"id": job["id"], "abort": "exception: %s" % e})
        with os.fdopen(w, "w", encoding="utf-8") as f:
            f.write(payload)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, encoding="utf-8") as f:
        data = f.read()
    _pid, status = os.waitpid(pid, 0)
    if not data:
        data = json.dumps({"id": job["id"], "abort": "libinfinity aborted (wait status %d)" % status})
    sys.stdout.write(data + "\n")
    sys.stdout.flush()
