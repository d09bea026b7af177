"""A page as a person sees it: headless Chromium driven over the DevTools protocol (websockets).

:func:`open_page` loads a file, collects what the page logs as an error (console.error, an
uncaught exception, a resource that failed to load), evaluates JavaScript in it and takes a
full-page PNG. The distribution's ``chromium`` is used (``.ci/run`` installs it when missing).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

#: Guard against a browser that never answers (not a timing assertion: the test fails, not hangs).
DEADLINE_S = 90


def chromium() -> str | None:
    """The Chromium executable, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Page:
    """A loaded page: its errors so far, JavaScript evaluation and screenshots."""

    socket: ClientConnection
    errors: list[str] = field(default_factory=list)
    _next_id: int = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command; return its result (events meanwhile are collected)."""
        self._next_id += 1
        ident = self._next_id
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + DEADLINE_S
        while True:
            message = json.loads(self.socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)

    def wait_for(self, event: str) -> None:
        """Read events until ``event`` arrives."""
        deadline = time.monotonic() + DEADLINE_S
        while True:
            message = json.loads(self.socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            self._event(message)
            if message.get("method") == event:
                return

    def _event(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            texts = [str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", [])]
            self.errors.append("console.error: " + " ".join(texts))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.errors.append("exception: " + str(details.get("exception", {}).get("description", details)))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.errors.append(f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}")

    def evaluate(self, expression: str) -> Any:
        """The JSON value of ``expression`` in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluating {expression[:60]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, width: int = 1000) -> Path:
        """A PNG of the whole page, ``width`` CSS pixels wide."""
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


@contextmanager
def open_page(html: Path, width: int = 1000) -> Iterator[Page]:
    """``html`` loaded in headless Chromium (no network: the page must not need it)."""
    executable = chromium()
    if executable is None:
        raise RuntimeError("chromium is not installed (apt-get install -y chromium; .ci/run does)")
    # Chromium's helper processes may still write to the profile just after the browser exits:
    # a failed clean-up of the throwaway folder is not a failed page
    with tempfile.TemporaryDirectory(prefix="spm-chromium-", ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [
                executable,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--disable-background-networking",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
                f"--user-data-dir={profile}",
                f"--window-size={width},1200",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            port = _devtools_port(process)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=DEADLINE_S) as answer:
                targets = json.load(answer)
            target = next(t for t in targets if t.get("type") == "page")
            with connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=DEADLINE_S) as socket:
                page = Page(socket)
                for domain in ("Page", "Runtime", "Log"):
                    page.call(f"{domain}.enable")
                page.call("Page.navigate", url=html.resolve().as_uri())
                page.wait_for("Page.loadEventFired")
                # a round trip after the load, so that every event the page sent before it (console
                # messages, exceptions) has been read, however busy the machine
                page.evaluate("document.readyState")
                yield page
        finally:
            process.terminate()
            try:
                process.wait(timeout=DEADLINE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _devtools_port(process: subprocess.Popen[str]) -> int:
    """The port Chromium listens on, from its ``DevTools listening on ws://...`` line."""
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "DevTools listening on ws://" in line:
            # keep reading what it says, so that a full pipe never stalls the browser
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return int(line.split("ws://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
        if len(seen) > 200:
            break
    raise RuntimeError("chromium did not open its DevTools port:\n" + "".join(seen[-20:]))
