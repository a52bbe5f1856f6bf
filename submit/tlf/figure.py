"""Kaplan-Meier figure: step curves with censor marks, the median marked, the number at risk under
the axis; a 300 dpi PNG whose bytes depend only on the data (no software or date metadata)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.textpath import TextPath
from matplotlib.transforms import blended_transform_factory

from submit.tlf.shell import KmFigureSpec

DAYS_PER_MONTH = 30.4375
STYLES = (("#1f4e79", "-"), ("#c00000", "--"), ("#548235", "-."), ("#7f6000", ":"), ("#7030a0", "-"))
FONT_PT = 8


@dataclass(frozen=True, eq=False)
class KmCurve:
    """One group's curve. `time` and `survival`: the estimate after each event time (the curve
    starts at 1 at time 0); `censor_times`: where a + is drawn; `at_risk`: the number at risk at
    each of the figure's at_risk_times; `median`: marked with dashed lines (NaN: not reached)."""

    label: str
    time: np.ndarray
    survival: np.ndarray
    censor_times: np.ndarray
    at_risk: np.ndarray
    median: float = float("nan")


def curve_from_km(label: str, fit, at_risk_times: Sequence[float], time_scale: float = DAYS_PER_MONTH) -> KmCurve:
    """A curve from a `submit.stats.km.KaplanMeier` fit in days, drawn in units of `time_scale` days
    (months by default); `at_risk_times` are in the drawn unit."""
    table = fit.table
    events = table[table["n_event"] > 0]
    censored = table[table["n_censor"] > 0]
    at = np.asarray(at_risk_times, dtype=float)
    return KmCurve(label=label,
                   time=events["time"].to_numpy(dtype=float) / time_scale,
                   survival=events["survival"].to_numpy(dtype=float),
                   censor_times=censored["time"].to_numpy(dtype=float) / time_scale,
                   at_risk=fit.at_risk(at * time_scale),
                   median=fit.median()[0] / time_scale)


def km_figure(curves: Sequence[KmCurve], path: Path, spec: KmFigureSpec, *, width_in: float = 9.0,
              height_in: float = 4.6, dpi: int = 300) -> Path:
    """Draw the curves into a PNG at `path` and return the path."""
    if dpi < 300:
        raise ValueError("submission figures need at least 300 dpi")
    times = np.asarray(spec.at_risk_times, dtype=float)
    for curve in curves:
        if len(curve.at_risk) != len(times):
            raise ValueError(f"curve {curve.label!r}: {len(curve.at_risk)} at-risk counts for "
                             f"{len(times)} at_risk_times")
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    left_in, right_in, top_in, axis_text_in, line_in = 1.7, 0.25, 0.15, 0.5, 0.16
    # The at-risk row labels sit left of the axis and the counts at t = 0 are centred on it: widen
    # the margin so that the longest label ends before the widest first count begins.
    label_in = max(_text_width_in(curve.label) for curve in curves) if curves else 0.0
    first_count_in = max((_text_width_in(f"{int(c.at_risk[0])}") for c in curves if len(c.at_risk)), default=0.0)
    left_in = max(left_in, 0.1 + label_in + 0.15 + first_count_in / 2)
    risk_in = (len(curves) + 1.3) * line_in
    bottom_in = 0.1 + risk_in + axis_text_in
    ax = fig.add_axes((left_in / width_in, bottom_in / height_in, 1 - (left_in + right_in) / width_in,
                       1 - (bottom_in + top_in) / height_in))
    x_max = spec.x_max if spec.x_max is not None else float(times.max())
    for curve, (color, dash) in zip(curves, STYLES * (1 + len(curves) // len(STYLES))):
        _draw_curve(ax, curve, color, dash, x_max, spec.show_median)
    ax.set_xlim(0, x_max)
    ax.set_ylim(0, 1.02)
    ax.set_xticks(times)
    ax.set_xticklabels([f"{t:g}" for t in times], fontsize=FONT_PT)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_yticklabels([f"{v:.1f}" for v in np.linspace(0, 1, 6)], fontsize=FONT_PT)
    ax.set_xlabel(spec.x_label, fontsize=FONT_PT + 1)
    ax.set_ylabel(spec.y_label, fontsize=FONT_PT + 1)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper right", fontsize=FONT_PT, frameon=False, handlelength=3)
    _risk_table(fig, ax, curves, times, (bottom_in - axis_text_in) / height_in, line_in / height_in)
    path = Path(path)
    fig.savefig(path, dpi=dpi, format="png", metadata={"Software": None})
    return path


def _draw_curve(ax, curve: KmCurve, color: str, dash: str, x_max: float, show_median: bool) -> None:
    t = np.concatenate(([0.0], np.asarray(curve.time, dtype=float)))
    s = np.concatenate(([1.0], np.asarray(curve.survival, dtype=float)))
    censor = np.asarray(curve.censor_times, dtype=float)
    end = max(t[-1], censor.max() if len(censor) else 0.0)
    if end > t[-1]:  # the curve runs flat to the last censored time
        t, s = np.append(t, end), np.append(s, s[-1])
    ax.step(t, s, where="post", color=color, linestyle=dash, linewidth=1.2, label=curve.label)
    marks = s[np.searchsorted(t, censor, side="right") - 1]
    ax.plot(censor, marks, linestyle="none", marker="+", markersize=6, markeredgewidth=1.0, color=color)
    if show_median and np.isfinite(curve.median) and curve.median <= x_max:
        ax.plot([0, curve.median, curve.median], [0.5, 0.5, 0], color=color, linestyle=(0, (2, 2)), linewidth=0.8)


def _text_width_in(text: str) -> float:
    """Width in inches of `text` in the figure font (from the glyph outlines: no renderer needed)."""
    return TextPath((0, 0), text, size=FONT_PT).get_extents().width / 72


def _risk_table(fig, ax, curves: Sequence[KmCurve], times: np.ndarray, top: float, line: float) -> None:
    x_in_data = blended_transform_factory(ax.transData, fig.transFigure)
    fig.text(0.01, top, "Number at risk", fontsize=FONT_PT, fontweight="bold", va="top")
    for row, curve in enumerate(curves, start=1):
        y = top - row * line
        fig.text(0.01, y, curve.label, fontsize=FONT_PT, va="top")
        for t, n in zip(times, curve.at_risk):
            ax.text(t, y, f"{int(n)}", transform=x_in_data, fontsize=FONT_PT, ha="center", va="top")
