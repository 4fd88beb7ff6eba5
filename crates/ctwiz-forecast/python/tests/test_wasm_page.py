"""The in-browser demo (docs/forecast-demo/) in headless Chromium: the page
loads ctwiz_forecast.wasm, forecasts the history given in its query string and
shows the Recommender table; the table must match the Python module's (the same
engine) result.

Needs the page's wasm (docs/forecast-demo/build.sh) and Chromium (CHROMIUM,
default /usr/bin/chromium). Under CI (CI set) a missing one is a failure.
"""

import functools
import http.server
import os
import pathlib
import re
import subprocess
import threading

import pytest

import ctwiz_forecast

WORKSPACE = pathlib.Path(__file__).resolve().parents[4]
DEMO = WORKSPACE / "docs" / "forecast-demo"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def need(path, what):
    if not pathlib.Path(path).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{what} missing under CI: {path}")
        pytest.skip(f"{what} not found: {path}")


@pytest.fixture()
def server():
    need(DEMO / "ctwiz_forecast.wasm", "the demo's wasm (docs/forecast-demo/build.sh)")
    handler = functools.partial(QuietHandler, directory=str(DEMO))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def dump_dom(url):
    """The page's DOM once it has forecast (or shown an error): the page marks
    `<body data-state="done">`. Compiling the wasm takes real time, which
    headless Chromium's virtual-time budget does not always cover on a busy
    machine, so a dump taken too early is retried."""
    need(CHROMIUM, "Chromium")
    dom = ""
    for budget in (20000, 60000, 120000):
        out = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             f"--virtual-time-budget={budget}", "--dump-dom", url],
            capture_output=True, text=True, timeout=180,
        )
        assert out.returncode == 0, out.stderr
        dom = out.stdout
        if 'data-state="done"' in dom:
            return dom
    pytest.fail(f"the page never finished:\n{dom[-3000:]}")


def rows(dom):
    """The Recommender table's body rows as lists of cell texts."""
    table = re.search(r'<table class="recommender">(.*?)</table>', dom, re.S)
    assert table, f"no Recommender table in:\n{dom[-3000:]}"
    body = table.group(1).split("<tbody>", 1)[1]
    return [re.findall(r"<td>(.*?)</td>", r, re.S) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_the_page_computes_the_recommender_table_in_the_browser(server):
    doses = [("2025-03-15", "20"), ("2025-03-15", "10"), ("2025-03-15", "999")]
    query = "dob=2025-01-15&sex=Female&as_of=2025-06-01&doses=" + ",".join(f"{d}:{c}" for d, c in doses)
    dom = dump_dom(f"{server}/index.html?{query}")
    table = {r[0]: r for r in rows(dom)}
    assert table["DTaP/Tdap/Td"][1:5] == ["Not Complete", "2", "2025-04-12", "2025-05-15"]
    assert "Unknown CVX on dose line(s): 3" in dom
    # Every group the engine forecasts is on the page with the same dates.
    expected = ctwiz_forecast.forecast(dob="2025-01-15", sex="F", doses=doses, as_of="2025-06-01")
    for g in expected["vaccine_groups"]:
        if g["status"] == "NotRecommended":
            assert g["vaccine_group"] not in table
            continue
        f = g["forecast"]
        shown = table[g["vaccine_group"]]
        assert shown[3] == (f["earliest"] if f else "-"), g["vaccine_group"]
        assert shown[4] == (f["recommended"] if f else "-"), g["vaccine_group"]


def test_bad_input_is_shown_as_an_error(server):
    dom = dump_dom(f"{server}/index.html?dob=2025-01-15&as_of=2025-06-01&doses=2025-3-1:20")
    assert 'expected "YYYY-MM-DD CVX"' in dom
