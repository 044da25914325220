"""report.html renders in headless Chromium with its plots visible (skipped only when Chromium is not installed).

Also a script: ``python tests/unit/report/test_screenshot.py OUT_DIR`` writes a report of a fake-but-plausible run
(with baseline and history) and its screenshot ``OUT_DIR/report.png``.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

if __name__ == "__main__":  # run as a script: make `report.fakes` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apigate.gate import default_thresholds, evaluate
from apigate.history import read_runs, record_run
from apigate.report import html, svg, write_report
from apigate.summary import parse_summary
from report.fakes import (
    FAILING_CONTRACT,
    PASSING_CONTRACT,
    fake_document,
    fake_over_time,
    fake_samples,
    fake_summary,
    fake_sweep_document,
)

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
WIDTH, HEIGHT = 1280, 3400
LOAD_HEIGHT = 5600


def build_report(out: Path) -> Path:
    """A failing run (ttfc +40 ms, one contract failure) against a baseline, with 8 runs of history."""
    db = out / "history.sqlite"
    db.unlink(missing_ok=True)
    for i in range(8):
        run = fake_summary(10 + i, ttfc_shift_ms=(i % 3) * 5 + (60 if i == 5 else 0), contract=PASSING_CONTRACT)
        record_run(db, run, label=f"main-{i}", passed=i != 5)
    baseline = fake_summary(2, contract=PASSING_CONTRACT)
    current = fake_summary(3, ttfc_shift_ms=40.0, contract=FAILING_CONTRACT)
    write_report(out, current, gate=evaluate(current, default_thresholds(), baseline), baseline=baseline,
                 history=read_runs(db))
    return out / "report.html"


def build_load_report(out: Path) -> Path:
    """A sweep (capacity, latency against load, levels over time) and a step-shaped run over time, on one page."""
    sweep = parse_summary(fake_sweep_document(), source="fake sweep")
    doc = fake_document(fake_samples(5), failures=0)
    doc["settings"]["shape"] = "step"
    doc.update(fake_over_time())
    shaped = parse_summary(doc, source="fake step run")
    out.mkdir(parents=True, exist_ok=True)
    sweep_page = html.render_html(sweep, gate=evaluate(sweep, default_thresholds()))
    shaped_page = html.render_html(shaped, gate=evaluate(shaped, default_thresholds()))
    body = shaped_page[shaped_page.index("<main>") + len("<main>"):shaped_page.index("</main>")]
    page = sweep_page.replace("</main>", body + "</main>")  # both pages' sections, one screenshot
    (out / "report.html").write_text(page, encoding="utf-8")
    return out / "report.html"


def screenshot(html: Path, png: Path, *, scale: float = 1.0, height: int = HEIGHT) -> None:
    """Chromium's own headless screenshot of the page (``scale`` < 1 shrinks the image, not the layout)."""
    assert CHROMIUM is not None
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         f"--user-data-dir={png.parent / 'chromium-profile'}", f"--screenshot={png}",
         f"--window-size={WIDTH},{height}", f"--force-device-scale-factor={scale}", html.resolve().as_uri()],
        check=True, capture_output=True, timeout=60,
    )


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB/RGBA PNG — enough to count coloured pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        kind, row = line[0], bytearray(line[1:])
        for i in range(stride):
            a = row[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            if kind == 1:
                row[i] = (row[i] + a) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + b) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(row))
        prev = row
    return width, height, [bytes(r[i] for i in range(len(r)) if i % channels < 3) for r in rows]


def _count(rows: list[bytes], hex_color: str, tolerance: int = 12) -> int:
    target = bytes.fromhex(hex_color.lstrip("#"))
    count = 0
    for row in rows[::2]:
        for x in range(0, len(row) - 2, 6):
            if all(abs(row[x + k] - target[k]) <= tolerance for k in range(3)):
                count += 1
    return count


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_report_renders_with_visible_plots(tmp_path: Path) -> None:
    html = build_report(tmp_path)
    png = tmp_path / "report.png"
    screenshot(html, png, scale=0.5)  # a quarter of the pixels: decoding the PNG in Python stays quick
    width, height, rows = decode_png(png.read_bytes())
    assert (width, height) == (WIDTH // 2, HEIGHT // 2)
    # the current run's blue bars/lines, the baseline's grey bars and the failure red are all on screen
    assert _count(rows, svg.CURRENT) > 500
    assert _count(rows, svg.BASELINE) > 250
    assert _count(rows, "#b91c1c") > 250  # the FAILED banner


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_load_report_renders_capacity_and_time_plots(tmp_path: Path) -> None:
    page = build_load_report(tmp_path)
    png = tmp_path / "load.png"
    screenshot(page, png, scale=0.5, height=LOAD_HEIGHT)
    _, _, rows = decode_png(png.read_bytes())
    # thin lines, sampled sparsely (about half of what a good rendering shows; none of them without these plots)
    assert _count(rows, html.P50_COLOR) > 40  # the p50 lines: latency against load and over time
    assert _count(rows, svg.PASS, tolerance=8) > 50  # passing levels, the capacity mark, goodput, users active
    assert _count(rows, "#f59e0b", tolerance=8) > 2  # users starting / retrying set-up
    assert _count(rows, svg.FAILURE, tolerance=8) > 8  # failing levels' dots and the SLO line


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "reports/screenshot")
    target.mkdir(parents=True, exist_ok=True)
    pages = [build_report(target), build_load_report(target / "load")]
    if CHROMIUM is None:
        sys.exit(f"wrote {', '.join(map(str, pages))}; Chromium is not installed, no screenshot")
    for page, height in zip(pages, (HEIGHT, LOAD_HEIGHT), strict=True):
        screenshot(page, page.with_suffix(".png"), height=height)
        print(f"wrote {page} and {page.with_suffix('.png')}")
