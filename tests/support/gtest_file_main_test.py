#!/usr/bin/env python3
"""gtest_file_main.cc: which tests a binary of two files (selftest/) runs
with KEYCAST_TEST_FILE and --gtest_filter, read from --gtest_list_tests.

Usage: gtest_file_main_test.py BINARY
"""
import os
import subprocess
import sys


def listed(binary, test_file, *args):
    env = dict(os.environ)
    env.pop("GTEST_FILTER", None)
    env.pop("KEYCAST_TEST_FILE", None)
    if test_file is not None:
        env["KEYCAST_TEST_FILE"] = test_file
    r = subprocess.run([binary, "--gtest_list_tests", *args], env=env, capture_output=True, text=True)
    names, suite = [], ""
    for line in r.stdout.splitlines():
        if not line.startswith(" "):
            suite = line.split()[0] if line.strip() else ""
        else:
            names.append(suite + line.split()[0])
    return r.returncode, sorted(names), r.stderr


def main():
    binary = sys.argv[1]
    alpha = ["Alpha.One", "Alpha.Two"]
    beta = ["Beta.One", "Values/BetaParam.Runs/0", "Values/BetaParam.Runs/1"]
    cases = [
        ("no KEYCAST_TEST_FILE: every test", None, [], 0, sorted(alpha + beta)),
        ("one file", "selftest/alpha_test.cc", [], 0, alpha),
        ("the other file, parameterised tests too", "selftest/beta_test.cc", [], 0, beta),
        ("a positive filter within the file", "selftest/alpha_test.cc", ["--gtest_filter=*.Two"], 0, ["Alpha.Two"]),
        ("a negative filter within the file", "selftest/beta_test.cc", ["--gtest_filter=-Beta.*"],
         0, beta[1:]),
        ("both", "selftest/beta_test.cc", ["--gtest_filter=*Runs*-*/1"], 0, [beta[1]]),
        ("a filter that keeps none of the file's", "selftest/alpha_test.cc", ["--gtest_filter=Beta.*"], 0, []),
        ("a path's last part must be whole", "ha_test.cc", [], 1, []),
        ("a file with no test", "selftest/gamma_test.cc", [], 1, []),
    ]
    failed = 0
    for what, test_file, args, want_rc, want in cases:
        rc, got, err = listed(binary, test_file, *args)
        if rc != want_rc or (want_rc == 0 and got != want):
            failed += 1
            print(f"FAIL {what}: exit {rc} (want {want_rc}), tests {got} (want {want}) {err.strip()}")
        else:
            print(f"ok   {what}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
