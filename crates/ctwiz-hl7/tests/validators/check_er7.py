"""Reads ctwiz's ACK and RSP messages with independent HL7 libraries.

Usage: check_er7.py MANIFEST.json

The manifest (written by crates/ctwiz-hl7/tests/independent_validators.rs) lists
message files (one ER7 message each, segments separated by CR) with what each
must be: message type, MSH-21 profile, MSA-1 and, for RSP^K11, QAK-2.

Each message is
  * parsed and validated by hl7apy at VALIDATION_LEVEL.STRICT against the HL7
    v2.5.1 message structures (ACK, RSP_K11), data types and field lengths.
    Two CDC IG R1.5 extensions of 2.5.1 are taken out first because hl7apy's
    base 2.5.1 model has no place for them, and checked below instead: QPD-4
    and on (the IG's query parameters, HL7 QPD-3 "varies") and MSH-22/23
    (responsible sending/receiving organization, borrowed from v2.7);
  * parsed by python-hl7 and checked against the CDC IG R1.5 rules ctwiz was
    found wanting on (issue 17): MSH-7 with a time-zone offset, MSH-22/23
    filled, at most one ERR in an RSP_K11, every Z42 forecast row (OBX
    30956-7 under the RXA with CVX 998) coded in CVX with a series status and
    its dates and the status a nurse reads, every reason (OBX 30982-3) coded
    with the words the web shows, ERR-2 naming a field, MSA-2 filled.

Prints one line per message and exits 1 if any message fails.
"""

import json
import re
import sys

import hl7
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message


def strict_structure(text):
    """hl7apy strict validation of the base v2.5.1 part (see the module doc)."""
    segments = text.split("\r")
    base = []
    for s in segments:
        if s.startswith("QPD|"):
            s = "|".join(s.split("|")[:4])
        elif s.startswith("MSH|"):
            s = "|".join(s.split("|")[:21])
        base.append(s)
    msg = parse_message("\r".join(base), validation_level=VALIDATION_LEVEL.STRICT,
                        find_groups=True)
    msg.validate()


def field(seg, n):
    """Field n of a python-hl7 segment as text ('' when absent)."""
    try:
        return str(seg[n])
    except (IndexError, KeyError):
        return ""


def component(seg, n, c):
    try:
        return str(seg[n][0][c - 1])
    except (IndexError, KeyError, TypeError):
        return field(seg, n) if c == 1 else ""


DTM_WITH_OFFSET = re.compile(r"^\d{14}(\.\d{1,4})?[+-]\d{4}$")
# The statuses a nurse reads (ctwiz_forecast::explain::DueStatus), sent as the
# alternate code of the LOINC series status in ctwiz's local table 99CTW.
NURSE_STATUS = {"Due now", "Overdue", "Not yet due", "Complete", "Aged out",
                "Contraindicated", "Immune"}
LOINC_STATUS = {"LA13421-5", "LA13422-3", "LA13423-1", "LA13424-9", "LA27183-5",
                "LA4216-3", "LA4695-8"}


def profile_checks(text, expect):
    problems = []
    m = hl7.parse(text)
    msh = m.segment("MSH")
    mtype = field(msh, 9)
    if mtype != expect["type"]:
        problems.append(f"MSH-9 is {mtype!r}, expected {expect['type']!r}")
    if not DTM_WITH_OFFSET.match(field(msh, 7)):
        problems.append(f"MSH-7 {field(msh, 7)!r} has no time-zone offset")
    if not field(msh, 22).strip("^"):
        problems.append("MSH-22 is empty")
    # MSH-23 is RE: required when the receiver is known (MSH-6), which it is not for
    # input with no readable MSH from a sender the door did not bind to a clinic.
    if field(msh, 6).strip("^") and not field(msh, 23).strip("^"):
        problems.append("MSH-23 is empty although MSH-6 names the receiver")
    profile = component(msh, 21, 1)
    if profile != expect.get("profile", profile):
        problems.append(f"MSH-21 is {profile!r}, expected {expect['profile']!r}")
    msa = m.segment("MSA")
    if field(msa, 1) != expect["msa"]:
        problems.append(f"MSA-1 is {field(msa, 1)!r}, expected {expect['msa']!r}")
    if not field(msa, 2):
        problems.append("MSA-2 is empty")
    errs = [s for s in m if str(s[0]) == "ERR"]
    for e in errs:
        if not component(e, 2, 1):
            problems.append(f"ERR-2 names no segment: {e}")
        if component(e, 3, 3) != "HL70357":
            problems.append(f"ERR-3 is not coded in HL70357: {e}")
    if expect.get("errors") is not None and len(errs) != expect["errors"]:
        problems.append(f"{len(errs)} ERR segment(s), expected {expect['errors']}")
    if mtype.startswith("RSP"):
        if len(errs) > 1:
            problems.append(f"RSP_K11 allows one ERR, found {len(errs)}")
        qak = m.segment("QAK")
        if field(qak, 2) != expect["qak"]:
            problems.append(f"QAK-2 is {field(qak, 2)!r}, expected {expect['qak']!r}")
        names = [str(s[0]) for s in m]
        order = [n for n in names if n in ("MSA", "ERR", "QAK", "QPD")]
        if order[:1] != ["MSA"] or order[-2:] != ["QAK", "QPD"]:
            problems.append(f"RSP_K11 must start MSA [ERR] QAK QPD, found {order}")
        problems += forecast_checks(m)
        problems += reason_checks(m, expect.get("reasons") or [])
    return problems


def forecast_checks(m):
    """Z42: every forecast group (OBX under RXA-5 998) coded, with status and dates."""
    problems = []
    in_forecast = False
    groups = {}
    for s in m:
        name = str(s[0])
        if name == "RXA":
            in_forecast = component(s, 5, 1) == "998"
        elif name == "OBX" and in_forecast:
            sub = field(s, 4)
            g = groups.setdefault(sub, {})
            g[component(s, 3, 1)] = s
    for sub, g in groups.items():
        vt = g.get("30956-7")
        if vt is None:
            problems.append(f"forecast group {sub} has no vaccine type (30956-7)")
            continue
        if not component(vt, 5, 1) or component(vt, 5, 3) != "CVX":
            problems.append(f"forecast group {sub}: vaccine type {field(vt, 5)!r} is not a CVX code")
        status = g.get("59783-1")
        if status is None or component(status, 5, 1) not in LOINC_STATUS:
            problems.append(f"forecast group {sub}: no LOINC series status (59783-1)")
        elif component(status, 5, 1) == "LA4695-8":
            problems.append(f"forecast group {sub}: a Not Recommended group is listed")
        if status is not None and (component(status, 5, 6) != "99CTW"
                                   or component(status, 5, 5) not in NURSE_STATUS):
            problems.append(f"forecast group {sub}: series status {field(status, 5)!r} "
                            "does not carry the status a nurse reads")
        not_complete = status is not None and component(status, 5, 1) in ("LA13422-3", "LA13423-1")
        if not_complete:
            for code in ("30981-5", "30980-7"):
                if code not in g:
                    problems.append(f"forecast group {sub}: due series without {code}")
        for code in ("30981-5", "30980-7", "59778-1", "59777-3"):
            if code in g and not re.match(r"^\d{8}$", field(g[code], 5)):
                problems.append(f"forecast group {sub}: {code} is not a date: {field(g[code], 5)!r}")
    return problems


def reason_checks(m, expected):
    """Every OBX 30982-3 (reason applied) is coded, with words; the expected words are there."""
    problems = []
    found = []
    for s in m:
        if str(s[0]) == "OBX" and component(s, 3, 1) == "30982-3":
            code, text, system = (component(s, 5, c) for c in (1, 2, 3))
            if field(s, 2) != "CE" or not code or not text or system != "99CTW":
                problems.append(f"reason {field(s, 5)!r} is not a coded reason with words")
            found.append(text)
    for words in expected:
        if words not in found:
            problems.append(f"no OBX 30982-3 says {words!r} (found {found})")
    return problems


def main():
    manifest = json.load(open(sys.argv[1]))
    failed = 0
    for item in manifest:
        text = open(item["file"], encoding="utf-8", newline="").read().strip("\r\n")
        problems = []
        try:
            strict_structure(text)
        except Exception as e:  # hl7apy raises several error types
            problems.append(f"hl7apy strict: {type(e).__name__}: {e}")
        try:
            problems += profile_checks(text, item["expect"])
        except Exception as e:
            problems.append(f"python-hl7: {type(e).__name__}: {e}")
        if problems:
            failed += 1
            print(f"FAIL {item['name']}")
            for p in problems:
                print(f"     {p}")
        else:
            print(f"ok   {item['name']}")
    print(f"{len(manifest) - failed} of {len(manifest)} messages pass hl7apy (strict) and python-hl7")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
