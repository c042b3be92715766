"""Where the CLI writes transcripts, and its progress bar."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from dsac_asr.errors import InvalidOptionError
from dsac_asr.transcript import OutputFormat


@dataclass(frozen=True)
class OutputTarget:
    """stdout, one file, or a folder of ``<input stem>.<format>`` files."""

    fmt: OutputFormat
    file: Path | None = None
    folder: Path | None = None

    @classmethod
    def choose(cls, output: str | None, fmt: OutputFormat, input_count: int) -> OutputTarget:
        """Interpret ``--output`` for ``input_count`` inputs."""
        if output is None or output == "-":
            if fmt.is_binary and sys.stdout.isatty():
                raise InvalidOptionError(f"{fmt.value} is binary: give --output FILE or DIR")
            return cls(fmt)
        path = Path(output)
        if path.is_dir() or input_count > 1 or output.endswith(("/", "\\")):
            path.mkdir(parents=True, exist_ok=True)
            return cls(fmt, folder=path)
        return cls(fmt, file=path)

    def write(self, source: Path, data: bytes) -> None:
        """Write one input's rendered transcript."""
        if self.folder is not None:
            (self.folder / f"{source.stem}{self.fmt.extension}").write_bytes(data)
        elif self.file is not None:
            self.file.write_bytes(data)
        else:
            sys.stdout.buffer.write(data if data.endswith(b"\n") else data + b"\n")
            sys.stdout.buffer.flush()


class ProgressBar:
    """A progress bar on a terminal; silent when stderr is not one."""

    def __init__(self, console: Console, label: str) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if console.is_terminal:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            self._task = self._progress.add_task(label, total=1.0)

    def __enter__(self) -> ProgressBar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, fraction: float) -> None:
        """Show ``fraction`` (0..1) done."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=fraction)
