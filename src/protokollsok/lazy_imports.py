"""Start-up: stand-ins for modules that whoosh imports but a search never uses.

``import whoosh.query`` costs about 0.15 s, two thirds of it in imports nothing of protokollsök
uses: ``whoosh.compat`` takes ``urlretrieve`` from ``urllib.request`` (which imports
``http.client`` and ``email``), ``whoosh.reading`` takes ``cached_property`` from the backport of
that name (which imports ``asyncio``), and ``whoosh.query.terms`` takes ``variations`` from
``whoosh.lang.morph_en`` (a large table of English word forms). Until whoosh is imported, each of
them is a stand-in module holding just the name whoosh takes: a function that loads the real
module when called, or for ``cached_property`` the standard library's, which does the same for
whoosh's one use. Asked for any other name, a stand-in imports the real module, which takes its
place in ``sys.modules``, so code that imports these modules later gets the real ones.
"""

from __future__ import annotations

import functools
import importlib
import sys
import types
from typing import Any


class _Standin(types.ModuleType):
    """A module that holds a few names and imports the real module for any other."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # module machinery (__path__, __file__, ...): as a plain module
            raise AttributeError(name)
        return getattr(real_module(self.__name__), name)


def real_module(name: str) -> types.ModuleType:
    """The real module ``name``, imported in place of its stand-in if there is one."""
    if isinstance(sys.modules.get(name), _Standin):
        del sys.modules[name]
    return importlib.import_module(name)


def _later(module: str, name: str) -> Any:
    """A function that calls ``module.name``, importing the real module on the first call."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(real_module(module), name)(*args, **kwargs)

    call.__name__ = name
    return call


STANDINS: dict[str, dict[str, Any]] = {
    "urllib.request": {"urlretrieve": _later("urllib.request", "urlretrieve")},
    "cached_property": {"cached_property": functools.cached_property},
    "whoosh.lang.morph_en": {"variations": _later("whoosh.lang.morph_en", "variations")},
}


def install() -> None:
    """Put the stand-ins in ``sys.modules`` (not for a module that is already imported)."""
    if "whoosh.reading" in sys.modules:
        return
    for name, names in STANDINS.items():
        if name in sys.modules:
            continue
        module = _Standin(name)
        module.__dict__.update(names)
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(importlib.import_module(parent), child, module)
