"""Reports of a conformance session: Markdown (docs), JSON (tools), JUnit XML (CI), and
the join of the syscall table's support levels with the cases that exercise them."""

from __future__ import annotations

import json
import platform
import subprocess
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from conformance.harness import FAIL, PASS, SKIP, Result, Session
from conformance.known import known_reason


@dataclass
class SyscallRow:
    """One syscall-table entry joined with its cases' results."""
    name: str
    disposition: str
    support: str
    cases: int
    passed: dict[str, int]            # target -> passing cases


def family_counts(session: Session) -> dict[str, dict[str, dict[str, int]]]:
    """family -> target -> {pass, fail, skip, total}."""
    counts: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    for target in session.targets:
        for res in session.of(target):
            c = counts[res.case.family.name].setdefault(
                target, {PASS: 0, FAIL: 0, SKIP: 0, "total": 0})
            c[res.status] += 1
            c["total"] += 1
    return dict(sorted(counts.items()))


def totals(session: Session, target: str) -> dict[str, int]:
    out = {PASS: 0, FAIL: 0, SKIP: 0}
    for res in session.of(target):
        out[res.status] += 1
    return out


def syscall_join(session: Session) -> list[SyscallRow]:
    """Every table entry with its support level and how many of its cases pass."""
    from syscalls.table import TABLE
    by_name: dict[str, list[str]] = defaultdict(list)
    for case in session.cases:
        for name in case.syscalls:
            by_name[name].append(case.name)
    status = {(r.target, r.case.name): r.status for t in session.targets for r in session.of(t)}
    rows = []
    for entry in TABLE.values():
        cases = by_name.get(entry.name, [])
        passed = {t: sum(status.get((t, c)) == PASS for c in cases) for t in session.targets}
        rows.append(SyscallRow(entry.name, entry.disposition.value, entry.support.value,
                               len(cases), passed))
    return rows


def unproven_full_claims(session: Session, target: str = "sandvisor") -> list[str]:
    """Table entries that claim FULL support with no case passing under `target`."""
    return [row.name for row in syscall_join(session)
            if row.support == "full" and row.passed.get(target, 0) == 0]


def covered_syscalls(session: Session) -> set[str]:
    return {name for case in session.cases for name in case.syscalls}


def differences(session: Session, target: str) -> list[tuple[Result, str]]:
    """Failing results with the reason from the known-differences list (or '')."""
    return [(r, known_reason(target, r.case.name) or "")
            for r in session.of(target) if r.status == FAIL]


def unexpected_failures(session: Session, target: str) -> list[Result]:
    return [r for r, reason in differences(session, target) if not reason]


def first_change(diff: str) -> str:
    """The first removed and added lines of a unified diff, on one line."""
    lines = diff.splitlines()
    minus = next((l[1:] for l in lines if l.startswith("-") and not l.startswith("---")), "")
    plus = next((l[1:] for l in lines if l.startswith("+") and not l.startswith("+++")), "")
    return f"`{minus.strip()}` → `{plus.strip()}`" if minus or plus else ""


def _md(text: str) -> str:
    """Escape a table cell: a bare | would end the cell."""
    return text.replace("|", "\\|")


# -- JSON --------------------------------------------------------------------------------

def to_json(session: Session) -> str:
    data = {
        "targets": session.targets,
        "seconds": round(session.seconds, 1),
        "cases": [{"name": c.name, "family": c.family.name, "syscalls": list(c.syscalls)}
                  for c in session.cases],
        "results": {t: [{"case": r.case.name, "family": r.case.family.name,
                         "status": r.status, "reason": r.reason,
                         "known": known_reason(t, r.case.name) or "", "diff": r.diff}
                        for r in session.of(t)] for t in session.targets},
        "families": family_counts(session),
        "syscalls": [row.__dict__ for row in syscall_join(session) if row.cases],
    }
    return json.dumps(data, indent=1)


# -- JUnit XML ---------------------------------------------------------------------------

def to_junit(session: Session) -> str:
    root = ET.Element("testsuites", name="sandvisor-conformance")
    for target in session.targets:
        by_family: dict[str, list[Result]] = defaultdict(list)
        for res in session.of(target):
            by_family[res.case.family.name].append(res)
        for family, results in sorted(by_family.items()):
            suite = ET.SubElement(root, "testsuite", name=f"{target} :: {family}",
                                  tests=str(len(results)),
                                  failures=str(sum(r.status == FAIL for r in results)),
                                  skipped=str(sum(r.status == SKIP for r in results)))
            for res in results:
                case = ET.SubElement(suite, "testcase", classname=f"{target}.{family}",
                                     name=res.case.name, time=f"{res.seconds:.3f}")
                if res.status == FAIL:
                    known = known_reason(target, res.case.name)
                    msg = res.reason + (f" (known: {known})" if known else "")
                    ET.SubElement(case, "failure", message=msg).text = res.diff
                elif res.status == SKIP:
                    ET.SubElement(case, "skipped", message=res.reason)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# -- Markdown ----------------------------------------------------------------------------

def _host_line() -> str:
    parts = [f"Linux {platform.release()}", platform.machine()]
    try:
        gcc = subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True)
        parts.append(f"gcc {gcc.stdout.strip()}")
    except OSError:
        pass
    return ", ".join(parts)


def _cell(counts: dict[str, int] | None) -> str:
    if not counts:
        return "-"
    if counts[SKIP] == counts["total"]:
        return "skipped"
    return f"{counts[PASS]}/{counts['total'] - counts[SKIP]}"


def to_markdown(session: Session, *, command: str = "", notes: list[str] | None = None) -> str:
    lines = ["# Syscall conformance report", ""]
    lines += [f"Generated by `{command or 'sandvisor conformance run'}` on {_host_line()}.",
              "Each case runs natively and under each target; it passes when the normalised "
              "transcripts and exit statuses are equal. Cells are passing / run (skips excluded).",
              ""]
    lines += [f"- {n}" for n in notes or []]
    covered = covered_syscalls(session)
    lines += ["", f"**{len(session.cases)} cases** over {len({c.family.name for c in session.cases})} "
              f"families, covering **{len(covered)} distinct syscalls**.", ""]
    lines += ["## Totals", "", "| target | pass | fail | skip |", "| --- | --- | --- | --- |"]
    for t in session.targets:
        tot = totals(session, t)
        lines.append(f"| {_label(t)} | {tot[PASS]} | {tot[FAIL]} | {tot[SKIP]} |")
    lines += ["", "## Pass counts per family", ""]
    lines.append("| family | cases | " + " | ".join(_label(t) for t in session.targets) + " |")
    lines.append("| --- | --- |" + " --- |" * len(session.targets))
    for family, per in family_counts(session).items():
        total = next(iter(per.values()))["total"]
        lines.append(f"| {family} | {total} | "
                     + " | ".join(_cell(per.get(t)) for t in session.targets) + " |")
    for t in session.targets:
        lines += _differences_section(session, t)
    lines += _join_section(session)
    return "\n".join(lines) + "\n"


def _label(target: str) -> str:
    return target if len(target) < 24 else target.split()[0]


def _differences_section(session: Session, target: str) -> list[str]:
    diffs = differences(session, target)
    skips = [r for r in session.of(target) if r.status == SKIP]
    if not diffs and not skips:
        return []
    lines = ["", f"## Known differences: {target}", ""]
    if diffs:
        lines += ["| case | reason | observed (native → target) |", "| --- | --- | --- |"]
        for res, reason in diffs:
            why = reason or f"**unexplained**: {res.reason}"
            lines.append(f"| `{res.case.name}` | {_md(why)} | {_md(first_change(res.diff))} |")
    reasons = sorted({r.reason for r in skips})
    for reason in reasons:
        n = sum(r.reason == reason for r in skips)
        lines.append(f"\n{n} case(s) skipped: {reason}")
    return lines


def _join_section(session: Session) -> list[str]:
    rows = [r for r in syscall_join(session) if r.cases]
    lines = ["", "## Syscall table joined with the cases", "",
             "Support level from `sandvisor help syscalls`; FULL is claimed only where a "
             "case passes under sandvisor (`tests/conformance/test_claims.py` enforces it).", "",
             "| syscall | disposition | support | cases | "
             + " | ".join(_label(t) for t in session.targets) + " |",
             "| --- | --- | --- | --- |" + " --- |" * len(session.targets)]
    for r in rows:
        lines.append(f"| {r.name} | {r.disposition} | {r.support} | {r.cases} | "
                     + " | ".join(str(r.passed[t]) for t in session.targets) + " |")
    return lines


def session_from_json(text: str) -> Session:
    """Rebuild a session from a JSON report, to re-render it in another format."""
    from conformance.harness import Case, Family
    data = json.loads(text)
    families: dict[str, Family] = {}
    cases = {}
    for c in data["cases"]:
        fam = families.setdefault(c["family"], Family(c["family"], Path(c["family"]), ()))
        cases[c["name"]] = Case(c["name"], fam, tuple(c["syscalls"]))
    session = Session(list(cases.values()), list(data["targets"]), seconds=data["seconds"])
    for target, results in data["results"].items():
        session.results[target] = [Result(cases[r["case"]], target, r["status"], r["reason"],
                                          r["diff"]) for r in results]
    return session


def write_report(session: Session, path: Path, *, command: str = "",
                 notes: list[str] | None = None) -> None:
    suffix = path.suffix.lower()
    if suffix == ".json":
        text = to_json(session)
    elif suffix == ".xml":
        text = to_junit(session)
    elif suffix == ".md":
        text = to_markdown(session, command=command, notes=notes)
    else:
        raise ValueError(f"--report {path}: use a .md, .json or .xml file")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
