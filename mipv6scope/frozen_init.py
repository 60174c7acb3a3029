"""A faster ``__init__`` for frozen, slotted dataclasses.

The ``__init__`` `dataclasses` generates for a frozen class sets each field
with ``object.__setattr__(self, name, value)``, which looks the name up
through the class's MRO every time; for an event of twenty fields that is
most of its cost (an analysis makes several such objects per frame). Here the
same ``__init__`` (same parameters, defaults and default factories) sets each
slot through its member descriptor instead, found once: about four times
faster. The instances are the same: still frozen (``__setattr__`` raises),
equal, hashed, pickled and ``replace``-d as before.
"""

from __future__ import annotations

import dataclasses
from typing import Any

_NOTHING = object()


def fast_frozen_init(cls: type) -> type:
    """Give the frozen, slotted dataclass ``cls`` the faster ``__init__``
    (see the module docstring); a class it does not apply to (not frozen, no
    slots, a ``__post_init__``, an init-less or keyword-only field) is
    returned as it is."""
    params = getattr(cls, "__dataclass_params__", None)
    if (params is None or not params.frozen or not params.init or "__slots__" not in cls.__dict__
            or hasattr(cls, "__post_init__")):
        return cls
    fields = dataclasses.fields(cls)
    if any(not f.init or f.kw_only for f in fields):
        return cls
    scope: dict[str, Any] = {"_NOTHING": _NOTHING}
    params_text, body = [], []
    for i, f in enumerate(fields):
        setter = None
        for klass in cls.__mro__:  # the slot's member descriptor, wherever it is declared
            if f.name in klass.__dict__.get("__slots__", ()):
                setter = klass.__dict__[f.name].__set__
                break
        if setter is None:
            return cls
        scope[f"_set{i}"] = setter
        if f.default is not dataclasses.MISSING:
            scope[f"_default{i}"] = f.default
            params_text.append(f"{f.name}=_default{i}")
        elif f.default_factory is not dataclasses.MISSING:
            scope[f"_factory{i}"] = f.default_factory
            params_text.append(f"{f.name}=_NOTHING")
            body.append(f"    if {f.name} is _NOTHING: {f.name} = _factory{i}()")
        else:
            params_text.append(f.name)
        body.append(f"    _set{i}(self, {f.name})")
    source = f"def __init__(self, {', '.join(params_text)}):\n" + "\n".join(body or ["    pass"])
    exec(source, scope)  # noqa: S102 - generated from the dataclass's own field names
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[misc]
    return cls


def fast_frozen_inits(namespace: dict[str, Any]) -> None:
    """`fast_frozen_init` on every dataclass defined in the module whose
    ``globals()`` is ``namespace``."""
    module = namespace.get("__name__")
    for value in list(namespace.values()):
        if (isinstance(value, type) and dataclasses.is_dataclass(value)
                and value.__module__ == module):
            fast_frozen_init(value)
