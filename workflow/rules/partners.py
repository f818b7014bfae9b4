"""Which partner body a form's département names: "80 - Somme", "Somme (80)", "somme", "80", "2A - Corse-du-Sud",
"971 - Guadeloupe" all name one partner, by its INSEE code or by its name (accents, case, spacing and
punctuation aside). Pure: the caller gives the programme's partners as (name, INSEE code) pairs."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_CODE = r"(?:\d{2,3}|2[AaBb])"
_CODE_FIRST = re.compile(rf"^\s*({_CODE})\s*(?:[-–—:,.]\s*|\s+)(.+?)\s*$")  # 80 - Somme, 2A Corse-du-Sud
_CODE_LAST = re.compile(rf"^\s*(.+?)\s*[(\[]\s*({_CODE})\s*[)\]]\s*$")  # Somme (80)
_CODE_ONLY = re.compile(rf"^\s*({_CODE})\s*$")


# The départements by INSEE code (COG), so a code alone ("80") names "Somme", and a name alone its code.
DEPARTEMENTS: dict[str, str] = dict(line.split(" ", 1) for line in """\
01 Ain
02 Aisne
03 Allier
04 Alpes-de-Haute-Provence
05 Hautes-Alpes
06 Alpes-Maritimes
07 Ardèche
08 Ardennes
09 Ariège
10 Aube
11 Aude
12 Aveyron
13 Bouches-du-Rhône
14 Calvados
15 Cantal
16 Charente
17 Charente-Maritime
18 Cher
19 Corrèze
2A Corse-du-Sud
2B Haute-Corse
21 Côte-d'Or
22 Côtes-d'Armor
23 Creuse
24 Dordogne
25 Doubs
26 Drôme
27 Eure
28 Eure-et-Loir
29 Finistère
30 Gard
31 Haute-Garonne
32 Gers
33 Gironde
34 Hérault
35 Ille-et-Vilaine
36 Indre
37 Indre-et-Loire
38 Isère
39 Jura
40 Landes
41 Loir-et-Cher
42 Loire
43 Haute-Loire
44 Loire-Atlantique
45 Loiret
46 Lot
47 Lot-et-Garonne
48 Lozère
49 Maine-et-Loire
50 Manche
51 Marne
52 Haute-Marne
53 Mayenne
54 Meurthe-et-Moselle
55 Meuse
56 Morbihan
57 Moselle
58 Nièvre
59 Nord
60 Oise
61 Orne
62 Pas-de-Calais
63 Puy-de-Dôme
64 Pyrénées-Atlantiques
65 Hautes-Pyrénées
66 Pyrénées-Orientales
67 Bas-Rhin
68 Haut-Rhin
69 Rhône
70 Haute-Saône
71 Saône-et-Loire
72 Sarthe
73 Savoie
74 Haute-Savoie
75 Paris
76 Seine-Maritime
77 Seine-et-Marne
78 Yvelines
79 Deux-Sèvres
80 Somme
81 Tarn
82 Tarn-et-Garonne
83 Var
84 Vaucluse
85 Vendée
86 Vienne
87 Haute-Vienne
88 Vosges
89 Yonne
90 Territoire de Belfort
91 Essonne
92 Hauts-de-Seine
93 Seine-Saint-Denis
94 Val-de-Marne
95 Val-d'Oise
971 Guadeloupe
972 Martinique
973 Guyane
974 La Réunion
976 Mayotte""".splitlines())


def insee(code: str | None) -> str | None:
    """An INSEE département code as compared and stored: upper case, two digits at least ("1" → "01", "2a" → "2A")."""
    if code is None or not code.strip():
        return None
    code = code.strip().upper()
    return code.zfill(2) if code.isdigit() else code


def split_departement(value: str) -> tuple[str | None, str | None]:
    """(INSEE code, name) of a département as a form gives it ("80 - Somme", "Somme (80)", "somme", "80"),
    the one a French département's code or name gives completed and spelt as the INSEE spells it; either
    may be None (a name that is no département's: no code)."""
    code, name = None, value.strip() or None
    for pattern, code_at, name_at in ((_CODE_ONLY, 1, None), (_CODE_FIRST, 1, 2), (_CODE_LAST, 2, 1)):
        m = pattern.match(value)
        if m is not None:
            code, name = insee(m.group(code_at)), (m.group(name_at).strip() if name_at else None)
            break
    if code is None and name is not None:
        code = _CODE_OF.get(name_key(name))
    if code is not None and code in DEPARTEMENTS and (name is None or name_key(name) == name_key(DEPARTEMENTS[code])):
        name = DEPARTEMENTS[code]
    return code, name


def name_key(name: str) -> str:
    """A name as compared: accents, case, spaces and punctuation aside ("Pas-de-Calais" = "pas de calais")."""
    decomposed = unicodedata.normalize("NFKD", name).casefold()
    return "".join(ch for ch in decomposed if ch.isalnum())


_CODE_OF = {name_key(n): c for c, n in DEPARTEMENTS.items()}


def match_partner(value: str, partners: Sequence[tuple[str, str | None]]) -> str | None:
    """The name of the partner of ``partners`` (name, INSEE code) that ``value`` names: by its code when
    ``value`` carries one that a partner has, else by name (the whole value, or the name beside the code)."""
    if not value or not value.strip():
        return None
    code, name = split_departement(value)
    if code is not None:
        for partner, partner_code in partners:
            if insee(partner_code) == code:
                return partner
    wanted = {name_key(value)} | ({name_key(name)} if name else set())
    wanted.discard("")
    for partner, _code in partners:
        if name_key(partner) in wanted:
            return partner
    return None


__all__ = ["DEPARTEMENTS", "insee", "match_partner", "name_key", "split_departement"]
