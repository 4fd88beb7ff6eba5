#!/usr/bin/env python3
"""Builds ct-towns.csv. Data tables below; ZIPs from PyPI `zipcodes` (3.0.0)."""
import csv, sys, collections
sys.path.insert(0, __import__('os').environ.get('ZIPCODES_DIR', '.'))  
import zipcodes

# town -> (county, health_department, iap_area)
FVHD="Farmington Valley Health District"; TAHD="Torrington Area Health District"
HVHD="Housatonic Valley Health District"; NVHD="Naugatuck Valley Health District"
QVHD="Quinnipiack Valley Health District"; ESDHD="East Shore District Health Department"
CHES="Chesprocott Health District"; CCHD="Central Connecticut Health District"
BBHD="Bristol-Burlington Health District"; PSRHD="Plainville-Southington Regional Health District"
WHB="West Hartford-Bloomfield Health District"; NCDHD="North Central District Health Department"
CHAT="Chatham Health District"; CRAHD="Connecticut River Area Health District"
LLHD="Ledge Light Health District"; UNCAS="Uncas Health District"
EHHD="Eastern Highlands Health District"; NDDH="Northeast District Department of Health"
ASP="Aspetuck Health District"; NEWT="Newtown Health District"
def muni(t): return f"{t} Health Department"

T = {}
def add(county, iap, rows):
    for town, hd in rows:
        T[town] = (county, hd if hd else muni(town), iap)

# ---- Fairfield
add("Fairfield","Stamford IAP",[("Stamford",None),("Greenwich",None),("Darien",None)])
add("Fairfield","Norwalk IAP",[("Norwalk",None),("New Canaan",None),("Wilton",None),("Westport",ASP),("Weston",ASP),
    ("Danbury",None),("Bethel",None),("Brookfield",None),("New Fairfield",None),("Newtown",NEWT),("Redding",None),
    ("Ridgefield",None),("Sherman",None)])
add("Fairfield","Bridgeport IAP",[("Bridgeport",None),("Fairfield",None),("Stratford",None),("Trumbull",None),
    ("Monroe",None),("Easton",ASP)])
add("Fairfield","Waterbury IAP",[("Shelton",NVHD)])
# ---- Hartford
add("Hartford","Hartford IAP",[("Hartford",None),("Avon",FVHD),("Bloomfield",WHB),("Canton",FVHD),("East Granby",FVHD),
    ("East Hartford",None),("East Windsor",NCDHD),("Enfield",NCDHD),("Farmington",FVHD),("Glastonbury",None),
    ("Granby",FVHD),("Hartland",FVHD),("Manchester",None),("Marlborough",CHAT),("Simsbury",FVHD),("South Windsor",None),
    ("Suffield",NCDHD),("West Hartford",WHB),("Windsor",None),("Windsor Locks",NCDHD)])
add("Hartford","New Britain IAP",[("New Britain",None),("Berlin",CCHD),("Newington",CCHD),("Rocky Hill",CCHD),
    ("Wethersfield",CCHD),("Bristol",BBHD),("Burlington",BBHD),("Plainville",PSRHD),("Southington",PSRHD)])
# ---- Litchfield
add("Litchfield","Torrington IAP",[("Barkhamsted",FVHD),("Bethlehem",TAHD),("Bridgewater",NEWT),("Canaan",TAHD),
    ("Colebrook",FVHD),("Cornwall",TAHD),("Goshen",TAHD),("Harwinton",TAHD),("Kent",TAHD),("Litchfield",TAHD),
    ("Morris",TAHD),("New Hartford",FVHD),("New Milford",HVHD),("Norfolk",TAHD),("North Canaan",TAHD),
    ("Plymouth",TAHD),("Roxbury",NEWT),("Salisbury",TAHD),("Sharon",HVHD),("Thomaston",TAHD),("Torrington",TAHD),
    ("Warren",TAHD),("Washington",HVHD),("Watertown",TAHD),("Winchester",TAHD)])
add("Litchfield","Waterbury IAP",[("Woodbury",HVHD)])
# ---- Middlesex
add("Middlesex","New Haven IAP",[("Chester",CRAHD),("Clinton",CRAHD),("Cromwell",None),("Deep River",CRAHD),
    ("Durham",None),("East Haddam",CHAT),("East Hampton",CHAT),("Essex",None),("Haddam",CRAHD),("Killingworth",CRAHD),
    ("Middlefield",None),("Middletown",None),("Old Saybrook",CRAHD),("Portland",CHAT),("Westbrook",None)])
# ---- New Haven
add("New Haven","New Haven IAP",[("New Haven",None),("West Haven",None),("Hamden",QVHD),("North Haven",QVHD),
    ("Bethany",QVHD),("Woodbridge",QVHD),("East Haven",ESDHD),("Branford",ESDHD),("North Branford",ESDHD),
    ("Guilford",None),("Madison",None),("Orange",None),("Milford",None),("Wallingford",None)])
add("New Haven","New Britain IAP",[("Meriden",None)])
add("New Haven","Waterbury IAP",[("Waterbury",None),("Naugatuck",NVHD),("Beacon Falls",NVHD),("Ansonia",NVHD),
    ("Derby",NVHD),("Seymour",NVHD),("Cheshire",CHES),("Prospect",CHES),("Wolcott",CHES),("Middlebury",TAHD),
    ("Oxford",HVHD),("Southbury",HVHD)])
# ---- New London
add("New London","Ledge Light IAP",[("East Lyme",LLHD),("Groton",LLHD),("Ledyard",LLHD),("Lyme",LLHD),
    ("New London",LLHD),("North Stonington",LLHD),("Old Lyme",LLHD),("Stonington",LLHD),("Waterford",LLHD),
    ("Bozrah",UNCAS),("Franklin",UNCAS),("Griswold",UNCAS),("Lebanon",UNCAS),("Lisbon",UNCAS),("Montville",UNCAS),
    ("Norwich",UNCAS),("Preston",UNCAS),("Salem",UNCAS),("Sprague",UNCAS),("Voluntown",UNCAS),("Colchester",CHAT)])
# ---- Tolland
add("Tolland","Hartford IAP",[("Andover",EHHD),("Bolton",EHHD),("Columbia",EHHD),("Coventry",EHHD),("Ellington",NCDHD),
    ("Hebron",CHAT),("Mansfield",EHHD),("Somers",None),("Stafford",NCDHD),("Tolland",EHHD),("Union",NDDH),
    ("Vernon",NCDHD),("Willington",EHHD)])
# ---- Windham
add("Windham","Ledge Light IAP",[("Ashford",EHHD),("Brooklyn",NDDH),("Canterbury",NDDH),("Chaplin",EHHD),
    ("Eastford",NDDH),("Hampton",NDDH),("Killingly",NDDH),("Plainfield",NDDH),("Pomfret",NDDH),("Putnam",NDDH),
    ("Scotland",EHHD),("Sterling",NDDH),("Thompson",NDDH),("Windham",NCDHD),("Woodstock",NDDH)])

# post-office city (zipcodes package) -> town, where they differ
PO = {
 "Abington":"Pomfret","Amston":"Hebron","Ballouville":"Killingly","Baltic":"Sprague","Bantam":"Litchfield",
 "Botsford":"Newtown","Broad Brook":"East Windsor","Canaan":"North Canaan","Canton Center":"Canton",
 "Centerbrook":"Essex","Central Village":"Plainfield","Cobalt":"East Hampton","Collinsville":"Canton",
 "Cornwall Bridge":"Cornwall","Cos Cob":"Greenwich","Danielson":"Killingly","Dayville":"Killingly",
 "East Berlin":"Berlin","East Canaan":"North Canaan","East Glastonbury":"Glastonbury","East Hartland":"Hartland",
 "East Killingly":"Killingly","East Windsor Hill":"South Windsor","East Woodstock":"Woodstock","Fabyan":"Thompson",
 "Falls Village":"Canaan","Gales Ferry":"Ledyard","Gaylordsville":"New Milford","Georgetown":"Redding",
 "Gilman":"Bozrah","Greens Farms":"Westport","Grosvenor Dale":"Thompson","Hadlyme":"Lyme","Hanover":"Sprague",
 "Hawleyville":"Newtown","Higganum":"Haddam","Ivoryton":"Essex","Jewett City":"Griswold","Lakeside":"Morris",
 "Lakeville":"Salisbury","Mansfield Center":"Mansfield","Mansfield Depot":"Mansfield","Marion":"Southington",
 "Mashantucket":"Ledyard","Middle Haddam":"East Hampton","Milldale":"Southington","Moodus":"East Haddam",
 "Moosup":"Plainfield","Mystic":"Stonington","New Preston Marble Dale":"Washington","Niantic":"East Lyme",
 "North Canton":"Canton","North Franklin":"Franklin","North Granby":"Granby","North Grosvenordale":"Thompson",
 "North Westchester":"Colchester","North Windham":"Windham","Northfield":"Litchfield","Northford":"North Branford",
 "Oakdale":"Montville","Oakville":"Watertown","Old Greenwich":"Greenwich","Old Mystic":"Stonington","Oneco":"Sterling",
 "Pawcatuck":"Stonington","Pequabuck":"Plymouth","Pine Meadow":"New Hartford","Plantsville":"Southington",
 "Pomfret Center":"Pomfret","Poquonock":"Windsor","Quaker Hill":"Waterford","Quinebaug":"Thompson",
 "Redding Center":"Redding","Redding Ridge":"Redding","Riverside":"Greenwich","Riverton":"Barkhamsted",
 "Rockfall":"Middlefield","Rogers":"Killingly","Sandy Hook":"Newtown","Somersville":"Somers",
 "South Britain":"Southbury","South Glastonbury":"Glastonbury","South Kent":"Kent","South Lyme":"Old Lyme",
 "South Willington":"Willington","South Windham":"Windham","South Woodstock":"Woodstock","Southport":"Fairfield",
 "Stafford Springs":"Stafford","Staffordville":"Stafford","Stevenson":"Monroe","Storrs Mansfield":"Mansfield",
 "Taconic":"Salisbury","Taftville":"Norwich","Tariffville":"Simsbury","Terryville":"Plymouth","Uncasville":"Montville",
 "Unionville":"Farmington","Vernon Rockville":"Vernon","Versailles":"Sprague","Washington Depot":"Washington",
 "Wauregan":"Plainfield","Weatogue":"Simsbury","West Cornwall":"Cornwall","West Granby":"Granby",
 "West Hartland":"Hartland","West Mystic":"Groton","West Simsbury":"Simsbury","West Suffield":"Suffield",
 "Willimantic":"Windham","Winchester Center":"Winchester","Winsted":"Winchester","Woodstock Valley":"Woodstock",
 "Yantic":"Norwich",
}

# extra village / borough / locality names (beyond PO names) people write as city
EXTRA = {
 "Mansfield":["Storrs"], "Vernon":["Rockville","Talcottville"], "Hebron":["Gilead"], "Colchester":["Westchester"],
 "Killingly":["Attawaugan","Williamsville"], "Griswold":["Glasgo","Pachaug"], "Norwich":["Occum"],
 "Groton":["Noank","Groton Long Point","Poquonnock Bridge"], "East Lyme":["Flanders"], "Lyme":["Hamburg"],
 "Bozrah":["Fitchville"], "Haddam":["Haddam Neck"], "Old Saybrook":["Fenwick"], "Barkhamsted":["Pleasant Valley"],
 "New Hartford":["Bakersville"], "Berlin":["Kensington"], "South Windsor":["Wapping"],
 "East Windsor":["Warehouse Point"], "Windsor":["Wilson"], "Enfield":["Thompsonville","Hazardville"],
 "Washington":["New Preston","Marble Dale"], "Greenwich":["Byram"], "Trumbull":["Nichols"],
 "Wallingford":["Yalesville"], "Thompson":["Mechanicsville"],
}
# PO names that collide with a town name are NOT added as other_names (e.g. "Canaan" PO is in North Canaan)

def main():
    zs = zipcodes.filter_by(state='CT')
    zipmap = collections.defaultdict(list); others = collections.defaultdict(set); mism = []
    for z in zs:
        if z['zip_code_type'] not in ('STANDARD','PO BOX'): continue
        city = z['city']; town = PO.get(city, city)
        if town not in T: raise SystemExit(f"unmapped PO {city} {z['zip_code']}")
        zipmap[town].append(z['zip_code'])
        if city != town and city not in T: others[town].add(city)
        pc = z['county'].replace(' County','')
        if pc != T[town][0]: mism.append((z['zip_code'], city, pc, town, T[town][0]))
    for t, names in EXTRA.items(): others[t].update(names)
    with open('ct-towns.csv','w',newline='',encoding='utf-8') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['town','county','health_department','iap_area','zip_codes','other_names'])
        for town in sorted(T):
            c, hd, iap = T[town]
            w.writerow([town, c, hd, iap, ' '.join(sorted(zipmap.get(town, []))), ';'.join(sorted(others.get(town, [])))])
    print("county mismatches (zip, PO city, package county, town, town county):")
    for m in mism: print("  ", m)
    print("towns without own ZIP:", [t for t in sorted(T) if t not in zipmap])
main()
