#!/usr/bin/python3
"""Relay one connection of the e2e VM to a service on this machine's loopback.

    relay.py HOSTPORT [LOG]

QEMU's user-mode network runs this (`guestfwd=tcp:10.0.2.100:PORT-cmd:...`) for each
connection the VM opens to 10.0.2.100:PORT, with that connection on stdin and stdout.
It connects to 127.0.0.1:HOSTPORT, and only ever to 127.0.0.1, then copies bytes both
ways until both sides are done (half-closes are passed on). Nothing is written to
stdout but the service's bytes: errors go to LOG (default: nowhere), one line each.
Standard library only.
"""
import os
import selectors
import socket
import sys
import time


def main():
    log_path = sys.argv[2] if len(sys.argv) > 2 else os.devnull
    # stderr is the VM's connection too: never let a message leak into it.
    log = open(log_path, "a", buffering=1)
    os.dup2(log.fileno(), 2)
    try:
        port = int(sys.argv[1])
    except (IndexError, ValueError):
        log.write("usage: relay.py HOSTPORT [LOG]\n")
        return 2
    try:
        guest = socket.socket(fileno=os.dup(0))
    except OSError as e:
        log.write(f"{time.strftime('%T')} port {port}: stdin is not a socket: {e}\n")
        return 1
    try:
        host = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError as e:
        log.write(f"{time.strftime('%T')} port {port}: cannot connect to 127.0.0.1:{port}: {e}\n")
        return 1
    host.settimeout(None)
    guest.setblocking(True)
    sel = selectors.DefaultSelector()
    peers = {guest: host, host: guest}
    open_reads = {guest, host}
    for s in open_reads:
        sel.register(s, selectors.EVENT_READ)
    while open_reads:
        for key, _ in sel.select():
            src = key.fileobj
            dst = peers[src]
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if data:
                try:
                    dst.sendall(data)
                    continue
                except OSError as e:
                    log.write(f"{time.strftime('%T')} port {port}: send failed: {e}\n")
                    return 1
            # End of this direction: pass the half-close on.
            sel.unregister(src)
            open_reads.discard(src)
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
