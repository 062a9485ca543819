"""Text output, one rule each: numbers with units (k/M/G/T, B/kB/MB, s/ms/µs), names cut with an ellipsis,
prose wrapped, and fixed-width tables that fit the terminal (lower-value columns dropped first).

Only text reports use these; CSV and JSON keep the raw numbers.
"""
from __future__ import annotations

import math
import sys
from typing import List, Optional, Sequence

DEFAULT_WIDTH = 100   # the width text output fits when the terminal is wider or unknown (piped)
MIN_WIDTH = 60        # never lay out narrower than this (a very narrow terminal wraps instead)


def si(value: Optional[float], unit: str = "", digits: int = 2) -> str:
    """1234567 -> '1.23 M' (k, M, G, T); None, NaN or negative -> '?'."""
    if value is None or value != value or value < 0:
        return "?"
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.{digits}f} {prefix}{unit}"
    return f"{value:.0f} {unit}".rstrip() if float(value).is_integer() else f"{value:.{digits}f} {unit}".rstrip()


def _unicode_ok() -> bool:
    """Whether stdout takes "…" and "µ" (an ASCII or Latin-1 locale falls back to "..." and "us")."""
    try:
        "…µ".encode(getattr(sys.stdout, "encoding", None) or "ascii")
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def seconds(s: Optional[float]) -> str:
    """Seconds as text: '1.234 s', '1.234 ms' or '12.3 µs' ('us' where stdout cannot print µ); '-' for None
    or NaN."""
    if s is None or (isinstance(s, float) and math.isnan(s)):
        return "-"
    if s >= 1:
        return f"{s:.3f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3f} ms"
    return f"{s * 1e6:.1f} {'µs' if _unicode_ok() else 'us'}"


def text_width(text: str) -> int:
    """Width of one line as the strictest tool counts it: UTF-8 bytes (so '…' counts 3, as `awk length`
    does in a byte locale); a line that fits by this measure fits by any."""
    return len(text.encode("utf-8"))


def ellipsis(text: str, width: int, where: str = "middle") -> str:
    """`text` cut to `width` characters with an ellipsis: in the middle (keeps a file's ending, '.onnx', and
    the end of a node path), at the end, or for a "path" in its directory first (the file name is kept)."""
    if len(text) <= width:
        return text
    mark = "…" if _unicode_ok() else "..."
    if where == "path" and "/" in text:
        folder, _, name = text.rpartition("/")
        room = width - len(name) - len(mark) - 1
        if room >= 1:
            return folder[:room] + mark + "/" + name
        return ellipsis(name, width)
    keep = max(0, width - len(mark))
    if where == "end" or keep < 4:
        return text[:keep] + mark
    tail = keep // 2
    return text[:keep - tail] + mark + text[len(text) - tail:]


def fit_name(text: str, width: int, where: str = "middle") -> str:
    """ellipsis() cut so that the result is at most `width` by text_width (UTF-8 bytes)."""
    chars = width
    cut = ellipsis(text, chars, where)
    while text_width(cut) > width and chars > 1:
        chars -= 1
        cut = ellipsis(text, chars, where)
    return cut


def terminal_width(wide: bool = False) -> Optional[int]:
    """The width text output fits: the terminal's columns ($COLUMNS first) capped at DEFAULT_WIDTH, and
    DEFAULT_WIDTH when stdout is not a terminal; None (no limit) for a --wide view."""
    if wide:
        return None
    import shutil

    columns = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return max(MIN_WIDTH, min(DEFAULT_WIDTH, columns or DEFAULT_WIDTH))


def wrap(text: str, width: Optional[int]) -> str:
    """Each line of `text` longer than `width` wrapped at spaces, continuation lines of an indented line
    indented two more (a word longer than a line is cut)."""
    if width is None:
        return text
    import textwrap

    out: List[str] = []
    for line in text.split("\n"):
        if text_width(line) <= width:
            out.append(line)
            continue
        indent = line[:len(line) - len(line.lstrip())]
        extra = text_width(line) - len(line)   # bytes beyond one per character (µ, …)
        out += textwrap.wrap(line.strip(), width=max(20, width - extra), initial_indent=indent,
                             subsequent_indent=indent + "  " if indent else "", break_on_hyphens=False) or [""]
    return "\n".join(out)


class Column:
    """One column of a text table: header, cells (text), alignment ('l' or 'r'), `keep` (higher is kept
    longer when the table must lose columns to fit; None = never dropped) and `shrink` (the width its cells
    may be cut to with an ellipsis before any column is dropped, or once the columns with keep below
    `cut_after` are gone; None = never cut); `cut`: where the ellipsis goes ("middle", "end" or "path")."""
    __slots__ = ("header", "cells", "align", "keep", "shrink", "cut", "cut_after", "width", "extra")

    def __init__(self, header: str, cells: List[str], align: str = "r", keep: Optional[float] = None,
                 shrink: Optional[int] = None, cut: str = "middle", cut_after: Optional[float] = None):
        self.header, self.cells, self.align, self.keep, self.shrink = header, cells, align, keep, shrink
        self.cut, self.cut_after = cut, cut_after
        self.width = self.extra = 0


def text_table(columns: Sequence[Column], width: Optional[int] = None, sep: str = "  ", rule: bool = False) -> str:
    """Columns as aligned text no wider than `width` (None: every column in full).

    To fit: cut the columns that may shrink down to their `shrink` width and drop columns lowest `keep` first
    (a column with `cut_after` is cut once the columns with a lower keep are gone), then cut the shrinkable
    columns further (to their header's width, at least 12)."""
    cols = [c for c in columns]
    for c in cols:
        c.width = max([len(c.header)] + [len(v) for v in c.cells])
    if width is not None:
        _fit(cols, width, sep)
    lines = [_row([c.header for c in cols], cols, sep)]
    if rule:
        lines.append(sep.join("-" * c.width for c in cols))
    for i in range(len(cols[0].cells) if cols else 0):
        lines.append(_row([c.cells[i] for c in cols], cols, sep))
    return "\n".join(lines)


def _row(cells: Sequence[str], cols: Sequence[Column], sep: str) -> str:
    parts = []
    for v, c in zip(cells, cols):
        v = ellipsis(v, c.width, c.cut) if len(v) > c.width else v
        parts.append(v.ljust(c.width) if c.align == "l" else v.rjust(c.width))
    return sep.join(parts).rstrip()


def _fit(cols: List[Column], width: int, sep: str) -> None:
    """Cut and drop columns of `cols` (in place) until every rendered line is at most `width` wide."""
    for c in cols:   # bytes beyond one per character (µ) of the widest such cell
        c.extra = max([text_width(v) - len(v) for v in c.cells] + [0])
    natural = {id(c): c.width for c in cols}
    mark_extra = len("…".encode("utf-8")) - 1 if _unicode_ok() else 0
    # the least important shrinkable column is cut first (keep None: the most important)
    shrinkable = sorted((c for c in cols if c.shrink is not None),
                        key=lambda c: math.inf if c.keep is None else c.keep)

    def widest() -> int:   # an upper bound of the widest rendered line, in text_width units
        return sum(c.width + c.extra + (mark_extra if c.width < natural[id(c)] else 0)
                   for c in cols) + len(sep) * (len(cols) - 1)

    def cut(floor_of) -> None:   # shrink the shrinkable columns down to floor_of(column)
        while widest() > width:
            excess, moved = widest() - width, False
            for c in shrinkable:
                if excess > 0 and c in cols:
                    step = min(excess, max(0, c.width - floor_of(c)))
                    c.width, excess, moved = c.width - step, excess - step, moved or step > 0
            if not moved:
                return

    # Events in order: cut a column to its soft floor (at its cut_after, or first), drop a column (at its keep).
    events = sorted([(-math.inf if c.cut_after is None else c.cut_after, 0, i) for i, c in enumerate(cols)
                     if c.shrink is not None] + [(c.keep, 1, i) for i, c in enumerate(cols) if c.keep is not None])
    every = list(cols)
    may_cut: set = set()

    def soft(c: Column) -> int:
        return max(c.shrink, len(c.header)) if id(c) in may_cut else natural[id(c)]

    for _, kind, i in events:
        if widest() <= width:
            return
        c = every[i]
        if kind == 0:
            may_cut.add(id(c))
        else:
            cols.remove(c)
        for s in shrinkable:   # lay the cut columns out again: a dropped column may leave room
            s.width = natural[id(s)]
        cut(soft)
    cut(lambda c: max(12, len(c.header)))
