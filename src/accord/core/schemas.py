"""Pieces every app's API schemas share: text limits taken from the model, references to
users, pages of results, and turning ids in a request into the rows they name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

from django.conf import settings
from django.db.models import Model, QuerySet
from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict, create_model

from accord.core.errors import ValidationFailed

MAX_PAGE_SIZE = 200
T = TypeVar("T")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def text(model: type[Model], name: str, **extra) -> Any:
    """A trimmed text field as long as the model column allows (``None`` is read as empty)."""
    return Annotated[
        str,
        Field(max_length=model._meta.get_field(name).max_length, **extra),
        BeforeValidator(lambda value: "" if value is None else _strip(value)),
    ]


class InSchema(Schema):
    """Request bodies: unknown fields are refused rather than silently dropped."""

    model_config = ConfigDict(extra="forbid")


class UserRef(Schema):
    id: int
    username: str
    name: str

    @staticmethod
    def resolve_name(user) -> str:
        return user.display_name


class NamedRef(Schema):
    id: int
    name: str


class PageParams(Schema):
    limit: int = Field(settings.ACCORD_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"at most {MAX_PAGE_SIZE}")
    offset: int = Field(0, ge=0, le=10**9)


_page_schemas: dict[type, type] = {}


def page_of(item: type[Schema]) -> type[Schema]:
    """The schema of one page of ``item``: count of all matches, the window, the items."""
    if item not in _page_schemas:
        _page_schemas[item] = create_model(
            f"{item.__name__.removesuffix('Out')}Page",
            __base__=Schema,
            count=(int, ...),
            limit=(int, ...),
            offset=(int, ...),
            items=(list[item], ...),
        )
    return _page_schemas[item]


def page(queryset: QuerySet, params: PageParams) -> dict:
    """One page of an ordered queryset; two queries (count and window) whatever its size."""
    items = list(queryset[params.offset : params.offset + params.limit])
    if len(items) < params.limit and (items or params.offset == 0):
        count = params.offset + len(items)  # a short page is the last one: no need to count
    else:
        count = queryset.count()
    return {"count": count, "limit": params.limit, "offset": params.offset, "items": items}


def parsed_query(parse: Callable[[Mapping], T], params: Mapping) -> T:
    """Read a list filter from query parameters; bad ones are reported as query fields."""
    try:
        return parse(params)
    except ValidationFailed as problem:
        raise ValidationFailed(problem.errors, location="query") from None


def resolve_ids(values: dict[str, Any], lookups: dict[str, QuerySet]) -> dict[str, Any]:
    """Replace ``<name>_id`` values by the rows they name (``None`` stays None).

    ``lookups`` maps each ``<name>_id`` field to the queryset it must be found in; every id
    that names nothing is reported at once, by its field.
    """
    resolved = dict(values)
    errors: dict[str, str] = {}
    for field, queryset in lookups.items():
        if field not in values:
            continue
        pk = resolved.pop(field)
        name = field.removesuffix("_id")
        if pk is None:
            resolved[name] = None
            continue
        row = queryset.filter(pk=pk).first()
        if row is None:
            errors[field] = f"there is no {queryset.model._meta.verbose_name} with id {pk}"
        else:
            resolved[name] = row
    if errors:
        raise ValidationFailed(errors)
    return resolved
