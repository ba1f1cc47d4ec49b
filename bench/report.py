"""Prints a markdown table of ratios from a pytest-benchmark JSON file:
for each group, every entry's median and its ratio to tensorstitch's."""
import json
import sys
from collections import defaultdict


def main(path):
    data = json.load(open(path))
    groups = defaultdict(list)
    for b in data["benchmarks"]:
        groups[b["group"]].append((b["name"].removeprefix("test_"), b["stats"]["median"]))
    print(f"machine: {data['machine_info'].get('cpu', {}).get('brand_raw', '?')}, "
          f"{data['machine_info'].get('cpu', {}).get('count', '?')} cores; {data['datetime'][:10]}\n")
    print("| workload | implementation | median | vs tensorstitch |")
    print("|---|---|---|---|")
    for group, entries in groups.items():
        ours = next((t for n, t in entries if "tensorstitch" in n), None)
        for name, t in sorted(entries, key=lambda e: e[1]):
            unit = f"{t * 1e6:.2f} us" if t < 1e-3 else f"{t * 1e3:.2f} ms"
            ratio = f"{t / ours:.2f}x" if ours else "-"
            print(f"| {group} | {name} | {unit} | {ratio} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/cpu.json")
