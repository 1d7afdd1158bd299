#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""tcp_tap.py LISTEN TARGET LOG [SECONDS]: a wiretap between a TPM client and swtpm.

Forwards 127.0.0.1:LISTEN to 127.0.0.1:TARGET and LISTEN+1 to TARGET+1 (swtpm's command and
control ports), byte for byte, and appends every byte the TPM sends on the command port to LOG
(what an observer of the TPM's bus sees in its responses) and every byte sent to it to LOG.in.
Listens on 127.0.0.1 only; exits after SECONDS (default 300) or when killed (by PID).
"""
import socket
import sys
import threading
import time


def pump(src, dst, log):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            if log is not None:
                with open(log, "ab") as f:
                    f.write(b)
            dst.sendall(b)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(listen, target, log_out, log_in):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", listen))
    ls.listen(8)
    while True:
        c, _ = ls.accept()
        t = socket.create_connection(("127.0.0.1", target), timeout=10)
        t.settimeout(None)
        threading.Thread(target=pump, args=(c, t, log_in), daemon=True).start()
        threading.Thread(target=pump, args=(t, c, log_out), daemon=True).start()


def main():
    listen, target, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 300.0
    threading.Thread(target=serve, args=(listen, target, log, log + ".in"), daemon=True).start()
    threading.Thread(target=serve, args=(listen + 1, target + 1, None, None), daemon=True).start()
    time.sleep(seconds)


if __name__ == "__main__":
    main()
