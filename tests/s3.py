"""A throw-away S3 API server for the test run: moto's standalone server on a free loopback port.

It speaks the real S3 HTTP API, so the S3 backend is exercised through boto3 end to end
(multipart uploads, ranged GETs, listing, aborts) without any cloud account.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ACCESS_KEY = "portal-test-access-key"
SECRET_KEY = "portal-test-secret-key"
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class S3Server:
    def __init__(self) -> None:
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
        self.process = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("moto_server exited at start-up")
                time.sleep(0.1)
        raise RuntimeError("moto_server did not start listening")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY)

    def new_bucket(self) -> str:
        name = f"portal-{uuid.uuid4().hex[:20]}"
        self.client().create_bucket(Bucket=name)
        return name

    def settings(self, bucket: str, **extra: Any) -> dict[str, Any]:
        """App settings that put attachments in `bucket` on this server."""
        return {"ATTACHMENT_BACKEND": "s3", "ATTACHMENT_S3_BUCKET": bucket, "ATTACHMENT_S3_ENDPOINT_URL": self.endpoint,
                "ATTACHMENT_S3_REGION": REGION, "ATTACHMENT_S3_ACCESS_KEY_ID": ACCESS_KEY,
                "ATTACHMENT_S3_SECRET_ACCESS_KEY": SECRET_KEY, **extra}
