"""The dimension catalogue: every way the report counts deaths, and the
columns each one groups by and returns.

Dimensions are chosen by name from ``DIMENSIONS``; their SQL fragments are
fixed here, so nothing a caller passes is ever pasted into SQL text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from queries import codes


@dataclass(frozen=True)
class Dimension:
    """One way of counting deaths. For a footprint, ``select`` is worked out
    per row. For all England, the rows are first grouped by the raw columns
    ``inner`` (few groups), and ``select`` worked out once per group: who
    reviews locally, for one, is then decided per group, not per death."""

    select: tuple[str, ...]  # key expressions "expr AS name" over a row or an inner group
    keys: tuple[str, ...]  # output key columns, in sort order
    inner: tuple[str, ...] = ()  # raw report_facts columns the keys need
    names: tuple[str, ...] = ()  # columns looked up by the first key's code in ``Names``, after counting
    labels: dict[str, str] | None = None  # code -> label, for a "<key>_label" column
    order: tuple[str, ...] = ()  # code-list order of the first key, if any


def _coded(column: str, labels: dict[str, str], alias: str | None = None) -> Dimension:
    name = alias or column
    return Dimension((f"{column} AS {name}",), (name,), inner=(column,), labels=labels, order=tuple(labels))


RESIDENCE_GROUP = "__residence_group__"  # replaced by the scope's expression in counts_sql
REVIEW_GROUP = "__review_group__"
DIMENSIONS: dict[str, Dimension] = {
    "trust": Dimension(("trust_code",), ("trust_name", "trust_code"), inner=("trust_code",), names=("trust_name",)),
    "site": Dimension(
        ("site_code",),
        ("site_name", "site_code"),
        inner=("site_code",),
        names=("site_name", "site_trust_code"),
    ),
    "place": _coded("place_in_hospital", codes.PLACES_IN_HOSPITAL, "place"),
    "age_group": _coded("age_group", codes.AGE_GROUPS),
    "reviewing_cdop": Dimension(
        (f"coalesce(reviewing_cdop_code, '{codes.UNASSIGNED}') AS reviewing_cdop_code",),
        ("reviewing_cdop_name", "reviewing_cdop_code"),
        inner=("reviewing_cdop_code",),
        names=("reviewing_cdop_name",),
    ),
    "review_group": Dimension(
        (f"{REVIEW_GROUP} AS review_group",),
        ("review_group",),
        inner=("reviewing_cdop_code", "trust_code"),
        labels=codes.REVIEW_GROUPS,
        order=tuple(codes.REVIEW_GROUPS),
    ),
    "residence_group": Dimension(
        (f"{RESIDENCE_GROUP} AS residence_group",),
        ("residence_group",),
        inner=("residence_class",),  # and, for a footprint, residence_la_code: see _inner_columns
        labels=codes.RESIDENCE_GROUPS,
        order=tuple(codes.RESIDENCE_GROUPS),
    ),
    # a hospital by its code alone (no names looked up): the map's thousands of area-to-hospital pairs
    "site_code": Dimension(("site_code",), ("site_code",), inner=("site_code",)),
    # where the child lived: a local authority, a country of the UK, abroad, or not known
    "residence_area": Dimension(
        (f"coalesce(residence_la_code, '{codes.RESIDENCE_NOT_KNOWN}') AS residence_area",),
        ("residence_area",),
        inner=("residence_la_code",),
    ),
    "review_status": _coded("review_status", codes.REVIEW_STATUSES),
    "financial_year": Dimension(("financial_year",), ("financial_year",), inner=("financial_year",)),
    "quarter": Dimension(
        ("financial_year", "fy_quarter"), ("financial_year", "fy_quarter"), inner=("financial_year", "fy_quarter")
    ),
    "month": Dimension(("month",), ("month",), inner=("month",)),
}
TIME_GRAINS = ("month", "quarter", "financial_year")


def _check_dimensions(by: Sequence[str]) -> None:
    if not by or len(set(by)) != len(by):
        raise ValueError("counts needs distinct dimensions")
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimensions: {unknown}")


def _key_columns(dims: list[Dimension]) -> list[str]:
    """The key columns the dimensions' statement returns (their names are looked up after)."""
    return [expr.rsplit(" AS ", 1)[-1].rsplit(".", 1)[-1] for dim in dims for expr in dim.select]


def _columns(dim: Dimension, labelled: bool = True) -> list[str]:
    """The columns one dimension contributes to a counts frame (with its label column, if ``labelled``)."""
    names = [*_key_columns([dim]), *dim.names]
    return [*names, f"{dim.keys[0]}_label"] if labelled and dim.labels is not None else names
