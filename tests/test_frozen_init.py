"""`frozen_init.fast_frozen_init`: the same objects as the dataclass's own
``__init__``, still frozen; applied to the events, report records and issues."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from dataclasses import dataclass, field

import pytest

from mipv6scope import events
from mipv6scope.decode import issues
from mipv6scope.frozen_init import fast_frozen_init
from mipv6scope.report import model


@dataclass(frozen=True, slots=True)
class Base:
    a: int
    b: str = "b"


@dataclass(frozen=True, slots=True)
class Child(Base):
    c: tuple[int, ...] = ()
    d: list[int] = field(default_factory=list)


Plain = dataclasses.make_dataclass("Plain", [("a", int), ("b", str, field(default="b")),
                                             ("c", tuple, field(default=())),
                                             ("d", list, field(default_factory=list))],
                                   frozen=True, slots=True)
fast_frozen_init(Base)
fast_frozen_init(Child)


def _values(obj: object) -> tuple:
    return tuple(getattr(obj, f.name) for f in dataclasses.fields(obj))


@pytest.mark.parametrize("args, kwargs", [((1,), {}), ((1, "x"), {}), ((1,), {"c": (2,)}),
                                          ((), {"a": 1, "d": [3]}), ((1, "x", (2,), [4]), {})])
def test_same_values_as_the_generated_init(args, kwargs) -> None:
    ours, theirs = Child(*args, **kwargs), Plain(*args, **kwargs)
    assert _values(ours) == _values(theirs)
    assert Child(*args, **kwargs) == ours and hash(ours.c) == hash(theirs.c)


def test_still_frozen_picklable_and_replaceable() -> None:
    obj = Child(1, d=[2])
    with pytest.raises(dataclasses.FrozenInstanceError):
        obj.a = 2  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(obj)) == obj
    assert dataclasses.replace(obj, b="z") == Child(1, "z", (), [2])
    assert Child(1).d is not Child(1).d  # a new list each time
    with pytest.raises(TypeError):
        Child()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Child(1, 2, 3, 4, 5)  # type: ignore[call-arg]


PROJECT = [cls for module in (events, model, issues) for cls in vars(module).values()
           if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == module.__name__]


@pytest.mark.parametrize("cls", PROJECT, ids=lambda c: c.__name__)
def test_project_records_have_it_with_the_same_signature(cls: type) -> None:
    assert cls.__init__.__code__.co_filename == "<string>"
    assert "_set0" in cls.__init__.__globals__  # ours, not the dataclass's
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert [p.name for p in params] == [f.name for f in dataclasses.fields(cls)]
    for p, f in zip(params, dataclasses.fields(cls), strict=True):
        if f.default is not dataclasses.MISSING:
            assert p.default is f.default
        elif f.default_factory is dataclasses.MISSING:
            assert p.default is inspect.Parameter.empty
