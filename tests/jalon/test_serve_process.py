"""``jalon serve`` is a proper server process: SIGTERM stops the whole tree and frees the port; a busy
port is one line and exit 1."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from tests.support.launcher import free_port, served_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("server")]


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def jalon(*args: str) -> list[str]:
    return [sys.executable, "-m", "jalon.cli", *args]


def test_sigterm_stops_every_process_and_frees_the_port(served_home, tmp_path) -> None:
    home, tag, _ = served_home
    port = free_port()
    log = open(tmp_path / "serve.log", "w")  # closed below, after the process
    process = subprocess.Popen(
        jalon("serve", "--port", str(port), "--workers", "2"),
        env=served_env(home, tag),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    tree: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("jalon serve not ready in 180 s:\n" + (tmp_path / "serve.log").read_text()[-3000:])
        root = psutil.Process(process.pid)
        tree = [root, *root.children(recursive=True)]
        assert len(tree) >= 3  # the server and its two workers
        command_line = " ".join(root.cmdline())

        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, alive = psutil.wait_procs(tree, timeout=10)
        assert not alive, [p.pid for p in alive]
        while not port_free(port):
            assert time.monotonic() - started < 10, "the port is still taken 10 s after SIGTERM"
            time.sleep(0.1)
        print(f"stopped and port free {time.monotonic() - started:.1f} s after SIGTERM")
        assert process.wait(timeout=5) is not None
        assert "bentoml" in command_line, "jalon serve replaced itself with the server (one process to signal)"
    finally:
        for proc in tree:
            try:
                proc.kill()
            except psutil.Error:
                pass
        if process.poll() is None:
            process.kill()
        log.close()


def test_a_busy_port_is_one_line_and_exit_1(served_home) -> None:
    home, tag, _ = served_home
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            jalon("serve", "--port", str(port)), env=served_env(home, tag), capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in lines[0]
    assert "Traceback" not in done.stdout + done.stderr
