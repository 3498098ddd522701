"""The C part of protokollsök (everything else is in pyproject.toml).

``protokollsok._postings`` is the posting writer's inner loop (``whoosh_writer`` uses it when it
was built, and writes the same bytes in Python when it was not). It is optional: where it cannot be
compiled, the install goes on without it.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "protokollsok._postings",
            sources=["src/protokollsok/_postings.c"],
            libraries=["z", "m"],
            optional=True,
        )
    ]
)
