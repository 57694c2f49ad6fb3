"""The pack's charts, drawn by matplotlib (Agg: no display) as PNG bytes.

Colour is never the only cue: each BRAG colour has its own hatch pattern and every bar
carries its label and count, so the charts read in greyscale and for colour-blind readers.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.pack.collect import BRAG_ORDER, PackData, TrendColumn
from bot.pack.style import COLOURS, HATCHES, NAMES


def brag_chart(data: PackData, *, dpi: int = 110) -> bytes:
    """Bars of the declared and computed BRAG counts, side by side per colour."""
    figure = Figure(figsize=(6.4, 3.0), dpi=dpi)
    axes = figure.add_subplot()
    width = 0.38
    positions = range(len(BRAG_ORDER))
    for offset, (name, counts, alpha) in enumerate(
        (("Declared", data.declared, 1.0), ("Computed", data.computed, 0.65))
    ):
        xs = [p + (offset - 0.5) * width for p in positions]
        values = [counts[rag] for rag in BRAG_ORDER]
        bars = axes.bar(
            xs,
            values,
            width,
            color=[COLOURS[rag] for rag in BRAG_ORDER],
            hatch=[HATCHES[rag] for rag in BRAG_ORDER],
            edgecolor="white",
            alpha=alpha,
            label=name,
        )
        axes.bar_label(bars, labels=[f"{name[0]} {v}" for v in values], fontsize=8, padding=2)
    axes.set_xticks(list(positions), [NAMES[rag] for rag in BRAG_ORDER])
    axes.set_ylabel("Actions")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("BRAG: declared (D) and computed (C)", fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    axes.margins(y=0.2)
    # Fixed margins rather than tight_layout(), which lays the figure out twice.
    figure.subplots_adjust(left=0.1, right=0.98, top=0.88, bottom=0.12)
    return _png(figure)


def trend_chart(columns: Sequence[TrendColumn], *, small: bool = False, dpi: int = 110) -> bytes:
    """The BRAG counts at each of the last meetings as stacked bars, oldest on the left."""
    figure = Figure(figsize=(4.0, 2.2) if small else (6.4, 3.2), dpi=dpi)
    axes = figure.add_subplot()
    labels = [c.label for c in columns] or ["no meetings yet"]
    bottoms = [0] * len(labels)
    for rag in BRAG_ORDER:
        values = [c.counts[rag] for c in columns] or [0]
        bars = axes.bar(
            labels,
            values,
            bottom=bottoms,
            color=COLOURS[rag],
            hatch=HATCHES[rag],
            edgecolor="white",
            label=NAMES[rag],
        )
        if not small:
            axes.bar_label(
                bars,
                labels=[str(v) if v else "" for v in values],
                label_type="center",
                color="white",
                fontsize=8,
                # A box of the bar's colour keeps the number readable over its pattern.
                bbox={"boxstyle": "round,pad=0.15", "fc": COLOURS[rag], "ec": "none"},
            )
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    axes.set_title("BRAG at each meeting", fontsize=9 if small else 10)
    axes.legend(
        fontsize=7, ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.14 if small else -0.12)
    )
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=7 if small else 8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.subplots_adjust(left=0.1, right=0.98, top=0.88, bottom=0.3 if small else 0.24)
    return _png(figure)


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
