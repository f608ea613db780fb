"""Time :func:`gmm_studio.core.dataio.read_table` against ``numpy.loadtxt`` on the same file.

Writes a 1e6-row, 2-column numeric CSV (with a header) to a temporary directory,
then reports the median of 3 runs of each reader, in the same process.  Also times
two files that miss the fast path (a few missing values; decimal commas).

Run: ``python benchmarks/bench_csv.py [n_rows]``.  Not a test.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

try:
    from gmm_studio.core.dataio import read_table
except ModuleNotFoundError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from gmm_studio.core.dataio import read_table


def median_seconds(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(n_rows: int = 1_000_000) -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(n_rows, 2)) * [1.0, 100.0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        np.savetxt(path, values, delimiter=",", header="x,y", comments="", fmt="%.10g")
        size_mb = path.stat().st_size / 1e6

        table = read_table(path)
        assert table.n_rows == n_rows and table.columns == ("x", "y")
        reference = np.loadtxt(path, delimiter=",", skiprows=1)
        assert np.array_equal(np.column_stack([table.numeric["x"], table.numeric["y"]]), reference)

        ours = median_seconds(lambda: read_table(path))
        theirs = median_seconds(lambda: np.loadtxt(path, delimiter=",", skiprows=1))
        print(f"{n_rows:,} rows x 2 columns, {size_mb:.1f} MB, median of 3 runs")
        print(f"  read_table (sniff + parse): {ours:6.3f} s")
        print(f"  numpy.loadtxt             : {theirs:6.3f} s")
        print(f"  ratio read_table/loadtxt  : {ours / theirs:6.2f}")

        lines = path.read_text().split("\n")
        lines[10] = "NA,1.0"
        gappy = Path(tmp) / "gappy.csv"
        gappy.write_text("\n".join(lines))
        comma = Path(tmp) / "comma.csv"
        comma.write_text("\n".join(lines).replace("NA", "").replace(",", ";").replace(".", ","))
        print(f"  read_table, one gap (its chunk parsed in Python) : {median_seconds(lambda: read_table(gappy)):6.3f} s")
        print(f"  read_table, semicolons, decimal commas, one gap  : {median_seconds(lambda: read_table(comma)):6.3f} s")


if __name__ == "__main__":
    main(int(float(sys.argv[1])) if len(sys.argv) > 1 else 1_000_000)
