r"""Objectives and fits of fpcheck.learned: quadratic forms against their definitions, quadrature, ridge fits.

Tolerances and where they come from:

* ``FORM_RTOL = 1e-10``: a form's :math:`\tfrac12\theta^TA\theta - b^T\theta + c` against the objective
  evaluated from its definition on the same samples (the model's output, divergence, ... computed
  here from the basis's features).  Both are sums of the same :math:`n \le 4000` per-sample terms in
  another order, so they differ by round-off, :math:`\lesssim n\epsilon \approx 10^{-12}` of the sum
  of the terms' magnitudes; 1e-10 of that scale leaves a margin of 100.
* ``EXACT_RTOL = 1e-12``: identities between forms built from the same features by different
  formulas (ISM by Laplacians and by first derivatives; vectorised exact fields against
  ``ExactMarginals``): round-off of short sums, relative to the entries' scale.
* ``Z = 5``: Monte Carlo agreement (a quadrature form against a sampled one) within 5 standard
  errors, estimated from the per-sample rows.  Per entry the false-fail probability of a normal
  deviate is 5.7e-7; over the at most ~500 entries compared in a test, below 3e-4 (Bonferroni).
"""

from __future__ import annotations

import numpy as np
import pytest
from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.errors import InputError, NotAffineError
from fpcheck.learned import objectives as ob
from fpcheck.learned.bases import RBF, Basis, Legendre, Polynomial, Tensor
from fpcheck.learned.fit import RIDGE_GRID, LinearField, fit, solve

FORM_RTOL = 1e-10
EXACT_RTOL = 1e-12
Z = 5.0
T_RANGE = (0.1, 0.9)


def vp_truth(dim: int) -> ExactMarginals:
    data = problems.data("gmm1d-bimodal") if dim == 1 else problems.data("gmm2d-aniso")
    return ExactMarginals(problems.process("vp-linear"), data)


def make_basis(dim: int, space: int = 5, degree: int = 2) -> Basis:
    return Tensor(RBF.on_grid([(-3.0, 3.0)] * dim, space, 1.0), Legendre(degree, T_RANGE))


# ------------------------------------------------------------------------------ direct evaluations


def output(basis, model, theta, x, t, dim):
    r""":math:`s_\theta(x, t)` written out: :math:`\sum_j\theta_j\nabla\psi_j` or :math:`\sum_j\theta_{ij}\psi_j`."""
    f = basis.evaluate(x, t)
    if model == "gradient":
        return np.einsum("rjd,j->rd", f.gradients, theta)
    return f.values @ theta.reshape(dim, -1).T


def divergence(basis, model, theta, x, t, dim):
    r""":math:`\nabla\cdot s_\theta`: :math:`\sum_j\theta_j\Delta\psi_j` or :math:`\sum_{ij}\theta_{ij}\partial_i\psi_j`."""
    f = basis.evaluate(x, t)
    if model == "gradient":
        return f.laplacians @ theta
    return np.einsum("rji,ij->r", f.gradients, theta.reshape(dim, -1))


def assert_form_matches(form, direct, seed: int = 0):
    r"""``form.value`` against ``direct(theta) -> (value, scale)`` at :math:`0, \theta_1, -\theta_1, \theta_2, \theta_1 + \theta_2`.

    These five values pin down :math:`c`, :math:`\theta_i^TA\theta_j` (:math:`i, j \in \{1, 2\}`) and
    :math:`b\cdot\theta_i` separately: :math:`A` and :math:`b` along two random directions.
    """
    th1, th2 = np.random.default_rng(seed).normal(size=(2, form.size))
    for theta in (np.zeros(form.size), th1, -th1, th2, th1 + th2):
        value, scale = direct(theta)
        assert abs(form.value(theta) - value) <= FORM_RTOL * scale, (form, form.value(theta), value, scale)


@pytest.fixture(scope="module")
def samples_by_dim():
    out = {}
    for dim in (1, 2):
        truth = vp_truth(dim)
        smp = ob.kernel_samples(truth.process, truth.data, 3000, np.random.default_rng(11 + dim), t_range=T_RANGE)
        out[dim] = truth, smp
    return out


# ------------------------------------------------------------------------------ forms vs definitions


@pytest.mark.parametrize("model", ["gradient", "vector"])
@pytest.mark.parametrize("dim", [1, 2])
def test_regression_forms_equal_their_definitions(samples_by_dim, dim, model):
    truth, smp = samples_by_dim[dim]
    basis = make_basis(dim)
    lam = ob.noise_weight(truth.process)(smp.t)
    a, c, s2 = (np.asarray(v) for v in truth.process.kernel(smp.t))
    da, dc, ds2 = (np.asarray(v) for v in truth.process.kernel_derivative(smp.t))
    sd = np.sqrt(s2)[:, None]
    targets = {
        "esm": ob.exact_values(truth, smp.x, smp.t),
        "dsm": -smp.eps / sd,
        # u = (s'/s)(x - a x0 - c) + a' x0 + c' with s' = (s^2)' / (2 s), as in MATH.md 4
        "cfm": (ds2[:, None] / (2 * sd)) / sd * (smp.x - a[:, None] * smp.x0 - c[:, None]) + da[:, None] * smp.x0 + dc[:, None],
    }
    forms = {
        "esm": ob.esm(basis, smp.x, smp.t, truth.score, model=model, weight=ob.noise_weight(truth.process)),
        "dsm": ob.dsm(basis, smp, model=model, weight=ob.noise_weight(truth.process)),
        "cfm": ob.flow_matching(basis, smp, model=model, weight=lam),
    }
    for name, form in forms.items():
        y = targets[name]

        def regression(theta, y=y):  # (1/2) mean lambda |s - y|^2
            s = output(basis, model, theta, smp.x, smp.t, dim)
            scale = lam * (0.5 * np.sum(s * s, axis=1) + np.abs(np.sum(s * y, axis=1)) + 0.5 * np.sum(y * y, axis=1))
            return np.mean(0.5 * lam * np.sum((s - y) ** 2, axis=1)), np.mean(scale)

        assert_form_matches(form, regression, seed=len(name))

    def hyvarinen(theta):  # mean lambda [|s|^2 / 2 + div s]
        s = output(basis, model, theta, smp.x, smp.t, dim)
        half_s2, div = 0.5 * np.sum(s * s, axis=1), divergence(basis, model, theta, smp.x, smp.t, dim)
        return np.mean(lam * (half_s2 + div)), np.mean(lam * (half_s2 + np.abs(div)))

    form = ob.ism(basis, smp.x, smp.t, model=model, weight=lam)
    assert_form_matches(form, hyvarinen)
    assert form.c == 0.0


@pytest.mark.parametrize("variance_reduced", [False, True])
@pytest.mark.parametrize("dim", [1, 2])
def test_sliced_form_equals_its_definition(samples_by_dim, dim, variance_reduced):
    truth, smp = samples_by_dim[dim]
    basis = make_basis(dim)
    v = np.random.default_rng(5).standard_normal(smp.x.shape)
    form = ob.sliced(basis, smp.x, smp.t, v=v, variance_reduced=variance_reduced)
    f = basis.evaluate(smp.x, smp.t)

    def sliced(theta):  # mean [v^T (grad s) v + (v^T s)^2 / 2]  (or |s|^2 / 2)
        s = output(basis, "vector", theta, smp.x, smp.t, dim)
        jac = np.einsum("ij,rjk->rik", theta.reshape(dim, -1), f.gradients)  # d s_i / d x_k
        vjv = np.einsum("ri,rik,rk->r", v, jac, v)
        quad = 0.5 * np.sum(s * s, axis=1) if variance_reduced else 0.5 * np.sum(v * s, axis=1) ** 2
        return np.mean(vjv + quad), np.mean(np.abs(vjv) + quad)

    assert_form_matches(form, sliced)
    # the same draw through rng
    again = ob.sliced(basis, smp.x, smp.t, rng=np.random.default_rng(9), variance_reduced=variance_reduced)
    assert again.A.shape == form.A.shape


@pytest.mark.parametrize("projections", ob.PROJECTIONS)
def test_sliced_draws_its_projections_as_asked(samples_by_dim, projections):
    truth, smp = samples_by_dim[2]
    basis = make_basis(2)
    form = ob.sliced(basis, smp.x, smp.t, rng=np.random.default_rng(3), projections=projections)
    draw = np.random.default_rng(3)
    v = draw.choice((-1.0, 1.0), size=smp.x.shape) if projections == "rademacher" else draw.standard_normal(smp.x.shape)
    given = ob.sliced(basis, smp.x, smp.t, v=v)
    np.testing.assert_array_equal(form.A, given.A)
    np.testing.assert_array_equal(form.b, given.b)


def test_rademacher_sliced_score_matching_in_1d_is_implicit_score_matching_of_the_vector_model(samples_by_dim):
    # v = +-1, so v^T (grad s) v = s' and (variance-reduced) |s|^2 / 2: the same rows as ISM's
    truth, smp = samples_by_dim[1]
    basis = make_basis(1)
    lam = np.random.default_rng(4).uniform(0.5, 2.0, smp.t.size)
    form = ob.sliced(basis, smp.x, smp.t, rng=np.random.default_rng(2), variance_reduced=True, weight=lam)
    implicit = ob.ism(basis, smp.x, smp.t, model="vector", weight=lam)
    np.testing.assert_allclose(form.A, implicit.A, rtol=1e-12, atol=1e-14 * np.abs(implicit.A).max())
    np.testing.assert_allclose(form.b, implicit.b, rtol=1e-12, atol=1e-14 * np.abs(implicit.b).max())


@pytest.mark.parametrize("coupled", [False, True])
def test_action_matching_form_equals_its_definition(coupled):
    truth = vp_truth(1)
    rng = np.random.default_rng(21)
    basis = make_basis(1, space=6, degree=3)
    t0, t1 = T_RANGE
    mid = ob.kernel_samples(truth.process, truth.data, 2000, rng, t_range=T_RANGE)
    if coupled:  # equal counts: one block of triples
        start, end = mid.at(t0).x, mid.at(t1).x
    else:
        start = ob.kernel_samples(truth.process, truth.data, 1500, rng, t=t0).x
        end = ob.kernel_samples(truth.process, truth.data, 2500, rng, t=t1).x
    form = ob.action_matching(basis, start, end, mid.x, mid.t, T_RANGE)
    assert len(form.blocks) == (1 if coupled else 3)

    def action(theta):  # mean s_t0 - mean s_t1 + (t1 - t0) mean [|grad s|^2 / 2 + d_t s]
        field = LinearField(basis, theta, model="gradient", dim=1, rho=0.0, kind="velocity", objective="am")
        grad = field(mid.x, mid.t)
        dt = basis.time_derivatives(mid.x, mid.t) @ theta
        s0, s1 = field.potential(start, t0), field.potential(end, t1)
        interior = 0.5 * np.sum(grad**2, axis=1) + dt
        scale = np.abs(s0).mean() + np.abs(s1).mean() + (t1 - t0) * (0.5 * np.sum(grad**2, axis=1) + np.abs(dt)).mean()
        return s0.mean() - s1.mean() + (t1 - t0) * interior.mean(), scale

    assert_form_matches(form, action)


def test_quadrature_forms_equal_their_definitions():
    truth = vp_truth(1)
    basis = make_basis(1, space=6, degree=3)
    grid = ob.tensor_grid((-8.0, 8.0), 401)
    nodes, weights = ob.gauss_legendre(T_RANGE, 6)
    lam = ob.noise_weight(truth.process)

    def field(theta):
        return LinearField(basis, theta, model="gradient", dim=1, rho=0.0, kind="score", objective="x")

    def score_matching(theta, implicit: bool):  # sum_k W_k lambda_k sum_i w_i q (ESM or ISM integrand)
        value = scale = 0.0
        for t, w in zip(nodes, weights):
            qw = truth.pdf(grid.points, t) * grid.weights * w * lam(t)
            s, y = field(theta)(grid.points, t), truth.score(grid.points, t)
            div = basis.laplacians(grid.points, t) @ theta
            if implicit:
                value += qw @ (0.5 * np.sum(s * s, axis=1) + div)
                scale += qw @ (0.5 * np.sum(s * s, axis=1) + np.abs(div))
            else:
                value += qw @ (0.5 * np.sum((s - y) ** 2, axis=1))
                scale += qw @ (0.5 * np.sum(s * s + y * y, axis=1) + np.abs(np.sum(s * y, axis=1)))
        return value, scale

    E = ob.esm_quadrature(basis, grid, (nodes, weights), truth, truth.score, weight=lam)
    assert_form_matches(E, lambda theta: score_matching(theta, False))
    assert_form_matches(ob.ism_quadrature(basis, grid, (nodes, weights), truth, weight=lam), lambda theta: score_matching(theta, True))
    # Action Matching: end terms and the time integral with Gauss-Legendre weights summing to t1 - t0
    am_nodes, am_weights = ob.gauss_legendre(T_RANGE, 6, integral=True)
    assert abs(am_weights.sum() - (T_RANGE[1] - T_RANGE[0])) <= 1e-15

    def action(theta):
        value = scale = 0.0
        for t, w in zip(am_nodes, am_weights):
            qw = truth.pdf(grid.points, t) * grid.weights * w
            g, dt = field(theta)(grid.points, t), basis.time_derivatives(grid.points, t) @ theta
            value += qw @ (0.5 * np.sum(g * g, axis=1) + dt)
            scale += qw @ (0.5 * np.sum(g * g, axis=1) + np.abs(dt))
        ends = [truth.pdf(grid.points, tt) * grid.weights @ field(theta).potential(grid.points, tt) for tt in T_RANGE]
        return value + ends[0] - ends[1], scale + abs(ends[0]) + abs(ends[1])

    assert_form_matches(ob.action_matching_quadrature(basis, grid, T_RANGE, truth, n_times=6), action)
    # density and target given as values, and the density as a callable, give the same form
    q = np.stack([truth.pdf(grid.points, t) for t in nodes])
    y = np.stack([truth.score(grid.points, t) for t in nodes])
    for density, target in ((q, y), (truth.pdf, truth.score)):
        again = ob.esm_quadrature(basis, grid, (nodes, weights), density, target, weight=lam)
        np.testing.assert_array_equal(again.A, E.A)
        np.testing.assert_array_equal(again.b, E.b)


# ------------------------------------------------------------------------------ exact identities


def test_ism_by_laplacians_equals_ism_by_first_derivatives():
    r"""A polynomial gradient model is a vector model on one degree less, with the same ISM.

    :math:`\nabla z^\alpha = (\alpha_e z^{\alpha - e_e}/L_e)_e`: the gradient model on
    ``Polynomial(d, p)`` is the vector model on ``Polynomial(d, p - 1, constant=True)`` with
    :math:`\theta^{vec} = T\theta`.  Its ISM by Laplacians (gradient model) and by first
    derivatives (vector model) must then be the same quadratic form: :math:`A = T^T A^{vec} T`,
    :math:`b = T^T b^{vec}`, to round-off.
    """
    dim, degree, scale = 2, 3, 1.7
    grad_basis = Polynomial(dim, degree, centre=0.2, scale=scale)
    vec_basis = Polynomial(dim, degree - 1, constant=True, centre=0.2, scale=scale)
    index = {tuple(e): j for j, e in enumerate(vec_basis.exponents)}
    J = vec_basis.size
    T = np.zeros((dim * J, grad_basis.size))
    for j, alpha in enumerate(grad_basis.exponents):
        for e in range(dim):
            if alpha[e]:
                lower = alpha.copy()
                lower[e] -= 1
                T[e * J + index[tuple(lower)], j] = alpha[e] / scale
    truth = vp_truth(dim)
    smp = ob.kernel_samples(truth.process, truth.data, 2000, np.random.default_rng(4), t=0.4)
    g = ob.ism(grad_basis, smp.x, 0.4, model="gradient")
    v = ob.ism(vec_basis, smp.x, 0.4, model="vector")
    big = np.abs(g.A).max()
    np.testing.assert_allclose(T.T @ v.A @ T, g.A, rtol=0, atol=EXACT_RTOL * big)
    np.testing.assert_allclose(T.T @ v.b, g.b, rtol=0, atol=EXACT_RTOL * np.abs(g.b).max())


def test_exact_values_agree_with_exact_marginals():
    for dim in (1, 2):
        truth = vp_truth(dim)
        smp = ob.kernel_samples(truth.process, truth.data, 300, np.random.default_rng(dim), t_range=(0.01, 1.0))
        for field in ("score", "velocity"):
            fast = ob.exact_values(truth, smp.x, smp.t, field)
            slow = np.stack([getattr(truth, field)(smp.x[i : i + 1], smp.t[i])[0] for i in range(300)])
            assert np.all(np.abs(fast - slow) <= EXACT_RTOL * (1.0 + np.abs(slow))), np.abs(fast - slow).max()
    # box data take the per-time route
    box = ExactMarginals(problems.process("vp-linear"), problems.data("box1d"))
    x, t = np.linspace(-2, 2, 5)[:, None], np.array([0.1, 0.1, 0.5, 0.5, 0.9])
    want = np.vstack([box.score(x[i : i + 1], t[i]) for i in range(5)])
    np.testing.assert_allclose(ob.exact_values(box, x, t), want, rtol=1e-14, atol=0)


def test_kernel_samples_follow_the_kernel_and_their_paths():
    truth = vp_truth(2)
    rng = np.random.default_rng(8)
    smp = ob.kernel_samples(truth.process, truth.data, 50, rng, t_range=T_RANGE)
    assert smp.t.min() >= T_RANGE[0] and smp.t.max() <= T_RANGE[1]
    a, c, s2 = truth.process.kernel(smp.t)
    np.testing.assert_allclose(smp.x, a[:, None] * smp.x0 + np.sqrt(s2)[:, None] * smp.eps, rtol=1e-15, atol=1e-15)
    later = smp.at(0.7)
    assert np.array_equal(later.x0, smp.x0) and np.array_equal(later.eps, smp.eps) and np.all(later.t == 0.7)
    # an OU process with a vector centre (c_t of shape (n, d))
    from fpcheck.processes import OU

    ou = OU(1.0, [1.0, -1.0], 2.0, 2.0)
    smp = ob.kernel_samples(ou, truth.data, 20, rng, t=np.linspace(0.1, 0.9, 20))
    a, c, s2 = ou.kernel(smp.t)
    np.testing.assert_allclose(smp.x, a[:, None] * smp.x0 + c + np.sqrt(s2)[:, None] * smp.eps, rtol=1e-14)
    ob.dsm(make_basis(2), smp)  # consistent with its process: accepted


def test_split_keeps_the_scale_and_standard_errors_are_sample_deviations():
    truth = vp_truth(1)
    smp = ob.kernel_samples(truth.process, truth.data, 1001, np.random.default_rng(6), t_range=T_RANGE)
    form = ob.esm(make_basis(1), smp.x, smp.t, truth.score)
    train, held = form.split(0.25, 0)
    assert (train.n, held.n) == (751, 250)
    theta = np.random.default_rng(1).normal(size=form.size)
    # one block, equal weights: the whole is the sample-size-weighted mean of the parts
    mixed = (train.n * train.value(theta) + held.n * held.value(theta)) / form.n
    assert abs(mixed - form.value(theta)) <= FORM_RTOL * (abs(form.value(theta)) + 0.5 * theta @ form.A @ theta)
    losses = form.blocks[0].losses(theta)
    assert abs(form.standard_error(theta) - losses.std(ddof=1) / np.sqrt(form.n)) <= 1e-12 * form.standard_error(theta)
    np.testing.assert_allclose(form.linear_standard_error(), form.blocks[0].linear.std(axis=0, ddof=1) / np.sqrt(form.n), rtol=1e-12)
    # several parameter vectors at once (as fit scores its ridges)
    thetas = np.random.default_rng(2).normal(size=(form.size, 3))
    values, errors = held.values(thetas)
    for j in range(3):
        assert abs(values[j] - held.value(thetas[:, j])) <= FORM_RTOL * (abs(values[j]) + 0.5 * thetas[:, j] @ held.A @ thetas[:, j])
        assert abs(errors[j] - held.standard_error(thetas[:, j])) <= 1e-10 * errors[j]
    # the training part's matrix, assembled as the whole minus the held-out rows, is its own
    np.testing.assert_allclose(train.A, train.blocks[0].matrix(), rtol=0, atol=1e-13 * np.abs(form.A).max())


def test_a_design_shared_by_the_outputs_is_the_full_vector_design():
    # a vector model's rows hold the features once (outputs = d); the same rows with the full design
    # G_r = I_d (x) psi_r^T must give the same matrix, losses and split
    from fpcheck.learned._forms import Block, QuadraticForm, model_design, output_design

    truth = vp_truth(2)
    smp = ob.kernel_samples(truth.process, truth.data, 400, np.random.default_rng(8), t_range=T_RANGE)
    basis = make_basis(2)
    feats = basis.evaluate(smp.x, smp.t, "values")
    compact, outputs = model_design("vector", feats, 2)
    full = output_design("vector", feats, 2)
    assert outputs == 2 and compact.shape == (400, 1, basis.size) and full.shape == (400, 2, 2 * basis.size)
    rng = np.random.default_rng(3)
    linear, const, w = rng.normal(size=(400, 2 * basis.size)), rng.normal(size=400), np.full(400, 1 / 400)
    a, b = Block(compact, linear, const, w, True, 2), Block(full, linear, const, w, True)
    np.testing.assert_allclose(a.matrix(), b.matrix(), rtol=1e-13, atol=1e-15)
    thetas = rng.normal(size=(2 * basis.size, 3))
    np.testing.assert_allclose(a.losses(thetas), b.losses(thetas), rtol=1e-12)
    np.testing.assert_allclose(a.losses(thetas[:, 0]), b.losses(thetas[:, 0]), rtol=1e-12)
    meta = dict(basis=basis, model="vector", dim=2, name="esm", kind="score")
    (ta, ha), (tb, hb) = QuadraticForm([a], **meta).split(0.25, 1), QuadraticForm([b], **meta).split(0.25, 1)
    np.testing.assert_allclose(ta.A, tb.A, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ha.A, hb.A, rtol=1e-12, atol=1e-15)
    with pytest.raises(InputError, match="does not match"):
        QuadraticForm([Block(compact, linear, const, w, True, 3)], **meta)


# ------------------------------------------------------------------------------ quadrature vs Monte Carlo


def rows_se(block) -> tuple[np.ndarray, np.ndarray]:
    """Standard errors of a Monte Carlo block's contributions to A and b, from its per-sample rows."""
    per_a = np.einsum("rkp,rkq->rpq", block.design, block.design)
    w2 = np.sum(block.weights**2)
    return np.sqrt(w2 * per_a.var(axis=0, ddof=1)), np.sqrt(w2 * block.linear.var(axis=0, ddof=1))


def assert_within_se(mc, quad, se, what):
    z = np.abs(mc - quad) / np.maximum(se, 1e-300)
    ok = (se > 0) | (np.abs(mc - quad) <= 1e-14 * np.abs(quad).max())
    assert np.all(ok) and np.all(z[se > 0] <= Z), f"{what}: largest |MC - quadrature| / se = {z[se > 0].max():.2f}"


def test_quadrature_assembly_agrees_with_monte_carlo():
    r"""ESM, ISM and AM by quadrature lie within 5 Monte Carlo standard errors of the sampled forms.

    The quadrature forms are exact to :math:`\ll 10^{-10}` (geometric convergence; the grid spans
    :math:`\pm 8` with :math:`h = 0.016` against component widths :math:`\ge 0.3`, 32 Gauss-Legendre
    nodes for 3 Legendre degrees and the kernel's smooth time dependence), far below the standard
    errors (:math:`\sim 10^{-3}`), so each entry's difference is the Monte Carlo error alone.
    """
    truth = vp_truth(1)
    basis = make_basis(1, space=5, degree=2)
    rng = np.random.default_rng(31)
    n = 20000
    mid = ob.kernel_samples(truth.process, truth.data, n, rng, t_range=T_RANGE)
    grid = ob.tensor_grid((-8.0, 8.0), 1001)
    times = ob.gauss_legendre(T_RANGE, 32)
    lam = ob.noise_weight(truth.process)
    pairs = {
        "esm": (ob.esm(basis, mid.x, mid.t, truth.score, weight=lam), ob.esm_quadrature(basis, grid, times, truth, truth.score, weight=lam)),
        "ism": (ob.ism(basis, mid.x, mid.t, weight=lam), ob.ism_quadrature(basis, grid, times, truth, weight=lam)),
    }
    for name, (mc, quad) in pairs.items():
        se_a, se_b = rows_se(mc.blocks[0])
        assert_within_se(mc.A, quad.A, se_a, f"{name} A")
        assert_within_se(mc.b, quad.b, se_b, f"{name} b")
        assert abs(mc.c - quad.c) <= Z * np.sqrt(np.sum(mc.blocks[0].weights ** 2) * mc.blocks[0].constant.var(ddof=1)) + 1e-15
    # AM: three independent blocks; their variances add
    t0, t1 = T_RANGE
    start = ob.kernel_samples(truth.process, truth.data, n, rng, t=t0).x
    end = ob.kernel_samples(truth.process, truth.data, n, rng, t=t1).x
    am = ob.action_matching(basis, start, end, mid.x, mid.t, T_RANGE)
    am_q = ob.action_matching_quadrature(basis, grid, T_RANGE, truth, n_times=32)
    assert_within_se(am.b, am_q.b, am.linear_standard_error(), "am b")
    se_a, _ = rows_se(am.blocks[-1])  # equal counts: one block of (start, end, interior) triples
    assert_within_se(am.A, am_q.A, se_a, "am A")


# ------------------------------------------------------------------------------ fits


class _Scaled(Basis):
    """The features of a basis times fixed factors (for the scale invariance of the ridge)."""

    def __init__(self, basis: Basis, factors: np.ndarray):
        self.inner, self.factors = basis, factors
        self.dim, self.size, self.t_range = basis.dim, basis.size, basis.t_range
        self.depends_on_x, self.depends_on_t = basis.depends_on_x, basis.depends_on_t

    def _compute(self, x, t, which, compiled):
        out = self.inner._compute(x, t, which, compiled)
        return {k: v * (self.factors[:, None] if v.ndim == 3 else self.factors) for k, v in out.items()}


def test_fit_selects_a_ridge_on_the_grid_and_returns_a_field():
    truth = vp_truth(1)
    smp = ob.kernel_samples(truth.process, truth.data, 4000, np.random.default_rng(12), t_range=T_RANGE)
    basis = make_basis(1, space=9, degree=3)
    form = ob.dsm(basis, smp, weight=ob.noise_weight(truth.process))
    field = fit(form)
    sel = field.selection
    assert np.isfinite(field.rho) and field.rho in RIDGE_GRID and sel.grid[sel.index] == field.rho
    assert np.all(np.isfinite(sel.held_out)) and sel.held_out[sel.index] == sel.held_out.min()
    assert field.theta.shape == (basis.size,) and field.basis is basis and field.kind == "score"
    x = np.linspace(-2, 2, 7)[:, None]
    assert field(x, 0.5).shape == (7, 1) and field(x, np.full(7, 0.5)).shape == (7, 1)
    assert field(x[:, 0], 0.5).shape == (7, 1)  # 1-D points in 1D
    assert field.potential(x, 0.5).shape == (7,)
    # refit=True refits the chosen ridge on all samples; a fixed ridge skips the selection
    np.testing.assert_array_equal(field.theta, solve(form, field.rho))
    fixed = fit(form, 1e-6)
    assert fixed.rho == 1e-6 and fixed.selection is None
    # a pair: the held-out form is the second
    train, held = form.split(0.3, 1)
    paired = fit((train, held))
    assert paired.rho in RIDGE_GRID
    np.testing.assert_array_equal(paired.theta, solve(train, paired.rho))
    # vector model: (n, d) and no potential
    vec = fit(ob.dsm(make_basis(2, space=4, degree=1), ob.kernel_samples(vp_truth(2).process, vp_truth(2).data, 2000, np.random.default_rng(1), t_range=T_RANGE), model="vector"))
    assert vec(np.zeros((3, 2)), 0.3).shape == (3, 2)
    with pytest.raises(InputError, match="no potential"):
        vec.potential(np.zeros((3, 2)), 0.3)


def test_ridge_is_scale_invariant():
    """Rescaling features by arbitrary factors leaves the fitted field unchanged (to round-off)."""
    truth = vp_truth(1)
    smp = ob.kernel_samples(truth.process, truth.data, 3000, np.random.default_rng(13), t_range=T_RANGE)
    basis = make_basis(1, space=7, degree=2)
    factors = np.exp(np.random.default_rng(0).uniform(-5, 5, basis.size))
    x = np.linspace(-2, 2, 9)[:, None]
    for rho in (1e-8, 1e-3, 1e-1):
        a = LinearField(basis, solve(ob.esm(basis, smp.x, smp.t, truth.score), rho), model="gradient", dim=1, rho=rho, kind="score", objective="esm")
        scaled = _Scaled(basis, factors)
        b = LinearField(scaled, solve(ob.esm(scaled, smp.x, smp.t, truth.score), rho), model="gradient", dim=1, rho=rho, kind="score", objective="esm")
        # cond(A) ~ 1e8 after Jacobi scaling, so theta carries ~1e-8 relative error; the fields agree to that
        np.testing.assert_allclose(b(x, 0.5), a(x, 0.5), rtol=1e-6, atol=1e-6 * np.abs(a(x, 0.5)).max())


def test_bad_inputs_raise_input_errors():
    truth = vp_truth(1)
    basis = make_basis(1)
    smp = ob.kernel_samples(truth.process, truth.data, 100, np.random.default_rng(0), t_range=T_RANGE)
    form = ob.esm(basis, smp.x, smp.t, truth.score)
    grid = ob.tensor_grid((-5, 5), 51)
    bad = [
        lambda: fit("form"),
        lambda: fit((form, "held")),
        lambda: fit(form, -1.0),
        lambda: fit(form, "best"),
        lambda: fit(form, [1e-3, -1.0]),
        lambda: fit(form, held_out=1.5),
        lambda: fit(ob.esm_quadrature(basis, grid, 0.5, truth, truth.score)),  # quadrature rows cannot be split
        lambda: solve(form, np.nan),
        lambda: form.value(np.zeros(3)),
        lambda: ob.esm("basis", smp.x, smp.t, truth.score),
        lambda: ob.esm(basis, smp.x, smp.t, truth.score, model="tensor"),
        lambda: ob.esm(basis, smp.x, smp.t, np.zeros((99, 1))),
        lambda: ob.esm(basis, smp.x, smp.t, lambda x, t: np.zeros((len(x), 2))),
        lambda: ob.esm(basis, smp.x, smp.t, truth.score, kind="drift"),
        lambda: ob.esm(basis, smp.x, np.zeros(5), truth.score),
        lambda: ob.esm(basis, smp.x, smp.t, truth.score, weight=-1.0),
        lambda: ob.esm(basis, np.zeros((5, 2)), 0.5, np.zeros((5, 2))),
        lambda: ob.esm(basis, smp.x, 0.95, truth.score),  # outside the basis's t_range
        lambda: ob.sliced(basis, smp.x, smp.t),
        lambda: ob.sliced(basis, smp.x, smp.t, v=np.zeros((5, 1))),
        lambda: ob.sliced(basis, smp.x, smp.t, rng=np.random.default_rng(0), projections="uniform"),
        lambda: ob.dsm(basis, (smp.t, smp.x0, smp.eps, smp.x)),
        lambda: ob.dsm(basis, smp._replace(process=problems.process("vp-cosine"))),  # not the process that drew them
        lambda: ob.dsm(basis, smp._replace(t=np.zeros(100))),
        lambda: ob.action_matching(basis, smp.x, smp.x, smp.x, smp.t, (0.5, 0.2)),
        lambda: ob.action_matching(basis, smp.x, smp.x, smp.x, smp.t, (0.3, 0.5)),  # interior times outside
        lambda: ob.kernel_samples(truth.process, truth.data, 0, np.random.default_rng(0), t=0.5),
        lambda: ob.kernel_samples(truth.process, truth.data, 5, 0, t=0.5),
        lambda: ob.kernel_samples(truth.process, truth.data, 5, np.random.default_rng(0)),
        lambda: ob.kernel_samples(truth.process, truth.data, 5, np.random.default_rng(0), t=0.5, t_range=T_RANGE),
        lambda: ob.exact_values("truth", smp.x, 0.5),
        lambda: ob.exact_values(truth, smp.x, 0.5, "drift"),
        lambda: ob.noise_weight("vp"),
        lambda: ob.tensor_grid([(0, 1)] * 3, 5),
        lambda: ob.tensor_grid((1, 0), 5),
        lambda: ob.tensor_grid((0, 1), 1),
        lambda: ob.gauss_legendre((0, 1), 0),
        lambda: ob.esm_quadrature(basis, grid, ([0.5], [-1.0]), truth, truth.score),
        lambda: ob.esm_quadrature(basis, grid, 0.5, np.ones((1, 7)), truth.score),
        lambda: ob.esm_quadrature(basis, smp.x, 0.5, truth, truth.score),
        lambda: form.split(0.25, 0)[0].split(0.999),
    ]
    for k, call in enumerate(bad):
        with pytest.raises(InputError):
            call()
            pytest.fail(f"case {k} did not raise")
    # a parameter the objective does not see: a feature constant in x has zero gradient
    flat = Tensor(Polynomial(1, 1, constant=True), Legendre(1, T_RANGE))
    with pytest.raises(InputError, match="does not constrain"):
        fit(ob.esm(flat, smp.x, smp.t, truth.score), 1e-3)
    # linearly dependent features without a ridge: not positive definite
    twice = Tensor(Polynomial(1, 2), Legendre(0, T_RANGE))
    from fpcheck.learned.bases import Concat

    with pytest.raises(InputError, match="not positive definite"):
        solve(ob.esm(Concat(twice, twice), smp.x, smp.t, truth.score), 0.0)
    # a non-affine process has no kernel to sample
    with pytest.raises((InputError, NotAffineError)):
        ob.kernel_samples(problems.process("langevin-doublewell"), truth.data, 5, np.random.default_rng(0), t=0.5)
