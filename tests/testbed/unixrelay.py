#!/usr/bin/env python3
"""A unix socket relay for refit's tests: an engine that can go away.

Listens on --listen and relays every connection, both ways, to the unix socket
--to (a private dockerd's). SIGTERM removes --listen and ends the process, and
with it every relayed connection, as an engine host that dies mid-build would.
An address "tcp:HOST:PORT" is a TCP one instead (a TLS engine's port: the relay
passes the TLS bytes through untouched).
"""
import argparse, os, signal, socket, threading


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                dst.shutdown(socket.SHUT_WR)
                return
            dst.sendall(data)
    except OSError:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def sock(addr):
    """A socket for addr and the address to bind or connect it to."""
    if addr.startswith("tcp:"):
        host, port = addr[4:].rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        return s, (host, int(port))
    return socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), addr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--to", required=True)
    a = ap.parse_args()

    def stop(*_):
        try:
            os.unlink(a.listen)
        except OSError:
            pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv, where = sock(a.listen)
    srv.bind(where)
    srv.listen(64)
    while True:
        client, _ = srv.accept()
        upstream, where = sock(a.to)
        try:
            upstream.connect(where)
        except OSError:
            client.close()
            continue
        for x, y in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(x, y), daemon=True).start()


if __name__ == "__main__":
    main()
