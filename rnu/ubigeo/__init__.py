"""Ubigeo: Peru's department-province-district codes (INEI and RENIEC) and their names."""

from rnu.ubigeo.reference import (
    District,
    by_inei,
    department_name,
    departments,
    districts,
    districts_of,
    fold,
    inei_from_reniec,
    province_name,
    provinces,
    reniec_from_inei,
    resolve,
)

__all__ = [
    "District",
    "by_inei",
    "department_name",
    "departments",
    "districts",
    "districts_of",
    "fold",
    "inei_from_reniec",
    "province_name",
    "provinces",
    "reniec_from_inei",
    "resolve",
]
