"""S3-compatible object storage for attachments (AWS S3, MinIO, Ceph RGW) through boto3.

Uploads stream: the staged object buffers one part (ATTACHMENT_S3_PART_SIZE, 8 MiB by default)
and sends it as a part of a multipart upload, so memory stays flat whatever the file size. A
file smaller than one part goes up in one PUT at commit. Nothing is visible under the final key
before `commit` completes the upload; a failed upload is aborted, and `sweep_temporary` aborts
multipart uploads left behind by a crash. Downloads stream the object body and rewind with a
ranged GET pinned to the ETag first read, so a replaced object is refused rather than mixed in.
"""
from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self, cast

from portal.attachments.storage import _NAME, DEFAULT_SWEEP_AGE, check_name, new_name

log = logging.getLogger(__name__)

MIN_PART_SIZE = 5 * 1024 * 1024  # the S3 API's minimum for every part but the last


def _client_error() -> type[Exception]:
    from botocore.exceptions import ClientError

    return cast(type[Exception], ClientError)


class S3Object(io.RawIOBase):
    """A stored object opened for reading: streams the body, seeks with ranged GETs."""

    def __init__(self, storage: S3Storage, key: str) -> None:
        super().__init__()
        self._storage = storage
        self._key = key
        try:
            response = storage.client.get_object(Bucket=storage.bucket, Key=key)
        except _client_error() as error:
            raise FileNotFoundError(f"s3://{storage.bucket}/{key}: {error}") from None
        self._size = int(response["ContentLength"])
        self._etag: str = response["ETag"]
        self._body: Any = response["Body"]
        self._pos = 0

    @property
    def size(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._body is None or not len(view):
            return 0
        data = self._body.read(len(view))
        n = len(data)
        view[:n] = data
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = {io.SEEK_SET: offset, io.SEEK_CUR: self._pos + offset, io.SEEK_END: self.size + offset}[whence]
        if target < 0:
            raise ValueError("negative seek position")
        if target == self._pos:
            return target
        self._close_body()
        if target < self.size:
            try:
                response = self._storage.client.get_object(Bucket=self._storage.bucket, Key=self._key,
                                                           Range=f"bytes={target}-", IfMatch=self._etag)
            except _client_error() as error:
                raise OSError(f"s3://{self._storage.bucket}/{self._key} changed or vanished: {error}") from None
            self._body = response["Body"]
        self._pos = target
        return target

    def _close_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        try:
            self._close_body()
        finally:
            super().close()


class S3Staged:
    """An object being uploaded; it exists under its key only after `commit`."""

    def __init__(self, storage: S3Storage, name: str) -> None:
        self.storage = storage
        self.name = check_name(name)
        self.key = storage.key(name)
        self.committed = False
        self._buffer = bytearray(storage.part_size)  # one part, reused: memory stays flat
        self._filled = 0
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._buffer = bytearray()
        self._filled = 0
        if not self.committed and self._upload_id is not None:
            self.abort()

    def abort(self) -> None:
        upload_id, self._upload_id = self._upload_id, None
        if upload_id is None:
            return
        try:
            self.storage.client.abort_multipart_upload(Bucket=self.storage.bucket, Key=self.key, UploadId=upload_id)
        except Exception:  # the sweep aborts it later; the original error matters more
            log.exception("could not abort multipart upload %s of %s", upload_id, self.key)

    def write(self, data: memoryview) -> int:
        view = memoryview(data).cast("B")
        part = len(self._buffer)
        while view:
            take = min(len(view), part - self._filled)
            self._buffer[self._filled:self._filled + take] = view[:take]
            self._filled += take
            view = view[take:]
            if self._filled == part:
                self._send_part(self._buffer)
                self._filled = 0
        return len(data)

    def _send_part(self, body: bytes | bytearray) -> None:
        # The call is synchronous (retries included), so the part buffer can be reused once it returns.
        client, bucket = self.storage.client, self.storage.bucket
        if self._upload_id is None:
            self._upload_id = client.create_multipart_upload(Bucket=bucket, Key=self.key,
                                                             ContentType="application/octet-stream")["UploadId"]
        number = len(self._parts) + 1
        response = client.upload_part(Bucket=bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number,
                                      Body=body)
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def commit(self) -> str:
        client, bucket = self.storage.client, self.storage.bucket
        if self._upload_id is None:
            client.put_object(Bucket=bucket, Key=self.key, Body=bytes(memoryview(self._buffer)[:self._filled]),
                              ContentType="application/octet-stream")
        else:
            if self._filled:
                self._send_part(bytes(memoryview(self._buffer)[:self._filled]))
            client.complete_multipart_upload(Bucket=bucket, Key=self.key, UploadId=self._upload_id,
                                             MultipartUpload={"Parts": self._parts})
            self._upload_id = None
        self._buffer = bytearray()
        self._filled = 0
        self.committed = True
        return self.name


class S3Storage:
    """A bucket (optionally a key prefix in it) of encrypted attachment objects."""

    backend = "s3"

    def __init__(self, *, bucket: str, prefix: str = "", endpoint_url: str | None = None, region: str | None = None,
                 access_key_id: str | None = None, secret_access_key: str | None = None,
                 part_size: int = 8 * 1024 * 1024) -> None:
        import boto3
        from botocore.config import Config

        if part_size < MIN_PART_SIZE:
            raise ValueError(f"ATTACHMENT_S3_PART_SIZE must be at least {MIN_PART_SIZE} bytes (the S3 minimum)")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        self.part_size = part_size
        # Without explicit credentials boto3's own chain applies (AWS_* variables, profiles, instance roles).
        session = boto3.session.Session(aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
                                        region_name=region)
        config = Config(
            retries={"max_attempts": 5, "mode": "standard"},
            # Path-style addressing works on MinIO and Ceph without wildcard DNS.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            # Optional checksums only when the API requires them: older MinIO/Ceph refuse the new defaults.
            request_checksum_calculation="when_required", response_checksum_validation="when_required")
        self.client: Any = session.client("s3", endpoint_url=endpoint_url, config=config)

    def key(self, name: str) -> str:
        return self.prefix + check_name(name)

    def new_name(self) -> str:
        return new_name()

    def stage(self, name: str | None = None) -> S3Staged:
        return S3Staged(self, name or new_name())

    def open(self, name: str) -> S3Object:
        return S3Object(self, self.key(name))

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(name))

    def names(self) -> list[str]:
        found: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            for entry in page.get("Contents", []):
                name = entry["Key"][len(self.prefix):]
                if _NAME.match(name):
                    found.append(name)
        return sorted(found)

    def _uploads(self) -> list[dict[str, Any]]:
        uploads: list[dict[str, Any]] = []
        pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            uploads.extend(page.get("Uploads", []))
        return uploads

    def temporary(self) -> list[str]:
        return sorted(f"multipart upload {u['UploadId']} of {u['Key']}" for u in self._uploads())

    def sweep_temporary(self, older_than_seconds: float = DEFAULT_SWEEP_AGE) -> int:
        """Abort multipart uploads older than the given age (a crashed upload; running ones are recent)."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        removed = 0
        for upload in self._uploads():
            initiated = upload["Initiated"]
            if initiated.tzinfo is None:
                initiated = initiated.replace(tzinfo=UTC)
            if initiated < cutoff:
                try:
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                       UploadId=upload["UploadId"])
                except _client_error():
                    continue  # completed or aborted meanwhile
                removed += 1
        return removed

    def check_ready(self) -> None:
        """Readiness (/readyz): the bucket answers with these credentials; raises otherwise."""
        self.client.head_bucket(Bucket=self.bucket)

    def describe(self) -> str:
        where = self.endpoint_url or "AWS"
        return f"S3 bucket {self.bucket} at {where}" + (f", prefix {self.prefix}" if self.prefix else "")
