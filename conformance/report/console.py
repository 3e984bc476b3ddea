"""Terminal output: a progress bar and tables with rich, plain text without it.

rich is optional (the ``report`` extra). Without it the same information is printed as
aligned plain text, and one note says so. Results go to stdout, progress and notes to
stderr, so ``gru-conformance check ... > result.txt`` keeps only the results.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager


def _rich():
    try:
        import rich.console  # noqa: F401
        import rich.progress  # noqa: F401
        import rich.table  # noqa: F401
        import rich.text  # noqa: F401
    except ImportError:
        return None
    import rich

    return rich


def _style(text: str) -> str:
    return {"pass": "green", "FAIL": "bold red", "ERROR": "bold red", "unsupported": "dim", "-": "dim"}.get(
        text.split(" ", 1)[0], "")


class Output:
    """Where the CLI writes; ``plain`` is True when rich is not installed."""

    def __init__(self, out=None, err=None):
        self.out, self.err = out or sys.stdout, err or sys.stderr
        self.rich = _rich()
        self.plain = self.rich is None
        if self.rich:
            from rich.console import Console

            self.console = Console(file=self.out, highlight=False)
            if not self.console.is_terminal and not os.environ.get("COLUMNS"):  # logs and CI: no wrap at 80
                self.console = Console(file=self.out, highlight=False, width=200)
            self.err_console = Console(file=self.err, highlight=False)

    @property
    def width(self) -> int:
        """The columns a table may take: the terminal's (rich), else $COLUMNS, else 100."""
        if not self.plain:
            return self.console.width
        try:
            return int(os.environ.get("COLUMNS", ""))
        except ValueError:
            return 100

    def print(self, text: str = ""):
        if self.plain:
            print(text, file=self.out)
        else:
            self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def note(self, text: str):
        print(f"note: {text}", file=self.err)

    def table(self, title: str, header: list, rows: list):
        if self.plain:
            widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
            line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
            print(f"{title}\n{line(header)}\n{line(['-' * w for w in widths])}", file=self.out)
            for r in rows:
                print(line(r), file=self.out)
            print(file=self.out)
            return
        from rich.table import Table
        from rich.text import Text

        t = Table(title=Text(title), title_justify="left")  # Text: names like GRU[batch_first] are not markup
        for h in header:
            t.add_column(Text(str(h)))
        for r in rows:
            t.add_row(*(Text(str(c), style=_style(str(c))) for c in r))
        self.console.print(t)

    @contextmanager
    def progress(self, total: int):
        """Yields step(label, done=False, line=None, count=1): show ``label`` as what is running, and
        with ``done`` count ``count`` steps as done (plain text prints ``line``, else ``label``, per step)."""
        if self.plain:
            done_steps = [0]

            def step(label: str, done: bool = False, line: str | None = None, count: int = 1):
                if done:
                    done_steps[0] += count
                    print(f"  [{done_steps[0]}/{total}] {line or label}", file=self.err, flush=True)
            yield step
            return
        from rich.markup import escape
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(),
                   TimeElapsedColumn())
        with Progress(*columns, console=self.err_console, transient=False) as bar:
            task = bar.add_task("checking", total=total)

            def step(label: str, done: bool = False, line: str | None = None, count: int = 1):
                bar.update(task, description=escape(label), advance=count if done else 0)
            yield step
