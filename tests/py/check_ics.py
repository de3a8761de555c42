#!/usr/bin/env python3
"""Check a `partner-pages calendar --format ics` file against the JSON calendar of the same run.

Usage: check_ics.py CALENDAR.ics CALENDAR.json

Parses the .ics with the `icalendar` package and checks: one VEVENT per task, each with the
task's UID, all-day DTSTART = the task's date and DTEND = the next day, DTSTAMP = the JSON's
`now`; and the raw bytes: CRLF line endings only, no physical line over 75 octets.
Prints `ok: N events` or the problems, exit code 1.
"""
import datetime
import json
import sys

try:
    import icalendar
except ImportError:
    sys.exit("python package `icalendar` is missing: pip install -r tests/requirements.txt")


def main(ics_path, json_path):
    raw = open(ics_path, "rb").read()
    cal_json = json.load(open(json_path, encoding="utf-8"))
    problems = []

    lines = raw.split(b"\r\n")
    if lines[-1] != b"":
        problems.append("the file does not end with CRLF")
    for n, line in enumerate(lines[:-1], 1):
        if b"\n" in line or b"\r" in line:
            problems.append(f"line {n}: bare LF or CR (lines must end with CRLF)")
        if len(line) > 75:
            problems.append(f"line {n}: {len(line)} octets, longer than 75 (not folded)")

    cal = icalendar.Calendar.from_ical(raw)
    if str(cal.get("VERSION")) != "2.0":
        problems.append(f"VERSION is {cal.get('VERSION')!r}, expected 2.0")
    if not cal.get("PRODID"):
        problems.append("PRODID is missing")
    events = list(cal.walk("VEVENT"))
    tasks = cal_json["tasks"]
    if len(events) != len(tasks):
        problems.append(f"{len(events)} events for {len(tasks)} tasks")

    now = datetime.datetime.strptime(cal_json["now"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc
    )
    by_uid = {str(e.get("UID")): e for e in events}
    if len(by_uid) != len(events):
        problems.append("UIDs are not unique")
    for t in tasks:
        uid_prefix = t["id"] + "@"
        match = [e for u, e in by_uid.items() if u.startswith(uid_prefix)]
        if len(match) != 1:
            problems.append(f"task {t['id']}: {len(match)} events with UID {uid_prefix}...")
            continue
        e = match[0]
        date = datetime.date.fromisoformat(t["date"])
        start = e.decoded("DTSTART")
        end = e.decoded("DTEND")
        if isinstance(start, datetime.datetime) or start != date:
            problems.append(f"task {t['id']}: DTSTART {start!r}, expected the all-day date {date}")
        if isinstance(end, datetime.datetime) or end != date + datetime.timedelta(days=1):
            problems.append(f"task {t['id']}: DTEND {end!r}, expected {date + datetime.timedelta(days=1)}")
        if e.decoded("DTSTAMP") != now:
            problems.append(f"task {t['id']}: DTSTAMP {e.decoded('DTSTAMP')!r}, expected {now}")
        if str(e.get("SUMMARY")) != t["title"]:
            problems.append(f"task {t['id']}: SUMMARY {str(e.get('SUMMARY'))!r} != title {t['title']!r}")
        desc = str(e.get("DESCRIPTION"))
        if t["reason"] not in desc or t["file"] not in desc:
            problems.append(f"task {t['id']}: DESCRIPTION lacks the reason or the file")

    if problems:
        print("\n".join(problems))
        return 1
    print(f"ok: {len(events)} events")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
