"""Child-process programs for the attach tests (each prints "ready" once it is set up)."""

from __future__ import annotations

from pathlib import Path


def fs_type(path: Path) -> str:
    """The filesystem type holding `path` (longest mount point prefix in /proc/mounts)."""
    best, kind = "", ""
    resolved = str(path.resolve())
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            mnt, typ = parts[1], parts[2]
            if (resolved == mnt or resolved.startswith(mnt.rstrip("/") + "/")) and len(mnt) > len(best):
                best, kind = mnt, typ
    return kind


CPU_LOOP = """
def inner(n):
    s = 0
    for i in range(n):
        s += i * i
    return s
print("ready", flush=True)
while True:
    inner(100000)
"""

SLEEPER = """
import time
print("ready", flush=True)
while True:
    time.sleep(0.2)
"""

# blocked reading the answer of a slow local HTTP server (argv[1] = port)
SOCKET_CLIENT = """
import http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=60)
conn.request("GET", "/slow")
print("ready", flush=True)
resp = conn.getresponse()
resp.read()
"""

# reads a large file in chunks, bypassing the page cache (argv[1] = path)
DISK_READER = """
import mmap, os, sys
path = sys.argv[1]
chunk = 1 << 20
buf = mmap.mmap(-1, chunk)  # page aligned, as O_DIRECT wants
try:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    direct = True
except OSError:
    fd = os.open(path, os.O_RDONLY)
    direct = False
size = os.fstat(fd).st_size
print("ready", flush=True)
while True:
    if not direct:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    off = 0
    while off < size:
        n = os.preadv(fd, [buf], off)
        if n <= 0:
            break
        off += n
"""

GIL_THREADS = """
import threading
def spin():
    s = 0
    while True:
        for i in range(10000):
            s += i
ts = [threading.Thread(target=spin, name=f"w{i}", daemon=True) for i in range(4)]
for t in ts:
    t.start()
print("ready", flush=True)
spin()
"""

# a parent with two CPU-bound worker children (multiprocessing, like DataLoader workers)
PARENT_WITH_WORKERS = """
import multiprocessing as mp, os, time
def work():
    parent = os.getppid()
    s = 0
    while os.getppid() == parent:  # stop when orphaned
        for i in range(100000):
            s += i
if __name__ == "__main__":
    mp.set_start_method("fork")
    ps = [mp.Process(target=work, daemon=True) for _ in range(2)]
    for p in ps:
        p.start()
    time.sleep(0.3)
    print("ready", flush=True)
    while True:
        time.sleep(0.5)
"""

# exits with status 3 after "go" on stdin... kept simple: after a short life
EXIT_SOON = """
import sys, time
print("ready", flush=True)
time.sleep(float(sys.argv[1]))
sys.exit(3)
"""

# lives until SIGUSR1, then exits with status 3: the test decides when it exits
EXIT_ON_USR1 = """
import signal, sys, time
signal.signal(signal.SIGUSR1, lambda *_: sys.exit(3))
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""

# holds sockets and files open; context switches at ~1 kHz
FDS_AND_SWITCHES = """
import socket, tempfile, time
socks = [socket.socket() for _ in range(3)]
files = [tempfile.TemporaryFile() for _ in range(2)]
print("ready", flush=True)
while True:
    time.sleep(0.001)
"""

# a parent holding an unreaped (zombie) child
ZOMBIE_CHILD = """
import os, time
pid = os.fork()
if pid == 0:
    os._exit(0)
time.sleep(0.2)
print("ready", flush=True)
while True:
    time.sleep(0.5)
"""
