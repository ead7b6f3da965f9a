"""One registry type for every extension point of cvbench.

Features, classifiers, CNN models and datasets each own one :class:`Registry`
instance. Adding a component is one decorator::

    from features import register_feature

    @register_feature("my_feature")
    def my_feature(**params) -> TransformerMixin:
        return MyFeature(**params)

Duplicated names raise, names are listed with shell-style wildcards
(``list_features("*bow*")``), and unknown names raise a :class:`KeyError` that
suggests the closest registered names.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")

__all__ = ["Entry", "Registry"]


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A registered component.

    Parameters
    ----------
    name : str
        Registry key, lower-case snake case.
    factory : callable
        ``factory(**params) -> T``; builds a fresh component.
    kind : str
        What the registry holds (``"feature"``, ``"classifier"``, ...).
    summary : str
        First line of the factory's docstring, shown by ``--list``.
    tags : frozenset of str
        Free-form labels (``"binary"``, ``"color"``, ``"slow"``) used by profiles.
    default_params : dict
        Keyword arguments the runner passes unless the user overrides them.
    """

    name: str
    factory: Callable[..., T]
    kind: str
    summary: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)
    default_params: dict[str, Any] = field(default_factory=dict)

    def build(self, **params: Any) -> T:
        """Call the factory with the default parameters updated by ``params``."""
        return self.factory(**{**self.default_params, **params})


class Registry(Generic[T]):
    """Name → :class:`Entry` mapping with a registering decorator.

    Parameters
    ----------
    kind : str
        What the registry holds; used in error messages.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(
        self,
        name: str,
        *,
        tags: tuple[str, ...] | frozenset[str] = (),
        default_params: dict[str, Any] | None = None,
    ) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator that registers ``factory`` under ``name``.

        Raises
        ------
        ValueError
            If ``name`` is already registered or is not a valid name.
        """
        if not name or not name.replace("_", "").isalnum() or name.lower() != name:
            raise ValueError(
                f"{self.kind} name must be lower-case letters, digits and '_', got {name!r}"
            )

        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._entries:
                other = self._entries[name].factory
                raise ValueError(
                    f"{self.kind} {name!r} is already registered by "
                    f"{other.__module__}.{other.__qualname__}; pick another name"
                )
            doc = (factory.__doc__ or "").strip().splitlines()
            self._entries[name] = Entry(
                name=name,
                factory=factory,
                kind=self.kind,
                summary=doc[0] if doc else "",
                tags=frozenset(tags),
                default_params=dict(default_params or {}),
            )
            return factory

        return decorator

    def unregister(self, name: str) -> None:
        """Remove ``name`` (for tests and interactive use)."""
        self.get(name)
        del self._entries[name]

    def get(self, name: str) -> Entry[T]:
        """Return the entry for ``name``.

        Raises
        ------
        KeyError
            With the closest registered names when ``name`` is unknown.
        """
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise KeyError(
                f"unknown {self.kind} {name!r}{hint} "
                f"(registered: {', '.join(sorted(self._entries)) or 'none'})"
            ) from None

    def build(self, name: str, **params: Any) -> T:
        """Build a fresh component: ``get(name).build(**params)``."""
        return self.get(name).build(**params)

    def list(self, pattern: str = "*", *, tag: str | None = None) -> list[str]:
        """Sorted registered names matching a shell-style ``pattern``."""
        return sorted(
            n
            for n, e in self._entries.items()
            if fnmatch.fnmatchcase(n, pattern) and (tag is None or tag in e.tags)
        )

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(self._entries[n] for n in sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)
