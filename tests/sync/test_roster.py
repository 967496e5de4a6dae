import pytest

from sync.roster import IssueLog, RosterEntry, RosterError, parse_roster, read_roster


def test_spreadsheet_csv_with_bom_and_optional_columns(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes("\ufeffvid,name,team,role,phone\r\n14020200001,林建国,\"\"\"邻里关照\"\"志愿服务队\",coordinator,13900000000\r\n"
                     "14020200002,王秀英,,,\r\n\r\n".encode("utf-8"))
    assert read_roster(path) == [
        RosterEntry("14020200001", "林建国", '"邻里关照"志愿服务队', "coordinator", "13900000000"),
        RosterEntry("14020200002", "王秀英"),
    ]


@pytest.mark.parametrize("text, message", [
    ("id,name\n1,a\n", "header needs the columns vid and name"),
    ("vid,name\n140202198001011234,林\n", "line 2"),
    ("vid,name\n14020200001,\n", "line 2: the name is empty"),
    ("vid,name,role\n14020200001,林,admin\n", "role must be one of"),
    ("vid,name\n14020200001,林\n14020200001,王\n", "line 3: volunteer number 14020200001 appears twice"),
])
def test_bad_rosters_name_the_line(text, message):
    with pytest.raises(RosterError, match=message):
        parse_roster(text)


def test_gbk_file_gets_a_clear_error(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes("vid,name\n14020200001,林建国\n".encode("gbk"))
    with pytest.raises(RosterError, match="not UTF-8"):
        read_roster(path)


def test_issue_log_never_repeats_a_serial(tmp_path):
    from datetime import date
    log = IssueLog(tmp_path)
    assert log.next_serial() == 1
    log.append(1, "14020200001", "林建国", "volunteer", date(2029, 1, 1))
    log.append(5, "14020200002", "王秀英", "volunteer", date(2029, 1, 1))
    assert log.next_serial() == 6
