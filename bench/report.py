"""The bench's table, and the files it leaves: results.json and RESULTS.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import audit as audit_bench
from bench import encryption as encryption_bench
from bench import stats as stats_bench

GOAL = 3.0


def _rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, xueji, baseline, ratio) rows."""
    load = results["load"]
    registration = results["registration"]
    students = f"{load['rows']['students']:,} students"
    rows = [
        (
            f"synth of {students} (+{load['rows']['family_members']:,} family, placements), "
            "end to end",
            f"{load['synth_seconds']:.1f} s ({load['synth_students_per_second']:,.0f}/s)",
            f"bare COPY {load['bare_copy_seconds']:.1f} s",
            f"{load['synth_ratio']:.2f}×",
        ),
        (
            "load of the same rows into the real tables (indexes, keys, ANALYZE)",
            f"{load['reload_seconds']:.1f} s",
            f"bare COPY {load['bare_copy_seconds']:.1f} s",
            f"{load['reload_ratio']:.2f}×",
        ),
        (
            f"registration, single worker ({registration['registrations']:,})",
            f"{registration['service_per_second']:,.0f} students/s",
            f"bare INSERT {registration['bare_per_second']:,.0f}/s",
            f"{registration['bare_per_second'] / registration['service_per_second']:.2f}×",
        ),
    ]
    for label, lookup in results["lookups"].items():
        rows.append(
            (
                f"{label}, p50 / p95 ({lookup['queries']} queries)",
                f"{lookup['selector']['p50_ms']:.2f} / {lookup['selector']['p95_ms']:.2f} ms",
                f"SQL {lookup['sql']['p50_ms']:.2f} / {lookup['sql']['p95_ms']:.2f} ms",
                f"{lookup['ratio_p50']:.2f}× / {lookup['ratio_p95']:.2f}×",
            )
        )
    if "statistics" in results:
        rows += stats_bench.rows(results["statistics"])
    if "encryption" in results:
        rows += encryption_bench.rows(results["encryption"])
    if "yearend" in results:
        from bench import yearend as yearend_bench

        rows += yearend_bench.rows(results["yearend"])
    if "transfers" in results:
        from bench import transfers as transfers_bench

        rows += transfers_bench.rows(results["transfers"])
    if "audit" in results:
        rows += audit_bench.rows(results["audit"])
    if "imports" in results:
        from bench import imports as imports_bench

        rows += imports_bench.rows_of(results["imports"])
    if "exports" in results:
        from bench import exports as exports_bench

        rows += exports_bench.rows(results["exports"])
    return rows


HEADER = ("measure", "xueji", "baseline (same run)", "ratio")


def table(results: dict[str, Any]) -> str:
    rows = [HEADER, *_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    load = results["load"]
    environment = results["environment"]
    lines = [
        "# Bench results",
        "",
        f"Latest `make bench` run ({results['when']}, {results['students']:,} students, "
        f"{environment['postgresql']}, {environment['cpus']} CPUs, "
        f"shared_buffers {environment['shared_buffers']}, "
        f"synchronous_commit {environment['synchronous_commit']}). Ratios are xueji's time over "
        f"the baseline's, both measured in the same run; the goal is within {GOAL:.0f}×.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(results)]
    lines += [
        "",
        "What is compared:",
        "",
        "- **synth, end to end**: `xueji synth` (schools, classes, generating the rows in "
        f"Python with {load['generating_processes']} process(es), COPY into the real tables, "
        "building their indexes and keys, ANALYZE, commit).",
        "- **load of the same rows**: the rows synth made, exported (untimed) and loaded again "
        "into the emptied real tables the way synth loads them: COPY, then indexes and keys "
        "built over the rows, ANALYZE. The schema's cost without the cost of inventing rows.",
        "- **bare COPY**, the baseline of both: the same rows, from memory, into plain tables "
        "without indexes or constraints, in one transaction.",
        "- **registration**: `students.services.student_register`, one transaction per child, "
        "against hand-written INSERTs of the rows it writes (student, family, placement, "
        "history event, audit entry), also one transaction per child, for children made by "
        "the same generator.",
        "- **lookups**: `students.selectors.student_by_number` / `student_search` for a "
        "provincial viewer (scope filter included) against one hand-written SQL statement "
        "returning the same rows; each query run both ways back to back.",
        *(stats_bench.markdown(results["statistics"]) if "statistics" in results else []),
        *(encryption_bench.markdown(results["encryption"]) if "encryption" in results else []),
        *(audit_bench.markdown(results["audit"]) if "audit" in results else []),
        "",
        f"Synth phases ({load['index_mode']} mode):",
        "",
    ]
    lines += [f"- {phase}: {seconds:.1f} s" for phase, seconds in load["synth_phases"].items()]
    lines += ["", "Load of the same rows, phases:", ""]
    lines += [f"- {phase}: {seconds:.1f} s" for phase, seconds in load["reload_phases"].items()]
    if load["index_timings"]:
        lines += ["", "Slowest index and key builds:", ""]
        lines += [f"- {label}: {seconds:.1f} s" for label, seconds in load["index_timings"][:8]]
    if "imports" in results:
        from bench import imports as imports_bench

        lines += imports_bench.markdown(results["imports"])
    if "exports" in results:
        from bench import exports as exports_bench

        lines += exports_bench.markdown(results["exports"])
    lines.append("")
    return "\n".join(lines)


# RESULTS.md below this line holds notes of parts run alone and of earlier runs: a run rewrites
# what is above it and keeps the rest as it is.
NOTES_MARK = "<!-- make bench rewrites this file above this line and keeps what is below it -->"


def write(results: dict[str, Any], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    path = directory / "RESULTS.md"
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    notes = before[before.index(NOTES_MARK) :] if NOTES_MARK in before else ""
    path.write_text(markdown(results) + ("\n" + notes if notes else ""), encoding="utf-8")
