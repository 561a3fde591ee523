"""A table that redraws in microseconds: rows of (text, style) cells rendered straight to strips
through textual's line API, each row's strip cached until the row changes.

textual's DataTable renders every cell through rich on any change: about 2 ms a row here, so an
overview of 50 services refreshed every second kept the keyboard waiting 100 ms and more. This
widget does only what the overview needs: fixed-width columns, a header, a row cursor, scrolling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = tuple[str, str]  # text, rich style ("" for none)
HEADER_STYLE = Style.parse("bold")
CURSOR_STYLE = Style.parse("reverse")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int


class Grid(ScrollView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False), Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False), Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "move(-1000000)", show=False), Binding("end", "move(1000000)", show=False),
        Binding("enter", "select", "Open", show=False)]

    cursor_row: reactive[int] = reactive(0)

    class Selected(Message):
        def __init__(self, grid: Grid, key: str) -> None:
            super().__init__()
            self.grid, self.key = grid, key

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns: list[Column] = []
        self.keys: list[str] = []
        self.rows: dict[str, list[Cell]] = {}
        self._strips: dict[tuple[str, bool, int], Strip] = {}
        self._styles: dict[str, Style] = {"": Style()}

    # -- data --------------------------------------------------------------------------------------
    def set_columns(self, columns: list[Column]) -> None:
        self.columns = columns
        self._strips.clear()
        self._resize()

    def set_rows(self, rows: list[tuple[str, list[Cell]]]) -> None:
        """Replace the rows (same keys keep the cursor on the same row); only changed rows redraw."""
        cursor_key = self.keys[self.cursor_row] if 0 <= self.cursor_row < len(self.keys) else None
        changed = [k for k, cells in rows if self.rows.get(k) != cells]
        new_keys = [k for k, _ in rows]
        self.rows = dict(rows)
        for key in changed:
            for stale in [s for s in self._strips if s[0] == key]:
                del self._strips[stale]
        order_changed = new_keys != self.keys
        self.keys = new_keys
        if cursor_key in self.rows:
            self.cursor_row = self.keys.index(cursor_key)
        self.cursor_row = max(0, min(self.cursor_row, len(self.keys) - 1))
        self._resize()
        if order_changed or changed:
            self.refresh()

    def row_texts(self) -> list[list[str]]:
        """The rows as plain text, in order (what tests and benchmarks read)."""
        return [[text for text, _ in self.rows[k]] for k in self.keys]

    @property
    def cursor_key(self) -> str | None:
        return self.keys[self.cursor_row] if 0 <= self.cursor_row < len(self.keys) else None

    def _resize(self) -> None:
        width = sum(c.width + 1 for c in self.columns) + 1
        self.virtual_size = Size(width, len(self.keys) + 1)

    # -- keys --------------------------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        if self.keys:
            self.cursor_row = max(0, min(len(self.keys) - 1, self.cursor_row + delta))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.scrollable_content_region.height - 2))

    def action_select(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.Selected(self, self.cursor_key))

    def watch_cursor_row(self, old: int, new: int) -> None:
        for row in (old, new):
            self.refresh_line(row + 1)  # virtual line (the header is line 0)
        # keep the cursor in view (line 0 is the header)
        top, height = int(self.scroll_offset.y), max(1, self.scrollable_content_region.height - 1)
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + height:
            self.scroll_to(y=new - height + 1, animate=False)

    # -- rendering ---------------------------------------------------------------------------------
    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = Style.parse(name)
        return style

    def _row_strip(self, key: str, cells: list[Cell], cursor: bool, width: int) -> Strip:
        cached = self._strips.get((key, cursor, width))
        if cached is not None:
            return cached
        segments = []
        for col, (text, style) in zip(self.columns, cells, strict=False):
            cell_style = self._style(style) + CURSOR_STYLE if cursor else self._style(style)
            segments.append(Segment(text[:col.width].ljust(col.width) + " ", cell_style))
        strip = Strip([Segment(" "), *segments]).extend_cell_length(width, CURSOR_STYLE if cursor else Style())
        self._strips[(key, cursor, width)] = strip
        return strip

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = max(self.size.width, self.virtual_size.width)
        if y == 0:
            header = Strip([Segment(" "), *(Segment(c.label[:c.width].ljust(c.width) + " ", HEADER_STYLE)
                                             for c in self.columns)]).extend_cell_length(width)
            return header.crop(scroll_x, scroll_x + self.size.width)
        index = y - 1 + scroll_y
        if index >= len(self.keys):
            return Strip.blank(self.size.width)
        key = self.keys[index]
        strip = self._row_strip(key, self.rows[key], index == self.cursor_row and self.has_focus, width)
        return strip.crop(scroll_x, scroll_x + self.size.width)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
