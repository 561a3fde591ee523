"""The footer: the keys of the screen on top, as one line of text.

textual's ``Footer`` mounts one widget per key and recomposes them all whenever the bindings change
(every focus change and screen switch), restyling each: measured by ``bench/tui_keys.py`` with the
profiler, a third of the time a screen switch took. This draws the same keys into one ``Static``,
and only when they changed."""

from __future__ import annotations

from rich.text import Text
from textual.screen import Screen
from textual.widgets import Static


class KeyBar(Static):
    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; background: $footer-background; color: $footer-foreground; }
    """

    def __init__(self) -> None:
        super().__init__("", id="keys")
        self._drawn: tuple[tuple[str, str, bool], ...] = ()

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.draw()

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self.draw()

    def draw(self) -> None:
        shown: dict[str, tuple[str, str, bool]] = {}  # one entry per action, the first key that shows it
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in shown:
                shown[binding.action] = (self.app.get_key_display(binding), binding.description, enabled)
        palette = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if self.app.ENABLE_COMMAND_PALETTE and palette is not None:  # hidden in the bindings, shown last
            shown.setdefault(palette.binding.action, (self.app.get_key_display(palette.binding),
                                                     palette.binding.description, palette.enabled))
        keys = tuple(shown.values())
        if keys == self._drawn:
            return
        self._drawn = keys
        line = Text(no_wrap=True, overflow="ellipsis")
        for key, description, enabled in keys:
            line.append(f" {key} ", style="bold reverse" if enabled else "dim reverse")
            line.append(f" {description}  ", style="" if enabled else "dim")
        self.update(line)
