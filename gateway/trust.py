"""What the answer says about trust: every figure checked against the notes, and anonymity.

Kept apart from the rest of the answer so the keys it adds are in one place: ``fidelity`` always,
``anonymized`` when the request asked for ``options.anonymize``.
"""

from __future__ import annotations

from typing import Any

from casecraft.v1 import structurer_pb2

LOGO_WITHHELD = (
    "logo: not used, because the case study is anonymized (a logo names the client); "
    "leave options.anonymize out to use it"
)


def answer_fields(
    final: structurer_pb2.StructureResponse | structurer_pb2.RefineResponse,
) -> dict[str, Any]:
    """``fidelity`` and, when anonymizing was asked for, ``anonymized``, from the structurer's
    answer (a structuring's, or a refine's: the case study as it stands after it)."""
    fields: dict[str, Any] = {
        "fidelity": {
            "checked": final.fidelity.checked,
            "untraced": [
                {"field": u.field, "text": u.text, "value": u.value}
                for u in final.fidelity.untraced
            ],
        }
    }
    if final.HasField("anonymized"):
        fields["anonymized"] = final.anonymized
    return fields
