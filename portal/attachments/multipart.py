"""Reading one file out of a multipart/form-data body as a stream.

Werkzeug's form parser (request.files) spools every file to a temporary file before the view
runs; here the body is decoded incrementally with werkzeug.sansio.multipart.MultipartDecoder
and the file part is handed on as a readable stream, so an upload passes through memory a
megabyte at a time and is encrypted on the way to disk.
"""
from __future__ import annotations

from typing import IO

from portal.errors import MalformedRequest

from werkzeug.sansio.multipart import NEED_DATA, Data, Epilogue, Field, File, MultipartDecoder

_READ = 1024 * 1024
MAX_FIELD_SIZE = 16 * 1024
MAX_PARTS = 20


class MalformedUpload(MalformedRequest):
    """The body is not a usable multipart/form-data upload."""

    code = "malformed_upload"

    def __init__(self, problem: str) -> None:
        super().__init__(f"The upload could not be read: {problem}.")


class MultipartStream:
    """Incremental reader of a multipart body: small fields first, then one file part as a stream."""

    def __init__(self, stream: IO[bytes], boundary: str) -> None:
        if not boundary:
            raise MalformedUpload("the upload must be sent as multipart/form-data")
        self._stream = stream
        self._decoder = MultipartDecoder(boundary.encode("latin-1"), max_parts=MAX_PARTS)
        self._done = False
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.file_content_type: str | None = None
        self._pending = memoryview(b"")
        self._file_open = False

    def _event(self) -> object:
        while True:
            try:
                event = self._decoder.next_event()
            except ValueError as error:
                raise MalformedUpload(f"the multipart body is malformed: {error}") from None
            if event is not NEED_DATA:
                return event
            if self._done:
                raise MalformedUpload("the upload ended early")
            chunk = self._stream.read(_READ)
            if not chunk:
                self._done = True
                self._decoder.receive_data(None)
            else:
                self._decoder.receive_data(chunk)

    def next_file(self, name: str = "file") -> bool:
        """Read fields up to the file part called `name`; False if the body ends without one."""
        while True:
            event = self._event()
            if isinstance(event, File):
                if event.name == name:
                    self.filename = event.filename
                    self.file_content_type = event.headers.get("content-type")
                    self._file_open = True
                    return True
                self._skip_part()
            elif isinstance(event, Field):
                self.fields[event.name] = self._read_field()
            elif isinstance(event, Epilogue):
                return False

    def _read_field(self) -> str:
        value = bytearray()
        while True:
            event = self._event()
            if not isinstance(event, Data):
                raise MalformedUpload("unexpected part structure")
            value += event.data
            if len(value) > MAX_FIELD_SIZE:
                raise MalformedUpload("a form field is too long")
            if not event.more_data:
                return value.decode("utf-8", "replace")

    def _skip_part(self) -> None:
        while True:
            event = self._event()
            if not isinstance(event, Data) or not event.more_data:
                return

    def readinto(self, view: memoryview) -> int:
        """The file part's bytes (a Source for portal.crypto.stream); 0 at its end."""
        while not self._pending:
            if not self._file_open:
                return 0
            event = self._event()
            if not isinstance(event, Data):
                raise MalformedUpload("unexpected part structure")
            self._pending = memoryview(event.data)
            if not event.more_data:
                self._file_open = False
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def read(self, size: int = -1) -> bytes:
        buf = bytearray(size if size >= 0 else _READ)
        n = self.readinto(memoryview(buf))
        return bytes(buf[:n])

    def finish(self) -> None:
        """Consume the rest of the body (trailing fields are ignored)."""
        while self._file_open:
            if not self.readinto(memoryview(bytearray(_READ))):
                break
        while not self._done:
            if not self._stream.read(_READ):
                self._done = True
