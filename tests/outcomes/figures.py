#!/usr/bin/env python3
"""The outcome figures computed again, independently of the server, from its JSON exports.

Reads the exports of the encounters now `approved` and now `submitted` (GET /v1/admin/export
?state=...), keeps the latest version of each encounter and computes every figure of
GET /v1/outcomes from the definitions written in docs/outcomes.md. Prints one JSON object.

Training: --training reads the admin's training records (GET /v1/admin/training) and --users the
admin's user list (GET /v1/admin/users), which maps each username to the officer id the reports
carry. An officer counts as trained on a day when an initial course was completed on or before it.

Usage: figures.py --from YYYY-MM-DD --to YYYY-MM-DD --include approved|approved_and_submitted
                  [--officer ID] --training TRAINING.json --users USERS.json EXPORT.json [...]
"""
import argparse
import json
import math
import re
from datetime import date, datetime, timedelta, timezone

REPEAT_DAYS = 90


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def latest_versions(paths):
    latest = {}
    for path in paths:
        with open(path) as f:
            for record in json.load(f):
                if record["copy"] == "conflict":
                    continue
                key = record["encounter_id"]
                if key not in latest or record["version"] > latest[key]["version"]:
                    latest[key] = record
    return [r["body"] for r in latest.values()]


def person(name):
    if not name:
        return None
    words = [w.lower() for w in re.split(r"[^0-9A-Za-z\u00C0-\uFFFF]+", name) if w]
    return " ".join(words) if words else None


def nearest_rank(values, p):
    if not values:
        return None
    values = sorted(values)
    rank = max(1, math.ceil(p * len(values)))
    return float(values[min(rank, len(values)) - 1])


def pct(part, whole):
    return round(part * 100.0 / whole, 2) if whole else None


def figures(bodies):
    n = len(bodies)
    minutes = [b["response"]["minutes_on_scene"] for b in bodies if b["response"].get("minutes_on_scene") is not None]
    considered = [b for b in bodies if b["diversion"].get("custody_diverted") is not None]
    diverted = [b for b in considered if b["diversion"]["custody_diverted"] is True]
    referrals = [r for b in bodies for r in b.get("referrals", [])]
    weapon = lambda b: (b["risk"].get("weapon") or "none") != "none"
    repeats = [b for b in bodies if b["_repeat"]]
    return {
        "calls": float(n),
        "cit_dispatched_pct": pct(sum(b["response"]["cit_officer_dispatched"] for b in bodies), n),
        "cit_arrived_pct": pct(sum(b["response"]["cit_officer_arrived"] for b in bodies), n),
        "officer_cit_certified_pct": pct(sum(b["response"]["officer_cit_certified"] for b in bodies), n),
        "officer_cit_trained_pct": pct(sum(b["_trained"] for b in bodies), n),
        "cit_answer_without_record": float(
            sum(b["response"]["officer_cit_certified"] and not b["_trained"] for b in bodies)),
        "cit_record_without_answer": float(
            sum(not b["response"]["officer_cit_certified"] and b["_trained"] for b in bodies)),
        "minutes_on_scene_median": nearest_rank(minutes, 0.5),
        "minutes_on_scene_p90": nearest_rank(minutes, 0.9),
        "arrests": float(sum("arrested" in b["dispositions"] for b in bodies)),
        "custody_considered": float(len(considered)),
        "custody_diverted": float(len(diverted)),
        "diversion_rate_pct": pct(len(diverted), len(considered)),
        "emergency_detentions": float(sum("emergency_detention" in b["dispositions"] for b in bodies)),
        "transports": float(sum(any(d.startswith("transport_") for d in b["dispositions"]) for b in bodies)),
        "force_used": float(sum(b["response"]["reportable_force"] for b in bodies)),
        "subjects_injured": float(sum(b["response"]["subject_injured"] for b in bodies)),
        "officers_injured": float(sum(b["response"]["officer_injured"] for b in bodies)),
        "weapons_present": float(sum(weapon(b) for b in bodies)),
        "naloxone_given": float(sum(b["risk"]["naloxone_administered"] for b in bodies)),
        "referrals_made": float(len(referrals)),
        "referrals_accepted": float(sum(r["outcome"] == "accepted" for r in referrals)),
        "repeat_contacts": float(len(repeats)),
        "people_seen_repeatedly": float(len({b["_person"] for b in repeats})),
    }


def disposition_counts(bodies, only_transports=False):
    counts = {}
    for b in bodies:
        for code in set(b["dispositions"]):
            if only_transports and not code.startswith("transport_"):
                continue
            counts[code] = counts.get(code, 0) + 1
    return counts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--from", dest="first", required=True)
    parser.add_argument("--to", dest="last", required=True)
    parser.add_argument("--include", required=True, choices=["approved", "approved_and_submitted"])
    parser.add_argument("--officer")
    parser.add_argument("--training", required=True)
    parser.add_argument("--users", required=True)
    parser.add_argument("exports", nargs="+")
    args = parser.parse_args()

    with open(args.users) as f:
        officer_id_of = {u["username"]: u["officer_id"] for u in json.load(f)}
    trained_since = {}
    with open(args.training) as f:
        for course in json.load(f):
            if course["kind"] != "initial":
                continue
            badge = officer_id_of[course["username"]]
            day = date.fromisoformat(course["completed_on"])
            trained_since[badge] = min(day, trained_since.get(badge, day))

    first, last = date.fromisoformat(args.first), date.fromisoformat(args.last)
    days = (last - first).days + 1
    prev_last = first - timedelta(days=1)
    prev_first = prev_last - timedelta(days=days - 1)
    midnight = lambda d: datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
    start, end = midnight(first), midnight(last) + timedelta(days=1)
    prev_start, prev_end = midnight(prev_first), start
    reads_from = prev_start - timedelta(days=REPEAT_DAYS)

    bodies = latest_versions(args.exports)
    if args.officer:
        bodies = [b for b in bodies if b["officer_id"] == args.officer]
    for b in bodies:
        b["_at"] = parse_time(b["occurred_at"])
        b["_person"] = person(b["subject"].get("name"))
        since = trained_since.get(b["officer_id"])
        b["_trained"] = since is not None and since <= b["_at"].date()
    bodies = [b for b in bodies if reads_from <= b["_at"] < end]
    # A repeat: the same person in another report at most 90 days before (ties by id).
    bodies.sort(key=lambda b: (b["_at"], b["id"]))
    seen = {}
    for b in bodies:
        b["_repeat"] = False
        if b["_person"] is not None:
            before = seen.get(b["_person"])
            if before is not None and b["_at"] - before <= timedelta(days=REPEAT_DAYS):
                b["_repeat"] = True
            seen[b["_person"]] = b["_at"]

    current = [b for b in bodies if start <= b["_at"] < end]
    previous = [b for b in bodies if prev_start <= b["_at"] < prev_end]
    now, before = figures(current), figures(previous)
    by_day_and_hour = [[0] * 24 for _ in range(7)]
    for b in current:
        by_day_and_hour[b["_at"].weekday()][b["_at"].hour] += 1
    weekly = {}
    for b in current:
        monday = b["_at"].date() - timedelta(days=b["_at"].weekday())
        weekly[monday.isoformat()] = weekly.get(monday.isoformat(), 0) + 1
    print(json.dumps({
        "previous_from": prev_first.isoformat(),
        "previous_to": prev_last.isoformat(),
        "figures": {k: [now[k], before[k]] for k in now},
        "dispositions": {"current": disposition_counts(current), "previous": disposition_counts(previous)},
        "transports": {"current": disposition_counts(current, True), "previous": disposition_counts(previous, True)},
        "by_day_and_hour": by_day_and_hour,
        "weekly": weekly,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
