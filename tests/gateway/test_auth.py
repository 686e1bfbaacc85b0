"""API keys at the gateway: who may call, what a refused caller is told, what is recorded."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from casecraft.api_keys import digest, key_line, new_key
from casecraft.cli import main
from gateway.auth import KeysFileError, load_keys
from tests.conftest import stack
from tests.support.spans import exported_spans

NOTES = {"notes": "Client: Acme Freight. Dispatch time went from 94 min to 31 min."}


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, str, str]:
    marketing, bot = new_key(), new_key()
    path = tmp_path / "keys"
    path.write_text(
        f"# who may call\n{key_line('marketing', marketing)} rpm=30\n\n{key_line('ci-bot', bot)}\n"
    )
    return path, marketing, bot


async def test_without_a_key_file_the_gateway_is_open() -> None:
    async with stack() as client:
        response = await client.post("/v1/case-studies", json=NOTES)
    assert response.status_code == 200


async def test_a_missing_or_wrong_key_is_a_401_that_says_what_to_send(
    keys: tuple[Path, str, str],
) -> None:
    path, _, _ = keys
    async with stack(api_keys_file=path) as client:
        missing = await client.post("/v1/case-studies", json=NOTES)
        wrong = await client.post(
            "/v1/case-studies", json=NOTES, headers={"Authorization": f"Bearer {new_key()}"}
        )
        basic = await client.post(
            "/v1/case-studies", json=NOTES, headers={"Authorization": "Basic dXNlcjpwYXNz"}
        )
    for response in (missing, wrong, basic):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith('Bearer realm="casecraft"')
    assert "Authorization: Bearer <key>" in missing.json()["detail"]
    assert 'error="invalid_token"' in wrong.headers["www-authenticate"]
    assert "not known" in wrong.json()["detail"]


async def test_a_known_key_is_served_and_its_name_is_on_the_span_never_the_key(
    keys: tuple[Path, str, str],
) -> None:
    path, marketing, _ = keys
    with exported_spans() as exporter:
        async with stack(api_keys_file=path) as client:
            response = await client.post(
                "/v1/case-studies", json=NOTES, headers={"Authorization": f"Bearer {marketing}"}
            )
        spans = exporter.get_finished_spans()
    assert response.status_code == 200, response.text
    server = [s for s in spans if s.name == "POST /v1/case-studies"]
    assert server and (server[0].attributes or {}).get("casecraft.api_key.name") == "marketing"
    assert not any(marketing in str(s.attributes) for s in spans)


async def test_health_metrics_openapi_and_the_page_stay_open(keys: tuple[Path, str, str]) -> None:
    path, _, _ = keys
    async with stack(api_keys_file=path) as client:
        for route in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
            assert (await client.get(route)).status_code == 200, route


def test_keys_file_mistakes_name_the_line_and_the_fix(tmp_path: Path) -> None:
    good = digest("k")
    cases = {
        "marketing": "line 1: expected 'NAME SHA256",
        f"marketing {good}\nmarketing {digest('j')}": "line 2: the name 'marketing' is used twice",
        f"marketing {good} rpm=0": "line 1: 'rpm=0' is not a quota",
        f"marketing {good} colour=red": "'colour=red' is not a quota",
        "# nothing but comments\n": "holds no key",
    }
    for number, (text, words) in enumerate(cases.items()):
        path = tmp_path / f"keys{number}"
        path.write_text(text)
        with pytest.raises(KeysFileError, match=re.escape(words)):
            load_keys(path)
    with pytest.raises(KeysFileError, match=r"CASECRAFT_API_KEYS_FILE=.*No such file"):
        load_keys(tmp_path / "absent")
    assert load_keys(_write(tmp_path, f"a {good} in_flight=2"))[good].in_flight == 2


def _write(folder: Path, text: str) -> Path:
    path = folder / "ok"
    path.write_text(text)
    return path


def test_keys_new_prints_a_key_once_and_the_line_that_admits_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["keys", "new", "marketing"]) == 0
    printed = capsys.readouterr().out
    key = next(word for word in printed.split() if word.startswith("cc_"))
    line = next(
        line.strip() for line in printed.splitlines() if line.strip().startswith("marketing ")
    )
    assert line == key_line("marketing", key) and key not in line
    assert digest(key) in load_keys(_write(tmp_path, line))
    assert main(["keys", "new", "no spaces please"]) == 2


def test_a_gateway_with_an_unusable_keys_file_stops_with_one_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CASECRAFT_API_KEYS_FILE": str(tmp_path / "absent"),
        "CASECRAFT_GATEWAY_PORT": "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "gateway"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"gateway: CASECRAFT_API_KEYS_FILE={tmp_path / 'absent'}: No such file or directory; "
        "point it at the keys file"
    ]


async def test_a_key_sees_and_changes_only_its_own_jobs(keys: tuple[Path, str, str]) -> None:
    path, marketing, bot = keys
    mine = {"Authorization": f"Bearer {marketing}"}
    theirs = {"Authorization": f"Bearer {bot}"}
    async with stack(api_keys_file=path) as client:
        created = await client.post(
            "/v1/case-studies", json=NOTES, headers={**mine, "Prefer": "respond-async"}
        )
        job = created.headers["location"]
        await client.get(job + "/events", headers=mine)  # to the end of the job
        assert (await client.get(job, headers=mine)).status_code == 200
        for method, suffix, body in [
            ("GET", "", None),
            ("GET", "/events", None),
            ("DELETE", "", None),
            ("POST", "/images/hero", None),
            ("POST", "/refine", {"section": "title", "instruction": "shorter"}),
        ]:
            other = await client.request(method, job + suffix, json=body, headers=theirs)
            assert other.status_code == 404, (method, suffix, other.text)
            assert "for this API key" in other.json()["detail"]
        patched = await client.patch(
            job,
            content=b'{"case_study": {"title": "Theirs now"}}',
            headers={**theirs, "Content-Type": "application/merge-patch+json"},
        )
        assert patched.status_code == 404
        assert (await client.get(job, headers=mine)).json()["case_study"]["title"] != "Theirs now"
        # The same Idempotency-Key from two keys makes two jobs: a key is never shared.
        again = {"Idempotency-Key": "same-key", "Prefer": "respond-async"}
        one = await client.post("/v1/case-studies", json=NOTES, headers={**mine, **again})
        two = await client.post("/v1/case-studies", json=NOTES, headers={**theirs, **again})
        assert one.headers["location"] != two.headers["location"]
