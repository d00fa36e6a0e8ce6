"""The council's reference data (issue 15, item 8): service areas and teams are a declared,
checked file, not code. The end-to-end case (a 0-25 SEN and Disability service loaded, built and
in the workforce mart) is in tests/test_numbers.py."""

import pytest

from extract import feeds, reference_data
from extract.reference_data import ReferenceDataError


def write(folder, areas: str, teams: str = "team,service_area\n"):
    (folder / "service_areas.csv").write_text(areas)
    (folder / "teams.csv").write_text(teams)
    return folder


def test_the_loader_takes_its_service_areas_from_the_reference_data():
    assert feeds.SERVICE_AREAS == reference_data.service_area_codes()
    for feed in (feeds.HR_POSTS, feeds.HR_EMPLOYEES, feeds.AGENCY_ASSIGNMENTS):
        assert feed.column("service_area").codes == feeds.SERVICE_AREAS


def test_a_councils_own_structure_is_a_row_of_data(tmp_path):
    folder = write(tmp_path, "service_area,service_area_name\nSEN_AND_DISABILITY_0_25,0-25 SEN and Disability\n",
                   "team,service_area\n0-25 Team,SEN_AND_DISABILITY_0_25\n")
    assert reference_data.service_area_codes(folder) == ("SEN_AND_DISABILITY_0_25",)
    assert reference_data.teams(folder) == (reference_data.Team("0-25 Team", "SEN_AND_DISABILITY_0_25"),)


@pytest.mark.parametrize("areas, teams, message", [
    ("service_area,name\nA,B\n", "team,service_area\n", "line 1: the header must be service_area,service_area_name"),
    ("service_area,service_area_name\nFront door,X\n", "team,service_area\n", "line 2, column service_area: 'Front door' is not a code"),
    ("service_area,service_area_name\nA,X\nA,Y\n", "team,service_area\n", "line 3, column service_area: 'A' is already declared on line 2"),
    ("service_area,service_area_name\nALL,X\n", "team,service_area\n", "'ALL' is reserved"),
    ("service_area,service_area_name\nA,\n", "team,service_area\n", "line 2, column service_area_name: empty"),
    ("service_area,service_area_name\nA,X\n", "team,service_area\nT,B\n", "teams.csv: line 2, column service_area: 'B' is not declared"),
])
def test_a_malformed_file_is_named_with_its_line_and_column(tmp_path, areas, teams, message):
    folder = write(tmp_path, areas, teams)
    with pytest.raises(ReferenceDataError) as error:
        reference_data.teams(folder)
    assert message in str(error.value) and str(folder) in str(error.value)
