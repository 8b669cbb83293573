"""A file an import reads: how to open it (again and again: a sheet is read in several passes),
and its name. A plain file on disk, or a kept upload decrypted as it is read
(xueji.imports.storage)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class Source:
    open: Callable[[], IO[bytes]]
    name: str
    # A plaintext file that calamine may open by its path; None: give calamine the bytes.
    path: Path | None = None

    @classmethod
    def of(cls, path: Path | Source) -> Source:
        if isinstance(path, Source):
            return path
        return cls(open=lambda: path.open("rb"), name=path.stem, path=path)

    def read_all(self) -> bytes:
        with self.open() as handle:
            return handle.read()
