"""Personal data never reaches a log line in the clear."""

from __future__ import annotations

import io
import json

import pytest

from fapiao.logs import hub_logger, mask_personal_data


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("身份证 110101199003071234", "身份证 110101********1234"),
        ("id 53049219940223993X.", "id 530492********993X."),
        ("phone 13944433849", "phone 139****3849"),
        ("+86 13944433849", "+86 139****3849"),
        ("tel:+8613944433849", "tel:+86139****3849"),
    ],
)
def test_id_numbers_and_mobiles_are_masked(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "invoice 25429165818000921016",  # a 数电 number: 20 digits
        "code 012001900211 number 61876678",
        "check 83454623591883368905",
        "tax id 91330000734500338C",
        "0571-85012188",  # a landline
    ],
)
def test_invoice_numbers_and_tax_ids_are_left_alone(text: str) -> None:
    assert mask_personal_data(text) == text


def test_the_logger_masks_messages_and_extra_keys() -> None:
    stream = io.StringIO()
    logger = hub_logger(service="test-masking", logger_handler=None, stream=stream)
    logger.info(
        "passenger 110101199003071234 called from 13944433849",
        extra={"id_card": "110101199003071234", "phone": "13944433849"},
    )
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert "199003071234" not in stream.getvalue()
    assert "44433849" not in stream.getvalue()
    assert line["id_card"] == "110101********1234"
    assert line["message"] == "passenger 110101********1234 called from 139****3849"
