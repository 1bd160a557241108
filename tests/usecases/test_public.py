"""How the statistics page reads the suppressed alert table (issue 13.2)."""

from usecases.public import TablaAlertas, category_totals


def _alertas(filas):
    columnas = [
        {"codigo": "deceased", "nombre": "", "tipo": "filtracion"},
        {"codigo": "household_twice", "nombre": "", "tipo": "filtracion"},
        {"codigo": "subcobertura_juntos", "nombre": "", "tipo": "subcobertura"},
    ]
    return TablaAlertas(k=5, columnas=columnas, filas=filas, totales={}, total_general=None)


def _fila(codigo, total, **valores):
    return {"codigo": codigo, "nombre": codigo, "valores": valores, "total": total}


def test_a_reserved_kind_does_not_blank_the_area_when_the_total_tells_it():
    # Two filtración kinds reserved (3 and 2), the area's total and its subcobertura published:
    # filtración is 45 - 40, already public. The page showed "reservado" for every department.
    alertas = _alertas(
        [_fila("08", 45, deceased=None, household_twice=None, subcobertura_juntos=40)]
    )
    assert [(f.codigo, f.total) for f in category_totals(alertas, "filtracion")] == [("08", 5)]
    assert category_totals(alertas, "subcobertura")[0].total == 40


def test_all_kinds_published_is_their_sum():
    alertas = _alertas([_fila("15", 30, deceased=20, household_twice=6, subcobertura_juntos=4)])
    assert category_totals(alertas, "filtracion")[0].total == 26


def test_reserved_when_the_table_does_not_tell():
    # One reserved cell in each category: any figure for either would reveal a reserved sum.
    alertas = _alertas(
        [_fila("01", 50, deceased=None, household_twice=30, subcobertura_juntos=None)]
    )
    assert category_totals(alertas, "filtracion")[0].total is None
    assert category_totals(alertas, "subcobertura")[0].total is None
    no_total = _alertas(
        [_fila("02", None, deceased=None, household_twice=9, subcobertura_juntos=8)]
    )
    assert category_totals(no_total, "filtracion")[0].total is None
