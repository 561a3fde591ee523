"""The help screen: every key, by screen, and what the colours mean."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# healops: keys

| key | where | does |
|---|---|---|
| `o` `i` `r` `c` | anywhere | overview, incidents, remediation journal, chaos |
| `k` | anywhere | pause or resume self-healing (the kill switch), after a y/n |
| `ctrl+p` | anywhere | command palette: go to, open or acknowledge an incident, pause healing |
| `?` / `escape` | anywhere | this help / back |
| `s` | overview | sort by platform order, anomaly, error ratio, p99 |
| `enter` | incidents | open the highlighted incident |
| `a` | incidents, incident | acknowledge |
| `f` | incidents | active only / all |
| `y` / `n` | incident | approve / deny the highlighted remediation awaiting approval |
| `1` `2` `3` | remediation | journal, actions, desired-state git history |
| `x` / `g` | chaos | run the highlighted experiment (pick a service) / game day |

**Colours**: green healthy, yellow progressing or in progress, red degraded or failing. The anomaly
score is the detectors' likelihood (0..1): red while a watch of the service fires (the loop acts on
it), yellow from the watches' score gate (0.6: surprising, but not yet past the practical floor),
green below.

**Banner**: the control plane cannot be reached; the screen keeps its last data and the app keeps
retrying by itself.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Back"), Binding("question_mark", "dismiss", "Back", show=False),
        Binding("q", "dismiss", "Back", show=False)]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)
