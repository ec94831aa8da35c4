"""The command line never prints a traceback for a user's mistake: one line on stderr,
exit code 2. And every command finds the hub the same way (fapiao.local.locate): the flag,
else the data folder's hub.json, else the settings, wherever it runs."""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import pytest

from fapiao.local import cli
from fapiao.local.locate import HUB_FILE, CommandError, locate
from fapiao.settings import LocalHubSettings
from support import TEMPLATE


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from a folder that is not the repository, with the default settings."""
    for name in ("FAPIAO_DATA_DIR", "FAPIAO_HOST", "FAPIAO_PORT", "FAPIAO_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("FAPIAO_TEMPLATE", raising=False)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def ended_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def write_hub_file(data: Path, **changes: object) -> Path:
    data.mkdir(parents=True, exist_ok=True)
    hub = {
        "url": "http://127.0.0.1:3999",
        "aws": "http://127.0.0.1:4999",
        "region": "cn-northwest-1",
        "template": str(TEMPLATE),
        "inbox": str(data.parent / "inbox"),
        "pid": ended_pid(),
        **changes,
    }
    (data / HUB_FILE).write_text(json.dumps(hub), encoding="utf-8")
    return data


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line(err: str) -> str:
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err.rstrip("\n")


def test_without_a_hub_file_outcomes_says_no_hub_at_the_default_url(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["outcomes", "--json"], capsys)
    assert (code, out) == (2, "")
    assert one_line(err) == (
        "fapiao outcomes: no hub at http://127.0.0.1:3000 (no .fapiao/hub.json: "
        "start one with fapiao serve, or pass --data DIR)"
    )


def test_a_hub_file_left_by_a_killed_hub_is_no_hub_at_its_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_hub_file(tmp_path / "data")
    pid = json.loads((data / HUB_FILE).read_text())["pid"]
    invoice = tmp_path / "a.pdf"
    invoice.write_bytes(b"%PDF-1.7")
    code, out, err = run(["ingest", str(invoice), "--data", str(data)], capsys)
    assert (code, out) == (2, "")
    assert one_line(err) == (
        f"fapiao ingest: no hub at http://127.0.0.1:3999 ({data / HUB_FILE} is left from "
        f"process {pid}, which has ended)"
    )


def test_a_data_folder_that_does_not_exist_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["outcomes", "--data", str(tmp_path / "nowhere")], capsys)
    assert code == 2
    assert one_line(err) == (
        f"fapiao outcomes: no data folder {tmp_path / 'nowhere'} (the --data folder of "
        "fapiao serve)"
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "Invalid JSON"),
        ('{"url": "u", "aws": "a", "region": "r", "template": "t", "pid": 0}', "pid: "),
        ('{"url": "u", "region": "r", "template": "t", "pid": 1}', "aws: Field required"),
    ],
)
def test_a_broken_hub_file_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, problem: str
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / HUB_FILE).write_text(content, encoding="utf-8")
    code, _, err = run(["outcomes", "--data", str(tmp_path / "data")], capsys)
    assert code == 2
    line = one_line(err)
    assert line.startswith(f"fapiao outcomes: {tmp_path / 'data' / HUB_FILE} is not a hub file")
    assert problem in line


def test_ingest_refuses_a_missing_file_before_looking_for_the_hub(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "a.pdf"
    good.write_bytes(b"%PDF-1.7")
    code, out, err = run(["ingest", str(good), "missing.pdf"], capsys)
    assert (code, out) == (2, "")
    assert one_line(err) == "fapiao ingest: missing.pdf: no such file"


def test_ingest_of_a_folder_without_files_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    code, _, err = run(["ingest", str(tmp_path / "empty")], capsys)
    assert code == 2
    assert one_line(err) == f"fapiao ingest: no files in {tmp_path / 'empty'}"


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["outcomes", "--aws", "localhost:4566"], "argument --aws: not an http(s) URL"),
        (["outcomes", "--aws", "http://127.0.0.1:99999"], "argument --aws: bad port"),
        (["outcomes", "--region", "North China"], "argument --region: not a region name"),
        (["ingest", "a.pdf", "--timeout", "0"], "argument --timeout: must be more than 0"),
        (["ingest", "a.pdf", "--timeout", "soon"], "argument --timeout: not a number"),
        (["ingest", "a.pdf", "--owner", "a/b"], "argument --owner: not a user code"),
        (["ingest", "a.pdf", "--url", "ftp://x"], "argument --url: not an http(s) URL"),
        (["keys", "create"], "the following arguments are required: name"),
        (["keys", "create", " "], "argument name: must not be empty"),
        (["outcomes", "--bogus"], "unrecognized arguments: --bogus"),
        ([], "the following arguments are required: command"),
    ],
)
def test_a_bad_flag_value_is_one_line_and_exit_code_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    code, out, err = run(argv, capsys)
    assert (code, out) == (2, "")
    line = one_line(err)
    assert line.startswith("fapiao")
    assert said in line
    assert line.endswith("--help)")


def test_keys_create_against_aws_needs_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["keys", "create", "Acme"], capsys)
    assert code == 2
    assert one_line(err).startswith("fapiao keys: --table is required against AWS")


def test_keys_create_against_aws_without_a_region_takes_the_settings_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No region configured anywhere: no NoRegionError; the next thing missing (there
    are no credentials either) is said in one line."""
    for name in (
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, out, err = run(["keys", "create", "Acme", "--table", "fapiao-api-keys"], capsys)
    assert (code, out) == (2, "")
    assert one_line(err).startswith("fapiao keys: no AWS credentials")


def args(**given: object) -> argparse.Namespace:
    flags: dict[str, object] = {"data": None, "aws": None, "region": None, "template": None}
    return argparse.Namespace(**{**flags, **given})


def test_flags_win_over_the_hub_file_and_the_hub_file_over_the_settings(
    tmp_path: Path,
) -> None:
    data = write_hub_file(tmp_path / "data")
    settings = LocalHubSettings.from_env({})
    aws = "http://127.0.0.1:4567"

    from_file = locate(args(data=data, aws=aws), settings)
    assert (from_file.aws, from_file.region, from_file.template, from_file.url) == (
        aws,
        "cn-northwest-1",
        TEMPLATE,
        "http://127.0.0.1:3999",
    )

    flagged = locate(
        args(data=data, aws=aws, region="us-east-1", template=Path("other.yaml")), settings
    )
    assert (flagged.region, flagged.template) == ("us-east-1", Path("other.yaml"))

    (tmp_path / "bare").mkdir()
    bare = locate(args(data=tmp_path / "bare", aws=aws), settings)
    assert (bare.region, bare.template, bare.url) == ("cn-north-1", Path("template.yaml"), None)


def test_the_data_folder_comes_from_fapiao_data_dir(tmp_path: Path) -> None:
    data = write_hub_file(tmp_path / "state")
    settings = LocalHubSettings.from_env({"FAPIAO_DATA_DIR": str(data)})
    with pytest.raises(CommandError, match=r"^no hub at http://127\.0\.0\.1:3999 \("):
        locate(args(), settings)  # found the hub file there, saw that its process ended
