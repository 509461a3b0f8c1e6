#!/usr/bin/env python3
"""A unix socket relay for refit's tests: an engine that can go away.

Listens on --listen and relays every connection, both ways, to the unix socket
--to (a private dockerd's). SIGTERM removes --listen and ends the process, and
with it every relayed connection, as an engine host that dies mid-build would.
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
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(a.listen)
    srv.listen(64)
    while True:
        client, _ = srv.accept()
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(a.to)
        except OSError:
            client.close()
            continue
        for x, y in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(x, y), daemon=True).start()


if __name__ == "__main__":
    main()
