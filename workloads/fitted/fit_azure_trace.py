#!/usr/bin/env python3
"""Fits the generator parameters recorded in azure_conv_2023.json from the Azure LLM
inference trace 2023 (conversation): mean rate and coefficient of variation of the
inter-arrival gaps (for the Gamma generator), and mean / std dev of ln(tokens) with
min / max for the lognormal prompt and output lengths.

usage: fit_azure_trace.py ../shared/data/traces/azure-llm-2023/AzureLLMInferenceTrace_conv.csv
"""
import csv
import datetime
import json
import math
import statistics
import sys


def seconds(stamp):
    whole, fraction = stamp.split(".")
    t = datetime.datetime.strptime(whole, "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return t.timestamp() + float("0." + fraction)


def lognormal(values):
    logs = [math.log(v) for v in values]
    return {"mu": round(statistics.fmean(logs), 4), "sigma": round(statistics.pstdev(logs), 5),
            "min": min(values), "max": max(values), "mean": round(statistics.fmean(values), 2),
            "median": statistics.median(values)}


rows = list(csv.DictReader(open(sys.argv[1])))
times = [seconds(r["TIMESTAMP"]) for r in rows]
gaps = [b - a for a, b in zip(times, times[1:])]
span = times[-1] - times[0]
fit = {
    "requests": len(rows),
    "span_s": round(span, 3),
    "rate_per_s": round(len(rows) / span, 4),
    "gap_cv": round(statistics.pstdev(gaps) / statistics.fmean(gaps), 4),
    "input_tokens": lognormal([int(r["ContextTokens"]) for r in rows]),
    "output_tokens": lognormal([int(r["GeneratedTokens"]) for r in rows]),
}
print(json.dumps(fit, indent=2))
