"""Load a local page in headless Chromium and report what happened.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
commands on fd 3, replies on fd 4, NUL-terminated JSON), so no websocket library
and no open port are needed. The page's session records every network request
(file:, data: and blob: URLs included), console message, uncaught exception and
log entry, then evaluates JavaScript and takes a screenshot.
"""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio",
    "--remote-debugging-pipe",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class BrowserError(RuntimeError):
    pass


class Page:
    """One headless Chromium with one tab; use as a context manager."""

    def __init__(self, width=1000, height=1000, timeout=30.0):
        self.timeout = timeout
        self.size = (width, height)
        self.requests, self.console, self.exceptions, self.log = [], [], [], []
        self._buf, self._id, self._session = b"", 0, None

    def __enter__(self):
        exe = find_chromium()
        if exe is None:
            raise BrowserError("no chromium on PATH")
        self._tmp = tempfile.TemporaryDirectory(prefix="densumap-chromium-")
        cmd_r, cmd_w = os.pipe()  # we write commands, chromium reads fd 3
        out_r, out_w = os.pipe()  # chromium writes fd 4, we read

        def child_fds():
            # Copy both ends above 4 first, so neither dup2 overwrites the other.
            a = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(out_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [exe, *FLAGS, f"--user-data-dir={self._tmp.name}",
                f"--window-size={self.size[0]},{self.size[1]}", "about:blank"]
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, preexec_fn=child_fds,
            close_fds=False,  # fds 3 and 4 must survive; Python's own fds close on exec
        )
        os.close(cmd_r)
        os.close(out_w)
        self._w, self._r = cmd_w, out_r
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._call(
            "Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self._call(f"{domain}.enable")
        self._call("Emulation.setDeviceMetricsOverride", {
            "width": self.size[0], "height": self.size[1], "deviceScaleFactor": 1,
            "mobile": False})
        return self

    def __exit__(self, *exc):
        try:
            if self.proc.poll() is None:
                try:
                    self._send("Browser.close", {}, session=False)
                    self.proc.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired, BrowserError):
                    self.proc.kill()
                    self.proc.wait(timeout=5)
        finally:
            os.close(self._w)
            os.close(self._r)
            self._tmp.cleanup()

    # ------------------------------------------------------------------ protocol

    def _send(self, method, params, session=True):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session and self._session is not None:
            msg["sessionId"] = self._session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        return self._id

    def _read(self, deadline):
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("timed out waiting for chromium")
            ready, _, _ = select.select([self._r], [], [], left)
            if ready:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise BrowserError("chromium closed the pipe (it crashed or exited)")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _record(self, msg):
        method, params = msg.get("method"), msg.get("params", {})
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.console.append((params["type"], text))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.exceptions.append(details.get("exception", {}).get("description")
                                   or details.get("text"))
        elif method == "Log.entryAdded":
            entry = params["entry"]
            self.log.append((entry["level"], entry.get("text", ""), entry.get("url", "")))

    def _call(self, method, params=None, session=True):
        want = self._send(method, params, session)
        deadline = time.monotonic() + self.timeout
        while True:
            msg = self._read(deadline)
            if msg.get("id") == want:
                if "error" in msg:
                    raise BrowserError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self._record(msg)

    def _pump(self, seconds):
        deadline = time.monotonic() + seconds
        try:
            while True:
                self._record(self._read(deadline))
        except BrowserError as exc:
            if "timed out" not in str(exc):
                raise

    # ------------------------------------------------------------------ API

    def open(self, path, ready="true", settle=0.5):
        """Navigate to a local file and wait until the JS expression ``ready`` holds."""
        self._call("Page.navigate", {"url": Path(path).resolve().as_uri()})
        deadline = time.monotonic() + self.timeout
        while not self.evaluate(f"document.readyState === 'complete' && !!({ready})"):
            if time.monotonic() > deadline:
                raise BrowserError(f"page did not become ready ({ready}) in {self.timeout} s")
            self._pump(0.1)
        self._pump(settle)

    def evaluate(self, expression):
        result = self._call("Runtime.evaluate", {
            "expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r} raised {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self):
        """The viewport as PNG bytes."""
        return base64.b64decode(self._call("Page.captureScreenshot", {"format": "png"})["data"])

    def remote_requests(self):
        return [u for u in self.requests if not u.startswith(LOCAL_SCHEMES)]

    def errors(self):
        """Console errors, uncaught exceptions and error log entries, as text."""
        out = [f"console.{kind}: {text}" for kind, text in self.console
               if kind in ("error", "assert")]
        out += [f"exception: {text}" for text in self.exceptions]
        out += [f"log {level}: {text} ({url})" for level, text, url in self.log
                if level == "error"]
        return out
