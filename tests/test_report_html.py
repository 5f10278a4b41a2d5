"""report.html renders in headless Chromium with every chart decoded, offline."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from caucus_rehearsal.reports import build_report
from support.rundirs import sample_night as night

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Appended to a copy of the page: records each image's decoded size as DOM attributes,
# so that --dump-dom shows whether the browser could decode it.
PROBE = """<script>
for (const img of document.images) {
  img.setAttribute('data-natural', img.naturalWidth + 'x' + img.naturalHeight);
  img.setAttribute('data-complete', String(img.complete));
}
document.body.setAttribute('data-probed', '1');
</script>"""

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=5000"]


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run "
                    "installs it)")
def test_report_renders_with_its_charts(tmp_path: Path) -> None:
    b = night(tmp_path / "run", lose=("U3",))
    build_report(b.path)
    html = (b.path / "report.html").read_text()
    assert "http://" not in html.replace("http://127.0.0.1:1", "")  # nothing to fetch
    assert "https://" not in html
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace("</body>", PROBE + "</body>"))
    dom = _chromium(["--dump-dom", probe.as_uri()], tmp_path / "profile1")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-probed="1"' in dom.stdout
    sizes = re.findall(r'data-natural="(\d+)x(\d+)"', dom.stdout)
    assert len(sizes) == 8  # the seven charts of a run and the published feed over time
    assert all(int(w) >= 500 and int(h) >= 200 for w, h in sizes), sizes
    assert "Verdict: FAIL" in dom.stdout
    shot = tmp_path / "report.png"
    out = _chromium([f"--screenshot={shot}", "--window-size=1200,3000",
                     (b.path / "report.html").as_uri()], tmp_path / "profile2")
    assert out.returncode == 0, out.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
