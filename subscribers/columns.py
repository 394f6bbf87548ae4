"""The columns of a subscriber in a file: what an export writes, in order, and an import reads.

CSV and JSON Lines use the same names. An import also reads ``first_name`` and ``last_name``
(joined into the name) and takes any other column as an attribute.
"""

from __future__ import annotations

COLUMNS = (
    "email",
    "name",
    "status",
    "frequency",
    "timezone",
    "locale",
    "followed_tags",
    "lists",
    "attributes",
    "signed_up_at",
    "confirmed_at",
)
NAME_PARTS = ("first_name", "last_name")  # read by an import only, after ``name``
