#!/usr/bin/env python3
"""Rewrites tests/golden/<case>/expected.json from the current build.

A golden case is a run config plus the summary values a run of it must reproduce
(JSON pointers into summary.json, compared within `relative_tolerance`). Run this
only after a deliberate model change, and say in the commit why the numbers moved.
Usage: tests/golden/update.py [BUILD_DIR]   (default: build)
"""
import json
import os
import subprocess
import sys
import tempfile

POINTERS = [
    "/requests/finished", "/requests/rejected",
    "/ttft_s/mean", "/ttft_s/p50", "/ttft_s/p99",
    "/tpot_s/mean", "/tpot_s/p99", "/e2e_s/p50",
    "/throughput/output_tokens_per_s", "/energy/total_j",
    "/preemptions", "/prefix_hit_rate", "/iterations",
    "/energy/clock_fraction/time_weighted_mean", "/energy/clock_fraction/min",
]
# Pinned too where the run has them.
OPTIONAL_POINTERS = [
    "/disaggregation/kv_transfers", "/disaggregation/kv_transfer_bytes", "/disaggregation/kv_transfer_s_mean",
]


def has(doc, pointer):
    for token in pointer.strip("/").split("/"):
        if not isinstance(doc, dict) or token not in doc:
            return False
        doc = doc[token]
    return True


def lookup(doc, pointer):
    for token in pointer.strip("/").split("/"):
        doc = doc[token]
    return doc


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "build")
    servesim = os.path.join(build, "tools", "servesim")
    for case in sorted(os.listdir(here)):
        config = os.path.join(here, case, "config.json")
        if not os.path.isfile(config):
            continue
        with tempfile.TemporaryDirectory() as out:
            subprocess.run([servesim, "run", config, "--out", out], check=True, stdout=subprocess.DEVNULL)
            with open(os.path.join(out, "summary.json")) as f:
                summary = json.load(f)
        expected = {"relative_tolerance": 1e-6,
                    "summary": {p: lookup(summary, p) for p in POINTERS + OPTIONAL_POINTERS
                                if p in POINTERS or has(summary, p)}}
        with open(os.path.join(here, case, "expected.json"), "w") as f:
            json.dump(expected, f, indent=2)
            f.write("\n")
        print("updated", case)


if __name__ == "__main__":
    main()
