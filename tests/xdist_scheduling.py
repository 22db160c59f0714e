"""How `pytest -n N` (pytest-xdist; `make test`) shares the suite between its worker processes.

A test module is one unit of work: it runs whole, in order, in one worker, as it does without
xdist, so a module-scoped fixture (a committed corpus, a world made once, a sqlmigrate report)
is built once and sees only its own module's tests. Schemathesis's run is the exception, one
unit per role (a third of the suite's time in one module would otherwise decide its length):
each role's cases stay together, in one process, with that role's committed database and tally.

Each worker has its own test database (pytest-django names it ``test_<name>_gw<N>``), its own
``live_server`` and its own embedder. Units go out largest first (by number of tests), one more
to each worker as it runs out.

xdist's own ``--dist loadgroup`` would do this from ``xdist_group`` marks, but with pytest 9.2 it
silently stops grouping (pytest-dev/pytest-xdist#1386: the group travels in a changed node id,
which pytest no longer lets it change); a scheduler sees only node ids, which are stable.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling

SCHEMATHESIS_MODULE = "tests/api/test_schemathesis.py"


class ModuleScheduling(LoadScopeScheduling):
    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        if module == SCHEMATHESIS_MODULE:
            # ...::test_the_server_keeps_the_contract_of_its_schema[GET /api/v1/x/][agent]
            role = nodeid.rsplit("[", 1)[1].rstrip("]")
            return f"{module} as {role}"
        return module
