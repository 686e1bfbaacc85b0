"""schemathesis hooks for tests/fuzz/test_openapi_jobs.py and bench/openapi_fuzz.py.

Half of the generated requests that name a job or an image name a real one (given by the runner
in CASECRAFT_FUZZ_JOB_ID and CASECRAFT_FUZZ_IMAGE_SHA256), so PATCH, refine, DELETE, events and
images by address are exercised past their 404.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from schemathesis import HookContext

_KNOWN = {
    "id": os.environ.get("CASECRAFT_FUZZ_JOB_ID", ""),
    "sha256": os.environ.get("CASECRAFT_FUZZ_IMAGE_SHA256", ""),
}


@schemathesis.hook
def flatmap_path_parameters(
    context: HookContext, path_parameters: dict[str, Any]
) -> SearchStrategy[dict[str, Any]]:
    known = {
        name: _KNOWN[name] if _KNOWN.get(name) else value
        for name, value in (path_parameters or {}).items()
    }
    return st.sampled_from([path_parameters, known])
