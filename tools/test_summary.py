#!/usr/bin/env python3
"""Reads the test runs tools/test.sh made and prints what a person needs, ending with the one closing line:

    N passed, N failed, N skipped

Every test project of every leg is counted. A project whose test host crashed or aborted, or that ran no test at
all, counts as one failure on top of whatever its TRX file recorded, and is named ("1 test host crashed:
MLLrSched.TorchSharp.Tests (debian13)"): an aborted host leaves a TRX with zero tests, which would otherwise read as
nothing wrong. Skipped tests are listed by reason, one line per distinct reason.

Usage: test_summary.py RESULTS_DIR        (exit status 1 when anything failed or nothing ran)

RESULTS_DIR holds one folder per leg; in it, per project NAME: NAME.trx (dotnet test's TRX logger), NAME.rc (the
exit status of dotnet test) and NAME.log (its console output); and per script check NAME.check (a check that is not a
dotnet test project, e.g. the package sample): its one line, "passed" or "failed: why", counts as one test.
"""
import collections
import glob
import os
import sys
import xml.etree.ElementTree as ET

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
CRASH_MARKERS = ("Test Run Aborted", "test host process crashed", "Test host process crashed", "The active test run was aborted")


def read_project(leg_dir, name):
    trx, rc_file, log_file = (os.path.join(leg_dir, name + ext) for ext in (".trx", ".rc", ".log"))
    rc = int(open(rc_file).read().strip() or "1") if os.path.exists(rc_file) else None
    log = open(log_file, errors="replace").read() if os.path.exists(log_file) else ""
    counts = dict(total=0, executed=0, passed=0, failed=0)
    skips, failures, problem = [], [], None
    if os.path.exists(trx):
        root = ET.parse(trx).getroot()
        c = root.find("t:ResultSummary/t:Counters", NS)
        if c is not None:
            get = lambda k: int(c.get(k, "0"))
            counts = dict(total=get("total"), executed=get("executed"), passed=get("passed"),
                          failed=get("failed") + get("error") + get("timeout") + get("aborted"))
        for r in root.iterfind("t:Results/t:UnitTestResult", NS):
            if r.get("outcome") in ("Failed", "Error", "Timeout", "Aborted"):
                failures.append((r.get("testName", "?"), failure_text(r)))
            if r.get("outcome") in ("NotExecuted", "Inconclusive"):
                msg = r.find("t:Output/t:ErrorInfo/t:Message", NS)
                skips.append((msg.text or "").strip().splitlines()[0] if msg is not None and msg.text else "(no reason given)")
        summary = root.find("t:ResultSummary", NS)
        run_infos = " ".join((ri.findtext("t:Text", default="", namespaces=NS) or "")
                             for ri in root.iterfind("t:ResultSummary/t:RunInfos/t:RunInfo", NS))
        aborted = summary is not None and summary.get("outcome") in ("Aborted", "Error")
        if aborted or any(m in run_infos for m in CRASH_MARKERS):
            problem = "crashed"
    else:
        problem = "crashed"
    if any(m in log for m in CRASH_MARKERS):
        problem = "crashed"
    if problem is None and rc not in (None, 0) and counts["failed"] == 0:
        problem = "crashed"  # dotnet test failed although no test did: the host died or never started
    if problem is None and counts["total"] == 0:
        problem = "ran no test"
    return counts, skips, failures, problem


def failure_text(result, max_lines=12):
    """A failed test's message and the first frames of its stack, shortened for a CI log."""
    msg = result.findtext("t:Output/t:ErrorInfo/t:Message", default="", namespaces=NS).strip()
    stack = result.findtext("t:Output/t:ErrorInfo/t:StackTrace", default="", namespaces=NS).strip()
    lines = msg.splitlines()[:max_lines] + [l for l in stack.splitlines() if "MLLrSched" in l][:2]
    return "\n".join("    " + l.rstrip()[:400] for l in lines) or "    (no message)"


def main():
    results = sys.argv[1]
    passed = failed = skipped = 0
    problems = collections.defaultdict(list)
    skip_reasons = collections.Counter()
    projects = 0
    failed_tests = []
    for leg_dir in sorted(d for d in glob.glob(os.path.join(results, "*")) if os.path.isdir(d)):
        leg = os.path.basename(leg_dir)
        for check in sorted(glob.glob(os.path.join(leg_dir, "*.check"))):
            projects += 1
            verdict = open(check).read().strip()
            if verdict == "passed":
                passed += 1
            else:
                failed += 1
                problems["check failed"].append(f"{os.path.splitext(os.path.basename(check))[0]} ({leg}): {verdict.removeprefix('failed: ')}")
        names = sorted({os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(leg_dir, "*.rc"))})
        for name in names:
            projects += 1
            counts, skips, failures, problem = read_project(leg_dir, name)
            for test, text in failures:
                failed_tests.append(f"failed: {test} — {name} ({leg})\n{text}")
            passed += counts["passed"]
            failed += counts["failed"]
            skipped += counts["total"] - counts["executed"]
            for s in skips:
                skip_reasons[s] += 1
            if problem:
                failed += 1
                problems[problem].append(f"{name} ({leg})")
    for line in failed_tests:
        print(line)
    for reason, n in sorted(skip_reasons.items(), key=lambda kv: -kv[1]):
        print(f"skipped {n}: {reason}")
    if problems.get("crashed"):
        n = len(problems["crashed"])
        print(f"{n} test host{'s' if n > 1 else ''} crashed: {', '.join(problems['crashed'])}")
    for line in problems.get("check failed", []):
        print(f"check failed: {line}")
    if problems.get("ran no test"):
        print(f"ran no test: {', '.join(problems['ran no test'])}")
    if projects == 0 or passed + failed == 0:
        print("no test ran")
        failed = max(failed, 1)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
