"""A service's settings: a bad environment variable stops it, naming the variable and the fix."""

from __future__ import annotations

import pytest

from casecraft.config import load_settings
from casecraft.telemetry import TelemetrySettings
from gateway.settings import GatewaySettings
from image_service.settings import ImageSettings
from structurer_service.settings import StructurerSettings


def refusal(settings_class: type, monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        load_settings(settings_class)
    return str(stopped.value.code)


def test_each_bad_variable_is_named_with_why(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refusal(
        StructurerSettings,
        monkeypatch,
        CASECRAFT_STRUCTURER_RETRY_MAX_ATTEMPTS="0",
        CASECRAFT_STRUCTURER_MAX_OUTPUT_TOKENS="lots",
    )
    assert message.startswith("casecraft: invalid setting: ")
    assert (
        "CASECRAFT_STRUCTURER_RETRY_MAX_ATTEMPTS: Input should be greater than or equal to 1"
        in (message)
    )
    assert "CASECRAFT_STRUCTURER_MAX_OUTPUT_TOKENS: Input should be a valid integer" in message
    assert "lots" not in message  # values are never echoed: one may be a key


def test_every_service_names_its_own_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "CASECRAFT_IMAGE_CONCURRENCY:" in refusal(
        ImageSettings, monkeypatch, CASECRAFT_IMAGE_CONCURRENCY="2000"
    )
    assert "CASECRAFT_GATEWAY_PORT:" in refusal(
        GatewaySettings, monkeypatch, CASECRAFT_GATEWAY_PORT="http"
    )
    assert "CASECRAFT_IMAGE_LOG_LEVEL: Input should be 'DEBUG', 'INFO'" in refusal(
        ImageSettings, monkeypatch, CASECRAFT_IMAGE_LOG_LEVEL="LOUD"
    )
    assert "OTEL_SDK_DISABLED:" in refusal(
        TelemetrySettings, monkeypatch, OTEL_SDK_DISABLED="maybe"
    )


def test_good_variables_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASECRAFT_STRUCTURER_RETRY_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("CASECRAFT_STRUCTURER_LOG_LEVEL", "debug")
    settings = load_settings(StructurerSettings)
    assert settings.retry_max_attempts == 5 and settings.log_level == "DEBUG"
