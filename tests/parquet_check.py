#!/usr/bin/env python3
"""Reads the tables `pagetrace analyze --format parquet -o DIR` wrote, with DuckDB or
Spark, as they are, and prints what tests/parquet.rs compares with `--format json`.

    python3 tests/parquet_check.py --engine duckdb|spark DIR

prints one JSON object:

    {"counts": {table: rows},
     "request_headers": request header entries in all (the lists unnested),
     "types": {"requests.request_ts": the engine's name of that column's type},
     "requests": [[capture, connection, quic, index, status, body_bytes, ttfb_ms], ...]}

the requests ordered by capture, quic, connection, index. Exits 3 when the engine's
module cannot be imported (the test then skips), 1 on any other failure.
"""

import argparse
import json
import os
import sys

TABLES = ["captures", "connections", "requests", "dns", "tls", "quic", "diagnosis"]
REQUEST_COLUMNS = ["capture", "connection", "quic", "index", "status", "body_bytes", "ttfb_ms"]


def plain(v):
    """A value JSON can hold: Spark reads UInt64 columns as decimal(20,0)."""
    if v is None or isinstance(v, (bool, str, float)):
        return v
    if isinstance(v, int):
        return v
    # decimal.Decimal, numpy integers
    return int(v)


def with_duckdb(root):
    import duckdb

    con = duckdb.connect()

    def table(name):
        glob = os.path.join(root, name, "*.parquet").replace("'", "''")
        return f"read_parquet('{glob}')"

    counts = {t: con.execute(f"select count(*) from {table(t)}").fetchone()[0] for t in TABLES}
    headers = con.execute(
        f"select coalesce(sum(len(request_headers)), 0) from {table('requests')}"
    ).fetchone()[0]
    ts_type = con.execute(
        f"select typeof(request_ts) from {table('requests')} limit 1"
    ).fetchone()
    rows = con.execute(
        f"select {', '.join(REQUEST_COLUMNS)} from {table('requests')} "
        "order by capture, quic, connection, index"
    ).fetchall()
    return counts, headers, ts_type[0] if ts_type else None, rows


def with_spark(root):
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = (
        SparkSession.builder.master("local[1]")
        .appName("pagetrace-parquet-check")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        frames = {t: spark.read.parquet(root + "/" + t) for t in TABLES}
        counts = {t: frames[t].count() for t in TABLES}
        requests = frames["requests"]
        headers = requests.select(F.sum(F.size("request_headers"))).collect()[0][0] or 0
        ts_type = requests.schema["request_ts"].dataType.simpleString()
        rows = [
            tuple(r)
            for r in requests.select(*REQUEST_COLUMNS)
            .orderBy("capture", "quic", "connection", "index")
            .collect()
        ]
    finally:
        spark.stop()
    return counts, headers, ts_type, rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--engine", choices=["duckdb", "spark"], required=True)
    p.add_argument("dir")
    a = p.parse_args()
    module = "duckdb" if a.engine == "duckdb" else "pyspark"
    try:
        __import__(module)
    except ImportError as e:
        print(f"cannot import {module}: {e}", file=sys.stderr)
        return 3
    read = with_duckdb if a.engine == "duckdb" else with_spark
    counts, headers, ts_type, rows = read(a.dir)
    json.dump(
        {
            "counts": {t: int(n) for t, n in counts.items()},
            "request_headers": int(headers),
            "types": {"requests.request_ts": ts_type},
            "requests": [[plain(v) for v in r] for r in rows],
        },
        sys.stdout,
    )
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
