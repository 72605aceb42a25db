"""The files a run writes: its output, whole or not at all, and its dead letters, appended when the run completes.

The output (:func:`output_file`):

- ``-`` is the standard output, written as the records come.
- A path is followed through its symbolic links to the file they name; the links stay as they are.
- What is not a regular file there (a FIFO, a pipe or terminal, a device such as ``/dev/null``, ``/dev/stdout``
  or ``/dev/fd/N``) is written in place, as the records come: it was not made by the run, and it is not
  replaced. A path through a descriptor link of this process (``/dev/stdout``, ``/dev/fd/N``) writes to that
  descriptor, as ``-`` does.
- A regular file, or a path where nothing is, gets the output whole or not at all: the run writes a new file
  beside it (``NAME.XXXXXXXX.partial``, created for this run alone), and only a run that completes renames it
  over the target, with the mode (and, where allowed, the owner) of the file it replaces. A run that fails or
  is stopped removes it. A regular file that cannot be written is refused, not replaced.

The dead letters (:class:`DeadLetterFile`): those of one run are kept aside in an unnamed temporary file and
appended to the dead-letter file when the run completes, so a run that fails leaves the file as it was.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import sys
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from cefmt import CloudEventError

__all__ = ["DeadLetterFile", "check_dead_letter", "output_file", "writing", "written_in_place"]

_DESCRIPTOR = re.compile(r"/proc/(?:self|thread-self|(\d+))/(?:task/\d+/)?fd/(\d+)")
_MAX_LINKS = 40  # as the kernel's own limit on following symbolic links


def _resolve(path: str) -> tuple[str, bool]:
    """``path`` with every symbolic link followed, and whether that went through ``/proc`` (a descriptor link).

    Unlike :func:`os.path.realpath`, this stops at ``/proc``: the links there (``/dev/stdout`` leads to
    ``/proc/self/fd/1``) name open descriptors, not places a file can be put.
    """
    current = os.path.abspath(path)
    for _ in range(_MAX_LINKS):
        head, tail = os.path.split(current)
        head = os.path.realpath(head)
        full = os.path.join(head, tail)
        if head == "/proc" or head.startswith("/proc/"):
            return full, True
        if not tail or not os.path.islink(full):
            return full, False
        current = os.path.join(head, os.readlink(full))
    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)


def _own_descriptor(resolved: str) -> int | None:
    """The descriptor of this process that ``/proc/.../fd/N`` names, or ``None`` when it is another's."""
    match = _DESCRIPTOR.fullmatch(resolved)
    if match is None or (match.group(1) is not None and int(match.group(1)) != os.getpid()):
        return None
    return int(match.group(2))


class _Output:
    """An output open for writing: in place (``partial`` is ``None``) or as a partial file to rename over ``target``."""

    def __init__(self, file: IO[bytes], *, partial: str | None = None, target: str | None = None, own: bool = True):
        self.file = file
        self.partial = partial
        self.target = target
        self._own = own  # the file is ours to close (not sys.stdout)

    def commit(self) -> None:
        self.file.flush()
        if self.partial is None:
            if self._own:
                self.file.close()
            return
        assert self.target is not None
        os.fsync(self.file.fileno())  # the data is on disk before the name points at it
        self.file.close()
        os.replace(self.partial, self.target)
        self.partial = None

    def discard(self) -> None:
        try:
            if self._own:
                self.file.close()
        finally:
            if self.partial is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.partial)
                self.partial = None


def _open_output(path: str) -> _Output:
    if path == "-":
        return _Output(sys.stdout.buffer, own=False)
    if path.endswith(os.sep):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    resolved, through_proc = _resolve(path)
    if through_proc:  # an open descriptor: this process's is written as it is, another's opened anew
        descriptor = _own_descriptor(resolved)
        if descriptor is not None:
            return _Output(os.fdopen(os.dup(descriptor), "wb"))
        return _Output(open(resolved, "wb"))  # closed by commit() or discard()
    # Open what is there without creating or truncating anything, to see what it is.
    try:
        fd = os.open(resolved, os.O_WRONLY | os.O_CLOEXEC | os.O_NOCTTY)
    except FileNotFoundError:
        info = None
    except IsADirectoryError as exc:
        raise IsADirectoryError(exc.errno, exc.strerror, path) from None
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, path) from None
    else:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return _Output(os.fdopen(fd, "wb"))
        os.close(fd)
    return _partial_beside(resolved, info)


def _partial_beside(target: str, replaced: os.stat_result | None) -> _Output:
    folder, name = os.path.split(target)
    os.makedirs(folder, exist_ok=True)
    while True:
        partial = os.path.join(folder, f"{name}.{secrets.token_hex(4)}.partial")
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            continue
        break
    try:
        if replaced is not None:  # the new file takes the place of the old one: it keeps its mode and owner
            os.fchmod(fd, stat.S_IMODE(replaced.st_mode))
            if (replaced.st_uid, replaced.st_gid) != (os.geteuid(), os.getegid()):
                with contextlib.suppress(PermissionError):
                    os.fchown(fd, replaced.st_uid, replaced.st_gid)
        file = os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        os.unlink(partial)
        raise
    return _Output(file, partial=partial, target=target)


@contextlib.contextmanager
def output_file(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """The binary file to write a run's output to, by the rules of this module: whole or not at all for a
    regular file (or a new one), in place for anything else, ``-`` for the standard output.

    The output is put in place when the block ends without an exception; an exception (a failed record,
    a signal) removes what was written to a partial file.

    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "out.jsonl")
    >>> with output_file(target) as out:
    ...     _ = out.write(b"{}\\n")
    ...     os.path.exists(target)
    False
    >>> open(target, "rb").read()
    b'{}\\n'
    """
    with writing(path) as out:
        yield out


def written_in_place(path: str | os.PathLike[str]) -> bool:
    """Whether :func:`output_file` writes ``path`` in place (``-``, a FIFO, a device ...) rather than whole.

    >>> written_in_place("/dev/null"), written_in_place("/no/such/folder/out.jsonl")
    (True, False)
    """
    path = os.fspath(path)
    if path == "-":
        return True
    try:
        resolved, through_proc = _resolve(path)
        return through_proc or not stat.S_ISREG(os.stat(resolved).st_mode)
    except OSError:
        return False


# -- dead letters -----------------------------------------------------------------------------------------------


class DeadLetterFile:
    """The dead letters of one run, kept aside and appended to the file at ``path`` when the run completes.

    It takes bytes like a binary file (``write``, ``flush``), so it can be handed to the stream functions
    as ``dead_letter``. :meth:`commit` appends what was written (nothing is created when nothing was),
    in one go: should that fail part way, the file is cut back to what it held. :meth:`discard` drops
    it. The folder of ``path`` is made, and the file checked for writing, when this is created, so a run
    does not find out at its end that its dead letters have nowhere to go.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "dead.jsonl")
    >>> dead = DeadLetterFile(path)
    >>> _ = dead.write(b'{"error": "..."}\\n')
    >>> os.path.exists(path)
    False
    >>> dead.commit(); open(path, "rb").read()
    b'{"error": "..."}\\n'
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.count = 0  # writes (one per dead letter)
        self._stage: IO[bytes] | None = None
        self._appended: tuple[str, int] | None = None  # (file, size before) of a commit that can be undone
        resolved, through_proc = _resolve(self.path)
        self._stage_folder: str | None = None
        if through_proc:
            return
        if os.path.isdir(resolved):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), self.path)
        if os.path.exists(resolved):
            if not os.access(resolved, os.W_OK):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), self.path)
            if stat.S_ISREG(os.stat(resolved).st_mode):
                self._stage_folder = os.path.dirname(resolved)
        else:
            folder = os.path.dirname(resolved)
            os.makedirs(folder, exist_ok=True)
            if not os.access(folder, os.W_OK):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), folder)
            self._stage_folder = folder

    def write(self, data: bytes) -> int:
        if self._stage is None:
            # Unnamed where the system allows: nothing is left behind, whatever stops the run.
            self._stage = tempfile.TemporaryFile(dir=self._stage_folder)  # noqa: SIM115  # closed by commit/discard
        self.count += 1
        return self._stage.write(data)

    def flush(self) -> None:
        """Nothing to do: the dead letters are handed on by :meth:`commit`."""

    def commit(self) -> None:
        """Append the dead letters to the file (all of them, or none: a failure cuts the file back)."""
        stage, self._stage = self._stage, None
        if stage is None:
            return
        try:
            stage.flush()
            stage.seek(0)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOCTTY, 0o666)
            try:
                info = os.fstat(fd)
                regular = stat.S_ISREG(info.st_mode)
                try:
                    while block := stage.read(1 << 20):
                        view = memoryview(block)
                        while view:
                            view = view[os.write(fd, view) :]
                    if regular:
                        os.fsync(fd)
                except BaseException:
                    if regular:
                        with contextlib.suppress(OSError):
                            os.ftruncate(fd, info.st_size)
                    raise
                if regular:
                    self._appended = (self.path, info.st_size)
            finally:
                os.close(fd)
        finally:
            stage.close()

    def undo(self) -> None:
        """Cut the file back to what it held before :meth:`commit` (a regular file only)."""
        if self._appended is not None:
            path, size = self._appended
            self._appended = None
            with contextlib.suppress(OSError):
                os.truncate(path, size)

    def discard(self) -> None:
        """Drop the dead letters kept so far; the file is left as it was."""
        stage, self._stage = self._stage, None
        if stage is not None:
            stage.close()


@contextlib.contextmanager
def writing(output: str | os.PathLike[str], dead_letters: DeadLetterFile | None = None) -> Iterator[IO[bytes]]:
    """The output file of a run, and its dead letters: both are put in place when the block ends without an
    exception, and neither when it raises.

    The dead letters are appended first (a failure there cuts the file back and leaves no output), then the
    output is renamed into place (should that fail, the dead letters appended are cut back again).
    """
    try:
        out = _open_output(os.fspath(output))
    except BaseException:
        if dead_letters is not None:
            dead_letters.discard()
        raise
    try:
        yield out.file
    except BaseException:
        try:
            out.discard()
        finally:
            if dead_letters is not None:
                dead_letters.discard()
        raise
    try:
        if dead_letters is not None:
            dead_letters.commit()
    except BaseException:
        out.discard()
        raise
    try:
        out.commit()
    except BaseException:
        out.discard()
        if dead_letters is not None:
            dead_letters.undo()
        raise


# -- the dead-letter file is neither the input nor the output ---------------------------------------------------


def _identity(path: Any, standard: int) -> tuple[int, int, int] | str | None:
    """What names the file at ``path``: device, inode and type when it exists, the resolved path when it does
    not, ``None`` for what is neither a path nor an open file. ``-`` is the descriptor ``standard``."""
    descriptor = standard if isinstance(path, str) and path == "-" else None
    if descriptor is None and not isinstance(path, (str, os.PathLike)):
        try:
            descriptor = path.fileno()
        except (AttributeError, OSError, ValueError):  # not a file, or one without a descriptor (BytesIO)
            return None
    if descriptor is not None:
        try:
            info = os.fstat(descriptor)
        except (OSError, TypeError):
            return None
        return info.st_dev, info.st_ino, stat.S_IFMT(info.st_mode)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return _resolve(os.fspath(path))[0]
    except OSError:
        return None
    return info.st_dev, info.st_ino, stat.S_IFMT(info.st_mode)


def _shared(one: tuple[int, int, int] | str | None, other: tuple[int, int, int] | str | None) -> bool:
    if one is None or one != other:
        return False
    # Writing to a device (/dev/null, a terminal) neither feeds an input nor changes a stored output.
    return isinstance(one, str) or one[2] not in (stat.S_IFCHR, stat.S_IFBLK)


def check_dead_letter(dead_letter: Any, *, source: Any = None, target: Any = None) -> None:
    """Refuse a dead-letter file that is the input (it would grow while it is read, without end) or the output
    (the dead letters would be mixed into it, or lost when it is renamed into place).

    Files are compared as files, not names: device and inode, through symbolic links; ``-`` is the
    standard input (``source``) or output (``target``). Devices such as ``/dev/null`` may be shared.

    >>> try:
    ...     check_dead_letter("in.jsonl", source="./in.jsonl")
    ... except CloudEventError as exc:
    ...     print(exc)
    the dead-letter file in.jsonl is the input (./in.jsonl): it would grow as it is read
    """
    if isinstance(dead_letter, DeadLetterFile):
        dead_letter = dead_letter.path
    if not isinstance(dead_letter, (str, os.PathLike)):
        return
    dead = _identity(dead_letter, -1)
    if _shared(dead, _identity(source, 0)):
        raise CloudEventError(
            f"the dead-letter file {os.fspath(dead_letter)} is the input ({_name(source, 'stdin')}): "
            "it would grow as it is read"
        )
    if _shared(dead, _identity(target, 1)):
        raise CloudEventError(
            f"the dead-letter file {os.fspath(dead_letter)} is the output ({_name(target, 'stdout')}): "
            "the dead letters would be mixed into the output, or lost when it is put in place"
        )


def _name(path: Any, standard: str) -> str:
    if isinstance(path, str) and path == "-":
        return standard
    if isinstance(path, (str, os.PathLike)):
        return os.fspath(path)
    return str(getattr(path, "name", standard))
