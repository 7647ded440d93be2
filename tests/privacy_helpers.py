"""Finding full ID numbers in what the pipeline shows outside the warehouse (pages, metadata, instance files).

Any 18 digits is not an ID number: the fraction of a float such as ``"duration_ms": 0.0123…`` in Dagster's event
log is 18 digits too, and flagged a leak in CI that was not one. A hit is an 18-character run that is a *valid*
resident ID number (check character, birth date, province: ``ingest.idnumber.is_valid``), so a masked number
(``150625********1234``) never matches and a random digit run matches about once in 70,000.
"""

from __future__ import annotations

import re

from fangfanpin.ingest.idnumber import is_valid

_CANDIDATE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")


def full_id_numbers(text: str | bytes) -> list[str]:
    """The valid full ID numbers in ``text``, masked to their first six digits for an assertion message."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    return [m[:6] + "…" for m in _CANDIDATE.findall(text) if is_valid(m.upper())]


def inject_id_damage(folder, ids: list[str], phones: list[str]) -> list[str]:
    """Write into a delivery folder the damaged files that once carried full ID numbers out of the warehouse through
    messages: valid IDs (and phones) in every column and position of rows that cannot load, as headers (a file sent
    without its header row), in file and sheet names, beside an unterminated quote and in a binary file. Returns the
    names written. Every row here is quarantined or reported; none loads."""
    import csv
    import io

    import openpyxl

    from fangfanpin.data_contracts import load_contract

    def csv_bytes(rows: list[list[str]]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(rows)
        return buffer.getvalue().encode("utf-8")

    names = []
    students = [c.header for c in load_contract("students").columns]
    claims = [c.header for c in load_contract("medical_claims").columns]
    every_column = [[ids[(i + j) % len(ids)] for j in range(len(students))] for i in range(3)]  # codes, dates: IDs
    shifted = [ids[3], phones[0], f"1,{ids[4]}", *[ids[5]] * (len(students) - 2)]  # one field too many
    quote = ['"' + ids[6], phones[1], *[ids[7]] * (len(students) - 2)]  # a quote opened and never closed
    spaced = [ids[8][:6] + " " + ids[8][6:14] + " " + ids[8][14:], *[ids[9]] * (len(students) - 1)]
    (folder / "students_damaged.csv").write_bytes(
        csv_bytes([students, *every_column, shifted, spaced]) + ",".join(quote).encode() + b"\r\n"
    )
    names.append("students_damaged.csv")
    (folder / "medical_claims_noheader.csv").write_bytes(csv_bytes([[ids[10], phones[2], *ids[11:16]], [ids[12]] * 7]))
    names.append("medical_claims_noheader.csv")
    (folder / f"visit_results_{ids[16]}.csv").write_bytes(b"")  # an ID in a file name, and the file is empty
    names.append(f"visit_results_{ids[16]}.csv")
    (folder / f"{ids[17]}.csv").write_bytes(csv_bytes([claims, [ids[17]] * len(claims)]))  # matches no feed
    names.append(f"{ids[17]}.csv")
    (folder / f"econ_check_{phones[3]}.csv").write_bytes(bytes(range(256)) * 40 + ids[18].encode())  # binary
    names.append(f"econ_check_{phones[3]}.csv")
    workbook = openpyxl.Workbook()
    hidden = workbook.active
    hidden.title, hidden.sheet_state = ids[19], "hidden"
    hidden.append(students)
    sheet = workbook.create_sheet(ids[20][:31])
    sheet.append(claims[:3] + [ids[21]])  # required columns missing, an unknown header that is an ID
    sheet.append([ids[22], phones[4], int(ids[23][:15])])
    workbook.save(folder / "medical_claims_sheets.xlsx")
    names.append("medical_claims_sheets.xlsx")
    return names
