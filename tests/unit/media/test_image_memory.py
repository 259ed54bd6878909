"""Issue 11 M4: decoding an upload has a memory budget. A 113 KB PNG of 6300×6300 took a server process from
134 MB to 755 MB (three at once: 2 GB). Each case runs the pipeline in a fresh Python process and reads its peak
RSS before and after (``VmHWM`` of /proc/self/status: ``resource.getrusage``'s ``ru_maxrss`` keeps the peak of
the parent it was forked from across exec), so nothing else the test process holds is measured."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM (Linux)")

ROOT = Path(__file__).resolve().parents[3]
MB = 1024  # VmHWM is in KiB

SCRIPT = r"""
import asyncio, json, sys
from marketplace.media.images import NotAnImage, in_decoder, process_image

def peak_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

data = open(sys.argv[1], "rb").read()
copies = int(sys.argv[2])
before = peak_kib()

async def main():
    return await asyncio.gather(*(in_decoder(process_image, data, max_bytes=10 * 2**20, max_pixels=40_000_000)
                                  for _ in range(copies)), return_exceptions=True)

results = asyncio.run(main())
after = peak_kib()
print(json.dumps({"growth_kib": after - before,
                  "outcomes": [type(r).__name__ if isinstance(r, BaseException) else f"{r.width}x{r.height}"
                               for r in results]}))
"""


def _file(tmp_path: Path, side: int, fmt: str) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (side, side), (30, 140, 200)).save(out, format=fmt)
    path = tmp_path / f"big-{side}.{fmt.lower()}"
    path.write_bytes(out.getvalue())
    return path


def _run(path: Path, copies: int = 1) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(path), str(copies)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_the_6300px_png_is_refused_before_its_pixels_are_decoded(tmp_path: Path) -> None:
    path = _file(tmp_path, 6300, "PNG")
    assert path.stat().st_size < 200_000  # tiny on disk, 39.7 million pixels declared (under the 40 MP limit)
    result = _run(path)
    assert result["outcomes"] == ["NotAnImage"]  # over the 24 MP full-decode cap
    assert int(result["growth_kib"]) < 40 * MB  # was ~620 MB


@pytest.mark.slow
def test_the_6300px_jpeg_is_decoded_at_reduced_scale(tmp_path: Path) -> None:
    result = _run(_file(tmp_path, 6300, "JPEG"))
    assert result["outcomes"] == ["1600x1600"]
    assert int(result["growth_kib"]) < 100 * MB  # draft(): 1/2 scale, not 160 MB × 5 copies


@pytest.mark.slow
def test_three_large_pngs_at_once_cost_one_decode(tmp_path: Path) -> None:
    result = _run(_file(tmp_path, 4800, "PNG"), copies=3)  # 23 MP each: accepted
    assert result["outcomes"] == ["1600x1600"] * 3
    assert int(result["growth_kib"]) < 170 * MB  # one bitmap (92 MB) at a time; ~1.3 GB before
