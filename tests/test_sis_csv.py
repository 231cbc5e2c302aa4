"""SIS CSV import/export: column mapping, real-world file quirks, per-row errors, round-trip.

Every error test checks the line and column, because the secretary fixing the export
needs to find the cell; and that good rows around a bad one still import.
"""

from datetime import UTC, date, datetime

import pytest

from photoguard_core.consent import (
    ConsentRow,
    ConsentStatus,
    PersonRow,
    Vulnerability,
    parse_people_csv,
    write_people_csv,
)

HEADER = "id,first_name,last_name,role,groups"


def errors_of(result) -> list[tuple[int, str | None]]:
    return [(e.line, e.column) for e in result.errors]


def test_canonical_file_reads_people_groups_flags_and_consent():
    text = (
        "id,first_name,last_name,role,groups,date_of_birth,flags,"
        "consent_website,consent_website_until,consent_press\n"
        "P1,Alice,Smith,pupil,5B; Year 5 ;Chess club,2015-04-02,,granted,2026-07-31,refused\n"
        "S1,Mary,Jones,staff,,,,granted,,\n"
        "P2,Sam,Brown,Pupil,5B,,looked after;never_publish,,,\n"
    )
    result = parse_people_csv(text)
    assert result.ok, result.errors
    alice, mary, sam = result.rows
    assert alice == PersonRow(
        "P1", "Alice", "Smith", "pupil", ("5B", "Year 5", "Chess club"), date(2015, 4, 2)
    )
    assert alice.line == 2
    assert sam.role == "pupil"
    assert sam.flags == {Vulnerability.LOOKED_AFTER, Vulnerability.NEVER_PUBLISH}
    assert result.consents == [
        ConsentRow("P1", "website", ConsentStatus.GRANTED, date(2026, 7, 31)),
        ConsentRow("P1", "press", ConsentStatus.REFUSED),
        ConsentRow("S1", "website", ConsentStatus.GRANTED),
    ]
    assert "flags" in result.columns and "consent_press" in result.columns


def test_is_minor_from_date_of_birth_and_role():
    pupil = PersonRow("P1", "A", "B", "pupil", date_of_birth=date(2008, 3, 1))
    assert pupil.is_minor(date(2026, 2, 28))
    assert not pupil.is_minor(date(2026, 3, 1))
    assert PersonRow("P2", "A", "B", "pupil").is_minor(date(2026, 1, 1))
    assert not PersonRow("S1", "A", "B", "staff").is_minor(date(2026, 1, 1))


def test_mapping_renames_source_columns_ignoring_case():
    text = "UPN,Forename,Surname,Type,Reg group,Ethnicity\nA123,Alice,Smith,pupil,5B,xx\n"
    mapping = {"upn": "id", "Forename": "first_name", "Surname": "last_name", "Type": "role"}
    mapping["Reg group"] = "groups"
    result = parse_people_csv(text, mapping)
    assert result.ok, result.errors
    assert result.rows == [PersonRow("A123", "Alice", "Smith", "pupil", ("5B",))]
    assert result.ignored_columns == ("Ethnicity",)


def test_mapped_column_wins_over_an_unmapped_column_of_the_same_name():
    text = "ID,UPN,first_name,last_name,role\n17,A123,Alice,Smith,pupil\n"
    result = parse_people_csv(text, {"UPN": "id"})
    assert result.ok, result.errors
    assert result.rows[0].id == "A123"
    assert result.ignored_columns == ("ID",)


def test_mapping_onto_an_unknown_column_is_refused():
    text = "id,first_name,last_name,role,Safeguarding\nP1,Alice,Smith,pupil,adopted\n"
    result = parse_people_csv(text, {"Safeguarding": "flag"})
    assert result.rows == []
    assert errors_of(result) == [(1, "Safeguarding")]
    assert "unknown column 'flag'" in result.errors[0].message


def test_bom_semicolons_crlf_and_whitespace():
    text = (
        "\ufeff ID ; First name ; Last name ; Role ; Groups ; consent_website \r\n"
        " P1 ; Alice ; Smith ; pupil ; 5B ; Granted \r\n"
        "\r\n"
        "P2;Bob;Jones;staff;;\r\n"
    )
    result = parse_people_csv(text)
    assert result.ok, result.errors
    assert [r.id for r in result.rows] == ["P1", "P2"]
    assert result.rows[0] == PersonRow("P1", "Alice", "Smith", "pupil", ("5B",))
    assert result.consents == [ConsentRow("P1", "website", ConsentStatus.GRANTED)]
    assert result.rows[1].line == 4


def test_semicolon_file_with_quoted_group_list():
    text = 'id;first_name;last_name;role;groups\nP1;Alice;Smith;pupil;"5B;Year 5"\n'
    result = parse_people_csv(text)
    assert result.ok, result.errors
    assert result.rows[0].groups == ("5B", "Year 5")


def test_tab_separated_export():
    result = parse_people_csv("id\tfirst_name\tlast_name\trole\nP1\tAlice\tSmith\tstaff\n")
    assert result.ok and result.rows[0].role == "staff"


def test_missing_required_column_stops_the_import_with_a_clear_error():
    result = parse_people_csv("id,first_name,role\nP1,Alice,pupil\n")
    assert result.rows == []
    assert errors_of(result) == [(1, "last_name")]
    assert "required column 'last_name' is missing" in str(result.errors[0])


def test_duplicate_column_is_fatal():
    result = parse_people_csv("id,first_name,last_name,role,Flags,flags\nP1,A,B,pupil,,\n")
    assert result.rows == [] and errors_of(result) == [(1, "flags")]


def test_empty_file_is_an_error():
    result = parse_people_csv("\ufeff\n\n")
    assert errors_of(result) == [(1, None)]


def test_each_row_error_names_line_and_column_and_spares_other_rows():
    text = (
        f"{HEADER},date_of_birth,flags,consent_website,consent_sports\n"  # line 1
        "P1,Alice,Smith,pupil,5B,,,granted,granted\n"  # 2: fine (sports ignored)
        ",Nobody,Here,pupil,5B,,,,\n"  # 3: missing id
        "P3,Carl,Cole,teacher,,,,,\n"  # 4: unknown role
        "P4,Dee,Dunn,pupil,,2015-13-01,,,\n"  # 5: bad date
        "P5,Eve,Ellis,pupil,,,adoptd,,\n"  # 6: unknown flag
        "P6,Fay,Ford,pupil,,,,maybe,\n"  # 7: bad consent value
        "P7,Gus,Gray,pupil,,,,,\n"  # 8: duplicate id (with line 10)
        "P8,Hal,Hart,staff,,,,refused,\n"  # 9: fine
        "P7,Gus,Grey,pupil,,,,granted,\n"  # 10: duplicate id
        "P9,Ivy,Ives,pupil,,,,,,,extra\n"  # 11: too many cells
    )
    result = parse_people_csv(text)
    assert [r.id for r in result.rows] == ["P1", "P8"]
    assert [(c.person_id, c.purpose) for c in result.consents] == [
        ("P1", "website"),
        ("P8", "website"),
    ]
    assert errors_of(result) == [
        (1, "consent_sports"),
        (3, "id"),
        (4, "role"),
        (5, "date_of_birth"),
        (6, "flags"),
        (7, "consent_website"),
        (8, "id"),
        (10, "id"),
        (11, None),
    ]
    messages = [e.message for e in result.errors]
    assert "unknown purpose 'sports'" in messages[0]
    assert "unknown role 'teacher'" in messages[2]
    assert "'2015-13-01' is not a date" in messages[3]
    assert "unknown flag 'adoptd'" in messages[4]
    assert "appears on lines 8, 10" in messages[6]
    assert "11 cells but the header has 9" in messages[8]


def test_one_row_with_several_problems_reports_them_all():
    text = (
        f"{HEADER},date_of_birth,consent_website_until,consent_website\n"
        ",,,x,,01/02/2015,bad,granted\n"
    )
    result = parse_people_csv(text)
    assert result.rows == []
    assert errors_of(result) == [
        (2, "id"),
        (2, "first_name"),
        (2, "role"),
        (2, "date_of_birth"),
        (2, "consent_website_until"),
    ]


def test_end_date_only_matters_for_grants_and_errors_point_at_the_source_column():
    text = (
        "UPN,first_name,last_name,role,consent_website,consent_website_until\n"
        "P1,A,B,pupil,withdrawn,not a date\n"
        "P2,A,B,pupil,,2026-07-31\n"
        ",A,B,pupil,,\n"
    )
    result = parse_people_csv(text, {"UPN": "id"})
    # A stale end date must not cost the row its withdrawal.
    assert result.consents == [ConsentRow("P1", "website", ConsentStatus.WITHDRAWN)]
    assert [r.id for r in result.rows] == ["P1", "P2"]
    assert errors_of(result) == [(4, "UPN")]
    assert ConsentRow("P1", "press", "refused", date(2026, 1, 1)).until is None


def test_line_numbers_count_physical_lines_across_quoted_newlines():
    text = f'{HEADER}\nP1,"Alice\nMay",Smith,pupil,\nP2,Bob,Jones,wizard,\n'
    result = parse_people_csv(text)
    assert result.rows[0].first_name == "Alice\nMay"
    assert errors_of(result) == [(4, "role")]


def test_consent_row_becomes_a_ledger_entry():
    row = ConsentRow("P1", "website", ConsentStatus.GRANTED, date(2026, 7, 31))
    when = datetime(2026, 1, 5, 9, tzinfo=UTC)
    made = row.to_entry(
        valid_from=date(2026, 1, 5), recorded_at=when, recorded_by="A. Office", source="SIS import"
    )
    assert (made.status, made.valid_until, made.recorded_at) == (
        ConsentStatus.GRANTED,
        date(2026, 7, 31),
        when,
    )


# --- writing -------------------------------------------------------------------------

PEOPLE = [
    PersonRow("P1", "Alice", "Smith", "pupil", ("5B", "Chess club"), date(2015, 4, 2)),
    PersonRow("S1", "Mary", "O'Neil, MBE", "staff"),
    PersonRow(
        "P2", "Sam", "Brown", "pupil", ("5B",), None, frozenset({Vulnerability.PROTECTED_IDENTITY})
    ),
    PersonRow("=1+1", "+Eve", "-Minus", "other", ("@group", "'=odd"), None),
    PersonRow("P3", "'quoted", "''double", "pupil", ("Line\nbreak",)),
]
CONSENTS = [
    ConsentRow("P1", "website", ConsentStatus.GRANTED, date(2026, 7, 31)),
    ConsentRow("P1", "press", ConsentStatus.REFUSED),
    ConsentRow("S1", "internal", ConsentStatus.GRANTED),
    ConsentRow("P2", "website", ConsentStatus.WITHDRAWN),
]


def test_round_trip_reads_back_the_same_rows_and_consents():
    result = parse_people_csv(write_people_csv(PEOPLE, CONSENTS))
    assert result.ok, result.errors
    assert result.rows == PEOPLE
    key = lambda c: (c.person_id, c.purpose)  # noqa: E731
    assert sorted(result.consents, key=key) == sorted(CONSENTS, key=key)


def test_round_trip_with_an_extra_purpose():
    consents = [ConsentRow("P1", "sports_film", ConsentStatus.GRANTED, date(2027, 1, 1))]
    text = write_people_csv(PEOPLE[:1], consents)
    assert "consent_sports_film,consent_sports_film_until" in text.splitlines()[0]
    result = parse_people_csv(text, purposes=["website", "sports_film"])
    assert result.consents == consents


def test_export_guards_against_formula_injection():
    text = write_people_csv(PEOPLE, CONSENTS)
    line = next(row for row in text.splitlines() if "1+1" in row)
    cells = line.split(",")
    assert cells[:4] == ["'=1+1", "'+Eve", "'-Minus", "other"]
    assert cells[4] == "'@group;'=odd"
    # A value that starts with the guard itself is guarded too, so it reads back unchanged.
    p3 = next(row for row in text.splitlines() if row.startswith("P3"))
    assert p3.split(",")[1:3] == ["'quoted", "'''double"]
    for row in text.splitlines()[1:]:
        for cell in row.split(","):
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_export_refuses_what_the_format_cannot_carry():
    with pytest.raises(ValueError, match="share an id"):
        write_people_csv([PEOPLE[0], PEOPLE[0]], [])
    with pytest.raises(ValueError, match="not among the people"):
        write_people_csv(PEOPLE[:1], [ConsentRow("nobody", "website", ConsentStatus.GRANTED)])
    with pytest.raises(ValueError, match="contains ';'"):
        write_people_csv([PersonRow("P1", "A", "B", "pupil", ("a;b",))], [])
    twice = [CONSENTS[0], ConsentRow("P1", "website", ConsentStatus.REFUSED)]
    with pytest.raises(ValueError, match="two consent answers"):
        write_people_csv(PEOPLE, twice)
