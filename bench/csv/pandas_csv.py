"""The peer of bench_csv: pandas.read_csv on the same file, REPEAT times; prints one JSON
line with every run's seconds. Run by Debian's /usr/bin/python3 with python3-pandas."""
import json
import sys
import time

import pandas as pd

path, repeat = sys.argv[1], int(sys.argv[2])
names = sys.argv[3].split(",") if len(sys.argv) > 3 else None
seconds = []
for _ in range(repeat):
    t0 = time.perf_counter()
    # The same work as mloop's reader: no header, given names, spaces after the comma
    # skipped, "?" read as missing, types inferred.
    df = pd.read_csv(path, header=None if names else "infer", names=names,
                     skipinitialspace=True, na_values=["?"])
    seconds.append(time.perf_counter() - t0)
print(json.dumps({"rows": len(df), "columns": len(df.columns), "seconds": seconds,
                  "pandas": pd.__version__}))
