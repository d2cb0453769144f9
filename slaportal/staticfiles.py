"""Static files for production: WhiteNoise's hashed and compressed copies,
compressing only what changed.

``collectstatic`` with WhiteNoise's storage compresses every file with gzip
and Brotli each time it runs, some 35 s of the two cores here for files that
have not changed since the last deploy. A file whose compressed copies are
there and decompress to exactly its bytes is left as it is; anything else
(a new or changed file, a copy cut short) is compressed again.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import brotli
from whitenoise.storage import CompressedManifestStaticFilesStorage

DECOMPRESS = {".br": brotli.decompress, ".gz": gzip.decompress}


def compressed_already(path: Path) -> bool:
    """Whether ``path`` has a compressed copy and every copy it has holds
    its bytes exactly."""
    present = [
        (copy, decompress)
        for suffix, decompress in DECOMPRESS.items()
        if (copy := path.with_name(path.name + suffix)).exists()
    ]
    if not present:
        return False
    data = path.read_bytes()
    try:
        return all(
            decompress(copy.read_bytes()) == data for copy, decompress in present
        )
    except (OSError, EOFError, zlib.error, brotli.error):
        return False


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def compress_files(self, paths: Iterable[str]) -> Iterator[tuple[str, str]]:
        stale = [
            name for name in paths if not compressed_already(Path(self.path(name)))
        ]
        yield from super().compress_files(stale)
