"""dbt's Jinja sources are compiled once per warm process, with the same results as dbt's own.

The cache is process-wide once installed, so each check runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

#: Installs the cache, counting the compilations that reach Jinja, then runs argv[1]'s body.
PRELUDE = textwrap.dedent(
    """
    import json, sys, types
    import jinja2
    compiled = []
    jinja_compile = jinja2.Environment.compile
    def counting(self, source, *args, **kwargs):
        compiled.append(source)
        return jinja_compile(self, source, *args, **kwargs)
    jinja2.Environment.compile = counting
    from orchestration import dbt_templates
    assert dbt_templates.cache_compiled_templates()
    assert dbt_templates.cache_compiled_templates()  # installing twice is harmless
    from dbt.clients.jinja import get_rendered
    """
)


def _run(body: str, *arguments: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(body), *arguments], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_source_is_compiled_once_and_renders_as_without_the_cache() -> None:
    result = _run(
        """
        text = [get_rendered("{{ x }}", {"x": [1, 2]}) for _ in range(3)]
        native = [get_rendered("{{ x }}", {"x": [1, 2]}, native=True) for _ in range(3)]
        with_context = [get_rendered("{{ x * 2 }}", {"x": x}) for x in (1, 2)]
        print(json.dumps({"text": text, "native": native, "context": with_context,
                          "compiled": compiled}))
        """
    )
    # text and native environments compile the same source apart, and each renders its own way
    assert result["text"] == ["[1, 2]"] * 3 and result["native"] == [[1, 2]] * 3
    assert result["context"] == ["2", "4"]  # the template takes each render's own context
    assert sorted(result["compiled"]) == ["{{ x * 2 }}", "{{ x }}", "{{ x }}"]


def test_undefined_names_follow_each_environment_and_errors_are_not_cached() -> None:
    result = _run(
        """
        from dbt_common.clients.jinja import get_template
        source = "{{ not_defined_anywhere(1) }}"
        captured = get_template(source, {}, capture_macros=True).render({})  # dbt's parse: no error
        errors = []
        for _ in range(2):
            try:
                get_rendered(source, {})
            except Exception as error:
                errors.append(type(error).__name__)
            try:
                get_rendered("{{ broken ", {})
            except Exception as error:
                errors.append(type(error).__name__)
        print(json.dumps({"captured": captured, "errors": errors, "compiled": compiled}))
        """
    )
    assert result["errors"] == ["UndefinedMacroError", "CompilationError"] * 2
    assert result["captured"] == ""  # parsing's environment lets a call to an unknown macro pass
    # one compilation for both environments' use of the source; the broken one each time
    assert result["compiled"].count("{{ not_defined_anywhere(1) }}") == 1
    assert result["compiled"].count("{{ broken ") == 2


def test_nodes_are_precompiled_as_dbt_will_render_them() -> None:
    result = _run(
        """
        from types import SimpleNamespace as Node
        manifest = Node(nodes={
            "model.p.m": Node(raw_code="select {{ 1 }} as x", test_metadata=None),
            "model.p.plain": Node(raw_code="select 1 as x", test_metadata=None),
            "test.p.t": Node(raw_code="{{ test_not_null(**_dbt_generic_test_kwargs) }}", test_metadata=Node(
                kwargs={"column_name": "id", "model": "{{ get_where_subquery(ref('m')) }}",
                        "to": "ref('other')", "values": ["won", "lost"]})),
            "test.p.broken": Node(raw_code="{{ broken ", test_metadata=None),
        })
        count = dbt_templates.precompile_nodes(manifest)
        precompiled = list(compiled)
        get_rendered("select {{ 1 }} as x", {})
        get_rendered("won", {}, native=True)
        print(json.dumps({"count": count, "precompiled": precompiled, "after": compiled[len(precompiled):]}))
        """
    )
    assert result["count"] == 6
    assert sorted(result["precompiled"]) == sorted(
        [
            "select {{ 1 }} as x",
            "{{ test_not_null(**_dbt_generic_test_kwargs) }}",
            "{{ get_where_subquery(ref('m')) }}",
            "{{ ref('other') }}",  # wrapped, as dbt wraps a function-like argument
            "won",
            "lost",
            "{{ broken ",  # tried, failed, not counted
        ]
    )
    assert result["after"] == []  # what the command renders is already compiled


def test_a_warm_build_of_the_project_compiles_almost_nothing(tmp_path: Path) -> None:
    """A small project built after precompiling its manifest, as a warm command is."""
    project = tmp_path / "p"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: p\nversion: '1.0'\nprofile: p\nmodel-paths: [models]\n")
    (project / "profiles.yml").write_text(
        f"p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {project / 'w.duckdb'}\n"
    )
    (project / "models" / "a.sql").write_text("select {{ 40 + 2 }} as x")
    (project / "models" / "b.sql").write_text("select x from {{ ref('a') }}")
    (project / "models" / "b.yml").write_text(
        "models:\n  - name: b\n    columns:\n      - name: x\n"
        "        data_tests: [not_null, {accepted_values: {values: [42]}}]\n"
    )
    result = _run(
        """
        from dbt.cli.main import dbtRunner
        from orchestration.dbt_warm_process import _compile_macros
        project = sys.argv[1]
        folders = ["--project-dir", project, "--profiles-dir", project, "--quiet"]
        parsed = dbtRunner().invoke(["parse", *folders])
        _compile_macros(parsed.result)
        dbt_templates.precompile_nodes(parsed.result)
        before = len(compiled)
        built = dbtRunner().invoke(["build", *folders])
        import duckdb
        value = duckdb.connect(project + "/w.duckdb").execute("select x from b").fetchone()[0]
        print(json.dumps({"success": built.success, "value": value, "during_build": compiled[before:]}))
        """,
        str(project),
    )
    assert result["success"] and result["value"] == 42
    # only dbt's own setup strings (e.g. the profile's) remain; no node's SQL, test or macro
    assert not [source for source in result["during_build"] if "ref(" in source or "select" in source]
    assert len(result["during_build"]) < 10, result["during_build"]
