from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from evals.bench_web import BUNDLE_LIMIT_KB, bundle


def _write(path: Path, data: bytes) -> float:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(gzip.compress(data, compresslevel=6)) / 1024


def test_the_bundle_counts_what_the_first_load_fetches_and_nothing_lazy(tmp_path: Path) -> None:
    entry = _write(tmp_path / "assets" / "index-a1.js", b"import './vendor-b2.js';" + os.urandom(30_000))
    vendor = _write(tmp_path / "assets" / "vendor-b2.js", b"export const x = 1;" * 4000)
    _write(tmp_path / "assets" / "Console-c3.js", os.urandom(50_000))
    _write(tmp_path / "assets" / "index-d4.css", b"body{margin:0}" * 100)
    (tmp_path / "index.html").write_text(
        '<script type="module" crossorigin src="/assets/index-a1.js"></script>\n'
        '<link rel="modulepreload" crossorigin href="/assets/vendor-b2.js">\n'
        '<link rel="stylesheet" crossorigin href="/assets/index-d4.css">'
    )
    result = bundle(tmp_path)
    assert set(result["initial_js"]) == {"/assets/index-a1.js", "/assets/vendor-b2.js"}
    assert result["initial_js_gzip_kb"] == pytest.approx(entry + vendor, abs=0.1)
    assert list(result["lazy_js"]) == ["/assets/Console-c3.js"]
    assert result["lazy_js_gzip_kb"] > 45  # random bytes do not compress
    assert result["initial_css_gzip_kb"] < 1
    assert result["within_limit"] is True
    assert result["limit_kb"] == BUNDLE_LIMIT_KB


def test_an_unbuilt_app_is_reported_not_measured_as_zero(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>not built</p>")
    with pytest.raises(ValueError, match="is the app built"):
        bundle(tmp_path)
