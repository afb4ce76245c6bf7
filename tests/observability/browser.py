"""A page as a real browser renders it: headless Debian Chromium runs the page's scripts and
dumps the resulting DOM, which is parsed into a small element tree to assert on."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

# Elements without an end tag in serialised HTML; they never hold children.
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    # Child elements and text, in document order.
    nodes: list[Element | str] = field(default_factory=list)

    @property
    def children(self) -> list[Element]:
        return [node for node in self.nodes if isinstance(node, Element)]

    @property
    def text(self) -> str:
        """The text inside, whitespace collapsed, as a reader sees it."""
        return " ".join("".join(self._texts()).split())

    def _texts(self) -> Iterator[str]:
        for node in self.nodes:
            if isinstance(node, str):
                yield node
            else:
                yield from node._texts()

    def walk(self) -> Iterator[Element]:
        """This element and every element inside it, in document order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def find_all(self, match: Callable[[Element], bool]) -> list[Element]:
        return [element for element in self.walk() if match(element)]

    def has_class(self, name: str) -> bool:
        return name in self.attrs.get("class", "").split()


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self._open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self._open[-1].nodes.append(element)
        if tag not in VOID:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open[-1].nodes.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        # Close up to the matching element; a stray end tag closes nothing.
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._open[-1].nodes.append(data)


def parse(html: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            "Debian's `chromium` is not installed; the trace UI test loads pages in it. "
            "Run `make setup` (it installs chromium).",
            pytrace=False,
        )
    return found


def rendered(url: str, budget_ms: int = 15_000) -> Element:
    """The DOM of `url` after its scripts ran, including their requests to the server."""
    with tempfile.TemporaryDirectory(prefix="trace-ui-chromium-") as profile:
        result = subprocess.run(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                # Virtual time waits for the page's fetches, then runs its timers ahead.
                f"--virtual-time-budget={budget_ms}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    if result.returncode != 0 or "<html" not in result.stdout:
        raise AssertionError(
            f"chromium could not render {url} (exit {result.returncode}):\n{result.stderr[-2000:]}"
        )
    return parse(result.stdout)
