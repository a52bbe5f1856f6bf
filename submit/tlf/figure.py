"""Kaplan-Meier figure: step curves with censor marks (a "+ Censored" legend entry), each curve's
median with its 95% CI in the legend and marked on the plot, an optional pointwise CI band, the
number at risk per curve under the axis. Curves are told apart by line style and grey level (they
print in black and white), the text is in the tables' font. A 300 dpi PNG whose bytes depend only
on the data and the fonts installed (no software or date metadata).

`figure_ard` writes what the figure shows, per curve, in the long ARD form of the tables, so every
point and number of the figure traces to a file (see package.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from submit.tlf.formatting import format_number
from submit.tlf.shell import KmFigureSpec

DAYS_PER_MONTH = 30.4375
# black / grey levels with distinct dashes: told apart in a black-and-white print
STYLES = (("#000000", "-"), ("#000000", "--"), ("#606060", "-."), ("#606060", ":"), ("#000000", (0, (5, 1, 1, 1, 1, 1))))
FONT_PT = 8
# Fonts of the same metrics that stand in when the layout's font is not installed
METRIC_TWINS = {"courier new": "Liberation Mono", "arial": "Liberation Sans", "times new roman": "Liberation Serif"}
FALLBACK_FONT = "DejaVu Sans Mono"
NOT_ESTIMABLE = "NE"


@dataclass(frozen=True, eq=False)
class KmCurve:
    """One group's curve. `time` and `survival`: the estimate after each event time (the curve
    starts at 1 at time 0), `ci_low` / `ci_high` its pointwise CI there (empty: none);
    `censor_times`: where a + is drawn (`censor_counts` subjects each, default 1); `at_risk`: the
    number at risk at each of the figure's at_risk_times; `median` (NaN: not reached) with its CI."""

    label: str
    time: np.ndarray
    survival: np.ndarray
    censor_times: np.ndarray
    at_risk: np.ndarray
    median: float = float("nan")
    median_ci: tuple[float, float] = (float("nan"), float("nan"))
    ci_low: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ci_high: np.ndarray = field(default_factory=lambda: np.zeros(0))
    censor_counts: np.ndarray | None = None
    n: int | None = None
    events: int | None = None


def curve_from_km(label: str, fit, at_risk_times: Sequence[float], time_scale: float = DAYS_PER_MONTH) -> KmCurve:
    """A curve from a `submit.stats.km.KaplanMeier` fit in days, drawn in units of `time_scale` days
    (months by default); `at_risk_times` are in the drawn unit."""
    table = fit.table
    events = table[table["n_event"] > 0]
    censored = table[table["n_censor"] > 0]
    at = np.asarray(at_risk_times, dtype=float)
    median, low, high = fit.median()
    return KmCurve(label=label,
                   time=events["time"].to_numpy(dtype=float) / time_scale,
                   survival=events["survival"].to_numpy(dtype=float),
                   censor_times=censored["time"].to_numpy(dtype=float) / time_scale,
                   at_risk=fit.at_risk(at * time_scale),
                   median=median / time_scale, median_ci=(low / time_scale, high / time_scale),
                   ci_low=events["ci_low"].to_numpy(dtype=float), ci_high=events["ci_high"].to_numpy(dtype=float),
                   censor_counts=censored["n_censor"].to_numpy(dtype=int), n=fit.n, events=fit.events)


def median_text(curve: KmCurve) -> str:
    """ "median 6.2 (95% CI 3.1, NE)": one decimal, NE where not estimable."""
    low, high = curve.median_ci
    return (f"median {format_number(curve.median, 'd1', NOT_ESTIMABLE)} "
            f"(95% CI {format_number(low, 'd1', NOT_ESTIMABLE)}, {format_number(high, 'd1', NOT_ESTIMABLE)})")


@lru_cache(maxsize=8)
def figure_font(name: str | None) -> str:
    """The installed font family to draw text in: the layout's font, else its metric twin, else
    FALLBACK_FONT (matplotlib does not ask fontconfig for aliases)."""
    from matplotlib import font_manager  # matplotlib is imported where a figure is drawn: a slow import

    for family in (name, METRIC_TWINS.get((name or "").lower()), FALLBACK_FONT):
        if not family:
            continue
        try:
            font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
            return family
        except ValueError:
            continue
    return "monospace"


def km_figure(curves: Sequence[KmCurve], path: Path, spec: KmFigureSpec, *, width_in: float = 9.0,
              height_in: float = 4.6, dpi: int = 300, font: str | None = None) -> Path:
    """Draw the curves into a PNG at `path` and return the path; text in `font` (see figure_font)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if dpi < 300:
        raise ValueError("submission figures need at least 300 dpi")
    times = np.asarray(spec.at_risk_times, dtype=float)
    for curve in curves:
        if len(curve.at_risk) != len(times):
            raise ValueError(f"curve {curve.label!r}: {len(curve.at_risk)} at-risk counts for "
                             f"{len(times)} at_risk_times")
    family = figure_font(font)
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    left_in, right_in, top_in, axis_text_in, line_in = 1.7, 0.25, 0.15, 0.5, 0.16
    # The at-risk row labels sit left of the axis and the counts at t = 0 are centred on it: widen
    # the margin so that the longest label ends before the widest first count begins.
    label_in = max(_text_width_in(curve.label, family) for curve in curves) if curves else 0.0
    first_count_in = max((_text_width_in(f"{int(c.at_risk[0])}", family) for c in curves if len(c.at_risk)),
                         default=0.0)
    left_in = max(left_in, 0.1 + label_in + 0.15 + first_count_in / 2)
    risk_in = (len(curves) + 1.3) * line_in
    bottom_in = 0.1 + risk_in + axis_text_in
    ax = fig.add_axes((left_in / width_in, bottom_in / height_in, 1 - (left_in + right_in) / width_in,
                       1 - (bottom_in + top_in) / height_in))
    x_max = spec.x_max if spec.x_max is not None else float(times.max())
    handles = []
    for curve, (color, dash) in zip(curves, STYLES * (1 + len(curves) // len(STYLES))):
        handles.append(_draw_curve(ax, curve, color, dash, x_max, spec.show_median, spec.ci_band))
    handles.append(Line2D([], [], linestyle="none", marker="+", markersize=6, markeredgewidth=1.0, color="#000000",
                          label="Censored"))
    if spec.ci_band:
        handles.append(Patch(facecolor="#000000", alpha=0.12, edgecolor="none", label="Pointwise 95% CI"))
    ax.set_xlim(0, x_max)
    ax.set_ylim(0, 1.02)
    ax.set_xticks(times)
    ax.set_xticklabels([f"{t:g}" for t in times], fontsize=FONT_PT, family=family)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_yticklabels([f"{v:.1f}" for v in np.linspace(0, 1, 6)], fontsize=FONT_PT, family=family)
    ax.set_xlabel(spec.x_label, fontsize=FONT_PT + 1, family=family)
    ax.set_ylabel(spec.y_label, fontsize=FONT_PT + 1, family=family)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(handles=handles, loc="best", frameon=True, edgecolor="#000000", fancybox=False,
              framealpha=1.0, handlelength=3, prop={"family": family, "size": FONT_PT})
    _risk_table(fig, ax, curves, times, (bottom_in - axis_text_in) / height_in, line_in / height_in, family)
    path = Path(path)
    fig.savefig(path, dpi=dpi, format="png", metadata={"Software": None})
    return path


def _draw_curve(ax, curve: KmCurve, color: str, dash, x_max: float, show_median: bool, ci_band: bool):
    t = np.concatenate(([0.0], np.asarray(curve.time, dtype=float)))
    s = np.concatenate(([1.0], np.asarray(curve.survival, dtype=float)))
    censor = np.asarray(curve.censor_times, dtype=float)
    end = max(t[-1], censor.max() if len(censor) else 0.0)
    extended = end > t[-1]
    if extended:  # the curve runs flat to the last censored time
        t, s = np.append(t, end), np.append(s, s[-1])
    label = f"{curve.label}: {median_text(curve)}"
    (line,) = ax.step(t, s, where="post", color=color, linestyle=dash, linewidth=1.2, label=label)
    if ci_band and len(curve.ci_low) == len(curve.time) and len(curve.time):
        low = np.concatenate(([1.0], np.asarray(curve.ci_low, dtype=float)))
        high = np.concatenate(([1.0], np.asarray(curve.ci_high, dtype=float)))
        if extended:
            low, high = np.append(low, low[-1]), np.append(high, high[-1])
        ok = np.isfinite(low) & np.isfinite(high)
        ax.fill_between(t[ok], low[ok], high[ok], step="post", color=color, alpha=0.12, linewidth=0)
    marks = s[np.searchsorted(t, censor, side="right") - 1]
    ax.plot(censor, marks, linestyle="none", marker="+", markersize=6, markeredgewidth=1.0, color=color)
    if show_median and np.isfinite(curve.median) and curve.median <= x_max:
        ax.plot([0, curve.median, curve.median], [0.5, 0.5, 0], color=color, linestyle=(0, (2, 2)), linewidth=0.8)
    return line


def _text_width_in(text: str, family: str = FALLBACK_FONT) -> float:
    """Width in inches of `text` in the figure font (from the glyph outlines: no renderer needed)."""
    from matplotlib import font_manager
    from matplotlib.textpath import TextPath

    prop = font_manager.FontProperties(family=family, size=FONT_PT)
    return TextPath((0, 0), text, size=FONT_PT, prop=prop).get_extents().width / 72


def _risk_table(fig, ax, curves: Sequence[KmCurve], times: np.ndarray, top: float, line: float, family: str) -> None:
    from matplotlib.transforms import blended_transform_factory

    x_in_data = blended_transform_factory(ax.transData, fig.transFigure)
    fig.text(0.01, top, "Number at risk", fontsize=FONT_PT, fontweight="bold", va="top", family=family)
    for row, curve in enumerate(curves, start=1):
        y = top - row * line
        fig.text(0.01, y, curve.label, fontsize=FONT_PT, va="top", family=family)
        for t, n in zip(times, curve.at_risk):
            ax.text(t, y, f"{int(n)}", transform=x_in_data, fontsize=FONT_PT, ha="center", va="top", family=family)


def figure_ard(output: str, curves: Sequence[KmCurve], at_risk_times: Sequence[float]) -> pd.DataFrame:
    """What the figure draws, in the ARD columns (group "curve", group_level its label; times in
    the drawn unit, unrounded, as variable_level):

    | variable | variable_level | stat_name |
    | --- | --- | --- |
    | curve | | n, events, median, median_ci_low, median_ci_high |
    | survival | each event time | survival, ci_low, ci_high |
    | at_risk | each at_risk_time | n_risk |
    | censored | each censoring time | censored (subjects) |
    """
    columns = ["output", "group", "group_level", "variable", "variable_level", "stat_name", "stat_label", "stat"]
    rows = []

    def add(curve, variable, levels, stats):
        for name, values in stats.items():
            values = np.broadcast_to(np.asarray(values, dtype=float), (len(levels),))
            rows.append(pd.DataFrame({"output": output, "group": "curve", "group_level": curve.label,
                                      "variable": variable, "variable_level": levels, "stat_name": name,
                                      "stat_label": STAT_LABELS[name], "stat": values}))

    times = np.asarray(at_risk_times, dtype=float)
    for curve in curves:
        summary = {"n": np.nan if curve.n is None else curve.n,
                   "events": np.nan if curve.events is None else curve.events,
                   "median": curve.median, "median_ci_low": curve.median_ci[0], "median_ci_high": curve.median_ci[1]}
        add(curve, "curve", [""], summary)
        event_times = [repr(float(t)) for t in curve.time]
        point = {"survival": curve.survival}
        if len(curve.ci_low) == len(curve.time):
            point |= {"ci_low": curve.ci_low, "ci_high": curve.ci_high}
        add(curve, "survival", event_times, point)
        add(curve, "at_risk", [repr(float(t)) for t in times], {"n_risk": curve.at_risk})
        counts = curve.censor_counts if curve.censor_counts is not None else np.ones(len(curve.censor_times))
        add(curve, "censored", [repr(float(t)) for t in curve.censor_times], {"censored": counts})
    if not rows:
        return pd.DataFrame(columns=columns)
    out = pd.concat(rows, ignore_index=True)
    # one statistic per row in reading order: each time's stats together
    order = {name: i for i, name in enumerate(STAT_LABELS)}
    out["_curve"] = out["group_level"].map({c.label: i for i, c in enumerate(curves)})
    out["_var"] = out["variable"].map({"curve": 0, "survival": 1, "at_risk": 2, "censored": 3})
    out["_time"] = pd.to_numeric(out["variable_level"], errors="coerce").fillna(-1.0)
    out["_stat"] = out["stat_name"].map(order)
    out = out.sort_values(["_curve", "_var", "_time", "_stat"], kind="mergesort")
    return out[columns].reset_index(drop=True)


STAT_LABELS = {"n": "Subjects", "events": "Events", "median": "Median", "median_ci_low": "Median 95% CI lower limit",
               "median_ci_high": "Median 95% CI upper limit", "survival": "Survival probability",
               "ci_low": "Pointwise 95% CI lower limit", "ci_high": "Pointwise 95% CI upper limit",
               "n_risk": "Number at risk", "censored": "Censored"}
