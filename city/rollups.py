"""Daily rollups (hall × day × department × item) for reports: visits, waits (sum, max and a histogram for
p90), ratings by level and 差评, rectifications and cases due / done on time. The ingest marks the
(hall, day) pairs a new record changes in `rollup_dirty`; `refresh` recomputes exactly those from the raw
records and current-state tables, so a rollup always equals a recount (idempotent, safe to run anywhere,
several runners take disjoint pairs with SKIP LOCKED)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, Engine, text

from city.db.schema import WAIT_BUCKETS_MIN, WAIT_COLUMNS

COUNTS = (
    "visits",
    "wait_sum_s",
    "wait_max_s",
    *WAIT_COLUMNS,
    "eval_1",
    "eval_2",
    "eval_3",
    "eval_4",
    "eval_5",
    "eval_bad",
    "rect_due",
    "rect_on_time",
    "cases_due",
    "cases_on_time",
)
LOCAL_DAY = "(({col}) AT TIME ZONE 'Asia/Shanghai')::date"
PAIRS = "SELECT * FROM unnest(CAST(:halls AS varchar[]), CAST(:days AS date[])) AS p(hall, day)"


def _wait_buckets() -> list[str]:
    out, low = [], -1
    for minutes, name in zip(WAIT_BUCKETS_MIN, WAIT_COLUMNS, strict=False):
        out.append(f"count(*) FILTER (WHERE v.wait_s > {low} AND v.wait_s <= {minutes * 60}) AS {name}")
        low = minutes * 60
    out.append(f"count(*) FILTER (WHERE v.wait_s > {WAIT_BUCKETS_MIN[-1] * 60}) AS {WAIT_COLUMNS[-1]}")
    return out


def _select(source: str, values: dict[str, str]) -> str:
    cols = ", ".join(f"{values.get(c, '0')} AS {c}" for c in COUNTS)
    return f"SELECT hall, day, department, item_code, {cols} FROM ({source}) s"


_VISITS = (
    "SELECT v.hall, v.service_date AS day, v.department, v.item_code, count(*) AS visits, "
    "sum(v.wait_s) AS wait_sum_s, max(v.wait_s) AS wait_max_s, "
    + ", ".join(_wait_buckets())
    + " FROM rec_visits v JOIN p ON v.hall = p.hall AND v.service_date = p.day "
    "WHERE v.at >= CAST(:lo AS date) - 2 AND v.at < CAST(:hi AS date) + 3 GROUP BY 1, 2, 3, 4"
)
_EVALS = (
    f"SELECT e.hall, {LOCAL_DAY.format(col='e.at')} AS day, e.department, e.item_code, "
    + ", ".join(f"count(*) FILTER (WHERE e.level_gb = {n}) AS eval_{n}" for n in range(1, 6))
    + ", count(*) FILTER (WHERE e.is_bad) AS eval_bad FROM rec_evaluations e "
    f"JOIN p ON e.hall = p.hall AND {LOCAL_DAY.format(col='e.at')} = p.day "
    "WHERE e.at >= CAST(:lo AS date) - 1 AND e.at < CAST(:hi AS date) + 2 "
    "AND (e.record->>'kind') IS DISTINCT FROM 'followup' GROUP BY 1, 2, 3, 4"
)
_RECTS = (
    "SELECT r.hall, r.deadline AS day, r.department, '' AS item_code, count(*) AS rect_due, "
    "count(*) FILTER (WHERE r.on_time) AS rect_on_time FROM rectification_current r "
    "JOIN p ON r.hall = p.hall AND r.deadline = p.day GROUP BY 1, 2, 3, 4"
)
_CASES = (
    "SELECT c.hall, c.promised_date AS day, c.department, c.item_code, count(*) AS cases_due, "
    f"count(*) FILTER (WHERE c.decided_at IS NOT NULL AND {LOCAL_DAY.format(col='c.decided_at')} <= c.promised_date) "
    "AS cases_on_time FROM case_current c JOIN p ON c.hall = p.hall AND c.promised_date = p.day GROUP BY 1, 2, 3, 4"
)


def _recount_sql() -> str:
    parts = [
        _select(_VISITS, {c: c for c in ("visits", "wait_sum_s", "wait_max_s", *WAIT_COLUMNS)}),
        _select(_EVALS, {c: c for c in ("eval_1", "eval_2", "eval_3", "eval_4", "eval_5", "eval_bad")}),
        _select(_RECTS, {"rect_due": "rect_due", "rect_on_time": "rect_on_time"}),
        _select(_CASES, {"cases_due": "cases_due", "cases_on_time": "cases_on_time"}),
    ]
    sums = ", ".join(f"max({c})" if c == "wait_max_s" else f"sum({c})" for c in COUNTS)
    return (
        f"WITH p AS ({PAIRS}), u AS ({' UNION ALL '.join(parts)}) "
        f"INSERT INTO rollup_daily (hall, day, department, item_code, {', '.join(COUNTS)}) "
        f"SELECT hall, day, department, item_code, {sums} FROM u GROUP BY 1, 2, 3, 4"
    )


RECOUNT = text(_recount_sql())
TAKE = text("SELECT hall, day FROM rollup_dirty ORDER BY day, hall LIMIT :n FOR UPDATE SKIP LOCKED")  # few days a page
FORGET = text(f"DELETE FROM rollup_dirty WHERE (hall, day) IN ({PAIRS})")
CLEAR = text(f"DELETE FROM rollup_daily WHERE (hall, day) IN ({PAIRS})")


_MONTH_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtext('rollup_monthly'), hashtext(h || m::text)) "
    "FROM unnest(CAST(:halls AS varchar[]), CAST(:months AS date[])) AS x(h, m) ORDER BY h, m"
)
_MONTH_CLEAR = text(
    "DELETE FROM rollup_monthly WHERE (hall, month) IN "
    "(SELECT * FROM unnest(CAST(:halls AS varchar[]), CAST(:months AS date[])))"
)
_MONTH_SUM = text(
    "INSERT INTO rollup_monthly (month, hall, department, item_code, "
    + ", ".join(COUNTS)
    + ") SELECT date_trunc('month', d.day)::date, d.hall, d.department, d.item_code, "
    + ", ".join(f"max(d.{c})" if c == "wait_max_s" else f"sum(d.{c})" for c in COUNTS)
    + " FROM rollup_daily d JOIN unnest(CAST(:halls AS varchar[]), CAST(:months AS date[])) AS x(h, m) "
    "ON d.hall = x.h AND d.day >= x.m AND d.day < (x.m + interval '1 month')::date GROUP BY 1, 2, 3, 4"
)


def recount(conn: Connection, pairs: list[tuple[str, date]]) -> None:
    """Recompute the rollup rows of these (hall, day) pairs from the raw records, then their months' sums."""
    if not pairs:
        return
    params = {
        "halls": [h for h, _ in pairs],
        "days": [d for _, d in pairs],
        "lo": min(d for _, d in pairs),
        "hi": max(d for _, d in pairs),
    }
    conn.execute(CLEAR, params)
    conn.execute(RECOUNT, params)
    months = sorted({(h, d.replace(day=1)) for h, d in pairs})
    # One recomputer per (hall, month) at a time; the sum runs after the lock, so it sees every daily row
    # another refresher committed meanwhile (the last one to take the lock sums them all).
    month_params = {"halls": [h for h, _ in months], "months": [m for _, m in months]}
    conn.execute(_MONTH_LOCK, month_params)
    conn.execute(_MONTH_CLEAR, month_params)
    conn.execute(_MONTH_SUM, month_params)


def refresh(engine: Engine, limit: int = 2000) -> int:
    """Recount up to `limit` dirty (hall, day) pairs in one transaction; how many it did."""
    with engine.begin() as conn:
        pairs = [(r.hall, r.day) for r in conn.execute(TAKE, {"n": limit})]
        if not pairs:
            return 0
        conn.execute(FORGET, {"halls": [h for h, _ in pairs], "days": [d for _, d in pairs]})
        recount(conn, pairs)
    return len(pairs)


def refresh_all(engine: Engine) -> int:
    """Recount every dirty pair; the total done."""
    total = 0
    while done := refresh(engine):
        total += done
    return total


_ALL_DAYS = text(
    "INSERT INTO rollup_dirty (hall, day) "
    "SELECT DISTINCT hall, service_date FROM rec_visits WHERE service_date >= :since "
    f"UNION SELECT DISTINCT hall, {LOCAL_DAY.format(col='at')} FROM rec_evaluations "
    "WHERE at >= CAST(:since AS date) - 1 "
    "UNION SELECT DISTINCT hall, promised_date FROM case_current WHERE promised_date >= :since "
    "UNION SELECT DISTINCT hall, deadline FROM rectification_current WHERE deadline >= :since "
    "ON CONFLICT DO NOTHING"
)


def rebuild(engine: Engine, since: date) -> int:
    """Mark every day from `since` that has records, and recount them all (`hallq city rollup --since`)."""
    with engine.begin() as conn:
        conn.execute(_ALL_DAYS, {"since": since})
    return refresh_all(engine)
