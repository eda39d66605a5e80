"""Where attachment bytes live. A small interface: the local directory is the default, and an
S3-compatible backend only has to implement the same four methods."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import BinaryIO, Protocol


class Storage(Protocol):
    def save(self, key: str, source: BinaryIO) -> int:
        """Store the stream under ``key``; return the bytes written."""

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> None:
        """Remove the object; a missing one is not an error."""

    def exists(self, key: str) -> bool: ...


class LocalStorage:
    """Files under one directory; keys are relative paths made by the library (never user input)."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def _path(self, key: str) -> str:
        path = os.path.abspath(os.path.join(self.root, key))
        if not path.startswith(self.root + os.sep):
            raise ValueError("storage key escapes the storage root")
        return path

    def save(self, key: str, source: BinaryIO) -> int:
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # Write to a temporary name and rename: a crash never leaves a half-written object.
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(source, out, 1024 * 1024)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return os.path.getsize(path)

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(key))

    def exists(self, key: str) -> bool:
        return os.path.exists(self._path(key))
