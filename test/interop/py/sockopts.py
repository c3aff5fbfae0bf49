#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""sockopts.py SERVER_PORT CLIENT_PORT: the TCP keep-alive options of the server's end of a
loopback connection, whichever local process holds it (infinoted, tandemd, ...).

The connection is found in /proc/net/tcp and tcp6 (local port SERVER_PORT, remote port
CLIENT_PORT), its socket inode in /proc/PID/fd, and a duplicate of that descriptor is taken with
pidfd_getfd(2) (Linux 5.6, same user) so that getsockopt can read it. Prints one JSON object:
{"pid", "keepalive", "idle", "interval", "count", "nodelay"}; exits 2 with a message when the
socket or the system calls are not available.
"""

import ctypes
import json
import os
import socket
import sys

SYS_PIDFD_OPEN = 434
SYS_PIDFD_GETFD = 438


def fail(msg):
    sys.stderr.write("sockopts: %s\n" % msg)
    sys.exit(2)


def inode_of(server_port, client_port):
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            local, remote, inode = f[1], f[2], f[9]
            if int(local.rsplit(":", 1)[1], 16) == server_port and int(remote.rsplit(":", 1)[1], 16) == client_port:
                return inode
    return None


def holder_of(inode):
    want = "socket:[%s]" % inode
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir("/proc/%s/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink("/proc/%s/fd/%s" % (pid, fd)) == want:
                    return int(pid), int(fd)
            except OSError:
                continue
    return None


def main():
    server_port, client_port = int(sys.argv[1]), int(sys.argv[2])
    inode = inode_of(server_port, client_port)
    if inode is None:
        fail("no connection from port %d to port %d" % (client_port, server_port))
    holder = holder_of(inode)
    if holder is None:
        fail("no process holds socket inode %s" % inode)
    pid, target = holder
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = libc.syscall(SYS_PIDFD_OPEN, pid, 0)
    if pidfd < 0:
        fail("pidfd_open(%d): %s" % (pid, os.strerror(ctypes.get_errno())))
    fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, target, 0)
    os.close(pidfd)
    if fd < 0:
        fail("pidfd_getfd(%d, %d): %s" % (pid, target, os.strerror(ctypes.get_errno())))
    s = socket.socket(fileno=fd)
    try:
        out = {
            "pid": pid,
            "keepalive": s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
            "idle": s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
            "interval": s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
            "count": s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
            "nodelay": s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY),
        }
    finally:
        s.close()  # our duplicate only; the holder's descriptor stays open
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
