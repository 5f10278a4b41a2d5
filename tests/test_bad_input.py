"""Bad input to every command: one line on stderr naming the problem, exit 2, nothing
written (issue 10, part 8)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from caucus_rehearsal.cli import main
from caucus_rehearsal.rehearsal.orchestrator import locust_error


def one_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err.strip()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    binary = tmp_path / "binary.toml"
    binary.write_bytes(bytes(range(256)) * 4)
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('[scenario]\nname = "Café"\n'.encode("latin-1"))
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder\n")
    return {"binary": binary, "latin1": latin1, "file": a_file, "dir": tmp_path}


@pytest.mark.parametrize(("argv", "expected"), [
    (["simulate", "{binary}", "--runs", "1"],
     "{binary}: expected a UTF-8 text TOML file (byte 0x80 at offset 128 is not UTF-8)"),
    (["simulate", "{latin1}", "--runs", "1"],
     "{latin1}: expected a UTF-8 text TOML file (byte 0xe9 at offset 22 is not UTF-8)"),
    (["run", "{latin1}"], "{latin1}: expected a UTF-8 text TOML file"),
    (["simulate", "smoke", "--runs", "1", "--out", "{file}"],
     "--out {file}: is a file, expected a folder (it is created if missing)"),
    (["run", "smoke", "--out", "{file}"],
     "--out {file}: is a file, expected a folder (it is created if missing)"),
    (["run", "smoke", "--speed", "inf"], "--speed inf: expected simulated seconds per wall "
     "second from 1 (real time) to 3600"),
    (["run", "smoke", "--speed", "1e-9"], "--speed 1e-09: expected simulated seconds"),
    (["run", "smoke", "--speed", "nan"], "--speed nan: expected simulated seconds"),
    (["run", "smoke", "--set", "live.speed=inf"],
     "--set: live.speed = inf: expected a number from 1 to 3600"),
    (["serve", "--port", "70000"],
     "--port 70000: expected a TCP port from 0 (any free one) to 65535"),
    (["replay", "{dir}", "--port", "70000"],
     "--port 70000: expected a TCP port from 0 (any free one) to 65535"),
    (["serve", "--db", "{dir}"],
     "--db {dir}: is a folder, expected a database file (created if missing)"),
    (["serve", "--db", "{dir}/missing/r.db"],
     "--db {dir}/missing/r.db: the folder {dir}/missing does not exist"),
    (["simulate", "smoke", "--runs", "1", "--set", "hotline.operators=3\n# the rest"],
     "--set: hotline.operators = '3\\n# the rest': expected a value on one line"),
    (["run", "smoke", "--set", "live.end='22:00'\nlive.speed = 1"],
     "--set: live.end = \"'22:00'\\nlive.speed = 1\": expected a value on one line"),
])
def test_bad_input_is_one_line_and_exit_2(argv: list[str], expected: str,
                                          files: dict[str, Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # where a default runs/ would go: it must stay empty
    argv = [a.format(**files) for a in argv]
    assert main(argv) == 2
    line = one_error(capsys)
    assert line.startswith("rehearse: error: " + expected.format(**files)), line
    assert not (tmp_path / "runs").exists()


def test_a_busy_web_port_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["run", "smoke", "--ui", "--web-port", str(port),
                     "--out", str(tmp_path)]) == 2
    assert one_error(capsys) == (
        f"rehearse: error: --web-port {port}: cannot listen on 127.0.0.1:{port} (Address "
        "already in use; another Locust web UI?): choose another port with --web-port")
    assert main(["run", "smoke", "--web-port", "8090", "--out", str(tmp_path)]) == 2
    assert one_error(capsys) == "rehearse: error: --web-port applies with --ui only"
    assert list(tmp_path.iterdir()) == []


def test_a_failed_locust_is_named_by_its_error_not_its_statistics(tmp_path: Path) -> None:
    log = tmp_path / "locust.log"
    log.write_text("Traceback (most recent call last):\n  File \"x.py\", line 1\n"
                   "OSError: [Errno 98] Address already in use: ('127.0.0.1', 8089)\n"
                   "Type     Name   # reqs\n--------|------|-------\n")
    assert locust_error(log) == "OSError: [Errno 98] Address already in use: ('127.0.0.1', 8089)"
    log.write_text("locust: error: worker 1 (vm_abc): nosuch: expected a scenario file\n"
                   "--------|------|-------\n")
    assert locust_error(log) == "worker 1 (vm_abc): nosuch: expected a scenario file"
