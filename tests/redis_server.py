"""A throw-away Redis server for the test run (rate-limit counters), on a Unix socket only.

Debian's redis-server runs fine as root or not; no TCP port is opened (`--port 0`), so
parallel runs and other helpers' servers never collide.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path


class RedisServer:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="portal-redis-"))
        self.socket = self.root / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [binary, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--dir", str(self.root), "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=(self.root / "log").open("wb"), stderr=subprocess.STDOUT,
        )
        import redis

        deadline = time.monotonic() + 15
        while True:
            try:
                if redis.Redis(unix_socket_path=str(self.socket)).ping():
                    return
            except redis.exceptions.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start: " + (self.root / "log").read_text()[-2000:])
            time.sleep(0.05)

    @property
    def url(self) -> str:
        """The RATELIMIT_STORAGE_URI for this server."""
        return f"redis+unix://{self.socket}"

    def stop(self) -> None:
        try:
            if self.process is not None:
                self.process.terminate()
                self.process.wait(timeout=10)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
