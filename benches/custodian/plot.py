"""Plot wall time and API calls vs estate size for both tools from bench.py's JSON."""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    data = json.load(open(sys.argv[1]))
    rows = sorted(data["results"], key=lambda r: r["size"])
    sizes = [r["size"] for r in rows]
    fig, (wall, calls) = plt.subplots(1, 2, figsize=(11, 4.2))
    for tool, style, color in (("custodian", "o-", "tab:blue"), ("phiguard", "s-", "tab:orange")):
        wall.plot(sizes, [r["scan"][tool]["wall_s"] for r in rows], style, color=color, label=f"{tool} full scan")
        wall.plot(sizes, [r["events"][tool]["wall_s"] for r in rows if "events" in r], style.replace("-", "--"),
                  color=color, alpha=0.6, label=f"{tool} event path ({rows[0]['events']['count']} events)")
        calls.plot(sizes, [r["scan"][tool]["api_calls"] for r in rows], style, color=color, label=tool)
    wall.set(xlabel="S3 buckets in the estate (+10 % queues, +1 % DB instances)", ylabel="wall time (s)",
             title="Time", xscale="log", yscale="log")
    calls.set(xlabel="S3 buckets in the estate", ylabel="AWS API calls (full scan)", title="API calls",
              xscale="log", yscale="log")
    for ax in (wall, calls):
        ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
        ax.minorticks_off()
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    m = data["machine"]
    fig.suptitle(f"PhiGuard vs Cloud Custodian on moto — {m['cores']} cores, {m['cpu']}, {m['date']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
