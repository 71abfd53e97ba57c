"""Query and path parameters shared by every endpoint: pagination and row ids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

import msgspec
from litestar.params import PathParameter, QueryParameter

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T], kw_only=True):
    """One page of a list endpoint: the items, how many there are in all, where we are.

    Lists that grow without bound (the audit log) also page by keyset: ``next_cursor`` and
    ``prev_cursor`` are opaque strings to pass back as ``cursor`` (null when there is nothing
    that way), and their ``total`` may be an estimate, which ``total_exact`` says.
    """

    items: list[T]
    total: int
    page: int
    per_page: int
    total_exact: bool = True
    next_cursor: str | None = None
    prev_cursor: str | None = None


@dataclass(frozen=True)
class Pagination:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def of(
        self,
        items: Sequence[T],
        total: int,
        *,
        total_exact: bool = True,
        next_cursor: str | None = None,
        prev_cursor: str | None = None,
    ) -> Page[T]:
        return Page(
            items=list(items),
            total=total,
            page=self.page,
            per_page=self.per_page,
            total_exact=total_exact,
            next_cursor=next_cursor,
            prev_cursor=prev_cursor,
        )


def provide_pagination(
    page: Annotated[int, QueryParameter(ge=1, le=1_000_000, description="1-based page")] = 1,
    per_page: Annotated[int, QueryParameter(ge=1, le=500, description="items per page")] = 50,
) -> Pagination:
    return Pagination(page=page, per_page=per_page)


# An opaque keyset cursor (``next_cursor``/``prev_cursor`` of the previous page).
Cursor = Annotated[
    str | None,
    QueryParameter(
        max_length=500,
        description="continue from this cursor (a previous page's next_cursor or prev_cursor); "
        "page is then ignored",
    ),
]


# A database row id in a path: bounded so an absurd value is a 422, not a database overflow.
RowId = Annotated[int, PathParameter(ge=1, le=2_147_483_647, description="row id")]
# The same for a table keyed by api.db.BigIntKey (64-bit).
BigRowId = Annotated[int, PathParameter(ge=1, le=2**63 - 1, description="row id")]
