"""Loading and guarding the user's callables: every failure is a TargetError that says what to change."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from fpcheck.errors import FPCheckError, InputError, TargetError
from fpcheck.verify import zoo
from fpcheck.verify.targets import Guard, as_array, check_model_rng, check_sampler_rng, load_target, sampler_t_end

HAS_ALARM = hasattr(signal, "SIGALRM")
needs_alarm = pytest.mark.skipif(not HAS_ALARM, reason="needs SIGALRM")


def standard_score(x, t):
    """Exact score of N(0, I) data under any VP process: q_t = N(0, I) for every t."""
    return -x


def good_sampler(score, shape, rng, steps):
    x = rng.standard_normal(shape)
    for i in range(steps):
        x = x + 0.01 * score(x, 1.0 - i / steps) + 0.1 * rng.standard_normal(shape)
    return x


def good_model(n, rng):
    return rng.normal(size=(n, 3))


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


class FakeTensor:
    """Quacks like a torch tensor on a GPU: numpy only after detach() and cpu()."""

    def __init__(self, array):
        self.array, self.log = np.asarray(array), []

    def detach(self):
        self.log.append("detach")
        return self

    def cpu(self):
        self.log.append("cpu")
        return self

    def numpy(self):
        assert self.log == ["detach", "cpu"], "numpy() before detach().cpu()"
        self.log.append("numpy")
        return self.array


# --------------------------------------------------------------------------- load_target


def test_error_class():
    assert issubclass(TargetError, FPCheckError) and issubclass(TargetError, ValueError)


def test_load_sampler_from_file_with_a_neighbour_import(tmp_path):
    write(tmp_path, "helper_for_fpcheck_target.py", "SCALE = 2.0\n")
    path = write(
        tmp_path,
        "my_sampler.py",
        """
        from helper_for_fpcheck_target import SCALE

        def sampler(score, shape, rng, steps):
            return SCALE * rng.standard_normal(shape)

        class Box:
            class Inner:
                @staticmethod
                def sampler(score, shape, rng, steps):
                    return rng.standard_normal(shape)
        """,
    )
    before = list(sys.path)
    sampler = load_target(f"{path}:sampler")
    assert sys.path == before
    assert sampler.__name__ == "sampler" and sampler.__module__ != "my_sampler"
    assert sampler(None, (4, 2), np.random.default_rng(0), 1).shape == (4, 2)
    assert callable(load_target(f"{path}:Box.Inner.sampler"))
    assert load_target(f"{path}:sampler") is not sampler, "each load is a fresh module"


def test_load_by_module_path():
    assert load_target("fpcheck.verify.zoo:ReverseEulerMaruyama") is zoo.ReverseEulerMaruyama
    assert load_target("os:path.join") is os.path.join


@pytest.mark.parametrize(
    "spec, match",
    [
        ("fpcheck.verify.zoo", "has no colon: write it as package.module:attribute"),
        ("fpcheck.verify.zoo:", "empty module or attribute"),
        (":sampler", "empty module or attribute"),
        ("os:path..join", "empty module or attribute"),
        ("no_such_module_fpcheck:f", r"cannot import module 'no_such_module_fpcheck': ModuleNotFoundError: .*check the spelling"),
        ("fpcheck.verify.zoo:NoSuchSampler", r"fpcheck.verify.zoo has no attribute 'NoSuchSampler'; public names there: .*DDIM"),
        ("os:path.no_such", r"os:path has no attribute 'no_such'"),
        ("fpcheck.verify.zoo:__all__", r"is not callable \(it is of type list\)"),
    ],
)
def test_load_errors_by_module(spec, match):
    with pytest.raises(TargetError, match=match) as info:
        load_target(spec)
    assert repr(spec) in str(info.value)


def test_load_errors_by_file(tmp_path):
    with pytest.raises(TargetError, match=r"file '.*missing.py' not found .*relative to the working directory"):
        load_target(f"{tmp_path / 'missing.py'}:f")
    boom = write(tmp_path, "boom.py", "raise RuntimeError('boom at import')\n")
    with pytest.raises(TargetError, match="cannot import file .*RuntimeError: boom at import; fix the file") as info:
        load_target(f"{boom}:f")
    assert isinstance(info.value.__cause__, RuntimeError)
    bad = write(tmp_path, "bad_syntax.py", "def f(:\n")
    with pytest.raises(TargetError, match="SyntaxError"):
        load_target(f"{bad}:f")
    many = write(tmp_path, "many.py", "import math\nx = 3\n" + "".join(f"def f{i:02d}(): pass\n" for i in range(12)))
    with pytest.raises(TargetError, match=r"has no attribute 'g'; public names there: f00, f01, .*f09 and 3 more; change") as info:
        load_target(f"{many}:g")
    assert "math" not in str(info.value), "imported modules are not listed"
    with pytest.raises(TargetError, match=r"is not callable \(it is of type int\)"):
        load_target(f"{many}:x")
    assert not any(name.startswith("_fpcheck_target_") and name.endswith("boom") for name in sys.modules)


def test_load_rejects_non_string():
    with pytest.raises(TargetError, match="no colon"):
        load_target(3)


# --------------------------------------------------------------------------- Guard: outputs


def test_guard_returns_float_arrays_and_counts_time():
    guard = Guard(good_sampler, "sampler")
    x = guard(standard_score, (8, 2), np.random.default_rng(0), 3)
    assert x.shape == (8, 2) and x.dtype == float
    assert guard.calls == 1 and guard.seconds > 0 and guard.label == "sampler good_sampler"
    assert Guard(lambda x, t: [[1, 2]], "velocity")(np.zeros((1, 2)), 0.5).dtype == float


def test_fake_torch_tensor_is_converted():
    tensor = FakeTensor(np.ones((5, 2), dtype=np.float32))
    out = Guard(lambda x, t: tensor, "score")(np.zeros((5, 2)), 0.1)
    assert tensor.log == ["detach", "cpu", "numpy"] and out.dtype == float and out.shape == (5, 2)

    class JaxLike:  # only __array__
        def __array__(self, dtype=None, copy=None):
            return np.zeros((2, 1))

    assert as_array(JaxLike()).shape == (2, 1)


@pytest.mark.parametrize(
    "kind, fn, args, match",
    [
        ("sampler", lambda s, shape, rng, k: np.zeros(shape[0]), (None, (64, 2), None, 25),
         r"sampler <lambda> returned shape \(64,\) instead of \(64, 2\) at steps = 25, shape \(64, 2\)"),
        ("score", lambda x, t: x[:, :1], (np.zeros((4, 2)), 0.35), r"score <lambda> returned shape \(4, 1\) instead of \(4, 2\) at t = 0.35"),
        ("model", lambda n, rng: np.zeros(n), (10, None), r"model <lambda> returned shape \(10,\) instead of \(10, d\) at n = 10"),
        ("model", lambda n, rng: np.zeros((n + 1, 2)), (10, None), r"returned shape \(11, 2\) instead of \(10, d\)"),
        ("velocity", lambda x, t: np.where(x > 0, np.nan, x), (np.r_[-1.0, 1, 1, 1].reshape(2, 2), 0.5),
         "velocity <lambda> returned 3 NaN and 0 inf values out of 4 at t = 0.5"),
        ("sampler", lambda s, shape, rng, k: np.full(shape, np.inf), (None, (64, 2), None, 25),
         "returned 0 NaN and 128 inf values out of 128 at steps = 25"),
        ("score", lambda x, t: "not a number", (np.zeros((1, 1)), 0.0), "returned a str that numpy cannot convert to floats at t = 0"),
    ],
)
def test_guard_rejects_bad_outputs(kind, fn, args, match):
    with pytest.raises(TargetError, match=match):
        Guard(fn, kind)(*args)


def test_guard_wraps_exceptions_from_the_callable():
    def score(x, t):
        return x / 0 if t == 0 else 1 / 0

    guard = Guard(score, "score")
    with pytest.raises(TargetError, match=r"score score raised ZeroDivisionError: division by zero at t = 0.35") as info:
        guard(np.zeros((3, 2)), 0.35)
    assert isinstance(info.value.__cause__, ZeroDivisionError) and guard.calls == 1
    inner = Guard(lambda x, t: np.zeros(3), "score")
    with pytest.raises(TargetError, match="^score <lambda> returned shape"):
        Guard(lambda s, shape, rng, k: s(np.zeros(shape), 0.5), "sampler")(inner, (3, 2), None, 1)


def test_model_dim_is_fixed_by_the_first_call():
    guard = Guard(lambda n, rng: np.zeros((n, 2 if n < 10 else 3)), "model", name="my_model")
    assert guard(5, None).shape == (5, 2) and guard.dim == 2
    with pytest.raises(TargetError, match=r"model my_model returned shape \(10, 3\) instead of \(10, 2\)"):
        guard(10, None)


def test_guard_argument_errors():
    with pytest.raises(InputError, match="kind must be one of sampler, model, score, velocity"):
        Guard(good_sampler, "solver")
    with pytest.raises(InputError, match="timeout must be a positive number"):
        Guard(good_sampler, "sampler", timeout=0)
    with pytest.raises(TargetError, match=r"sampler 3 is not callable \(it is of type int\)"):
        Guard(3, "sampler")


# --------------------------------------------------------------------------- Guard: timeouts


def sleepy_sampler(score, shape, rng, steps):
    time.sleep(2)
    return np.zeros(shape)


def swallowing_sampler(score, shape, rng, steps):
    try:
        time.sleep(2)
    except Exception:
        pass
    return np.zeros(shape)


@needs_alarm
@pytest.mark.parametrize("fn", [sleepy_sampler, swallowing_sampler])
def test_timeout_interrupts_the_call_and_clears_the_timer(fn):
    handler = signal.getsignal(signal.SIGALRM)
    guard = Guard(fn, "sampler", timeout=0.2)
    start = time.perf_counter()
    with pytest.raises(TargetError, match=r"took longer than the timeout of 0.2 s at steps = 25, shape \(4, 2\); raise --timeout"):
        guard(None, (4, 2), np.random.default_rng(0), 25)
    assert time.perf_counter() - start < 1.5
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is handler
    assert 0.15 < guard.seconds < 1.5


@needs_alarm
def test_timeout_restores_an_outer_timer():
    old = signal.signal(signal.SIGALRM, lambda *a: None)
    try:
        signal.setitimer(signal.ITIMER_REAL, 100.0)
        Guard(good_sampler, "sampler", timeout=5)(standard_score, (4, 2), np.random.default_rng(0), 2)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 99.0 < left <= 100.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_timeout_in_a_worker_thread_is_checked_after_the_call():
    def slow_score(x, t):
        time.sleep(0.3)
        return x

    errors = []

    def work():
        try:
            Guard(slow_score, "score", timeout=0.1)(np.zeros((2, 2)), 0.5)
        except TargetError as exc:
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert len(errors) == 1 and "took longer than the timeout of 0.1 s at t = 0.5" in str(errors[0])
    if HAS_ALARM:
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


# --------------------------------------------------------------------------- rng and t_end


def global_rng_sampler(score, shape, rng, steps):
    return np.random.standard_normal(shape)


def fixed_seed_sampler(score, shape, rng, steps):
    return np.random.default_rng(1234).standard_normal(shape)


def test_good_sampler_and_model_pass():
    guard = Guard(good_sampler, "sampler")
    x = check_sampler_rng(guard, standard_score, 2, n=16, steps=5)
    assert x.shape == (16, 2) and guard.calls == 3
    assert check_model_rng(good_model, n=8).shape == (8, 3)
    assert sampler_t_end(good_sampler, 1.0) == 0.0


def test_zoo_sampler_passes():
    sampler = zoo.ReverseEulerMaruyama(t_end=0.01)
    assert check_sampler_rng(sampler, standard_score, 2, timeout=10).shape == (64, 2)
    assert sampler_t_end(Guard(sampler, "sampler"), sampler.T) == 0.01


def test_sampler_using_the_global_rng_fails():
    with pytest.raises(TargetError, match=r"two runs with the same rng seed differ .*at steps = 25, shape \(64, 2\).*np.random.\*.*draw everything from rng"):
        check_sampler_rng(global_rng_sampler, standard_score, 2)
    with pytest.raises(TargetError, match="model <lambda>: two runs with the same rng seed differ"):
        check_model_rng(lambda n, rng: np.random.standard_normal((n, 1)))


def test_sampler_with_a_fixed_seed_fails():
    with pytest.raises(TargetError, match="seeds 0 and 1 give the same output .*does not depend on rng: draw the prior from rng"):
        check_sampler_rng(fixed_seed_sampler, standard_score, 2)
    with pytest.raises(TargetError, match="model .*does not depend on rng"):
        check_model_rng(lambda n, rng: np.ones((n, 2)), seed=5)


def test_rng_checks_pass_call_errors_through():
    with pytest.raises(TargetError, match=r"returned shape \(64,\) instead of \(64, 2\)"):
        check_sampler_rng(lambda s, shape, rng, k: rng.normal(size=shape[0]), standard_score, 2)
    with pytest.raises(InputError, match="expected a Guard of kind 'sampler', got one of kind 'model'"):
        check_sampler_rng(Guard(good_model, "model"), standard_score, 2)


@pytest.mark.parametrize(
    "t_end, match",
    [("soon", "t_end = 'soon', which is not a number"), (None, "not a number"), (float("nan"), r"outside \[0, T\) = \[0, 1\)"),
     (1.0, r"t_end = 1.0, outside \[0, T\)"), (-0.1, "outside")],
)
def test_bad_t_end(t_end, match):
    def sampler(score, shape, rng, steps):
        return rng.standard_normal(shape)

    sampler.t_end = t_end
    with pytest.raises(TargetError, match=match):
        sampler_t_end(sampler, 1.0)
