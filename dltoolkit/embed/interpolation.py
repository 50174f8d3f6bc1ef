"""t-SNE's repulsive forces in O(n): FFT-accelerated interpolation plus exact
near pairs.

The repulsion on point i needs sums over all points j of the Student-t kernel
``K_ij = (1 + |y_i - y_j|^2)^-1``:

    Z = sum_{i != j} K_ij,    R_i = sum_j K_ij^2 (y_i - y_j),

and the t-SNE gradient is ``4 (sum_j p_ij K_ij (y_i - y_j) - R_i / Z)``.
Both follow from sums of the smooth kernel ``f(r^2) = (1 + r^2)^-2 = K^2``:
``R_i = sum_j f_ij (y_i - y_j)`` and ``sum_j K_ij = sum_j f_ij (1 + r_ij^2)``.

Far field (Linderman, Rachh, Hoskins, Steinerberger and Kluger, "Fast
interpolation-based t-SNE for improved visualization of single-cell RNA-seq
data", Nature Methods 16, 2019; FIt-SNE): cover the embedding with a square
of equal intervals holding ``NODES`` equispaced interpolation nodes each, so
that all nodes form one equispaced grid; spread each point's charges
``(1, y_j, |y_j|^2)`` onto the nodes of its interval with the Lagrange
polynomials through them, take the kernel between all pairs of nodes as one
convolution (FFT of twice the grid's size) and interpolate the potentials back
to the points the same way. ``R_i`` and ``sum_j K_ij`` are combinations of
these potentials.

Near field (the particle-particle / particle-mesh split of N-body codes): the
interpolation error grows with the kernel's curvature over a grid step, and
the kernel is sharpest at short range. Once the embedding is too wide for a
fine grid (``max_grid`` nodes a side at ``FINE_SPACING``), the grid gets
coarser and the kernel is split at a radius ``a`` of ``NEAR_STEPS`` grid steps:
``g`` = ``f`` beyond ``a`` and, inside, the Taylor polynomial of degree 2 of
``f`` in ``r^2`` around ``a^2`` (smooth: interpolated on the grid), and the
remainder ``f - g`` (zero beyond ``a``), summed exactly over the pairs closer
than ``a``. Those pairs come from a cell list kept between calls while no
point has moved more than half the list's margin (a Verlet list).

Written for this toolkit from these descriptions (no code taken from FIt-SNE
or openTSNE). 1-D embeddings use the same scheme on a line.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import scipy.fft

NODES = 3  # interpolation nodes per interval (Lagrange polynomials of degree 2)
FINE_SPACING = 0.2  # node spacing while the grid fits (the kernel is 1 wide)
NEAR_STEPS = 5.0  # radius of the exact near field, in grid steps
SKIN = 0.3  # the pair list's margin, a fraction of the near radius
_LADDER = 1.05  # coarse spacings are FINE_SPACING * _LADDER**k: kernels reused


def grid_limit(n: int) -> int:
    """Default nodes a side at most for ``n`` points: ``1.8 sqrt(n)`` within
    [72, 512]. More points crowd the near field; a finer grid shrinks it."""
    return int(min(512, max(72, 1.8 * math.sqrt(n))))


def _lagrange(u: np.ndarray, nodes: int) -> np.ndarray:
    """``(n, nodes)`` Lagrange basis at ``u`` (in node units; nodes at 0..p-1)."""
    if nodes == 3:  # (u-1)(u-2)/2, -u(u-2), u(u-1)/2
        w = np.empty((u.shape[0], 3), dtype=u.dtype)
        um1 = u - 1.0
        w[:, 0] = 0.5 * um1 * (u - 2.0)
        w[:, 1] = -u * (u - 2.0)
        w[:, 2] = 0.5 * u * um1
        return w
    w = np.ones((u.shape[0], nodes), dtype=u.dtype)
    for j in range(nodes):
        for m in range(nodes):
            if m != j:
                w[:, j] *= (u - m) / (j - m)
    return w


def far_kernel(r2, a2: float):
    """``g(r^2)``: ``(1 + r^2)^-2``, and for ``r^2 < a2`` its Taylor polynomial
    of degree 2 in ``r^2`` around ``a2`` (``a2 = 0``: the kernel itself)."""
    f = 1.0 / (1.0 + r2) ** 2
    if a2 <= 0.0:
        return f
    c = 1.0 + a2
    dx = r2 - a2
    taylor = c**-2 - 2.0 * c**-3 * dx + 3.0 * c**-4 * dx * dx
    return np.where(r2 < a2, taylor, f)


def _near_kernel(r2: np.ndarray, a2: float) -> np.ndarray:
    """``f - g``: ``(1 + r^2)^-2`` minus its Taylor polynomial in ``r^2`` around
    ``a2`` inside ``r^2 < a2``, 0 beyond (``far_kernel``'s remainder)."""
    c = 1.0 / (1.0 + a2)
    h = r2 - a2  # the Taylor polynomial, by Horner's rule
    h *= 3.0 * c**4
    h -= 2.0 * c**3
    h *= r2 - a2
    h += c * c
    f = r2 + 1.0
    f *= f
    np.reciprocal(f, out=f)
    f -= h
    f *= r2 < a2
    return f


@functools.lru_cache(maxsize=64)
def _spectrum(size: int, spacing: float, a2: float, dims: int, length: int):
    """rFFT of ``g`` on grid offsets, zero-padded to ``length`` a side."""
    steps = np.arange(size) * spacing
    offsets = np.zeros(length)
    offsets[:size] = steps
    offsets[length - size + 1 :] = -steps[1:][::-1]
    valid = np.zeros(length, dtype=bool)
    valid[:size] = True
    valid[length - size + 1 :] = True
    r2 = offsets**2
    if dims == 2:
        r2 = r2[:, None] + r2[None, :]
        valid = valid[:, None] & valid[None, :]
    # An even kernel: its spectrum is real.
    out = scipy.fft.rfftn(np.where(valid, far_kernel(r2, a2), 0.0)).real
    out = out.astype(np.float32)
    out.flags.writeable = False
    return out


def _convolve(grid: np.ndarray, spectrum: np.ndarray, size: int, length: int, d):
    """``(c, size, ...)`` node charges convolved with the kernel (float32 FFTs
    of ``length``; only the rows that hold charges or results are transformed)."""
    grid = grid.astype(np.float32)
    if d == 1:
        f = scipy.fft.rfft(grid, n=length, axis=-1)
        f *= spectrum
        return scipy.fft.irfft(f, n=length, axis=-1)[:, :size]
    f = scipy.fft.rfft(grid, n=length, axis=-1)  # the rows holding charges
    f = scipy.fft.fft(f, n=length, axis=-2)
    f *= spectrum
    f = scipy.fft.ifft(f, axis=-2)[:, :size]  # the rows wanted
    return scipy.fft.irfft(f, n=length, axis=-1)[:, :, :size]


def _far_field(Y, sq, spacing, a2, nodes, workers):
    """``(R, S)`` of the kernel ``g`` by interpolation, self terms included:
    ``R_i = sum_j g_ij (y_i - y_j)``, ``S_i = sum_j g_ij (1 + r_ij^2)``."""
    n, d = Y.shape
    columns = np.ascontiguousarray(Y.T)
    lo, hi = columns.min(axis=1), columns.max(axis=1)
    width = spacing * nodes
    intervals = max(1, math.ceil(float((hi - lo).max()) / width + 1e-9))
    size = intervals * nodes
    lo = lo - (intervals * width - (hi - lo)) / 2  # the points centered
    t = (Y - lo) / width  # in interval units
    box = np.minimum(t.astype(np.int64), intervals - 1)
    u = (t - box) * nodes - 0.5  # node units inside the interval: nodes 0..p-1
    first = box * nodes
    weight = index = None
    u = u.astype(np.float32)
    for axis in range(d):  # outer products over the axes: (n, p ** d)
        w_axis = _lagrange(u[:, axis], nodes)
        i_axis = first[:, axis, None] + np.arange(nodes)
        if weight is None:
            weight, index = w_axis, i_axis
        else:
            weight = (weight[:, :, None] * w_axis[:, None, :]).reshape(n, -1)
            index = (index[:, :, None] * size + i_axis[:, None, :]).reshape(n, -1)
    cells = size**d
    flat = index.ravel()
    charges = [None, *Y.T, sq]  # 1, y_1 .. y_d, |y|^2
    grid = np.empty((d + 2, cells))
    for c, q in enumerate(charges):
        w = weight if q is None else weight * q[:, None]
        grid[c] = np.bincount(flat, weights=w.ravel(), minlength=cells)
    length = scipy.fft.next_fast_len(2 * size - 1, real=True)
    spectrum = _spectrum(size, spacing, a2, d, length)
    with scipy.fft.set_workers(workers):
        conv = _convolve(
            grid.reshape((d + 2,) + (size,) * d), spectrum, size, length, d
        )
    conv = conv.reshape(d + 2, cells)
    phi = np.einsum("cnk,nk->nc", conv.take(index, axis=1), weight)  # (n, d + 2)
    phi = phi.astype(np.float64)
    R = Y * phi[:, :1] - phi[:, 1 : d + 1]
    S = (1.0 + sq) * phi[:, 0] - 2.0 * np.einsum("ij,ij->i", Y, phi[:, 1 : d + 1])
    S += phi[:, d + 1]
    return R, S


def pairs_within(Y: np.ndarray, radius: float):
    """Every ordered pair ``(i, j)`` closer than ``radius``, ``i == j`` included.

    A cell list: points binned into cells ``radius`` wide; each point's
    candidates are the points of its own and the adjacent cells.

    Returns:
        ``(i, j)``: index arrays grouped by ``i``, ascending (every point has
        at least one pair, with itself).
    """
    n, d = Y.shape
    columns = np.ascontiguousarray(Y.T)  # (d, n)
    lo = columns.min(axis=1)
    # Cell coordinates from 1, with a border of empty cells: every point has
    # all 3^d neighbor cells.
    cell = ((Y - lo) / radius).astype(np.int64) + 1
    shape = cell.max(axis=0) + 2
    strides = np.cumprod(np.concatenate([[1], shape[:0:-1]]))[::-1]  # row-major
    cid = cell @ strides
    order = np.argsort(cid, kind="stable")
    counts = np.bincount(cid, minlength=int(np.prod(shape)))
    first = np.cumsum(counts) - counts
    offsets = np.stack(np.meshgrid(*[[-1, 0, 1]] * d, indexing="ij"), -1)
    nid = cid[:, None] + (offsets.reshape(-1, d) @ strides)[None]  # (n, 3^d)
    take = counts[nid].ravel()  # candidates per (point, cell)
    ends = np.cumsum(take)
    # Each cell's run of sorted points, one run after the other.
    shift = np.repeat(first[nid].ravel() - (ends - take), take)
    j = order[shift + np.arange(int(ends[-1]))]
    per_point = take.reshape(n, -1).sum(axis=1)
    r2 = np.zeros(j.shape[0])
    for column in columns:
        diff = np.repeat(column, per_point)
        diff -= column.take(j)
        r2 += diff * diff
    keep = r2 < radius * radius
    i = np.repeat(np.arange(n), per_point)
    return i[keep], j[keep]


def as_points(Y: np.ndarray) -> np.ndarray:
    """``(n,)`` points for ``PairSums``: complex64 ``y_1 + i y_2`` (2-D) or
    float32 (1-D)."""
    Y32 = np.ascontiguousarray(Y, dtype=np.float32)
    return Y32.view(np.complex64)[:, 0] if Y.shape[1] == 2 else Y32[:, 0]


def from_points(z: np.ndarray) -> np.ndarray:
    """``(n, d)`` float64 back from ``as_points``' form."""
    if np.iscomplexobj(z):
        return np.stack([z.real, z.imag], axis=1).astype(np.float64)
    return z.astype(np.float64)[:, None]


class PairSums:
    """Per-pair differences and per-point sums over ordered pairs ``(i, j)``
    grouped by ``i`` (``counts[i]`` pairs each, at least one)."""

    def __init__(self, counts: np.ndarray, j: np.ndarray):
        self.counts, self.j = counts, j
        self.starts = np.cumsum(counts) - counts
        self._gathered = None

    def differences(self, z: np.ndarray) -> np.ndarray:
        """``y_i - y_j`` per pair, ``z`` from ``as_points``."""
        if self._gathered is None or self._gathered.dtype != z.dtype:
            self._gathered = np.empty(self.j.shape[0], dtype=z.dtype)
        out = np.repeat(z, self.counts)
        out -= np.take(z, self.j, out=self._gathered, mode="clip")
        return out

    def sums(self, values: np.ndarray) -> np.ndarray:
        """``sum_j values[(i, j)]`` for every ``i``."""
        return np.add.reduceat(values, self.starts)


def squared_norms(diff: np.ndarray) -> np.ndarray:
    """``|y_i - y_j|^2`` (float32) of ``PairSums.differences``."""
    if np.iscomplexobj(diff):
        parts = diff.view(np.float32)
        parts = parts * parts
        return np.add(parts[0::2], parts[1::2])
    return diff * diff


class Repulsion:
    """``repulsion(Y) -> (R, Z)`` for successive embeddings of the same points.

    Keeps the near pairs (with a margin) and the kernel spectra between calls.

    Args:
        workers: threads of the FFTs.
        nodes: interpolation nodes per interval.
        fine_spacing: node spacing while the grid has at most ``max_grid``
            nodes a side: plain interpolation, no near field.
        max_grid: nodes a side at most (default ``grid_limit(n)``): a wider
            embedding gets a coarser grid and an exact near field
            ``near_steps`` grid steps wide.
        skin: margin of the kept pair list, a fraction of the near radius.
    """

    def __init__(
        self,
        *,
        workers: int = 1,
        nodes: int = NODES,
        fine_spacing: float = FINE_SPACING,
        max_grid: int | None = None,
        near_steps: float = NEAR_STEPS,
        skin: float | None = None,
    ):
        self.workers, self.nodes = workers, nodes
        self.fine_spacing, self.max_grid = fine_spacing, max_grid
        self.near_steps = near_steps
        self.skin = SKIN if skin is None else skin
        self._pairs = None  # (PairSums, listed radius, Y when listed)
        self.rebuilds = 0

    def _near_list(self, Y, radius) -> PairSums:
        if self._pairs is not None:
            pairs, listed, Y0 = self._pairs
            # A pair closer than the radius now was closer than the radius
            # plus twice the largest move when listed.
            moved = math.sqrt(float(squared_norms(as_points(Y - Y0)).max()))
            if radius + 2.0 * moved <= listed:
                return pairs
        listed = radius * (1.0 + self.skin)
        i, j = pairs_within(Y, listed)
        pairs = PairSums(np.bincount(i, minlength=Y.shape[0]), j)
        self._pairs = (pairs, listed, Y.copy())
        self.rebuilds += 1
        return pairs

    def plan(self, Y: np.ndarray):
        """``(spacing, radius)`` of the grid and of the exact near field (0:
        none) for the embedding ``Y``."""
        columns = np.ascontiguousarray(Y.T)
        extent = float((columns.max(axis=1) - columns.min(axis=1)).max())
        extent = max(extent, 1e-12)
        spacing = self.fine_spacing
        max_grid = self.max_grid or grid_limit(Y.shape[0])
        needed = extent / (max_grid - self.nodes)  # a spare interval
        if needed <= spacing:
            return spacing, 0.0
        # Coarse: a spacing from a ladder, so that the kernels repeat.
        spacing *= _LADDER ** math.ceil(math.log(needed / spacing, _LADDER))
        return spacing, self.near_steps * spacing

    def far(self, Y: np.ndarray, spacing: float, radius: float):
        """``(R, S)`` of the far kernel ``g`` (self terms included)."""
        sq = np.einsum("ij,ij->i", Y, Y)
        return _far_field(Y, sq, spacing, radius * radius, self.nodes, self.workers)

    def near(self, Y: np.ndarray, radius: float, z: np.ndarray | None = None):
        """``(R, S)`` of ``f - g`` over the pairs closer than ``radius`` (self
        pairs included), or ``None`` without a near field."""
        if radius <= 0.0:
            self._pairs = None
            return None
        pairs = self._near_list(Y, radius)
        diff = pairs.differences(as_points(Y) if z is None else z)
        r2 = squared_norms(diff)
        h = _near_kernel(r2, radius * radius)
        diff *= h
        r2 += 1.0
        h *= r2
        return from_points(pairs.sums(diff)), pairs.sums(h)

    def __call__(self, Y: np.ndarray, z: np.ndarray | None = None):
        """``(R, Z)``: ``R_i = sum_j K_ij^2 (y_i - y_j)`` ``(n, d)`` and
        ``Z = sum_{i != j} K_ij`` (see the module docstring); ``z``: ``Y`` in
        ``as_points``' form, if at hand."""
        spacing, radius = self.plan(Y)
        R, S = self.far(Y, spacing, radius)
        return combine(R, S, self.near(Y, radius, z))


def combine(R, S, near):
    """``(R, Z)`` from the far field's ``(R, S)`` and ``Repulsion.near``'s."""
    if near is not None:
        R = R + near[0]
        S = S + near[1]
    return R, float(S.sum()) - S.shape[0]  # minus the self terms K_ii = 1


def repulsion(Y: np.ndarray, **kwargs):
    """One-off ``Repulsion(**kwargs)(Y)``: ``(R, Z)``."""
    return Repulsion(**kwargs)(Y)
