r"""Load the user's callables and call them under guard: shape, finiteness, time and rng checks.

The user's objects follow the contract of DESIGN.md ("The user's objects"):

* sampler:  ``sampler(score, shape, rng, steps) -> (n, d)``, optional attribute ``t_end`` (default 0)
* model:    ``model(n, rng) -> (n, d)``
* score:    ``score(x, t) -> (n, d)``;  velocity: ``velocity(x, t) -> (n, d)``

:func:`load_target` turns a command-line spec (``package.module:attr`` or ``path/to/file.py:attr``)
into the object.  :class:`Guard` wraps one callable, keeps its signature, and turns every way it can
misbehave (raising, a wrong shape, NaN or inf, running past a timeout) into a
:class:`~fpcheck.errors.TargetError` that names the callable, the call and what to change; it also
adds up the wall time spent inside the callable (:attr:`Guard.seconds`), so a report can show the
sampler's own time apart from fpcheck's.  :func:`check_sampler_rng` and :func:`check_model_rng` check
that all randomness comes from the ``rng`` argument; :func:`sampler_t_end` reads ``t_end``.

Outputs from torch or jax are accepted: :func:`as_array` calls ``.detach()``, ``.cpu()`` and
``.numpy()`` where they exist (duck-typed, nothing is imported), then ``np.asarray(out, dtype=float)``.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import itertools
import math
import os
import re
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..errors import InputError, TargetError

__all__ = ["KINDS", "load_target", "as_array", "Guard", "check_sampler_rng", "check_model_rng", "sampler_t_end"]

KINDS = ("sampler", "model", "score", "velocity")
_FORMAT = "package.module:attribute or path/to/file.py:attribute"
_module_ids = itertools.count()


# --------------------------------------------------------------------------- loading


def load_target(spec: str) -> object:
    """Import the callable named by ``spec``.

    Parameters
    ----------
    spec : str
        ``package.module:attribute`` (imported with :func:`importlib.import_module`) or
        ``path/to/file.py:attribute`` (a path is recognised by ending in ``.py``; it is loaded under
        a fresh module name, with its directory on ``sys.path`` only while it is imported, so it can
        import its neighbours).  The string is split on its last colon; ``attribute`` may be dotted
        (``obj.attr``).

    Returns
    -------
    object
        The callable (a function, a class, or an object with ``__call__``).

    Raises
    ------
    TargetError
        No colon, an empty part, a missing file, a module that cannot be imported (the message
        repeats the original exception), a missing attribute (the message lists up to 10 public
        names that are there), or an object that is not callable.
    """
    if not isinstance(spec, str) or ":" not in spec:
        raise TargetError(f"target {spec!r} has no colon: write it as {_FORMAT}, e.g. my_samplers.py:sampler")
    where, _, attribute = spec.rpartition(":")
    parts = attribute.split(".")
    if not where or not all(parts):
        raise TargetError(f"target {spec!r} has an empty module or attribute: write it as {_FORMAT}")
    obj = _load_file(spec, where) if where.endswith(".py") else _import_module(spec, where)
    for i, part in enumerate(parts):
        owner = where if i == 0 else f"{where}:{'.'.join(parts[:i])}"
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(
                f"target {spec!r}: {owner} has no attribute {part!r}; public names there: "
                f"{_public_names(obj)}; change the part after the colon"
            ) from None
    if not callable(obj):
        raise TargetError(
            f"target {spec!r} is not callable (it is of type {type(obj).__name__}): point it at a function, "
            "a class, or an object with a __call__ method"
        )
    return obj


def _import_module(spec: str, name: str) -> types.ModuleType:
    try:
        return importlib.import_module(name)
    except (Exception, SystemExit) as exc:
        missing = isinstance(exc, ModuleNotFoundError) and exc.name and (name + ".").startswith(exc.name + ".")
        hint = (
            "check the spelling, install the package, run from the directory that holds it (or add that "
            "directory to PYTHONPATH), or give a file instead: path/to/file.py:attribute"
            if missing
            else "fix the module (the traceback above shows where)"
        )
        raise TargetError(
            f"target {spec!r}: cannot import module {name!r}: {type(exc).__name__}: {exc}; {hint}"
        ) from exc


def _load_file(spec: str, where: str) -> types.ModuleType:
    path = Path(where).expanduser()
    if not path.is_file():
        raise TargetError(
            f"target {spec!r}: file {where!r} not found (looked for {path.absolute()}); check the path, "
            f"which is relative to the working directory {os.getcwd()}"
        )
    path = path.resolve()
    name = f"_fpcheck_target_{next(_module_ids)}_{re.sub(r'[^0-9a-zA-Z_]', '_', path.stem)}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise TargetError(f"target {spec!r}: {where!r} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(module_spec)
    folder = str(path.parent)
    sys.path.insert(0, folder)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        raise TargetError(
            f"target {spec!r}: cannot import file {where!r}: {type(exc).__name__}: {exc}; "
            "fix the file (the traceback above shows where)"
        ) from exc
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)
    return module


def _public_names(obj: object, limit: int = 10) -> str:
    names = [n for n in dir(obj) if not n.startswith("_") and not isinstance(getattr(obj, n, None), types.ModuleType)]
    if not names:
        return "(none)"
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


# --------------------------------------------------------------------------- guarded calls


def as_array(out: object) -> np.ndarray:
    """Convert a callable's output to a float array, accepting torch and jax tensors.

    Calls ``out.detach()``, ``out.cpu()`` and ``out.numpy()`` where they exist, in that order, then
    ``np.asarray(out, dtype=float)``.  Nothing is imported: any object with these methods works.
    """
    for method in ("detach", "cpu", "numpy"):
        if hasattr(out, method):
            out = getattr(out, method)()
    return np.asarray(out, dtype=float)


class _Timeout(BaseException):
    """Raised by the SIGALRM handler inside the user's callable.

    A BaseException, so an ``except Exception`` in the user's code cannot swallow it.
    """


@contextlib.contextmanager
def _alarm(seconds: float | None, token: _Timeout) -> Iterator[None]:
    """Raise ``token`` inside the block after ``seconds``, where SIGALRM can be used (main thread, POSIX).

    Elsewhere this does nothing and the caller checks the elapsed time afterwards.  The previous
    handler and timer are restored in every case; a previous timer keeps the time it had left.
    """
    if seconds is None or not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise token

    old_handler = signal.signal(signal.SIGALRM, handler)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.monotonic()
    try:
        yield
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.signal(signal.SIGALRM, old_handler)
            if old_delay > 0:
                left = max(old_delay - (time.monotonic() - start), 1e-6)
                signal.setitimer(signal.ITIMER_REAL, left, old_interval)


def _describe(fn: object, limit: int = 80) -> str:
    name = getattr(fn, "__qualname__", None)
    text = name.rsplit("<locals>.", 1)[-1] if isinstance(name, str) else repr(fn)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _format_t(t: object) -> str:
    try:
        return f"{float(t):.6g}"
    except (TypeError, ValueError):
        return repr(t)


class Guard:
    """A user's callable with every call checked; call it exactly like the callable itself.

    ``Guard(sampler, "sampler")(score, shape, rng, steps)``, ``Guard(model, "model")(n, rng)``,
    ``Guard(score, "score")(x, t)``: each returns the output as a float array (:func:`as_array`)
    after checking it.

    Parameters
    ----------
    fn : callable
        The user's callable.
    kind : {"sampler", "model", "score", "velocity"}
        What it is; fixes the signature, the expected shape and the words of the messages.
    timeout : float or None, optional
        Seconds one call may take.  In the main thread of a POSIX process the call is interrupted
        by SIGALRM when it runs over (a call stuck in one long C routine is interrupted when that
        returns); elsewhere the time is checked after the call returns.  ``None``: no limit.
    dim : int or None, optional
        The dimension ``d`` of a model's samples.  ``None``: taken from the first good call and
        required of every later one.
    name : str or None, optional
        How messages name the callable; by default its ``__qualname__`` or its ``repr``.

    Attributes
    ----------
    seconds : float
        Wall time spent inside the callable, added up over all calls (failed ones included).
    calls : int
        Number of calls made.

    Raises
    ------
    TargetError
        On a call, when the callable raises (chained ``from`` the original), returns something
        that is not numeric, returns the wrong shape (sampler: ``shape``; model: ``(n, d)``; score
        and velocity: the shape of ``x``), returns NaN or inf, or runs past ``timeout``.  A
        TargetError raised inside the callable (from a nested Guard) passes through unchanged.
    """

    def __init__(
        self,
        fn: Callable,
        kind: str,
        *,
        timeout: float | None = None,
        dim: int | None = None,
        name: str | None = None,
    ):
        if kind not in KINDS:
            raise InputError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if timeout is not None and not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
            raise InputError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
        self.fn, self.kind, self.timeout, self.dim = fn, kind, timeout, dim
        self.name = name if name is not None else _describe(fn)
        self.seconds = 0.0
        self.calls = 0
        if not callable(fn):
            raise TargetError(
                f"{self.label} is not callable (it is of type {type(fn).__name__}); "
                "pass a function or an object with __call__"
            )

    @property
    def label(self) -> str:
        """``kind name``, as messages start, e.g. ``"sampler my_sampler"``."""
        return f"{self.kind} {self.name}"

    def __repr__(self) -> str:
        return f"Guard({self.name}, {self.kind!r}, timeout={self.timeout!r})"

    def __call__(self, *args) -> np.ndarray:
        if self.kind == "sampler":
            score, shape, rng, steps = args
            expected = tuple(int(s) for s in shape)
            where = f"at steps = {steps}, shape {expected}"
        elif self.kind == "model":
            n, rng = args
            expected = (int(n), self.dim)
            where = f"at n = {n}"
        else:
            x, t = args
            expected = tuple(np.shape(x))
            where = f"at t = {_format_t(t)}, x of shape {expected}"
        out = self._run(args, where)
        try:
            arr = as_array(out)
        except Exception as exc:
            raise TargetError(
                f"{self.label} returned a {type(out).__name__} that numpy cannot convert to floats {where} "
                f"({type(exc).__name__}: {exc}); return a numeric array of shape (n, d)"
            ) from exc
        self._check(arr, expected, where)
        return arr

    def _run(self, args: tuple, where: str) -> object:
        token = _Timeout(f"interrupted here after the timeout of {self.timeout} s")
        start = time.perf_counter()
        try:
            with _alarm(self.timeout, token):
                out = self.fn(*args)
        except _Timeout as exc:
            if exc is not token:
                raise
            raise self._timeout_error(where) from exc
        except TargetError:
            raise
        except Exception as exc:
            raise TargetError(
                f"{self.label} raised {type(exc).__name__}: {exc} {where}; fix the {self.kind} "
                "(the traceback above shows where)"
            ) from exc
        finally:
            elapsed = time.perf_counter() - start
            self.seconds += elapsed
            self.calls += 1
        if self.timeout is not None and elapsed > self.timeout:
            raise self._timeout_error(where)
        return out

    def _timeout_error(self, where: str) -> TargetError:
        return TargetError(
            f"{self.label} took longer than the timeout of {self.timeout:g} s {where}; raise --timeout, "
            "or make each call cheaper (fewer steps, a smaller n)"
        )

    def _check(self, arr: np.ndarray, expected: tuple, where: str) -> None:
        if self.kind == "model":
            ok = arr.ndim == 2 and arr.shape[0] == expected[0] and expected[1] in (None, arr.shape[1])
            want = f"({expected[0]}, {'d' if expected[1] is None else expected[1]})"
        else:
            ok, want = arr.shape == expected, str(expected)
        if not ok:
            raise TargetError(
                f"{self.label} returned shape {arr.shape} instead of {want} {where}; it must return one row "
                "per sample, an array of shape (n, d)"
            )
        if self.kind == "model" and self.dim is None:
            self.dim = arr.shape[1]
        finite = np.isfinite(arr)
        if not finite.all():
            nan = int(np.isnan(arr).sum())
            raise TargetError(
                f"{self.label} returned {nan} NaN and {arr.size - int(finite.sum()) - nan} inf values out of "
                f"{arr.size} {where}; every entry must be finite (look for a division by a vanishing "
                "noise scale near t = 0, or an overflowing exp)"
            )


# --------------------------------------------------------------------------- rng and t_end


def _guard(fn: Callable | Guard, kind: str, timeout: float | None) -> Guard:
    if isinstance(fn, Guard):
        if fn.kind != kind:
            raise InputError(f"expected a Guard of kind {kind!r}, got one of kind {fn.kind!r}")
        return fn
    return Guard(fn, kind, timeout=timeout)


def _check_rng(guard: Guard, draw: Callable[[np.random.Generator], np.ndarray], seed: int, where: str) -> np.ndarray:
    first = draw(np.random.default_rng(seed))
    again = draw(np.random.default_rng(seed))
    if not np.array_equal(first, again):
        gap = float(np.max(np.abs(first - again)))
        raise TargetError(
            f"{guard.label}: two runs with the same rng seed differ (by up to {gap:.3g}) {where}: the {guard.kind} "
            "draws randomness from somewhere other than its rng argument (np.random.*, torch's global "
            "generator, ...); draw everything from rng"
        )
    other = draw(np.random.default_rng(seed + 1))
    if np.array_equal(first, other):
        raise TargetError(
            f"{guard.label}: runs with rng seeds {seed} and {seed + 1} give the same output {where}: "
            "the output does not depend on rng: draw the prior from rng"
        )
    return first


def check_sampler_rng(
    sampler: Callable | Guard,
    score: Callable,
    d: int,
    *,
    n: int = 64,
    steps: int = 25,
    seed: int = 0,
    timeout: float | None = None,
) -> np.ndarray:
    """Check that a sampler draws all its randomness from its ``rng`` argument.

    Runs ``sampler(score, (n, d), rng, steps)`` twice with ``np.random.default_rng(seed)`` and once
    with ``np.random.default_rng(seed + 1)``, each call under :class:`Guard`.

    Parameters
    ----------
    sampler : callable or Guard
        The sampler; a :class:`Guard` of kind ``"sampler"`` is used as it is (its own timeout
        applies, and its :attr:`~Guard.seconds` add up these runs).
    score : callable
        The score handed to the sampler.
    d : int
        Dimension of the samples.
    n, steps, seed : int, optional
        Batch size, number of steps, and the first seed.
    timeout : float or None, optional
        Seconds per call, when ``sampler`` is not already a Guard.

    Returns
    -------
    numpy.ndarray
        The ``(n, d)`` samples of the first run.

    Raises
    ------
    TargetError
        If the two same-seed runs differ, if the run with the other seed equals the first, or if
        a call misbehaves (see :class:`Guard`).
    """
    guard = _guard(sampler, "sampler", timeout)
    shape = (int(n), int(d))
    return _check_rng(guard, lambda rng: guard(score, shape, rng, steps), seed, f"at steps = {steps}, shape {shape}")


def check_model_rng(model: Callable | Guard, *, n: int = 64, seed: int = 0, timeout: float | None = None) -> np.ndarray:
    """Check that a model draws all its randomness from its ``rng`` argument.

    As :func:`check_sampler_rng`, with calls ``model(n, rng)``; returns the first ``(n, d)`` draw.
    """
    guard = _guard(model, "model", timeout)
    return _check_rng(guard, lambda rng: guard(n, rng), seed, f"at n = {n}")


def sampler_t_end(sampler: Callable | Guard, T: float) -> float:
    """The sampler's ``t_end`` attribute (0 when absent), checked to be a finite float in ``[0, T)``.

    Raises
    ------
    TargetError
        If ``t_end`` is not a number, not finite, or outside ``[0, T)``.
    """
    fn = sampler.fn if isinstance(sampler, Guard) else sampler
    t_end = getattr(fn, "t_end", 0.0)
    hint = f"set t_end to the time at which the sampler stops, a float in [0, T) = [0, {T:g}), or remove it (default 0)"
    try:
        value = float(t_end)
    except (TypeError, ValueError):
        raise TargetError(f"sampler {_describe(fn)} has t_end = {t_end!r}, which is not a number; {hint}") from None
    if not (math.isfinite(value) and 0.0 <= value < T):
        raise TargetError(f"sampler {_describe(fn)} has t_end = {value!r}, outside [0, T) = [0, {T:g}); {hint}")
    return value
