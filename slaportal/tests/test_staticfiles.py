"""Production's static files: compressed once, again only when they change."""

from __future__ import annotations

import gzip

import brotli

from slaportal.staticfiles import StaticFilesStorage

SCRIPT = b"console.log('a service level kept');\n" * 200
STYLE = b"body { color: #212529; }\n" * 200
EVERY_COPY = ["app.js.br", "app.js.gz", "css/site.css.br", "css/site.css.gz"]


def storage(tmp_path) -> StaticFilesStorage:
    for name, data in (("app.js", SCRIPT), ("css/site.css", STYLE)):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    return StaticFilesStorage(location=tmp_path, base_url="/static/")


def compressed(storage: StaticFilesStorage) -> list[str]:
    return sorted(
        name for _, name in storage.compress_files(["app.js", "css/site.css"])
    )


def test_files_are_compressed_the_first_time_and_not_again(tmp_path):
    files = storage(tmp_path)
    assert compressed(files) == EVERY_COPY
    assert gzip.decompress((tmp_path / "app.js.gz").read_bytes()) == SCRIPT
    assert brotli.decompress((tmp_path / "css/site.css.br").read_bytes()) == STYLE

    assert compressed(files) == []


def test_a_changed_file_and_a_copy_cut_short_are_compressed_again(tmp_path):
    files = storage(tmp_path)
    compressed(files)
    changed = SCRIPT + b"console.log('and one more line');\n"
    (tmp_path / "app.js").write_bytes(changed)
    cut = (tmp_path / "css/site.css.gz").read_bytes()
    (tmp_path / "css/site.css.gz").write_bytes(cut[: len(cut) // 2])

    assert compressed(files) == EVERY_COPY
    assert brotli.decompress((tmp_path / "app.js.br").read_bytes()) == changed
    assert gzip.decompress((tmp_path / "css/site.css.gz").read_bytes()) == STYLE


def test_a_missing_copy_is_written_again(tmp_path):
    files = storage(tmp_path)
    compressed(files)
    (tmp_path / "app.js.br").unlink()
    (tmp_path / "app.js.gz").unlink()

    assert compressed(files) == ["app.js.br", "app.js.gz"]
