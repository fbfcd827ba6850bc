"""Attacks on the kernel's message channel: whatever a cell sends on iopub is data.

A cell runs inside the kernel, so it holds the kernel's own sockets and its HMAC key: it can
send messages with a bad signature, valid signatures around missing or mistyped fields, huge
single messages, and terminal escapes. None of it may crash the host, hide the cell from the
record, or cost the host memory in proportion to what was sent.
"""

from __future__ import annotations

import resource
from typing import Any

import pytest

from sandbox.kernel import MAX_MESSAGE_BYTES, CellResult, _to_output, clean_text
from sandbox.limits import SandboxLimits
from sandbox.pool import KernelPool

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("host_unaffected")]

# Code run in the kernel: raw access to the iopub socket and the session that signs.
_RAW = """
import json, hmac, hashlib
k = get_ipython().kernel
sock, sess = k.iopub_socket, k.session
parent = k.get_parent()
def raw(header, content, sig=None, parent_header=None):
    parts = [json.dumps(x, default=str).encode() for x in (header, parent_header or parent["header"], {}, content)]
    if sig is None:
        sig = sess.sign(parts)
    sock.send_multipart([b"<IDS|MSG>", sig] + parts)
hdr = dict(parent["header"], msg_type="stream", msg_id="forged-1")
"""


def _run(pool: KernelPool, code: str, **kwargs: Any) -> CellResult:
    session = pool.acquire(timeout_s=60)
    return session.execute(code, **kwargs)


@pytest.fixture
def pool(backend: Any) -> Any:
    with KernelPool(backend, size=1, limits=SandboxLimits(memory_mib=768, wall_s=60)) as p:
        yield p


def test_forged_and_malformed_messages_are_ignored_and_the_cell_still_answers(
        pool: KernelPool) -> None:
    session = pool.acquire(timeout_s=60)
    result = session.execute(_RAW + """
raw(hdr, {"name": "stdout", "text": "bad signature\\n"}, sig=b"0" * 64)
raw(dict(hdr, msg_id="forged-2"), {"text": "no stream name"})
raw(dict(hdr, msg_id="forged-3", msg_type="display_data"), {"data": 5})
raw({k: v for k, v in hdr.items() if k != "msg_type"} | {"msg_id": "forged-4"}, {})
raw(dict(hdr, msg_id="forged-5", msg_type="execute_input"), {"execution_count": "x"})
sock.send_multipart([b"<IDS|MSG>", b"short"])
print("still here")
secret = 42
""", timeout_s=60)
    assert result.status == "ok", result
    assert "still here" in result.text()
    assert "bad signature" not in result.text()
    assert result.malformed_messages >= 3
    assert "malformed" in result.detail
    assert session.execute("print(secret)").text() == "42\n"
    # The session's record holds every cell, and the notebook export stays valid.
    assert len(session.cells) == 2
    assert "still here" in session.export_ipynb()


def test_a_huge_single_message_is_refused_on_the_socket(pool: KernelPool) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    session = pool.acquire(timeout_s=60)
    size = 200 * 1024 * 1024
    result = session.execute(_RAW + f"""
blob = "x" * {size}
raw(dict(hdr, msg_id="huge"), {{"name": "stdout", "text": blob}})
del blob
print("after")
""", timeout_s=60)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    # ZeroMQ drops the message before it is read; the host never holds 200 MB of it.
    assert grown_mib < 100, f"host grew by {grown_mib:.0f} MiB"
    # The cell ends on its execute_reply although iopub lost the idle status with the
    # dropped connection: no wait for the cell's time-out, and the kernel is kept.
    assert result.status == "ok", result.detail
    assert "lost messages" in result.detail
    assert len(result.text()) < MAX_MESSAGE_BYTES
    # The session reconnected its iopub channel and answers afterwards.
    assert session.execute("print(1 + 1)", timeout_s=30).text().strip() == "2"


def test_terminal_escapes_and_nul_are_removed_but_colour_is_kept(pool: KernelPool) -> None:
    result = _run(pool, 'print("a\\x00b\\x1b]0;pwned\\x07c\\x1b]8;;http://x\\x1b\\\\d\\x07e'
                        '\\x1b[31mred\\x1b[0m\\x1b[2Jf")', timeout_s=30)
    assert result.text() == "abcde\x1b[31mred\x1b[0mf\n"


def test_clean_text_and_output_validation_without_a_kernel() -> None:
    assert clean_text("x\x00\x07\x1b]52;c;Zm9v\x07y\x9b") == "xy"
    assert clean_text(b"bytes") == ""
    assert _to_output("stream", {"name": "stdin", "text": "x"}) is None
    assert _to_output("stream", {"name": "stdout", "text": 5}) is None
    assert _to_output("display_data", {"data": {"image/png": 7}}) is None
    assert _to_output("error", {"traceback": "not a list"}) is None
    out = _to_output("execute_result", {"data": {"text/plain": ["1", "2"]},
                                        "execution_count": True})
    assert out == {"output_type": "execute_result", "data": {"text/plain": "12"},
                   "metadata": {}, "execution_count": None}


_BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass\n"


@pytest.fixture
def cpu_pool(backend: Any) -> Any:
    limits = SandboxLimits(memory_mib=512, wall_s=60, cpu_s=3, session_cpu_s=600)
    with KernelPool(backend, size=1, limits=limits) as p:
        yield p


def test_the_cpu_limit_is_per_cell_and_the_kernel_survives_many_busy_cells(
        cpu_pool: KernelPool) -> None:
    session = cpu_pool.acquire(timeout_s=60)
    session.execute("state = 'kept'")
    # Four cells of 2 CPU-seconds each: 8 s in all, over the 3 s per-cell limit as a lifetime.
    for _ in range(4):
        result = session.execute(_BURN.format(s=2), timeout_s=60)
        assert result.status == "ok", result
    runaway = session.execute("while True: pass", timeout_s=60)
    assert runaway.status == "timeout"
    assert "CPU-second limit" in runaway.detail
    assert session.execute("print(state)").text() == "kept\n"


def test_the_session_budget_ends_the_kernel_with_a_clear_reason(backend: Any) -> None:
    limits = SandboxLimits(memory_mib=512, wall_s=60, cpu_s=30, session_cpu_s=4)
    with KernelPool(backend, size=1, limits=limits) as pool:
        session = pool.acquire(timeout_s=60)
        result = session.execute(_BURN.format(s=2), timeout_s=60)
        assert result.status == "ok"
        result = session.execute(_BURN.format(s=10), timeout_s=60)
        assert result.status == "dead"
        assert "budget" in result.detail or "died" in result.detail
