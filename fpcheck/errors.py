"""Exceptions and warnings raised by fpcheck.

Every error says what was wrong and what to change.  They subclass the
built-in exception a caller would naturally catch (``ValueError`` for bad
input), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = ["FPCheckError", "InputError", "NotAffineError", "UnknownNameError", "TargetError", "GridWarning"]


class FPCheckError(Exception):
    """Base class of every exception fpcheck raises on purpose."""


class InputError(FPCheckError, ValueError):
    """An argument has the wrong shape, value or type (NaN, inf, not positive definite, ...)."""


class NotAffineError(FPCheckError, TypeError):
    """A closed-form transition kernel was asked of a process that has none."""


class UnknownNameError(FPCheckError, LookupError):
    """A name that is not in the registry; the message lists the known ones."""


class TargetError(FPCheckError, ValueError):
    """A user's callable cannot be loaded or misbehaves.

    It raises, returns a wrong shape, NaN or inf, ignores its rng, or takes too long.  The message
    names the callable (sampler, model, score or velocity), the call's arguments and what to change.
    """


class GridWarning(RuntimeWarning):
    """A grid cannot represent the data well: mass outside its box, or too few cells across a feature.

    The message says which side or axis, by how much, and what to change (bounds or shape).
    Raised through :func:`warnings.warn`, so ``pytest.warns`` and warning filters apply.
    """
