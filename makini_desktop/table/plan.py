"""What a change to a row index did to the view: a plan of steps that a Qt model emits.

Each step is against the display rows as the previous step left them, so a model that applies
the steps one by one (emitting ``beginRemoveRows``/``endRemoveRows`` around a removal, and so
on) is consistent at every signal. :func:`apply_plan` applies a plan to a plain list.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Changed:
    """Display rows ``first``..``last`` changed in place: every cell (``column`` None) or
    the text of one column."""

    first: int
    last: int
    column: int | None = None


@dataclass(frozen=True, slots=True)
class Removed:
    """Display rows ``first``..``last`` leave the view."""

    first: int
    last: int


@dataclass(frozen=True, slots=True)
class Inserted:
    """Row ids ``ids`` enter the view at display row ``first``."""

    first: int
    ids: list[int]


@dataclass(frozen=True, slots=True)
class Layout:
    """The view shows ``ids`` now: the same rows reordered (or more rows merged in); rows
    that stay are followed by a selection."""

    ids: list[int]


@dataclass(frozen=True, slots=True)
class Reset:
    """The view shows ``ids`` now, from scratch (selection and scroll position are lost)."""

    ids: list[int]


Step = Changed | Removed | Inserted | Layout | Reset


@dataclass(slots=True)
class Plan:
    """What a change did to the view, as steps to apply in order.

    Steps are applied in order and before the next plan's; the lists they hold are the
    plan's own (the index never changes them afterwards).

    Attributes:
        steps: the steps, each against the display rows as the previous step left them.
        counts_changed: the number of rows shown or held changed.
    """

    steps: list[Step] = field(default_factory=list)
    counts_changed: bool = False

    def __bool__(self) -> bool:
        return bool(self.steps) or self.counts_changed


def apply_plan(shown: list[int], plan: Plan) -> list[int]:
    """The display row ids after ``plan``, from those shown before it (``shown`` is changed)."""
    for step in plan.steps:
        if isinstance(step, Removed):
            del shown[step.first:step.last + 1]
        elif isinstance(step, Inserted):
            shown[step.first:step.first] = step.ids
        elif isinstance(step, Layout | Reset):
            shown = list(step.ids)
    return shown
