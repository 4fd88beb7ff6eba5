#!/usr/bin/env python3
"""Validate ct-towns.csv against expectations and the PyPI `zipcodes` package."""
import csv, sys, collections
sys.path.insert(0, __import__('os').environ.get('ZIPCODES_DIR', '.'))  
import zipcodes

EXPECTED = {"Fairfield":23,"Hartford":29,"Litchfield":26,"Middlesex":15,"New Haven":27,
            "New London":21,"Tolland":13,"Windham":15}
HEADER = ['town','county','health_department','iap_area','zip_codes','other_names']
errors = []
with open('ct-towns.csv', encoding='utf-8', newline='') as f:
    r = csv.reader(f); header = next(r); rows = [dict(zip(header, row)) for row in r]
if header != HEADER: errors.append(f"bad header {header}")
towns = [x['town'] for x in rows]
if len(towns) != 169: errors.append(f"{len(towns)} rows, expected 169")
if len(set(towns)) != len(towns): errors.append("duplicate towns: %s" % [t for t,c in collections.Counter(towns).items() if c>1])
for x in rows:
    if x['county'] not in EXPECTED: errors.append(f"bad county {x['town']}: {x['county']}")
    if not x['health_department']: errors.append(f"no health department: {x['town']}")
counts = collections.Counter(x['county'] for x in rows)
for c, n in EXPECTED.items():
    if counts[c] != n: errors.append(f"{c}: {counts[c]} towns, expected {n}")
# ZIPs
ziptown = collections.defaultdict(list)
for x in rows:
    for z in x['zip_codes'].split():
        if len(z) != 5 or not z.isdigit(): errors.append(f"bad zip {z} in {x['town']}")
        ziptown[z].append(x['town'])
pkg = [z for z in zipcodes.filter_by(state='CT') if z['zip_code_type'] in ('STANDARD','PO BOX')]
pkgzips = {z['zip_code'] for z in pkg}
for z in sorted(pkgzips):
    if len(ziptown.get(z, [])) != 1: errors.append(f"zip {z} appears in {ziptown.get(z, [])}")
for z in sorted(set(ziptown) - pkgzips): errors.append(f"zip {z} not a STANDARD/PO BOX CT zip in package")
# other names
tl = {t.lower() for t in towns}; seen = {}
for x in rows:
    for n in filter(None, x['other_names'].split(';')):
        if n.lower() in tl: errors.append(f"other_name {n!r} under {x['town']} equals a town name")
        if n.lower() in seen: errors.append(f"other_name {n!r} under {x['town']} and {seen[n.lower()]}")
        seen[n.lower()] = x['town']
print("rows:", len(rows), " unique towns:", len(set(towns)))
print("towns per county:")
for c in EXPECTED: print(f"  {c:<11} {counts[c]:>3} (expected {EXPECTED[c]})")
print("CT STANDARD/PO BOX ZIPs in package:", len(pkgzips), " ZIPs assigned in CSV:", sum(len(v) for v in ziptown.values()))
print("towns with no ZIP of their own:", [x['town'] for x in rows if not x['zip_codes']])
print("other_names:", len(seen))
hds = collections.Counter(x['health_department'] for x in rows)
iaps = collections.Counter(x['iap_area'] for x in rows)
print("distinct health departments:", len(hds),
      f"({sum(1 for h in hds if 'District' in h)} districts, {sum(1 for h in hds if 'District' not in h)} municipal)")
print("distinct IAP areas:", len([i for i in iaps if i]), " towns with empty iap_area:", iaps.get('', 0))
for i, n in sorted(iaps.items()): print(f"  {i or '(empty)':<18} {n}")
if errors:
    print("ERRORS:"); [print("  ", e) for e in errors]; sys.exit(1)
print("OK")
